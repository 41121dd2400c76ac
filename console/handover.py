"""The handover report (交接班) and the duty log (值班日志), as plain text for print and archive.

Every value from the data goes through console.textsafe: a title holding ``ESC [2J``
or an OSC 52 clipboard write is printed as ``␛[2J``, never acted on by the terminal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import i18n, queries, schedule_queries, shiftwork, verify
from .clock import to_local, to_utc_naive
from .context import Actor, Context
from .errors import DutyError
from .i18n import label, t
from .intake import YEARS
from .models import ITEM_MODELS, ActivationMeasure, Department, Event
from .paths import user_data_dir
from .textsafe import one_line


def _label(group: str, value: Any) -> str:
    return one_line(label(group, value))  # an unknown value falls back to its own text

OPEN_LIMIT = 40


def _fmt(ctx: Context, at: dt.datetime | None) -> str:
    return to_local(at, ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if at else "—"


def handover_report(ctx: Context, now: dt.datetime | None = None,
                    actor: Actor | None = None) -> str:
    """The handover (交接班) report: the shift and the next, who produced it (a person,
    by name and post), the three 清, the items handed over and their state, the roster
    warnings, what happened and is open, and the event chain's head."""
    now = now or ctx.now()
    lines = [t("handover.title", site=one_line(ctx.settings.site_name)), ""]
    state = shiftwork.state(ctx, actor.login if actor else "", now)
    s = state.shift
    if s is None:
        lines.append(t("handover.no_shift", at=_fmt(ctx, now)))
        since = now - dt.timedelta(hours=24)
    else:
        since = s.starts_at
        lines.append(t("handover.shift", ref=one_line(s.ref), start=_fmt(ctx, s.starts_at),
                       end=_fmt(ctx, s.ends_at)))
        lines.append(state.team)
        if state.incoming is not None:
            lines.append(t("handover.incoming_line", ref=one_line(state.incoming.ref),
                           team=state.incoming_team))
    lines.append(_produced(ctx, now, actor, state))
    lines.append("")
    lines += three_lines(ctx, state)
    lines += items_lines(state)
    if state.warnings:
        lines.append(t("handover.warnings_heading"))
        lines += ["  " + w for w in state.warnings]
        lines.append("")
    lines += handover_body(ctx, now, since)
    lines += ["", t("handover.chain_head", head=verify.format_head()), t("handover.signature")]
    return "\n".join(lines)


def _produced(ctx: Context, now: dt.datetime, actor: Actor | None,
              state: shiftwork.HandoverState) -> str:
    """Who produced the report: a person and their post (else role), not a console id."""
    if actor is None:
        return t("handover.generated_console", who="—", at=_fmt(ctx, now),
                 console=one_line(ctx.console))
    post = state.my_post or state.my_next_post
    what = label("field", post) if post else label("role", actor.role)
    return t("handover.generated_by", who=one_line(actor.name), post=one_line(what),
             at=_fmt(ctx, now))


def three_lines(ctx: Context, state: shiftwork.HandoverState) -> list[str]:
    """The three 清 as submitted and the handover's state (submitted, accepted, taken over)."""
    s = state.shift
    if s is None:
        return []
    lines = [t("handover.three_heading")]
    if s.handed_over_at is None:
        lines.append("  " + t("handover.three_pending"))
    else:
        lines += ["  " + t("handover.three_line", what=label("field", name),
                           text=one_line(getattr(s, name) or s.handover_note or "—"))
                  for name in ("situation", "problems", "tasks")]
        lines.append("  " + t("handover.submitted_line", who=state.submitted_by,
                              at=_fmt(ctx, s.handed_over_at)))
    if s.takeover_reason:
        lines.append("  " + t("handover.taken_over_line", who=state.accepted_by,
                              at=_fmt(ctx, s.accepted_at), reason=one_line(s.takeover_reason)))
    elif s.accepted_at is not None:
        lines.append("  " + t("handover.accepted_line", who=state.accepted_by,
                              at=_fmt(ctx, s.accepted_at)))
    elif s.handed_over_at is not None and state.incoming is not None:
        lines.append("  " + t("handover.waiting_line", ref=one_line(state.incoming.ref)))
    return lines + [""]


def items_lines(state: shiftwork.HandoverState) -> list[str]:
    """The items handed over (as listed at submission), by reference."""
    if state.shift is None or state.shift.handed_items is None:
        return []
    refs = [one_line(str(ref)) for _kind, _id, ref in state.items]
    lines = [t("handover.items_heading", n=len(refs))]
    for start in range(0, min(len(refs), OPEN_LIMIT * 4), 4):  # fits 80 columns
        lines.append("  " + "  ".join(refs[start:start + 4]))
    if len(refs) > OPEN_LIMIT * 4:
        lines.append("  " + t("handover.items_more", n=len(refs) - OPEN_LIMIT * 4))
    if not refs:
        lines.append("  " + t("handover.none"))
    return lines + [""]


