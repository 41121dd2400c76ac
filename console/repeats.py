"""重复投诉: repeat complaints, found at intake and import (issue 11).

A new order is a possible repeat of an earlier one when the caller's phone is the
same, or the address and the category are, within ``hotline.repeat.window_days``.
Each test is one indexed range — ``work_order_repeat_phone (phone, received_at)``
and ``work_order_repeat_place (address, category, received_at)`` (migration 0008) —
read newest first and cut at ``max_candidates``: the rows examined are bounded by
that, however many orders the database holds.  The candidates are stored as
``ItemLink(relation="repeat")`` rows, which the detail, the intake form and the
queue's repeat filter read; a candidate is a derived fact (no event of its own: the
order's "create" or "import" event is the change).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from peewee import JOIN, fn

from .db import is_postgres
from .models import Department, ItemLink, WorkOrder

MATCHES = ("phone", "place")


@dataclass(frozen=True)
class MergeRules:
    """hotline.count_merged_once and hotline.repeat, validated (settings._merge_rules)."""

    count_merged_once: bool = True
    window_days: int = 30
    max_candidates: int = 5
    match: tuple[str, ...] = MATCHES

    @classmethod
    def from_settings(cls, v: Any) -> MergeRules:
        match = v.list_("hotline.repeat.match")
        for i, name in enumerate(match):
            v.choice(f"hotline.repeat.match[{i}]", name, MATCHES)
        return cls(count_merged_once=v.bool_("hotline.count_merged_once"),
                   window_days=v.int_("hotline.repeat.window_days", minimum=1, maximum=365,
                                      unit="days"),
                   max_candidates=v.int_("hotline.repeat.max_candidates", minimum=1,
                                         maximum=50),
                   match=tuple(dict.fromkeys(match)))


def rules_of(settings: Any) -> MergeRules:
    """The configured rules (defaults when a hand-built Settings has none)."""
    return getattr(settings, "merge", None) or MergeRules()


def window_sql(match: str, limit: int) -> str:
    """The one statement a match runs: an indexed range of the earlier orders, newest
    first, cut at ``limit``.  Written once as SQL, not built per order: building it with
    the query builder cost more than running it (import profile, issue 14)."""
    p = WorkOrder._meta.database.param
    test = f"phone = {p}" if match == "phone" else f"address = {p} AND category = {p}"
    return (f"SELECT id FROM {WorkOrder._meta.table_name} WHERE {test} "
            f"AND received_at >= {p} AND received_at <= {p} AND id <> {p} "
            f"ORDER BY received_at DESC LIMIT {int(limit)}")


def _matches(r: MergeRules, order: Any) -> list[tuple[str, list[Any]]]:
    """(match, its key values) for each configured match this order can take part in."""
    out = []
    if "phone" in r.match and (order.phone or "").strip():
        out.append(("phone", [order.phone]))
    if ("place" in r.match and (order.address or "").strip()
            and (order.category or "").strip()):
        out.append(("place", [order.address, order.category]))
    return out


def _earlier(r: MergeRules, order: Any) -> list[int]:
    """Candidate ids before the merged-duplicate filter, newest first per match."""
    db_time = WorkOrder.received_at.db_value
    start = db_time(order.received_at - dt.timedelta(days=r.window_days))
    found: list[int] = []
    for match, keys in _matches(r, order):
        cursor = WorkOrder._meta.database.execute_sql(
            window_sql(match, r.max_candidates),
            [*keys, start, db_time(order.received_at), order.id])
        found += [i for (i,) in cursor.fetchall()]
    return list(dict.fromkeys(found))


_LATERAL = {  # PostgreSQL: one statement per match for a whole batch of new orders
    "phone": ("unnest(%s::bigint[], %s::text[], %s::timestamp[]) AS n(id, phone, at)",
              "w.phone = n.phone"),
    "place": ("unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamp[]) "
              "AS n(id, address, category, at)",
              "w.address = n.address AND w.category = n.category"),
}


def _earlier_many(r: MergeRules, orders: list[Any]) -> dict[int, list[int]]:
    """``_earlier`` for many orders in one statement per match (PostgreSQL's LATERAL):
    an import's 20,000 look-ups were 20,000 round trips (3.9 s of 7.6 s for 10,000
    orders, measured).  Same answer: per match the newest first, cut at the limit."""
    window = dt.timedelta(days=r.window_days)
    found: dict[int, list[int]] = {o.id: [] for o in orders}
    for match in ("phone", "place"):
        chosen = [(o, keys) for o in orders for m, keys in _matches(r, o) if m == match]
        if not chosen:
            continue
        source, test = _LATERAL[match]
        columns = list(zip(*[(o.id, *keys, o.received_at) for o, keys in chosen], strict=True))
        sql = (f"SELECT n.id, c.id FROM {source} CROSS JOIN LATERAL (SELECT w.id, "
               f"w.received_at FROM {WorkOrder._meta.table_name} w WHERE {test} "
               f"AND w.received_at >= n.at - %s AND w.received_at <= n.at AND w.id <> n.id "
               f"ORDER BY w.received_at DESC LIMIT {int(r.max_candidates)}) c "
               f"ORDER BY n.id, c.received_at DESC")
        cursor = WorkOrder._meta.database.execute_sql(sql, [*map(list, columns), window])
        for new_id, other in cursor.fetchall():
            found[new_id].append(other)
    return {i: list(dict.fromkeys(ids)) for i, ids in found.items()}


def _earlier_batch(r: MergeRules, orders: list[Any]) -> dict[int, list[int]]:
    """``_earlier`` for many orders in one statement per match (SQLite): the orders go
    in as one JSON array and each runs ``window_sql``'s range as a correlated subquery,
    so an import pays one call per batch instead of one per order and match (20,000
    statements for 10,000 orders, ~1 s of Python around them).  Same answer, same
    order: per match the newest first, cut at the limit."""
    def db_time(at: dt.datetime) -> str:  # as sqlite3 stores a datetime
        return WorkOrder.received_at.db_value(at).isoformat(" ")

    window = dt.timedelta(days=r.window_days)
    found: dict[int, list[int]] = {o.id: [] for o in orders}
    for match in ("phone", "place"):
        chosen = [[o.id, db_time(o.received_at - window), db_time(o.received_at), *keys]
                  for o in orders for m, keys in _matches(r, o) if m == match]
        if not chosen:
            continue
        test = ("w.phone = json_extract(n.value, '$[3]')" if match == "phone" else
                "w.address = json_extract(n.value, '$[3]') "
                "AND w.category = json_extract(n.value, '$[4]')")
        sql = (f"SELECT json_extract(n.value, '$[0]'), (SELECT json_group_array(id) FROM "
               f"(SELECT w.id FROM {WorkOrder._meta.table_name} w WHERE {test} "
               f"AND w.received_at >= json_extract(n.value, '$[1]') "
               f"AND w.received_at <= json_extract(n.value, '$[2]') "
               f"AND w.id <> json_extract(n.value, '$[0]') "
               f"ORDER BY w.received_at DESC LIMIT {int(r.max_candidates)})) "
               f"FROM json_each(?) n")
        cursor = WorkOrder._meta.database.execute_sql(sql, [json.dumps(chosen)])
        for new_id, ids in cursor.fetchall():
            found[new_id] += json.loads(ids)
    return {i: list(dict.fromkeys(ids)) for i, ids in found.items()}


def _merged(ids: set[int]) -> set[int]:
    """Which of ``ids`` are merged duplicates (represented by their master instead)."""
    out: set[int] = set()
    pool = sorted(ids)
    database = ItemLink._meta.database
    for start in range(0, len(pool), 500):  # SQL written once: the builder cost more (import)
        part = pool[start:start + 500]
        marks = ", ".join([database.param] * len(part))
        out.update(i for (i,) in database.execute_sql(
            f"SELECT item_id FROM {ItemLink._meta.table_name} WHERE kind = 'work_order' "
            f"AND relation = 'merged' AND ended_at IS NULL AND item_id IN ({marks})", part))
    return out


def _found_for(settings: Any, orders: list[Any]) -> dict[int, list[int]]:
    """Each order's candidates: the earlier orders it may repeat, at most max_candidates."""
    r = rules_of(settings)
    if len(orders) == 1:
        raw = {orders[0].id: _earlier(r, orders[0])}
    elif is_postgres():
        raw = _earlier_many(r, orders)
    else:
        raw = _earlier_batch(r, orders)
    merged = _merged(set().union(*raw.values())) if raw else set()
    return {i: [c for c in ids if c not in merged][: r.max_candidates]
            for i, ids in raw.items()}


