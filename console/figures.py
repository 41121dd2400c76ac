"""The duty room's figures over a period (issue 12): 12345 orders, reports, supervision.

Every figure is a grouped SQL aggregate; no row is read into Python.  Percentiles
(median and 90th percentile time to close, median time to report up) are
nearest-rank: within each group the durations are numbered by ``ROW_NUMBER() OVER
(PARTITION BY group ORDER BY duration)`` and the row numbered ⌈n·p⌉ is the value —
one sort per query, in the database, returning two rows per group.
docs/statistics.md defines each figure so a leader can check it by hand.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

from peewee import SQL, Case, fn

from .db import is_postgres
from .models import Department, Event, ItemLink, Report, SupervisionItem, WorkOrder, database

KINDS = ("work_order", "report", "supervision")
# which --by a kind answers (type = a report's subtype, an item's 3715 class)
GROUPS: dict[str, tuple[str, ...]] = {
    "work_order": ("department", "category", "type", "urgency", "month", "day"),
    "report": ("level", "category", "type", "month", "day"),
    "supervision": ("department", "class", "type", "month", "day"),
}
BY_CHOICES = ("department", "category", "type", "level", "class", "urgency", "month", "day")
NO_DEPARTMENT = "-"


@dataclass(frozen=True)
class Period:
    since: dt.datetime  # naive UTC, inclusive
    until: dt.datetime  # naive UTC, exclusive
    tz: dt.tzinfo | None = None

    def offset_minutes(self) -> int:
        """The site zone's offset at the start of the period (China has no DST)."""
        if self.tz is None:
            return 0
        off = self.since.replace(tzinfo=dt.UTC).astimezone(self.tz).utcoffset()
        return int(off.total_seconds() // 60) if off else 0


# --------------------------------------------------------------------------- SQL pieces


def _seconds(start: Any, end: Any) -> Any:
    """end − start in seconds, on both backends."""
    if is_postgres():
        return fn.date_part("epoch", end - start)
    if sqlite3.sqlite_version_info >= (3, 38):  # integer arithmetic sorts faster
        return fn.unixepoch(end) - fn.unixepoch(start)
    return (fn.julianday(end) - fn.julianday(start)) * 86400.0


def _local_text(column: Any, period: Period, width: str) -> Any:
    """A stored UTC time as local "YYYY-MM" (month) or "YYYY-MM-DD" (day)."""
    off = period.offset_minutes()
    if is_postgres():
        pattern = "YYYY-MM" if width == "month" else "YYYY-MM-DD"
        return fn.to_char(column + SQL(f"interval '{int(off)} minutes'"), pattern)
    pattern = "%Y-%m" if width == "month" else "%Y-%m-%d"
    return fn.strftime(pattern, column, f"{int(off):+d} minutes")


MERGED_SQL = ("id NOT IN (SELECT item_id FROM item_link WHERE kind = 'work_order' "
              "AND relation = 'merged' AND ended_at IS NULL)")  # as counted_once writes it


def merged_out(settings: Any) -> Any:
    """The WHERE term that counts a merged order once (hotline.count_merged_once, issue 11:
    its duplicates are left out), or None when merges count or none is in force — then the
    figures' covering indexes serve unchanged (one probe of item_link_open)."""
    from .actions.merge import counted_once
    from .repeats import rules_of

    if settings is None or not rules_of(settings).count_merged_once:
        return None
    if not ItemLink.select().where((ItemLink.kind == "work_order")
                                   & (ItemLink.relation == "merged")
                                   & ItemLink.ended_at.is_null()).exists():
        return None
    return counted_once(WorkOrder, settings)


def _flag(condition: Any) -> Any:
    return fn.SUM(Case(None, [(condition, 1)], 0))


def _spec(kind: str) -> tuple[Any, Any]:
    """(model, the column that puts an item in the period)."""
    if kind == "work_order":
        return WorkOrder, WorkOrder.received_at
    if kind == "report":
        return Report, Report.received_at
    return SupervisionItem, SupervisionItem.registered_at


def _key(kind: str, by: str | None, period: Period) -> Any:
    model, at = _spec(kind)
    if by is None:
        return None
    if by in ("month", "day"):
        return _local_text(at, period, by)
    column = {"department": "department_id", "class": "klass", "level": "level",
              "category": "category", "urgency": "urgency",
              "type": {"work_order": "type", "report": "subtype",
                       "supervision": "klass"}[kind]}[by]
    if by == "department":
        return model.department
    return getattr(model, column)


def _grouped(query: Any, key: Any, index: str | None = None) -> dict[Any, tuple]:
    """{group key: the row's remaining values}; key None → {None: …} for the total.

    ``index``: on SQLite, the covering index that yields the groups in order (the planner
    took the period's index and sorted 600,000 rows into a temporary B-tree instead:
    0.9 s against 0.4 s for a year by department on the bench's 1M database)."""
    if key is None:
        return {None: tuple(query.tuples().get())}
    # by the alias: on PostgreSQL a parameter in the key (to_char's pattern) would not
    # match the same expression repeated in GROUP BY
    grouped = query.select_extend(key.alias("k")).group_by(SQL("k"))
    if index is not None and not is_postgres():
        sql, params = grouped.sql()
        source = 'FROM "work_order" AS "t1"'
        if source in sql:
            sql = sql.replace(source, f"{source} INDEXED BY {index}", 1)
            return {row[-1]: row[:-1] for row in database.execute_sql(sql, params).fetchall()}
    return {row[-1]: row[:-1] for row in grouped.tuples()}


def _percentiles(query: Any, key: Any, duration: Any, ps: tuple[int, ...]) -> dict:
    """{group: {p: seconds}} by nearest rank ⌈n·p/100⌉ within each group."""
    partition = [key] if key is not None else []
    rn = fn.ROW_NUMBER().over(partition_by=partition, order_by=[duration])
    n = fn.COUNT(SQL("*")).over(partition_by=partition)
    cols = [duration.alias("d"), rn.alias("rn"), n.alias("n")]
    if key is not None:
        cols.append(key.alias("k"))
    sql, params = query.select(*cols).sql()
    wanted = " OR ".join(f"rn = (n * {int(p)} + 99) / 100" for p in ps)
    out: dict[Any, dict[int, float]] = {}
    cursor = database.execute_sql(f"SELECT * FROM ({sql}) AS t WHERE {wanted}", params)
    for row in cursor.fetchall():
        d, rank, total = float(row[0]), int(row[1]), int(row[2])
        group = row[3] if key is not None else None
        for p in ps:
            if rank == (total * p + 99) // 100:
                out.setdefault(group, {})[p] = d
    return out


def _month_bounds(period: Period, month: str) -> tuple[dt.datetime, dt.datetime]:
    """A local "YYYY-MM" group as the UTC bounds it covers inside the period."""
    year, mon = (int(x) for x in month.split("-"))
    first = dt.datetime(year, mon, 1)
    after = dt.datetime(year + mon // 12, mon % 12 + 1, 1)
    shift = dt.timedelta(minutes=period.offset_minutes())
    return max(period.since, first - shift), min(period.until, after - shift)


def _months(period: Period) -> list[str]:
    """The local "YYYY-MM" months the period touches."""
    shift = dt.timedelta(minutes=period.offset_minutes())
    first, last = period.since + shift, period.until + shift - dt.timedelta(microseconds=1)
    year, month, out = first.year, first.month, []
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = year + month // 12, month % 12 + 1
    return out


def _by_rank(period: Period, by: str | None, closed_counts: dict[Any, int],
             ps: tuple[int, ...], once: bool = False) -> dict[Any, dict[int, float]] | None:
    """SQLite: each percentile read by rank — the row numbered ⌈n·p/100⌉ in duration order
    is ``LIMIT 1 OFFSET rank − 1`` — instead of numbering every closed order with a
    window.  The total and per department walk the duration index of migration 0012
    (``rank`` entries, no sort); a month sorts only its own orders.  None where it does
    not apply (PostgreSQL, other groupings, SQLite < 3.38): the window is used then."""
    if (is_postgres() or by not in (None, "department", "month")
            or sqlite3.sqlite_version_info < (3, 38)):
        return None
    duration = "(unixepoch(closed_at) - unixepoch(received_at))"  # the index's expression
    index = {None: "INDEXED BY work_order_close_secs",
             "department": "INDEXED BY work_order_close_secs_dept"}.get(by, "")
    out: dict[Any, dict[int, float]] = {}
    for group, n in closed_counts.items():
        if not n:
            continue
        where, params = "closed_at IS NOT NULL AND received_at >= ? AND received_at < ?", []
        if once:  # the merged duplicates left out, as in the counts (merged_out)
            where += " AND " + MERGED_SQL
        if by == "month":
            params += _month_bounds(period, group)
        else:
            params += [period.since, period.until]
        if by == "department":
            where += " AND department_id IS ?"
            params.append(group)
        ranks: dict[int, list[int]] = {}  # a small group can give two ps one rank
        for p in ps:
            ranks.setdefault((n * p + 99) // 100, []).append(p)
        if by == "month":  # no index orders a month's durations: sort them once for all ranks
            marks = ", ".join("?" * len(ranks))
            rows = database.execute_sql(
                f"SELECT d, rn FROM (SELECT d, ROW_NUMBER() OVER (ORDER BY d) AS rn FROM "
                f"(SELECT {duration} AS d FROM work_order WHERE {where})) "
                f"WHERE rn IN ({marks})", (*params, *ranks)).fetchall()
            for d, rn in rows:
                out.setdefault(group, {}).update(dict.fromkeys(ranks[rn], float(d)))
            continue
        for rank, same in ranks.items():
            row = database.execute_sql(
                f"SELECT {duration} FROM work_order {index} WHERE {where} "
                f"ORDER BY {duration} LIMIT 1 OFFSET ?", (*params, rank - 1)).fetchone()
            if row is not None:
                out.setdefault(group, {}).update(dict.fromkeys(same, float(row[0])))
    return out


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _int(value: Any) -> int:
    return int(value or 0)


# --------------------------------------------------------------------------- kinds


def _unit_desk(w: Any) -> list[Any]:
    """The unit desk's counts (issue 11): accepted, accepted in time (签收 before its limit
    ran out: the sweep counts the limit missed at its very moment), visited (回访: a score
    recorded, or sent back), redone at least once (发回重办), and the number of redos."""
    accepted = w.accepted_at.is_null(False)
    in_time = (accepted & w.accept_overdue_at.is_null()
               & (w.accept_due_at.is_null() | (w.accepted_at < w.accept_due_at)))
    visited = w.satisfaction.is_null(False) | (w.redo_count > 0)
    return [_flag(accepted), _flag(in_time), _flag(visited), _flag(w.redo_count > 0),
            fn.SUM(w.redo_count)]


_WO_INDEX = {"department": "work_order_figures_dept"}  # migration 0012


def _work_order_figures(period: Period, key: Any, by: str | None, settings: Any,
                        total: bool = False) -> tuple[dict[str, Any] | None, dict]:
    """(the total when asked, {group: figures}).  With ``total`` and a grouping the total's
    counts are the groups' summed (every count is additive: a year's orders are not read
    twice); only its percentiles are read again."""
    w = WorkOrder
    in_period = (w.received_at >= period.since) & (w.received_at < period.until)
    once = merged_out(settings)
    if once is not None:
        in_period = in_period & once
    closed = w.closed_at.is_null(False)
    counts = [fn.COUNT(w.id), _flag(closed), _flag(closed & w.overdue_at.is_null()),
              fn.SUM(w.extensions), fn.COUNT(w.satisfaction), fn.SUM(w.satisfaction),
              _flag(w.satisfaction >= 4), *_unit_desk(w)]
    returns = _grouped(w.select(fn.COUNT(Event.id))
                       .join(Event, on=((Event.item_id == w.id)
                                        & (Event.item_kind == "work_order")
                                        & (Event.action == "return")))
                       .where(in_period), key)
    if by == "month" and not is_postgres():  # a range read per month: no strftime, no sort
        groups = {}
        for month in _months(period):
            first, after = _month_bounds(period, month)  # inside the period already
            where = (w.received_at >= first) & (w.received_at < after)
            row = _grouped(w.select(*counts).where(where if once is None else where & once),
                           None)[None]
            if _int(row[0]):
                groups[month] = row
    else:
        groups = _grouped(w.select(*counts).where(in_period), key, _WO_INDEX.get(by))

    def pct_of(rows: dict[Any, tuple], grouping: str | None, k: Any) -> dict:
        pct = _by_rank(period, grouping, {g: _int(row[1]) for g, row in rows.items()},
                       (50, 90), once is not None)
        if pct is None:
            pct = _percentiles(w.select().where(in_period & closed), k,
                               _seconds(w.received_at, w.closed_at), (50, 90))
        return pct

    out = _order_figures(groups, returns, pct_of(groups, by, key))
    if not total:
        return None, out
    summed = {None: tuple(sum(_int(row[i]) for row in groups.values())
                          for i in range(len(counts)))}
    returned = {None: (sum(_int(row[0]) for row in returns.values()),)}
    return _order_figures(summed, returned, pct_of(summed, None, None))[None], out


def _order_figures(groups: dict[Any, tuple], returns: dict[Any, tuple],
                   pct: dict[Any, dict[int, float]]) -> dict[Any, dict[str, Any]]:
    out = {}
    for group, row in groups.items():
        n, c, on_time, ext, rated, s_sum, s_good, acc, acc_ok, visited, redone, redos = (
            _int(x) for x in row)
        p = pct.get(group, {})
        out[group] = {
            "received": n, "closed": c, "closure_rate": _rate(c, n),
            "on_time": on_time, "on_time_rate": _rate(on_time, c),
            "median_close_hours": _hours(p.get(50)), "p90_close_hours": _hours(p.get(90)),
            "returns": _int((returns.get(group) or (0,))[0]), "extensions": ext,
            "rated": rated, "satisfaction_mean": (s_sum / rated) if rated else None,
            "satisfied": s_good, "satisfied_rate": _rate(s_good, rated),
            "accepted": acc, "accepted_on_time": acc_ok,
            "accept_on_time_rate": _rate(acc_ok, acc),
            "visited": visited, "redone": redone, "redos": redos,
            "redo_rate": _rate(redone, visited),
        }
    return out


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 2)


def _report_limit(settings: Any) -> Any:
    """Seconds allowed from 接报 to the report up, by level (sensitive: as ``sensitive_as``
    when that is faster)."""
    r = Report
    limits = settings.report_limits
    by_level = Case(r.level, [(lv, lim.report * 60) for lv, lim in limits.items()],
                    limits["unknown"].report * 60)
    faster = min(limits[settings.sensitive_as].report * 60, 10**9)
    return Case(None, [((r.sensitive == True) & (by_level > faster), faster)],  # noqa: E712
                by_level)


def _reports(period: Period, key: Any, settings: Any) -> dict[Any, dict[str, Any]]:
    r = Report
    in_period = (r.received_at >= period.since) & (r.received_at < period.until)
    up = r.reported_at.is_null(False)
    up_secs = _seconds(r.received_at, r.reported_at)
    missed_after_up = (Event.select(SQL("1"))
                       .where((Event.item_kind == "report") & (Event.item_id == r.id)
                              & (Event.action == "overdue") & (Event.at > r.reported_at)))
    agg = r.select(fn.COUNT(r.id), _flag(r.closed_at.is_null(False)), _flag(up),
                   _flag(up & (up_secs <= _report_limit(settings))),
                   _flag(up & ~fn.EXISTS(missed_after_up)), fn.SUM(r.followups),
                   _flag(r.level.in_(("I", "II")))).where(in_period)
    pct = _percentiles(r.select().where(in_period & up), key, up_secs, (50,))
    out = {}
    for group, (n, c, n_up, in_time, fu_ok, fus, major) in _grouped(agg, key).items():
        n, n_up = _int(n), _int(n_up)
        med = pct.get(group, {}).get(50)
        out[group] = {
            "received": n, "closed": _int(c), "major": _int(major), "reported_up": n_up,
            "median_report_minutes": None if med is None else round(med / 60.0, 1),
            "reported_in_time": _int(in_time), "reported_in_time_rate": _rate(_int(in_time), n_up),
            "followups": _int(fus), "followups_on_time": _int(fu_ok),
            "followups_on_time_rate": _rate(_int(fu_ok), n_up),
        }
    return out


def _supervision(period: Period, key: Any, now: dt.datetime) -> dict[Any, dict[str, Any]]:
    s = SupervisionItem
    in_period = (s.registered_at >= period.since) & (s.registered_at < period.until)
    closed = s.closed_at.is_null(False)
    overdue = s.overdue_at.is_null(False) | (s.closed_at.is_null() & (s.deadline_at < now))
    agg = s.select(fn.COUNT(s.id), _flag(closed), _flag(closed & s.overdue_at.is_null()),
                   _flag(overdue), _flag(s.closed_at.is_null() & overdue)).where(in_period)
    out = {}
    for group, (n, c, on_time, late, open_late) in _grouped(agg, key).items():
        n, c = _int(n), _int(c)
        out[group] = {"registered": n, "closed": c, "closure_rate": _rate(c, n),
                      "on_time": _int(on_time), "on_time_rate": _rate(_int(on_time), c),
                      "overdue": _int(late), "open_overdue": _int(open_late)}
    return out


# --------------------------------------------------------------------------- entry point


def figures(kind: str, period: Period, by: str | None = None, *, settings: Any,
            now: dt.datetime) -> dict[str, Any]:
    """``{"kind", "from", "to", "total": {…}, "groups": {code: {…}}}`` (groups with ``by``).

    Group codes: a department's code ("-" for none), a level/type/category/class code,
    "YYYY-MM" or "YYYY-MM-DD" in the site's zone.  Rates are None where the
    denominator is 0 (no rate, rather than a false 0 %)."""
    def run(key: Any, grouping: str | None = None) -> dict[Any, dict[str, Any]]:
        if kind == "work_order":
            return _work_order_figures(period, key, grouping, settings)[1]
        if kind == "report":
            return _reports(period, key, settings)
        return _supervision(period, key, now)

    if kind == "work_order" and by is not None:  # the total summed from the groups
        total, groups = _work_order_figures(period, _key(kind, by, period), by, settings,
                                            total=True)
    else:
        total = run(None)[None]
        groups = run(_key(kind, by, period), by) if by is not None else {}
    result: dict[str, Any] = {"kind": kind, "from": period.since.isoformat(),
                              "to": period.until.isoformat(), "by": by, "total": total}
    if by is not None:
        if by == "department":
            codes = dict(Department.select(Department.id, Department.code).tuples())
            groups = {codes.get(k, str(k)) if k is not None else NO_DEPARTMENT: v
                      for k, v in groups.items()}
        result["groups"] = {str(k) if k is not None else NO_DEPARTMENT: v
                            for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}
    return result


def department_names() -> dict[str, str]:
    return dict(Department.select(Department.code, Department.name).tuples())