def archive_dir(ctx: Context) -> Path:
    """``handover.archive_dir``, else <user data dir>/handover."""
    configured = ctx.settings.handover.archive_dir
    return Path(configured).expanduser() if configured else user_data_dir() / "handover"


def archive_path(ctx: Context, shift_ref: str | None, now: dt.datetime) -> Path:
    stem = shift_ref or to_local(now, ctx.settings.tz).strftime("%Y%m%d-%H%M")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    return archive_dir(ctx) / f"handover-{safe}.txt"


def save_report(path: Path | str, text: str, *, make_dir: bool = False) -> Path:
    """Write a report, the file 0600, through a temporary file renamed onto it (a failure
    leaves what was there); ``make_dir``: the archive folder is made 0700 when missing
    (a folder the officer typed is not).  One line naming the file on error."""
    from .export import open_atomic

    path = Path(path).expanduser()
    if make_dir and not path.parent.exists():
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise DutyError(t("error.cannot_write", file=one_line(path),
                              why=one_line(exc.strerror or exc))) from None
    with open_atomic(path) as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    return path


def archive(ctx: Context, actor: Actor | None, shift_ref: str | None = None) -> Path:
    """The report as it stands, saved to the archive folder (after each handover step)."""
    now = ctx.now()
    return save_report(archive_path(ctx, shift_ref, now), handover_report(ctx, now, actor),
                       make_dir=True)


def handover_since(now: dt.datetime) -> tuple[queries.DutyTeam, dt.datetime]:
    """The team on duty at ``now`` and where its report starts (its shift, else 24 h back)."""
    team = queries.duty_team(now)
    return team, team.shift.starts_at if team.shift else now - dt.timedelta(hours=24)


def handover_body(ctx: Context, now: dt.datetime, since: dt.datetime) -> list[str]:
    """What was received, what is overdue and open, the plans in force: the report's body
    (the printed record's sections; a line starting with two spaces is an entry)."""
    lines: list[str] = []
    received = {}
    for kind, model in ITEM_MODELS.items():
        column = model.registered_at if kind == "supervision" else model.received_at
        received[kind] = model.select().where((column >= since) & (column <= now)).count()
    lines.append(t("handover.received", reports=i18n.count("report", received["report"]),
                   orders=i18n.count("work_order", received["work_order"]),
                   items=i18n.count("supervision", received["supervision"])))
    lines.append("")
    for heading, overdue in (("handover.overdue_heading", True), ("handover.open_heading", False)):
        block: list[str] = []
        total = 0
        for kind in queries.KINDS:
            f = queries.QueueFilter(kind, overdue_only=overdue, now=now)
            n = queries.count(f)
            total += n
            for row in queries.window(f, 0, OPEN_LIMIT, total=n):
                block.append("  " + t("handover.item_line", ref=one_line(row.ref),
                                      severity=_severity(kind, row.severity),
                                      title=one_line(row.title),
                                      status=_label(f"status.{kind}", row.status),
                                      step=one_line(row.step_name or "—"),
                                      due=_fmt(ctx, row.deadline_at)))
            if n > OPEN_LIMIT:
                block.append("  " + t("handover.open_more", n=n - OPEN_LIMIT))
        lines.append(t(heading, n=total))
        lines.extend(block or ["  " + t("handover.none")])
        lines.append("")
    active = queries.active_activations()
    lines.append(t("handover.plans_heading", n=len(active)))
    for act, plan in active:
        measures = list(ActivationMeasure.select().where(ActivationMeasure.activation == act.id))
        done = sum(1 for m in measures if m.done_at)
        lines.append("  " + t("handover.plan_line", code=one_line(plan.code),
                              title=one_line(plan.title),
                              level=_label("level_short", act.level), done=done,
                              total=len(measures)))
    if not active:
        lines.append("  " + t("handover.none"))
    lines += schedule_queries.handover_lines(ctx, now)  # scheduled reports: missing, coming
    return lines


def _name(person: Any) -> str:
    return one_line(person.name) if person else "—"


def _severity(kind: str, value: str) -> str:
    group = {"report": "level_short", "work_order": "urgency", "supervision": "klass"}[kind]
    return _label(group, value)


def _parse_local(ctx: Context, text: str, field: str) -> dt.datetime:
    """An option's local time; a year outside YEARS (0001 overflowed) is one line."""
    shown = one_line(repr(text))[:60]
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise DutyError(t("error.option_time", option=field, got=shown)) from None
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise DutyError(t("error.option_year", option=field, lo=YEARS[0], hi=YEARS[1],
                          got=shown))
    return to_utc_naive(parsed, ctx.settings.tz)


def duty_log(ctx: Context, since: str | None = None, until: str | None = None,
             limit: int = 100000) -> str:
    """Numbered entries of a period (default: the current shift so far): one per event,
    with what it did (which plan, measure, step, score, level), and one per import."""
    start, end = log_period(ctx, since, until)
    lines = [t("handover.log_title", since=_fmt(ctx, start), until=_fmt(ctx, end))]
    for entry in log_entries(ctx, start, end, limit):
        lines.append(t("handover.log_line", **entry).rstrip())
    return "\n".join(lines)