def candidates(settings: Any, order: Any) -> list[int]:
    """Ids of the earlier orders ``order`` may repeat, newest first, at most max_candidates."""
    return _found_for(settings, [order])[order.id]


def _store(found: dict[int, list[int]], now: dt.datetime, actor: str) -> int:
    """The candidates as repeat links, one prepared statement; returns how many repeat."""
    at = ItemLink.at.db_value(now)
    rows = [("work_order", i, other, "repeat", at, actor)
            for i, ids in found.items() for other in ids]
    if rows:
        database = ItemLink._meta.database
        columns = "kind, item_id, other_id, relation, at, actor"
        if is_postgres():  # COPY: executemany is a statement per link (2 s of a 6 s import)
            with database.cursor().copy(
                    f"COPY {ItemLink._meta.table_name} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join([database.param] * 6)
            database.cursor().executemany(
                f"INSERT INTO {ItemLink._meta.table_name} ({columns}) VALUES ({marks})", rows)
    return sum(1 for ids in found.values() if ids)


def flag(settings: Any, order: WorkOrder, now: dt.datetime, actor: str = "") -> list[int]:
    """Store the repeat candidates of a new order (inside the intake's transaction)."""
    found = _found_for(settings, [order])
    _store(found, now, actor)
    return found[order.id]


class NewOrder(NamedTuple):
    """What the look-up needs of a new order (the import has it as written)."""

    id: int
    phone: str | None
    address: str | None
    category: str | None
    received_at: dt.datetime


def flag_many(settings: Any, orders: list[NewOrder], now: dt.datetime, actor: str = "") -> int:
    """Import: flag each new order (bounded look-ups each); returns how many links it
    wrote."""
    links = 0
    for start in range(0, len(orders), 500):
        found = _found_for(settings, orders[start:start + 500])
        _store(found, now, actor)
        links += sum(len(ids) for ids in found.values())
    return links


def repeat_ids() -> Any:
    """A subquery of the orders flagged as repeats (the queue filter: ``id IN (…)``)."""
    return (ItemLink.select(ItemLink.item_id)
            .where((ItemLink.kind == "work_order") & (ItemLink.relation == "repeat")
                   & ItemLink.ended_at.is_null()))


def counts(start: dt.datetime, end: dt.datetime, by: str = "department") -> list[tuple[str, int]]:
    """Figures: repeat complaints received in [start, end) per unit ("department") or
    per category ("category"), most first.  An order counts once however many
    earlier orders it repeats."""
    flagged = WorkOrder.id.in_(repeat_ids())
    base = WorkOrder.select(fn.COUNT(WorkOrder.id).alias("n")).where(
        (WorkOrder.received_at >= start) & (WorkOrder.received_at < end) & flagged)
    if by == "category":
        query = base.select_extend(WorkOrder.category).group_by(WorkOrder.category)
        rows = [(c or "", n) for n, c in query.tuples()]
    else:
        query = (base.select_extend(Department.name)
                 .join(Department, JOIN.LEFT_OUTER, on=(WorkOrder.department == Department.id))
                 .group_by(Department.name))
        rows = [(d or "", n) for n, d in query.tuples()]
    return sorted(rows, key=lambda r: (-r[1], r[0]))
