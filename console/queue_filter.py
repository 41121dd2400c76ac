"""What a queue shows (``QueueFilter``) and the WHERE clause it becomes (``where``).

``console.queries`` reads through it and re-exports its names; the queue order is
(rank, sort_key, id), see ``rules.queue_position``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from peewee import SQL

from . import categories, merge_queries, schedule_queries, search
from .clock import to_utc_naive
from .models import ITEM_MODELS, Department
from .views import SEVERITY_FIELD

UNIT_KINDS = ("work_order", "supervision", "scheduled")  # the kinds with a handling unit
RECEIVED = {"report": "received_at", "work_order": "received_at",
            "supervision": "registered_at"}  # what the filter's dates apply to
OPEN_RANKS = 10  # rules.queue_position: open items rank below 10, closed ones from 10


@dataclass(frozen=True)
class QueueFilter:
    """What a queue shows.  ``scope``: "open", "closed" or "all"."""

    kind: str
    scope: str = "open"
    status: str | None = None
    severity: str | None = None  # level / urgency / 3715 class
    department: str | None = None  # code
    mine: str | None = None  # login of the owner
    overdue_only: bool = False
    unacked_only: bool = False
    search: str = ""
    now: dt.datetime | None = None  # for overdue_only
    repeats_only: bool = False  # 重复投诉 only (issue 11, console/repeats.py)
    # a unit liaison's view (role unit): only that department's items, whatever the other
    # filters say; a kind without a handling unit (reports, plans) shows none
    unit: str | None = None
    # a report's category (natural/accident/…) or a 12345 class code (its orders and those of
    # every class below it); supervision and scheduled items have none
    category: str | None = None
    # received (registered) from / before, naive UTC: the filter's local days (day_bounds)
    received_from: dt.datetime | None = None
    received_before: dt.datetime | None = None

    def with_(self, **changes: Any) -> QueueFilter:
        return replace(self, **changes)


def day_bounds(tz: dt.tzinfo, since: dt.date | None, until: dt.date | None
               ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local days from–to (inclusive) as naive UTC bounds [from, before)."""
    def start(day: dt.date) -> dt.datetime:
        return to_utc_naive(dt.datetime.combine(day, dt.time()), tz)

    return (start(since) if since else None,
            start(until + dt.timedelta(days=1)) if until else None)


def order(model, descending: bool = False) -> list:
    if descending:
        return [model.rank.desc(), model.sort_key.desc(), model.id.desc()]
    return [model.rank, model.sort_key, model.id]


def where(query, f: QueueFilter):
    """``query`` narrowed to what ``f`` shows (each part below is one kind of condition)."""
    model = ITEM_MODELS[f.kind]
    for part in (_scope, _fields, _units, _dates, _flags):
        query = part(query, model, f)
    return _search(query, model, f)


def _scope(query, model, f: QueueFilter):
    # by rank, not closed_at: the queue's own index (rank, sort_key, id) then both filters
    # and orders, for open and for closed alike
    if f.scope == "open":
        return query.where(model.rank < OPEN_RANKS)
    if f.scope == "closed":
        return query.where(model.rank >= OPEN_RANKS)
    return query


def _fields(query, model, f: QueueFilter):
    if f.status:
        query = query.where(model.status == f.status)
    if f.severity:
        query = query.where(getattr(model, SEVERITY_FIELD[f.kind]) == f.severity)
    if f.mine:
        query = query.where(model.owner == f.mine)
    if f.category and f.kind == "report":
        query = query.where(model.category == f.category)
    elif f.category and f.kind == "work_order":
        query = query.where(model.category.in_(categories.names_under(f.category) or [""]))
    return query


def _units(query, model, f: QueueFilter):
    for code in (f.department, f.unit):
        if code and f.kind in UNIT_KINDS:
            dept = Department.select(Department.id).where(Department.code == code)
            query = query.where(model.department.in_(dept))
    if f.unit is not None and (not f.unit or f.kind not in UNIT_KINDS):
        query = query.where(SQL("1 = 0"))
    return query


def _dates(query, model, f: QueueFilter):
    received = RECEIVED.get(f.kind)
    if received is not None and f.received_from is not None:
        query = query.where(getattr(model, received) >= f.received_from)
    if received is not None and f.received_before is not None:
        query = query.where(getattr(model, received) < f.received_before)
    return query


def _flags(query, model, f: QueueFilter):
    if f.overdue_only:  # closed items have no deadline
        now = f.now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        query = query.where(model.deadline_at.is_null(False) & (model.deadline_at <= now))
    if f.unacked_only:
        query = query.where(model.closed_at.is_null() & model.acked_at.is_null())
    if f.repeats_only and f.kind == "work_order":  # 重复投诉 (issue 11), by the link index
        query = query.where(model.id.in_(merge_queries.repeats.repeat_ids()))
    return query


def _search(query, model, f: QueueFilter):
    term = f.search.strip()
    if term and f.kind == "scheduled":  # topic, period, department
        return query.where(model.ref.contains(term) | schedule_queries.search(term))
    if (term and not search.is_short(term) and f.kind in ("work_order", "report")
            and merge_queries.masters_named(model, term).exists()):
        # 并单: a merged duplicate's reference finds its master (an exact ref: one index probe)
        return query.where(model.id.in_(merge_queries.masters_named(model, term)))
    if term:  # the queue without the search: what a 1–2 character one scans
        return search.restrict(query, model, f.kind, term, lambda: where(
            model.select(model.id), f.with_(search="")).order_by(*order(model)))
    return query