def log_period(ctx: Context, since: str | None, until: str | None) -> tuple[dt.datetime,
                                                                            dt.datetime]:
    """(start, end) in UTC of ``--since``/``--until`` (default: the current shift so far)."""
    now = ctx.now()
    if since:
        start = _parse_local(ctx, since, "since")
    else:
        start = handover_since(now)[1]
    end = _parse_local(ctx, until, "until") if until else now
    if start > end:  # printed nothing without a word
        raise DutyError(t("error.option_order", since=_fmt(ctx, start), until=_fmt(ctx, end)))
    return start, end


def log_entries(ctx: Context, start: dt.datetime, end: dt.datetime,
                limit: int = 100000) -> Iterator[dict[str, Any]]:
    """The numbered entries of a period, each {n, at, who, ref, action, note}, safe text."""
    rows = (Event.select().where((Event.at >= start) & (Event.at <= end))
            .order_by(Event.id).limit(limit))
    steps = _StepNames()
    for n, (e, count) in enumerate(_grouped(rows), 1):
        if count > 1:  # one import, one entry — not one per record
            action = t("handover.log_import", n=count, source=one_line(e.note))
            note, ref = "", ""
        else:
            action = _label("done", e.action)
            detail = _detail(e, steps)
            if detail:
                action = f"{action} {detail}"
            note, ref = one_line(e.note or ""), one_line(e.item_ref)
        who = t("ui.timeline.system") if e.actor == "system" else e.actor_name or e.actor
        yield {"n": n, "at": _fmt(ctx, e.at), "who": one_line(who),
               "ref": ref, "action": action, "note": note}


def _grouped(rows: Any) -> Iterator[tuple[Any, int]]:
    """(event, how many) with the records of one import folded into their first event:
    the same actor, moment and source file."""
    first, count = None, 0
    for e in rows:
        if (first is not None and e.action == "import" and first.action == "import"
                and (e.actor, e.at, e.note) == (first.actor, first.at, first.note)):
            count += 1
            continue
        if first is not None:
            yield first, count
        first, count = e, 1
    if first is not None:
        yield first, count


class _StepNames:
    """An item's escalation chain, read once per item, to name the step it went to."""

    def __init__(self) -> None:
        self.chains: dict[tuple[str, int], list] = {}
        self.departments: dict[str, str] = {}

    def department(self, code: Any) -> str:
        """A department's name (its code if unknown), read once."""
        code = str(code)
        if code not in self.departments:
            name = Department.select(Department.name).where(Department.code == code).scalar()
            self.departments[code] = name or code
        return self.departments[code]

    def name(self, kind: str, item_id: int, step: Any) -> str | None:
        model = ITEM_MODELS.get(kind)
        if model is None or not isinstance(step, int):
            return None
        key = (kind, item_id)
        if key not in self.chains:
            try:
                chain = model.select(model.chain).where(model.id == item_id).scalar()
            except (ValueError, TypeError):  # stored as {broken: the step goes unnamed
                chain = None
            self.chains[key] = chain if isinstance(chain, list) else []
        chain = self.chains[key]
        if 0 <= step < len(chain) and isinstance(chain[step], list) and chain[step]:
            return str(chain[step][0])
        return None


def _detail(e: Any, steps: _StepNames) -> str:
    """What an event did, in a few words, from its stored before/after."""
    after = e.after if isinstance(e.after, dict) else {}
    before = e.before if isinstance(e.before, dict) else {}
    action = e.action
    if action == "activate_plan":
        return t("handover.detail_plan", plan=one_line(after.get("plan", "")),
                 level=_label("level_short", after.get("level", "")))
    if action == "deactivate_plan":
        return one_line(after.get("plan", ""))
    if action in ("tick_measure", "untick_measure"):
        return t("handover.detail_measure", n=after.get("measure", "?"),
                 text=one_line(after.get("text", "")))
    if action in ("escalate", "auto_escalate", "overdue") and "step" in after:
        name = steps.name(e.item_kind, e.item_id, after.get("step"))
        return t("handover.detail_step", step=one_line(name)) if name else ""
    if action == "assign" and after.get("department"):
        return t("handover.detail_step", step=one_line(steps.department(after["department"])))
    if action == "visit" and after.get("satisfaction") is not None:
        return t("handover.detail_score", score=after["satisfaction"])
    if action == "change_level" and "level" in after:
        return t("handover.detail_level", before=_level(before.get("level", "unknown")),
                 after=_level(after["level"]))
    return ""


def _level(value: Any) -> str:
    """A level as the log names it: Ⅲ, or "to be verified" in words (not a bare "?")."""
    return _label("level" if value == "unknown" else "level_short", value)
