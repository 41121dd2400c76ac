"""Figures as a table, CSV or JSON, and the periods people ask for (``dutyroom stats``).

Dates are the site's local calendar days; ``--to`` is inclusive (the whole day).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
from typing import Any

from .clock import to_local, to_utc_naive
from .errors import DutyError
from .figures import GROUPS, NO_DEPARTMENT, Period, department_names, figures
from .i18n import label, t
from .intake import YEARS
from .textsafe import csv_cell, one_line

# the figures a table shows, per kind, in order (JSON and CSV carry every figure)
COLUMNS: dict[str, tuple[str, ...]] = {
    "work_order": ("received", "closed", "closure_rate", "on_time_rate", "median_close_hours",
                   "p90_close_hours", "returns", "extensions", "satisfaction_mean",
                   "satisfied_rate", "accept_on_time_rate", "redo_rate"),
    "report": ("received", "major", "reported_up", "reported_in_time_rate",
               "median_report_minutes", "followups_on_time_rate", "closed"),
    "supervision": ("registered", "closed", "closure_rate", "on_time_rate", "overdue",
                    "open_overdue"),
}
PERIODS = ("this_month", "last_month", "this_year", "custom")


def parse_day(text: str, option: str) -> dt.date:
    shown = one_line(repr(text))[:60]
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise DutyError(t("record.bad_date", option=option, got=shown)) from None
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise DutyError(t("error.option_year", option=option, lo=YEARS[0], hi=YEARS[1],
                          got=shown))
    return day


def period_of_days(first: dt.date, last: dt.date, tz: dt.tzinfo) -> Period:
    """Local days ``first`` … ``last`` inclusive."""
    if last < first:
        raise DutyError(t("record.bad_order", first=first.isoformat(), last=last.isoformat()))
    return Period(to_utc_naive(dt.datetime.combine(first, dt.time()), tz),
                  to_utc_naive(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()), tz),
                  tz)


def named_period(name: str, now: dt.datetime, tz: dt.tzinfo) -> tuple[dt.date, dt.date]:
    """(first, last) local day of this month, last month or this year."""
    today = to_local(now, tz).date()
    if name == "this_year":
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    first = today.replace(day=1)
    if name == "last_month":
        last = first - dt.timedelta(days=1)
        return last.replace(day=1), last
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def group_name(kind: str, by: str | None, code: str, names: dict[str, str]) -> str:
    """A group's display name: the department's name, a level's word, a type's label."""
    if by == "department":
        return names.get(code, code) if code != NO_DEPARTMENT else t("record.no_department")
    group = {"level": "level", "class": "klass", "urgency": "urgency",
             "type": {"work_order": "wo_type", "report": "subtype", "supervision": "klass"}[kind],
             "category": "category" if kind == "report" else ""}.get(by or "", "")
    return label(group, code) if group else code


def fmt_value(name: str, value: Any) -> str:
    if value is None:
        return "—"  # no denominator: no rate, not 0 %
    if name.endswith("_rate"):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.2f}" if name == "satisfaction_mean" else f"{value:.1f}"
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def rows(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(code, display name, figures): the total first, then each group."""
    kind, by = result["kind"], result.get("by")
    names = department_names() if by == "department" else {}
    out = [("total", t("record.total"), result["total"])]
    for code, figs in result.get("groups", {}).items():
        out.append((code, one_line(group_name(kind, by, code, names)), figs))
    return out


def table(result: dict[str, Any], title: str) -> str:
    cols = COLUMNS[result["kind"]]
    head = [t("record.group")] + [t(f"record.fig.{c}") for c in cols]
    body = [[name] + [fmt_value(c, figs.get(c)) for c in cols] for _code, name, figs in rows(result)]
    widths = [max(_width(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = [title, ""]
    for r in [head, *body]:
        lines.append("  ".join(_pad(cell, widths[i], i > 0) for i, cell in enumerate(r)).rstrip())
    return "\n".join(lines)


def to_csv(result: dict[str, Any]) -> str:
    names = list(result["total"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["group", "name", *names])
    for code, name, figs in rows(result):
        w.writerow([csv_cell(code), csv_cell(name), *(
            "" if figs.get(n) is None else figs[n] for n in names)])
    return buf.getvalue()


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2)


def render(result: dict[str, Any], fmt: str, title: str) -> str:
    if fmt == "csv":
        return to_csv(result)
    if fmt == "json":
        return to_json(result) + "\n"
    return table(result, title) + "\n"


def stats_command(ctx: Any, *, kind: str, by: str | None, fmt: str, first: dt.date | None,
                  last: dt.date | None, year: int | None) -> str:
    """What ``dutyroom stats --from … --to …`` prints."""
    tz = ctx.settings.tz
    if by is not None and by not in GROUPS[kind]:
        raise DutyError(t("record.bad_by", by=by, kind=label("kind", kind),
                          choices=", ".join(GROUPS[kind])))
    if year is not None:
        if not YEARS[0] <= year <= YEARS[1]:
            raise DutyError(t("error.option_year", option="year", lo=YEARS[0], hi=YEARS[1],
                              got=year))
        first, last = first or dt.date(year, 1, 1), last or dt.date(year, 12, 31)
    default_first, default_last = named_period("this_month", ctx.now(), tz)
    first, last = first or default_first, last or default_last
    period = period_of_days(first, last, tz)
    result = figures(kind, period, by, settings=ctx.settings, now=ctx.now())
    result["from_day"], result["to_day"] = first.isoformat(), last.isoformat()
    title = t("record.stats_title", kind=label("kind", kind), first=first.isoformat(),
              last=last.isoformat(), site=one_line(ctx.settings.site_name))
    return render(result, fmt, title)
