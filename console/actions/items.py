"""Item verbs: one function each, each one ``_change`` (see the package docstring)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from .. import rules
from ..clock import to_local
from ..context import Actor, Context
from ..errors import DomainError, PermissionDenied
from ..i18n import label, t
from ..merge_queries import reached_note
from ..models import (
    Department,
    Instruction,
    Item,
    Person,
    Plan,
    PlanActivation,
    Report,
    ReportUpdate,
    SupervisionItem,
    WorkOrder,
)
from ..textsafe import one_line
from .plans import end_with_report, running_activations
from .plumbing import (
    _casualties,
    _change,
    _department,
    _escalation_values,
    _report_deadline,
    _require,
    _satisfaction,
    _text,
    _when,
    add_child,
)
from .units import check_direct_return, dispatch_values, redo_values, return_values


def acknowledge(ctx: Context, actor: Actor, target: Any, *, expected_version: int | None = None,
                note: str = "", intent: str | None = None) -> Item:
    """确认: the current step has seen the item; its escalation clock stops."""
    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        if item.acked_at is not None:
            raise DomainError(t("error.already_acked", ref=item.ref, who=item.acked_by))
        values: dict[str, Any] = {"acked_by": actor.login, "acked_at": now,
                                  "next_escalation_at": None}
        if item.owner is None:
            values["owner"] = actor.login  # 首办责任制: the first to take it owns it
        if isinstance(item, Report) and item.status == "new":
            values["status"] = "acknowledged"
        elif isinstance(item, WorkOrder) and item.status == "assigned" or isinstance(item, SupervisionItem) and item.status == "registered":
            values["status"] = "in_progress"
        return values

    return _change(ctx, actor, target, "acknowledge", apply, expected_version=expected_version,
                   intent=intent, note=_text(note, "note"))


def escalate(ctx: Context, actor: Actor, target: Any, *, to_step: str | int | None = None,
             expected_version: int | None = None, note: str = "",
             intent: str | None = None) -> Item:
    """上报/升级: move the item to the next step of its chain, or to a chosen one.

    Officers move forward only; leaders may choose any step.  For a report, the
    first escalation is its report up (电话报告): the deadline moves on to the
    written report.
    """
    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        chain = item.chain
        if to_step is None:
            target_step = item.step + 1
            if target_step >= len(chain):
                raise DomainError(t("error.last_step", ref=item.ref, step=item.step_name))
        else:
            found = rules.find_step(chain, to_step)
            if found is None:
                raise DomainError(t("error.unknown_step", step=to_step,
                                    steps=" / ".join(s[0] for s in chain)))
            target_step = found
            if target_step == item.step:
                raise DomainError(t("error.same_step", ref=item.ref, step=item.step_name))
            if target_step < item.step:  # back down the chain: leaders only
                _require(actor, "escalate_any")
        values = _escalation_values(item, target_step, now)
        if isinstance(item, Report):
            if item.reported_at is None:
                values["reported_at"] = now
            if item.status in ("new", "acknowledged"):
                values["status"] = "active"
            values.update(_report_deadline(ctx, item, values))
        return values

    return _change(ctx, actor, target, "escalate", apply, expected_version=expected_version,
                   intent=intent, note=_text(note, "note"))


def assign(ctx: Context, actor: Actor, target: Any, department: Any, *,
           assisting: Iterable[Any] = (), expected_version: int | None = None,
           note: str = "", intent: str | None = None) -> Item:
    """交办/派单: hand the item to a lead department (and assisting ones); 改派 re-dispatches."""
    text = _text(note, "note")
    wanted = list(assisting)
    found: dict[str, Department] = {}

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        # looked up inside the transaction, so a dropped connection is retried with it
        dept = found["dept"] = _department(department)
        helpers = [_department(d, "assisting").code for d in wanted]
        if isinstance(item, WorkOrder):
            if item.department_id == dept.id and item.status not in ("received", "returned"):
                raise DomainError(t("error.already_assigned", ref=item.ref, dept=dept.name))
            # the Department itself, not its id: the event's before/after then both show
            # the code (an id read "ZJJ→2" on the timeline), and _change compares rows
            # from received/returned a dispatch (派单), from a working status a re-dispatch
            # (改派): the unit changes, the order's deadline does not
            return {"department": dept, "assigned_at": now, "assisting": helpers,
                    "status": "assigned", **dispatch_values(ctx, item, dept, now)}
        if isinstance(item, SupervisionItem):
            return {"department": dept}  # the row, as above
        # a report is relayed (传) to a unit: recorded on the timeline, status moves on
        return {"status": "active"} if item.status in ("new", "acknowledged") else {}

    return _change(ctx, actor, target, "assign", apply, expected_version=expected_version,
                   intent=intent, note=lambda: text or found["dept"].name)


def urge(ctx: Context, actor: Actor, target: Any, *, expected_version: int | None = None,
         note: str = "", intent: str | None = None) -> Item:
    """催办: chase the handling unit; recorded on the timeline."""
    return _change(ctx, actor, target, "urge", lambda item, now: {},
                   expected_version=expected_version, intent=intent, note=_text(note, "note"))


def extend(ctx: Context, actor: Actor, target: Any, reason: str, *,
           days: int | None = None, until: dt.datetime | None = None,
           expected_version: int | None = None, intent: str | None = None) -> Item:
    """延期: asked before the deadline, with a reason; at most ``hotline.max_extensions``.

    ``days``: its length, 1 up to what the rule grants (``rules.extension_limit``: the
    type's limit or the 3715 class again), which is also the length when none is chosen.
    """
    reason = _text(reason, "reason", required=True)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        if item.deadline_at is not None and now > item.deadline_at:
            raise DomainError(t("error.extend_late", ref=item.ref))
        order = isinstance(item, WorkOrder)
        if order and item.extensions >= ctx.settings.max_extensions:
            raise DomainError(t("error.extend_max", ref=item.ref, max=ctx.settings.max_extensions))
        limit, working = rules.extension_limit(ctx.settings, item.KIND,
                                               item.type if order else item.klass)
        if days is not None and not 1 <= days <= limit:
            raise DomainError(t("error.extend_days", ref=item.ref, days=days, max=limit))
        base = item.deadline_at or now
        new_due = until or rules.extended_due(ctx.settings, base, days or limit, working)
        values: dict[str, Any] = {"deadline_at": new_due}
        if order:
            values.update(extensions=item.extensions + 1, status="extended")
        if item.deadline_at is not None and new_due <= item.deadline_at:
            raise DomainError(t("error.extend_earlier", ref=item.ref))
        return values

    return _change(ctx, actor, target, "extend", apply, expected_version=expected_version,
                   intent=intent, note=reason)


def return_order(ctx: Context, actor: Actor, target: Any, reason: str, *,
                 expected_version: int | None = None, intent: str | None = None) -> Item:
    """退单: the handling unit returns an order, with a reason, within the allowed working days."""
    reason = _text(reason, "reason", required=True)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        assert isinstance(item, WorkOrder)
        check_direct_return(ctx, actor, item)  # after 签收: ask_return, an officer approves
        if item.assigned_at is not None:
            limit = rules.return_allowed_until(ctx.settings, item.assigned_at)
            if now > limit:
                raise DomainError(t("error.return_late", ref=item.ref,
                                    days=ctx.settings.return_working_days))
        return {"status": "returned", "department": None, "assisting": [],
                **return_values(item)}

    return _change(ctx, actor, target, "return", apply, expected_version=expected_version,
                   intent=intent, note=reason)


def follow_up(ctx: Context, actor: Actor, target: Any, text: str, *,
              dead: int | None = None, injured: int | None = None, missing: int | None = None,
              expected_version: int | None = None, intent: str | None = None) -> Item:
    """续报: a numbered follow-up with only what is new; casualty figures update the report."""
    text = _text(text, "text", required=True)
    figures = _casualties(dead=dead, injured=injured, missing=missing)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        assert isinstance(item, Report)
        seq = item.followups + 1
        add_child(ReportUpdate.create(report=item.id, stage="followup", seq=seq, at=now,
                                      text=text, author=actor.login, **figures))
        values: dict[str, Any] = {"followups": seq, **figures}
        if item.status in ("new", "acknowledged"):
            values["status"] = "active"
        values.update(_report_deadline(ctx, item, values, last_update_at=now))
        return values

    return _change(ctx, actor, target, "follow_up", apply, expected_version=expected_version,
                   intent=intent, note=text)


def instruct(ctx: Context, actor: Actor, target: Any, text: str, *, leader: str = "",
             title: str = "", at: dt.datetime | None = None,
             expected_version: int | None = None, intent: str | None = None) -> Item:
    """批示: a leader's instruction, recorded as it happens (often phoned in to an officer).

    ``leader``: a roster leader's (or admin's) login, or the name of a leader outside the
    roster, then with ``title``; empty only when a leader records their own.  ``at``:
    when it was given (default now; never in the future).  The row and the event name
    both the leader and the recorder (``recorded_by``)."""
    text = _text(text, "text", required=True)
    _text(leader, "leader")
    _text(title, "title")
    who: list[str] = []  # the leader as named, for the event's note

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        (name, login), titled = _leader(actor, leader, title)  # the roster, read in the retry
        when = _when(at, "at", now)
        if when > now:
            raise DomainError(t("instruction.future", at=to_local(when, ctx.settings.tz)
                                .strftime("%Y-%m-%d %H:%M")), field="at")
        add_child(Instruction.create(item_kind=item.KIND, item_id=item.id, leader=name,
                                     leader_login=login, leader_title=titled or None,
                                     text=text, at=when, recorded_by=actor.login))
        who[:] = [_titled(name, titled)]
        return {}

    def note() -> str:
        return t("instruction.note", leader=who[0], text=text, recorder=one_line(actor.name))

    return _change(ctx, actor, target, "instruct", apply, expected_version=expected_version,
                   intent=intent, note=note)


def _titled(name: str, title: str) -> str:
    return t("instruction.titled", name=name, title=title) if title else name


def _leader(actor: Actor, leader: str, title: str) -> tuple[tuple[str, str | None], str]:
    """((name, login or None), title) of who gave an instruction (批示人)."""
    given = _text(leader, "leader")
    title = _text(title, "title")
    if not given:
        if actor.role != "leader":  # an officer or an admin records someone else's
            raise DomainError(t("instruction.leader_required"), field="leader")
        given = actor.login
    person = Person.get_or_none(Person.login == given.lstrip("@"))
    if person is None:
        if given.startswith("@"):
            raise DomainError(t("instruction.unknown_leader", login=given[1:]), field="leader")
        if len(given) > 64:
            raise DomainError(t("instruction.leader_long"), field="leader")
        if not title:
            raise DomainError(t("instruction.title_required", name=given), field="title")
        return (given, None), title[:64]
    if person.role not in ("leader", "admin"):
        raise DomainError(t("instruction.not_a_leader", name=one_line(person.name),
                            role=label("role", person.role)), field="leader")
    return (person.name, person.login), (title or person.title or "")[:64]


def reply(ctx: Context, actor: Actor, target: Any, text: str, *,
          expected_version: int | None = None, intent: str | None = None) -> Item:
    """答复: the handling unit's reply to the citizen."""
    text = _text(text, "text", required=True)
    seen: list[Item] = []  # 并单: the note names every merged caller the reply reaches

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        seen.append(item)
        return {"status": "replied", "reply": text}

    return _change(ctx, actor, target, "reply", apply, expected_version=expected_version,
                   intent=intent, note=lambda: text + reached_note(seen[-1]))


