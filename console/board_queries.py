"""The wall board's read: one snapshot of plain data, every part from an index.

The board never loads a table: counters are capped, item rows are the first few
of the indexed queue order (most urgent first) or of the overdue filter, and the
activations are the newest active ones with one grouped count of their checklist.
The snapshot holds no ORM objects, so a board kept for days holds only what it shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import fn

from . import queries
from .models import ActivationMeasure, Department, ScheduledReport
from .schedule_queries import topic_label

CAP = 999


@dataclass(frozen=True)
class BoardRow:
    kind: str
    ref: str
    severity: str
    title: str
    step_name: str
    where: str
    deadline_at: dt.datetime | None
    acked: bool
    overdue: bool


@dataclass(frozen=True)
class BoardActivation:
    plan_code: str
    plan_title: str
    level: str
    activated_at: dt.datetime
    done: int
    total: int


@dataclass(frozen=True)
class BoardSnapshot:
    at: dt.datetime
    team: tuple[str, str, str] | None  # leader, primary, secondary names ("" unknown)
    counters: dict[str, queries.Counters]
    urgent: tuple[BoardRow, ...]
    overdue: tuple[BoardRow, ...]
    activations: tuple[BoardActivation, ...]
    missing: tuple[BoardRow, ...] = ()  # scheduled department reports not received in time


def _board_row(r: queries.QueueRow, now: dt.datetime) -> BoardRow:
    overdue = r.deadline_at is not None and r.deadline_at <= now
    return BoardRow(r.kind, r.ref, r.severity, r.title, r.step_name, r.where, r.deadline_at,
                    r.acked, overdue)


def _merged(lists: list[list[queries.QueueRow]], now: dt.datetime, limit: int) -> tuple:
    """Rows of all queues, most urgent first: rank (severity), then the nearest deadline."""
    far = dt.datetime.max
    rows = sorted((r for rows in lists for r in rows),
                  key=lambda r: (r.rank, r.deadline_at or far, r.kind, r.id))
    return tuple(_board_row(r, now) for r in rows[:limit])


def team_names(now: dt.datetime) -> tuple[str, str, str] | None:
    team = queries.duty_team(now)
    if team.shift is None:
        return None
    return tuple(p.name if p else "" for p in (team.leader, team.primary, team.secondary))


def activations(limit: int) -> tuple[BoardActivation, ...]:
    acts = queries.active_activations(limit)
    ids = [a.id for a, _plan in acts]
    progress: dict[int, tuple[int, int]] = {}
    if ids:
        rows = (ActivationMeasure.select(ActivationMeasure.activation,
                                         fn.COUNT(ActivationMeasure.id),
                                         fn.COUNT(ActivationMeasure.done_at))
                .where(ActivationMeasure.activation.in_(ids))
                .group_by(ActivationMeasure.activation).tuples())
        progress = {a: (int(done), int(total)) for a, total, done in rows}
    return tuple(BoardActivation(plan.code, plan.title, a.level, a.activated_at,
                                 *progress.get(a.id, (0, 0))) for a, plan in acts)


def missing_reports(now: dt.datetime, limit: int) -> tuple[BoardRow, ...]:
    """Scheduled reports past their due time and grace, the longest missing first: the
    department, the topic and the period as the title, the department's phone as where."""
    found = (ScheduledReport.select(ScheduledReport.ref, ScheduledReport.cadence,
                                    ScheduledReport.topic, ScheduledReport.period,
                                    ScheduledReport.deadline_at, Department.name,
                                    Department.phone)
             .join(Department, on=(ScheduledReport.department == Department.id))
             .where(ScheduledReport.status == "missing")
             .order_by(ScheduledReport.due_at, ScheduledReport.id).limit(limit).tuples())
    return tuple(BoardRow("scheduled", ref, cadence, f"{dept} · {period} · {topic_label(topic)}",
                          "", phone or "", deadline, True,
                          deadline is not None and deadline <= now)
                 for ref, cadence, topic, period, deadline, dept, phone in found)


def snapshot(now: dt.datetime, rows: int = 12) -> BoardSnapshot:
    """What the board shows at ``now``: at most ``rows`` items per list."""
    counters = {k: queries.counters(k, now, cap=CAP) for k in queries.KINDS}
    urgent = [queries.window(queries.QueueFilter(k), 0, rows) for k in queries.KINDS]
    overdue = [queries.window(queries.QueueFilter(k, overdue_only=True, now=now), 0, rows)
               for k in queries.KINDS]
    return BoardSnapshot(now, team_names(now), counters, _merged(urgent, now, rows),
                         _merged(overdue, now, rows), activations(rows),
                         missing_reports(now, rows))
