"""Reads about shifts and their handover (交接班): who is on which post, the shift being
handed over, the next one, the open items to hand over, the roster warnings.

Plain reads (no writes): the actions in console/actions/shifts.py call them inside
their transaction, the screen and the CLI through console/handover.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .context import Context
from .i18n import label, t
from .models import ITEM_MODELS, Person, Shift
from .textsafe import one_line

POSTS = ("leader", "primary", "secondary")  # 带班领导, 主班, 副班


def people_of(*shifts: Shift | None) -> dict[int, Person]:
    """The people of these shifts' posts, by id (one query)."""
    ids = {getattr(s, f"{p}_id") for s in shifts if s is not None for p in POSTS}
    ids.discard(None)
    return {p.id: p for p in Person.select().where(Person.id.in_(list(ids)))} if ids else {}


def post_of(shift: Shift | None, login: str, people: dict[int, Person] | None = None
            ) -> str | None:
    """The post ``login`` holds on ``shift`` (leader/primary/secondary), else None."""
    if shift is None:
        return None
    people = people if people is not None else people_of(shift)
    for post in POSTS:
        person = people.get(getattr(shift, f"{post}_id"))
        if person is not None and person.login == login:
            return post
    return None


def not_on(what: str, who: str, ref: str | None, team: str) -> str:
    """Why ``who`` may not ``what`` ("submit", "accept", "take_over"): not on that shift.
    The rule's one line, for the action's refusal and the screen's check before its form."""
    return t(f"handover.refused_{what}", who=one_line(who), ref=one_line(ref or "—"), team=team)


def team_text(shift: Shift | None, people: dict[int, Person] | None = None) -> str:
    """"带班领导 赵强，主班 李明，副班 —": who holds each post, by name."""
    if shift is None:
        return "—"
    people = people if people is not None else people_of(shift)
    parts = []
    for post in POSTS:
        person = people.get(getattr(shift, f"{post}_id"))
        parts.append(t("handover.post_person", post=label("field", post),
                       name=one_line(person.name) if person is not None else "—"))
    return t("handover.team_sep").join(parts)


def current_shift(now: dt.datetime) -> Shift | None:
    return (Shift.select().where((Shift.starts_at <= now) & (Shift.ends_at > now))
            .order_by(Shift.starts_at.desc()).first())


def next_shift(shift: Shift) -> Shift | None:
    return (Shift.select().where(Shift.starts_at > shift.starts_at)
            .order_by(Shift.starts_at).first())


def previous_shift(now: dt.datetime, before: Shift | None) -> Shift | None:
    query = Shift.select()
    if before is not None:
        query = query.where(Shift.starts_at < before.starts_at)
    else:
        query = query.where(Shift.starts_at <= now)
    return query.order_by(Shift.starts_at.desc()).first()


def is_done(shift: Shift) -> bool:
    """Accepted (接班) or taken over (接管): the handover is over."""
    return shift.accepted_at is not None


def outgoing_shift(ctx: Context, now: dt.datetime) -> Shift | None:
    """The shift being handed over: the one on duty, unless the one before it ended
    less than ``handover.late_minutes`` ago and was neither accepted nor taken over."""
    cur = current_shift(now)
    prev = previous_shift(now, cur)
    late = dt.timedelta(minutes=ctx.settings.handover.late_minutes)
    if prev is not None and not is_done(prev) and prev.ends_at >= now - late:
        return prev
    return cur


def find_shift(ctx: Context, target: Any, now: dt.datetime) -> Shift | None:
    """A shift by instance, id or reference; None/"" is the outgoing one."""
    if isinstance(target, Shift):
        return Shift.get_or_none(Shift.id == target.id)
    if target in (None, ""):
        return outgoing_shift(ctx, now)
    if isinstance(target, int):
        return Shift.get_or_none(Shift.id == target)
    return Shift.get_or_none(Shift.ref == str(target).strip())


def open_items() -> list[list[Any]]:
    """[[kind, id, ref], …] of every open item, the queues' order of kinds, oldest first."""
    out: list[list[Any]] = []
    for kind, model in ITEM_MODELS.items():
        rows = (model.select(model.id, model.ref).where(model.closed_at.is_null())
                .order_by(model.id).tuples())
        out.extend([kind, item_id, ref] for item_id, ref in rows)
    return out