def visit(ctx: Context, actor: Actor, target: Any, satisfaction: int, *, note: str = "",
          expected_version: int | None = None, intent: str | None = None) -> Item:
    """回访 and 评价: the follow-up call and the citizen's satisfaction 1–5."""
    score = _satisfaction(satisfaction)
    text, seen = _text(note, "note"), []  # 并单: the note names every merged caller reached

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        seen.append(item)
        return {"status": "visited", "satisfaction": score,
                **redo_values(ctx, item, score, now)}  # 发回重办

    return _change(ctx, actor, target, "visit", apply, expected_version=expected_version,
                   intent=intent, note=lambda: text + reached_note(seen[-1]))


def close(ctx: Context, actor: Actor, target: Any, text: str = "", *,
          satisfaction: int | None = None, expected_version: int | None = None,
          end_plans: bool = False, intent: str | None = None) -> Item:
    """办结 / 销号 / 终报.  A report closes with its final report; Ⅰ/Ⅱ need a leader.

    A report whose emergency plan response is still running is refused, naming the
    plan, unless ``end_plans``: then each running activation ends in the same
    transaction, each with its own event (响应结束).
    """
    running: list[PlanActivation] = []

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"status": "closed", "closed_at": now, "deadline_at": None,
                                  "next_escalation_at": None,
                                  # closed late: keep the fact for the on-time statistics
                                  "overdue_at": item.overdue_at or (
                                      now if item.deadline_at and now > item.deadline_at
                                      else None)}
        if isinstance(item, Report):
            final = _text(text, "final", required=True)
            if item.level in ctx.settings.leader_closes:
                _require(actor, "close_major")
            running[:] = running_activations(item)
            if running and not end_plans:
                raise DomainError(t("error.plan_running", ref=item.ref, plans=", ".join(
                    Plan.get_by_id(a.plan_id).code for a in running)))
            add_child(ReportUpdate.create(report=item.id, stage="final",
                                          seq=item.followups + 1, at=now, text=final,
                                          author=actor.login))
        elif isinstance(item, SupervisionItem):
            values["result"] = _text(text, "result", required=True)
        elif isinstance(item, WorkOrder) and satisfaction is not None:
            values["satisfaction"] = _satisfaction(satisfaction)
        return values

    def end_responses(item: Item, now: dt.datetime) -> None:
        for activation in running:
            end_with_report(ctx, actor, item, activation, now)

    return _change(ctx, actor, target, "close", apply, expected_version=expected_version,
                   intent=intent, note=_text(text, "note"), then=end_responses)


