"""What the statistics screen shows, read in one call (a thread worker calls it).

Plain data: the table's heading and rows as text, and the per-day and per-month
series of items received (for the charts).  The screen formats nothing itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .figures import GROUPS, figures
from .figures_out import COLUMNS, fmt_value, period_of_days, rows
from .i18n import t

COUNT_OF = {"work_order": "received", "report": "received", "supervision": "registered"}


@dataclass(frozen=True)
class ScreenFigures:
    kind: str
    by: str | None
    first: dt.date
    last: dt.date
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # the total first
    per_day: tuple[tuple[str, int], ...]
    per_month: tuple[tuple[str, int], ...]
    total: int


def _series(kind: str, first: dt.date, last: dt.date, width: str, settings: Any,
            now: dt.datetime) -> tuple[tuple[str, int], ...]:
    """Items received per local day or month, with the empty days and months as 0."""
    result = figures(kind, period_of_days(first, last, settings.tz), width, settings=settings,
                     now=now)
    counts = {k: v[COUNT_OF[kind]] for k, v in result.get("groups", {}).items()}
    out = []
    if width == "day":
        day = first
        while day <= last:
            out.append((day.isoformat(), counts.get(day.isoformat(), 0)))
            day += dt.timedelta(days=1)
    else:
        month = first.replace(day=1)
        while month <= last:
            key = month.strftime("%Y-%m")
            out.append((key, counts.get(key, 0)))
            month = (month + dt.timedelta(days=32)).replace(day=1)
    return tuple(out)


def months_ending(last: dt.date, n: int = 12) -> dt.date:
    """The first day of the ``n`` months that end with ``last``'s month."""
    month = last.replace(day=1)
    for _ in range(n - 1):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


def read_screen(ctx: Any, kind: str, by: str | None, first: dt.date,
                last: dt.date) -> ScreenFigures:
    if by is not None and by not in GROUPS[kind]:
        by = None
    settings, now = ctx.settings, ctx.now()
    result = figures(kind, period_of_days(first, last, settings.tz), by, settings=settings,
                     now=now)
    cols = COLUMNS[kind]
    head = (t("record.group"), *(t(f"record.fig.{c}") for c in cols))
    body = tuple((name, *(fmt_value(c, figs.get(c)) for c in cols))
                 for _code, name, figs in rows(result))
    # a short period's months would be one bar: show the year up to its end instead
    month_first = first if (last - first).days > 62 else months_ending(last)
    return ScreenFigures(kind, by, first, last, head, body,
                         _series(kind, first, last, "day", settings, now),
                         _series(kind, month_first, last, "month", settings, now),
                         int(result["total"][COUNT_OF[kind]]))
