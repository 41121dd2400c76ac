"""Reads of scheduled department reports: the fifth queue's columns and the handover lines.

The queue itself is queries.window/after/before with ``QueueFilter("scheduled")``;
this module gives queries.py the kind's columns and row parts (one call each),
so the queue walks the same (rank, sort_key, id) index as every other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .clock import to_local
from .context import Context
from .i18n import label, t
from .models import Department, ScheduledReport, Shift
from .textsafe import one_line

HANDOVER_LIMIT = 40


def columns(common: list) -> list:
    """The queue's columns: the due time takes the deadline's place (the countdown shows
    the due time; the deadline is due + grace), then topic, department, phone, period."""
    common = list(common)
    common[6] = ScheduledReport.due_at
    return common + [ScheduledReport.topic, Department.name, Department.phone,
                     ScheduledReport.period]


def row_parts(topic: Any, dept: Any, phone: Any, period: Any) -> tuple[str, str, dict]:
    """(title, where, extra) of a queue row."""
    return (topic_label(topic), one_line(dept or ""),
            {"phone": one_line(phone or ""), "period": one_line(period or ""),
             "topic": one_line(topic or "")})


def department_label(kind: str) -> Any:
    """The detail's department column: a scheduled report's has its phone beside it (the
    report is chased by phone)."""
    if kind != "scheduled":
        return Department.name
    return Department.name.concat("  ☎ ").concat(Department.phone)


def search(term: str) -> Any:
    """What a search in the fifth queue matches besides the reference."""
    codes = [c for c in _topic_codes() if term.lower() in topic_label(c).lower()]
    depts = Department.select(Department.id).where(Department.name.contains(term)
                                                   | Department.code.contains(term))
    cond = ScheduledReport.period.contains(term) | ScheduledReport.department.in_(depts)
    if codes:
        cond |= ScheduledReport.topic.in_(codes)
    return cond


def _topic_codes() -> list[str]:
    from .i18n import catalog, language

    prefix = "schedule.topic."
    return [k[len(prefix):] for k in catalog(language()) if k.startswith(prefix)]


def topic_label(topic: Any) -> str:
    return one_line(label("schedule.topic", topic or ""))


# --------------------------------------------------------------------------- handover


def handover_lines(ctx: Context, now: dt.datetime) -> list[str]:
    """The handover's section: the reports missing, and those due in the next shift
    (up to the next shift's end on the roster, else the next 24 hours)."""
    nxt = (Shift.select(Shift.ends_at).where(Shift.starts_at >= now)
           .order_by(Shift.starts_at).limit(1).scalar())
    until = nxt or now + dt.timedelta(hours=24)
    missing = _rows(ScheduledReport.status == "missing")
    coming = _rows((ScheduledReport.status == "due") & (ScheduledReport.due_at <= until))
    lines = [t("schedule.handover.missing", n=len(missing))]
    lines += [_line(ctx, r) for r in missing] or ["  " + t("handover.none")]
    lines += ["", t("schedule.handover.coming", n=len(coming), until=_fmt(ctx, until))]
    lines += [_line(ctx, r) for r in coming] or ["  " + t("handover.none")]
    return ["", *lines]


def _rows(cond: Any) -> list[tuple]:
    return list(ScheduledReport.select(ScheduledReport.ref, ScheduledReport.topic,
                                       ScheduledReport.period, ScheduledReport.due_at,
                                       ScheduledReport.step, ScheduledReport.chain,
                                       Department.name, Department.phone)
                .join(Department, on=(ScheduledReport.department == Department.id))
                .where(cond).order_by(ScheduledReport.due_at, ScheduledReport.id)
                .limit(HANDOVER_LIMIT).tuples())


def _line(ctx: Context, r: tuple) -> str:
    ref, topic, period, due, step, chain, dept, phone = r
    chain = chain if isinstance(chain, list) else ScheduledReport.chain.python_value(chain)
    step_name = chain[step][0] if isinstance(chain, list) and 0 <= step < len(chain) else "—"
    return "  " + t("schedule.handover.line", ref=one_line(ref), dept=one_line(dept),
                    topic=topic_label(topic), period=one_line(period), due=_fmt(ctx, due),
                    phone=one_line(phone or "—"), step=one_line(step_name))


def _fmt(ctx: Context, at: dt.datetime) -> str:
    return to_local(at, ctx.settings.tz).strftime("%Y-%m-%d %H:%M")