def reopen(ctx: Context, actor: Actor, target: Any, reason: str, *,
           expected_version: int | None = None, intent: str | None = None) -> Item:
    """重新打开, with a reason: the item is open again with a fresh deadline and clock."""
    reason = _text(reason, "reason", required=True)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"closed_at": None, **_escalation_values(item, item.step, now)}
        if isinstance(item, Report):
            values["status"] = "active"
            values.update(_report_deadline(ctx, item, values, last_update_at=now))
        elif isinstance(item, WorkOrder):
            values["status"] = "in_progress"
            values["deadline_at"] = rules.work_order_due(ctx.settings, now, item.type,
                                                         item.urgency)
        else:
            values["status"] = "in_progress"
            values["deadline_at"] = rules.supervision_due(ctx.settings, now, item.klass)
        return values

    return _change(ctx, actor, target, "reopen", apply, expected_version=expected_version,
                   intent=intent, note=reason)


def note(ctx: Context, actor: Actor, target: Any, text: str, *,
         expected_version: int | None = None, intent: str | None = None) -> Item:
    """备注: a line on the timeline (the duty log kept minute by minute)."""
    text = _text(text, "note", required=True)
    return _change(ctx, actor, target, "note", lambda item, now: {},
                   expected_version=expected_version, intent=intent, note=text)