def _missing(shift: Shift, people: dict[int, Person]) -> list[str]:
    """Which posts a shift lacks: no leader, no officer (主班 nor 副班), or an inactive one."""
    def present(post: str) -> bool:
        person = people.get(getattr(shift, f"{post}_id"))
        return person is not None and person.active

    out = [] if present("leader") else ["leader"]
    if not (present("primary") or present("secondary")):
        out.append("officer")
    return out


def warnings(ctx: Context, now: dt.datetime) -> list[str]:
    """One line per shift starting within ``handover.warn_hours`` (and the one on duty)
    that lacks a leader or an officer, and when the roster has no next shift."""
    horizon = now + dt.timedelta(hours=ctx.settings.handover.warn_hours)
    cur = current_shift(now)
    shifts = list(Shift.select().where((Shift.ends_at > now) & (Shift.starts_at <= horizon))
                  .order_by(Shift.starts_at).limit(20))
    people = people_of(*shifts)
    tz = ctx.settings.tz
    out = []
    for s in shifts:
        start = _local(s.starts_at, tz)
        for what in _missing(s, people):
            out.append(t(f"handover.warn_no_{what}", ref=one_line(s.ref), start=start))
    last = shifts[-1] if shifts else cur
    if last is not None and last.ends_at <= horizon and next_shift(last) is None:
        out.append(t("handover.warn_no_next", ref=one_line(last.ref),
                     end=_local(last.ends_at, tz)))
    if not shifts:
        out.append(t("handover.warn_no_shift", at=_local(now, tz)))
    return out


def _local(at: dt.datetime, tz: Any) -> str:
    from .clock import to_local

    return to_local(at, tz).strftime("%m-%d %H:%M")


@dataclass(frozen=True)
class HandoverState:
    """What the handover screen and ``dutyroom handover`` show about the handover."""

    shift: Shift | None  # the one being handed over
    incoming: Shift | None  # the next shift
    team: str  # the outgoing team, by post and name
    incoming_team: str
    submitted_by: str  # names, "" while not yet
    accepted_by: str
    items: list[list[Any]]  # handed over (submitted), else the open items now
    warnings: list[str]
    my_post: str | None  # the viewer's post on the outgoing shift
    my_next_post: str | None  # … on the incoming shift


def state(ctx: Context, login: str, now: dt.datetime | None = None) -> HandoverState:
    now = now or ctx.now()
    shift = outgoing_shift(ctx, now)
    incoming = next_shift(shift) if shift is not None else None
    people = people_of(shift, incoming)
    items = (shift.handed_items if shift is not None and shift.handed_items is not None
             else open_items())
    return HandoverState(shift, incoming, team_text(shift, people), team_text(incoming, people),
                         name_of(shift.handed_over_by) if shift is not None else "",
                         name_of(shift.taken_over_by) if shift is not None else "",
                         items, warnings(ctx, now), post_of(shift, login, people),
                         post_of(incoming, login, people))


def name_of(login: str | None) -> str:
    """A login as its roster name ("" for none; the login itself when not on the roster)."""
    if not login:
        return ""
    person = Person.get_or_none(Person.login == login)
    return one_line(person.name if person is not None else login)


def instruction_people(ins: Any) -> tuple[str, dt.datetime, str]:
    """(leader as "赵强（副市长）", when given, "（李明 记录）") of an Instruction row."""
    leader = one_line(ins.leader)
    title = getattr(ins, "leader_title", None)
    if title:
        leader = t("instruction.titled", name=leader, title=one_line(title))
    return leader, ins.at, t("instruction.recorded", who=name_of(ins.recorded_by))


def leaders(now: dt.datetime | None = None, limit: int = 200) -> list[tuple[str, str]]:
    """(login, "name（title）") of the active roster leaders, the 批示人 the form offers;
    the duty leader on shift at ``now`` first (the likeliest to phone an instruction).
    Admins are left out: they keep the system (系统管理员, 信息中心), they do not instruct
    (one who does is named like a leader outside the roster)."""
    rows = list(Person.select().where((Person.role == "leader")
                                      & (Person.active == True))  # noqa: E712
                .order_by(Person.login).limit(limit))
    shift = current_shift(now) if now is not None else None
    duty = shift.leader_id if shift is not None else None
    rows.sort(key=lambda p: p.id != duty)
    return [(p.login, t("instruction.titled", name=one_line(p.name), title=one_line(p.title))
             if p.title else one_line(p.name)) for p in rows]
