"""Statistics over a period: what a duty-room director reports each month and year.

Grouped SQL aggregates (no rows are loaded): totals by type, urgency, month and
lead department; the closure rate (办结率, against the target ≥ 85%), the share
closed on time, and the average satisfaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import SQL, fn

from .db import is_postgres
from .models import Department, WorkOrder


@dataclass
class WorkOrderStats:
    since: dt.datetime
    until: dt.datetime
    total: int = 0
    closed: int = 0
    closed_on_time: int = 0
    satisfaction_avg: float | None = None
    by_type: dict[str, int] = field(default_factory=dict)
    by_urgency: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)
    top_departments: list[tuple[str, int, int]] = field(default_factory=list)  # name, total, closed

    @property
    def closure_rate(self) -> float:
        return self.closed / self.total if self.total else 0.0


def work_order_stats(since: dt.datetime, until: dt.datetime, top: int = 10) -> WorkOrderStats:
    w = WorkOrder
    period = (w.received_at >= since) & (w.received_at < until)
    out = WorkOrderStats(since, until)
    closed = fn.SUM(w.closed_at.is_null(False).cast("integer"))
    row = (w.select(fn.COUNT(w.id), closed, fn.AVG(w.satisfaction)).where(period).tuples()
           .first())
    out.total, out.closed = int(row[0] or 0), int(row[1] or 0)
    out.satisfaction_avg = float(row[2]) if row[2] is not None else None
    # on time: closed no later than its due date — overdue_at is set only when it was missed
    out.closed_on_time = int(w.select(fn.COUNT(w.id)).where(
        period & w.closed_at.is_null(False) & w.overdue_at.is_null()).scalar() or 0)
    out.by_type = dict(w.select(w.type, fn.COUNT(w.id)).where(period).group_by(w.type).tuples())
    out.by_urgency = dict(w.select(w.urgency, fn.COUNT(w.id)).where(period)
                          .group_by(w.urgency).tuples())
    month = (fn.to_char(w.received_at, "YYYY-MM") if is_postgres()
             else fn.strftime("%Y-%m", w.received_at))
    out.by_month = {m: n for m, n in w.select(month.alias("m"), fn.COUNT(w.id)).where(period)
                    .group_by(SQL("m")).order_by(SQL("m")).tuples()}
    rows = (w.select(w.department, fn.COUNT(w.id).alias("n"), closed)
            .where(period & w.department.is_null(False)).group_by(w.department)
            .order_by(SQL("n").desc()).limit(top).tuples())
    names = {d.id: d.name for d in Department.select(Department.id, Department.name)}
    out.top_departments = [(names.get(d, str(d)), int(n), int(c or 0)) for d, n, c in rows]
    return out