def _lowers_major(ctx: Context, old: str, new: str) -> bool:
    """From a level whose closing needs a leader to a less severe one."""
    return (old in ctx.settings.leader_closes
            and rules.REPORT_SEVERITY[new] > rules.REPORT_SEVERITY[old])


def change_level(ctx: Context, actor: Actor, target: Any, level: str, *, note: str = "",
                 expected_version: int | None = None, intent: str | None = None) -> Item:
    """核定等级: set a report's level (e.g. 待核 → Ⅲ).  The chain is re-taken for the new level."""
    try:
        new_level = rules.level_of(level)
    except ValueError:
        raise DomainError(t("error.level", value=level)) from None

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        assert isinstance(item, Report)
        if new_level == item.level:
            raise DomainError(t("error.same_level", ref=item.ref))
        if _lowers_major(ctx, item.level, new_level) and not rules.role_allows(actor.role,
                                                                              "close_major"):
            # a leader closes Ⅰ/Ⅱ (reporting.leader_closes): lowering one first is no way round
            raise PermissionDenied(t("error.role", who=actor.name, role=label("role", actor.role),
                                     action=label("action", "change_level")))
        chain = rules.chain_snapshot(ctx.settings, "report", new_level)
        step = min(item.step, len(chain) - 1)
        values: dict[str, Any] = {"level": new_level, "chain": chain, "step": step}
        if item.acked_at is None:
            values["next_escalation_at"] = rules.next_escalation(chain, step, now)
        values.update(_report_deadline(ctx, item, values))
        return values

    return _change(ctx, actor, target, "change_level", apply, expected_version=expected_version,
                   intent=intent, note=_text(note, "note"))
