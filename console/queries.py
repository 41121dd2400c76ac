"""Read side: queue windows, counters, detail, timeline, plans, the duty team.

Queues never load a table: a screen asks for ``window(filter, offset, limit)``
(or the keyset variants) for the rows it can show.  Every query here walks an
index: the queue order is (rank, sort_key, id), see ``rules.queue_position``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from peewee import JOIN, Tuple, fn

from .models import (
    ITEM_MODELS,
    ActivationMeasure,
    Department,
    Event,
    Instruction,
    Item,
    Person,
    Plan,
    PlanActivation,
    Report,
    ReportUpdate,
    Shift,
    SupervisionItem,
    WorkOrder,
)

KINDS = ("report", "work_order", "supervision")


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

    def with_(self, **changes: Any) -> QueueFilter:
        return replace(self, **changes)


@dataclass(frozen=True)
class QueueRow:
    """One queue line: only what the list shows."""

    kind: str
    id: int
    ref: str
    severity: str
    title: str
    status: str
    step: int
    step_name: str
    where: str  # department or place
    deadline_at: dt.datetime | None
    acked: bool
    overdue_at: dt.datetime | None
    closed_at: dt.datetime | None
    version: int
    rank: int
    sort_key: int
    updated_at: dt.datetime
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.rank, self.sort_key, self.id)


_SEVERITY = {"report": "level", "work_order": "urgency", "supervision": "klass"}


def _columns(kind: str) -> list:
    model = ITEM_MODELS[kind]
    common = [model.id, model.ref, getattr(model, _SEVERITY[kind]), model.status, model.step,
              model.chain, model.deadline_at, model.acked_at, model.overdue_at, model.closed_at,
              model.version, model.rank, model.sort_key, model.updated_at]
    if kind == "report":
        return common + [Report.title, Report.place, Report.dead, Report.injured]
    if kind == "work_order":
        return common + [WorkOrder.content, Department.name, WorkOrder.caller, WorkOrder.type]
    return common + [SupervisionItem.title, Department.name, SupervisionItem.klass,
                     SupervisionItem.source_ref]


def _row(kind: str, t: tuple) -> QueueRow:
    (id_, ref, sev, status, step, chain, deadline, acked_at, overdue_at, closed_at, version,
     rank, sort_key, updated_at, a, b, c, d) = t
    chain = chain if isinstance(chain, list) else ITEM_MODELS[kind].chain.python_value(chain)
    step_name = chain[step][0] if chain and 0 <= step < len(chain) else ""
    if kind == "report":
        title, where, extra = a, b or "", {"dead": c, "injured": d}
    elif kind == "work_order":
        title, where, extra = (a or "").replace("\n", " ")[:120], b or "", {"caller": c, "type": d}
    else:
        title, where, extra = a, b or "", {"klass": c, "source": d}
    return QueueRow(kind, id_, ref, sev, title, status, step, step_name, where, deadline,
                    acked_at is not None, overdue_at, closed_at, version, rank, sort_key,
                    updated_at, extra)


def _base(f: QueueFilter):
    model = ITEM_MODELS[f.kind]
    query = model.select(*_columns(f.kind))
    if f.kind in ("work_order", "supervision"):
        query = query.join(Department, JOIN.LEFT_OUTER, on=(model.department == Department.id))
    return _where(query, f)


OPEN_RANKS = 10  # rules.queue_position: open items rank below 10, closed ones from 10


def _where(query, f: QueueFilter):
    model = ITEM_MODELS[f.kind]
    # scope by rank, not closed_at: the queue's own index (rank, sort_key, id) then both
    # filters and orders, for open and for closed alike
    if f.scope == "open":
        query = query.where(model.rank < OPEN_RANKS)
    elif f.scope == "closed":
        query = query.where(model.rank >= OPEN_RANKS)
    if f.status:
        query = query.where(model.status == f.status)
    if f.severity:
        query = query.where(getattr(model, _SEVERITY[f.kind]) == f.severity)
    if f.department and f.kind in ("work_order", "supervision"):
        dept = Department.select(Department.id).where(Department.code == f.department)
        query = query.where(model.department.in_(dept))
    if f.mine:
        query = query.where(model.owner == f.mine)
    if f.overdue_only:  # closed items have no deadline
        now = f.now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        query = query.where(model.deadline_at.is_null(False) & (model.deadline_at <= now))
    if f.unacked_only:
        query = query.where(model.closed_at.is_null() & model.acked_at.is_null())
    if f.search.strip():
        term = f.search.strip()  # contains(): % and _ typed by the officer match themselves
        cond = model.ref.contains(term)
        if f.kind == "report":
            cond |= Report.title.contains(term) | Report.place.contains(term) | (
                Report.reporter_phone.contains(term)) | Report.reporter.contains(term)
        elif f.kind == "work_order":
            cond |= WorkOrder.content.contains(term) | WorkOrder.caller.contains(term) | (
                WorkOrder.phone.contains(term)) | WorkOrder.address.contains(term)
        else:
            cond |= SupervisionItem.title.contains(term)
        query = query.where(cond)
    return query


def count(f: QueueFilter) -> int:
    model = ITEM_MODELS[f.kind]
    query = _where(model.select(fn.COUNT(model.id)), f)
    if f.department and f.kind in ("work_order", "supervision"):
        pass  # department filter is a sub-select: no join needed
    return int(query.scalar() or 0)


def _order(model, descending: bool = False):
    if descending:
        return [model.rank.desc(), model.sort_key.desc(), model.id.desc()]
    return [model.rank, model.sort_key, model.id]


def window(f: QueueFilter, offset: int, limit: int, *, total: int | None = None) -> list[QueueRow]:
    """Rows ``offset``..``offset+limit`` in queue order.

    Deep offsets near the end are read backwards from the end (an index walk of
    ``total - offset`` entries instead of ``offset``), so "jump to end" is as
    quick as "jump to start".
    """
    model = ITEM_MODELS[f.kind]
    offset = max(0, offset)
    descending = False
    if total is not None and offset > total // 2:
        descending = True
        offset, limit = max(0, total - offset - limit), min(limit, total - offset)
        if limit <= 0:
            return []
    # Skipping rows with OFFSET costs what each skipped row costs: so skip over ids on
    # the index alone, then read the page's rows by id.
    ids_query = (_where(model.select(model.id), f).order_by(*_order(model, descending))
                 .limit(limit).offset(offset))
    ids = [i for (i,) in ids_query.tuples()]
    if not ids:
        return []
    rows = [_row(f.kind, r) for r in _base(f).where(model.id.in_(ids)).tuples()]
    rows.sort(key=lambda r: r.key)
    return rows


def after(f: QueueFilter, key: tuple[int, int, int], limit: int) -> list[QueueRow]:
    """Keyset page: the ``limit`` rows after ``key`` (rank, sort_key, id)."""
    model = ITEM_MODELS[f.kind]
    # a row-value comparison: SQLite and PostgreSQL seek the (rank, sort_key, id) index to
    # it (the equivalent OR chain made SQLite search and sort every matching row)
    cond = Tuple(model.rank, model.sort_key, model.id) > Tuple(*key)
    rows = _base(f).where(cond).order_by(*_order(model)).limit(limit).tuples()
    return [_row(f.kind, r) for r in rows]


def before(f: QueueFilter, key: tuple[int, int, int], limit: int) -> list[QueueRow]:
    """Keyset page: the ``limit`` rows before ``key``, in queue order."""
    model = ITEM_MODELS[f.kind]
    cond = Tuple(model.rank, model.sort_key, model.id) < Tuple(*key)
    rows = list(_base(f).where(cond).order_by(*_order(model, True)).limit(limit).tuples())
    return [_row(f.kind, r) for r in reversed(rows)]


def position_of(f: QueueFilter, key: tuple[int, int, int]) -> int:
    """How many rows come before ``key`` (to keep the cursor on an item after a refresh)."""
    model = ITEM_MODELS[f.kind]
    cond = Tuple(model.rank, model.sort_key, model.id) < Tuple(*key)
    return int(_where(model.select(fn.COUNT(model.id)), f).where(cond).scalar() or 0)


def row_by_id(kind: str, item_id: int) -> QueueRow | None:
    model = ITEM_MODELS[kind]
    rows = list(_base(QueueFilter(kind, scope="all")).where(model.id == item_id).tuples())
    return _row(kind, rows[0]) if rows else None


# --------------------------------------------------------------------------- counters


@dataclass(frozen=True)
class Counters:
    """Per-queue counts.  With a ``cap``, a count above it reads as ``cap + 1`` ("999+")."""

    open: int
    new: int
    unacked: int
    overdue: int
    cap: int | None = None

    def shown(self, name: str) -> str:
        value = getattr(self, name)
        return f"{self.cap}+" if self.cap is not None and value > self.cap else str(value)


def counters(kind: str, now: dt.datetime, cap: int | None = None) -> Counters:
    """Header counters, each from an index.

    Counting is linear in what is counted, so the header passes a ``cap``: each
    count then stops after ``cap + 1`` index entries and its cost no longer grows
    with the size of a backlog (nobody reads "34,095 unacknowledged" differently
    from "999+").  ``dutyroom summary`` counts exactly.
    """
    model = ITEM_MODELS[kind]
    new_status = {"report": "new", "work_order": "received", "supervision": "registered"}[kind]

    def n(condition) -> int:
        query = model.select(model.id).where(condition)
        if cap is not None:
            query = query.limit(cap + 1)
        return int(query.count())

    return Counters(n(model.rank < OPEN_RANKS), n(model.status == new_status),
                    n(model.closed_at.is_null() & model.acked_at.is_null()),
                    n(model.deadline_at.is_null(False) & (model.deadline_at <= now)), cap)


# --------------------------------------------------------------------------- detail


@dataclass
class Detail:
    item: Item
    department: Department | None
    updates: list[ReportUpdate]
    instructions: list[Instruction]
    activations: list[tuple[PlanActivation, Plan, list[ActivationMeasure]]]
    supervision: list[SupervisionItem]
    events: list[Event]
    source: Item | None = None


def detail(kind: str, item_id: int, *, events_limit: int = 500) -> Detail | None:
    model = ITEM_MODELS[kind]
    item = model.get_or_none(model.id == item_id)
    if item is None:
        return None
    dept = None
    if kind in ("work_order", "supervision") and item.department_id:
        dept = Department.get_or_none(Department.id == item.department_id)
    updates = []
    activations = []
    if kind == "report":
        updates = list(ReportUpdate.select().where(ReportUpdate.report == item.id)
                       .order_by(ReportUpdate.seq, ReportUpdate.id))
        for act in (PlanActivation.select().where(PlanActivation.report == item.id)
                    .order_by(PlanActivation.id)):
            plan = Plan.get_by_id(act.plan_id)
            measures = list(ActivationMeasure.select()
                            .where(ActivationMeasure.activation == act.id)
                            .order_by(ActivationMeasure.idx))
            activations.append((act, plan, measures))
    instructions = list(Instruction.select().where(
        (Instruction.item_kind == kind) & (Instruction.item_id == item.id))
        .order_by(Instruction.id))
    supervision = []
    if kind != "supervision":
        supervision = list(SupervisionItem.select()
                           .where(SupervisionItem.source_ref == item.ref)
                           .order_by(SupervisionItem.id))
    source = None
    if kind == "supervision" and item.source_ref:
        # an instruction's source is the item it was given on: look the reference up anywhere
        for src_model in ITEM_MODELS.values():
            source = src_model.get_or_none(src_model.ref == item.source_ref)
            if source is not None:
                break
    return Detail(item, dept, updates, instructions, activations, supervision,
                  timeline(kind, item.id, limit=events_limit), source)


def timeline(kind: str, item_id: int, *, limit: int = 500) -> list[Event]:
    rows = (Event.select().where((Event.item_kind == kind) & (Event.item_id == item_id))
            .order_by(Event.id.desc()).limit(limit))
    return list(reversed(list(rows)))


def events_after(last_id: int, limit: int = 1000) -> list[Event]:
    """The change feed's read: events committed after ``last_id``."""
    return list(Event.select().where(Event.id > last_id).order_by(Event.id).limit(limit))


def last_event_id() -> int:
    return int(Event.select(fn.MAX(Event.id)).scalar() or 0)


# --------------------------------------------------------------------------- people, plans


@dataclass(frozen=True)
class DutyTeam:
    shift: Shift | None
    leader: Person | None
    primary: Person | None
    secondary: Person | None


def duty_team(now: dt.datetime) -> DutyTeam:
    """Who is on shift now (带班领导, 主班, 副班)."""
    shift = (Shift.select().where((Shift.starts_at <= now) & (Shift.ends_at > now))
             .order_by(Shift.starts_at.desc()).first())
    if shift is None:
        return DutyTeam(None, None, None, None)
    ids = [i for i in (shift.leader_id, shift.primary_id, shift.secondary_id) if i]
    people = {p.id: p for p in Person.select().where(Person.id.in_(ids))} if ids else {}
    return DutyTeam(shift, people.get(shift.leader_id), people.get(shift.primary_id),
                    people.get(shift.secondary_id))


def person_by_login(login: str) -> Person | None:
    return Person.get_or_none((Person.login == login) & (Person.active == True))  # noqa: E712


def plans(search: str = "", limit: int = 500) -> list[Plan]:
    query = Plan.select().order_by(Plan.kind, Plan.code)
    if search.strip():
        term = search.strip()
        query = query.where(Plan.code.contains(term) | Plan.title.contains(term)
                            | Plan.summary.contains(term) | Plan.subtype.contains(term))
    return list(query.limit(limit))


def plan_by_code(code: str) -> Plan | None:
    return Plan.get_or_none(Plan.code == code)


def plans_for(report: Report) -> list[Plan]:
    """Plans that fit a report: same subtype first, then category, then the master plan."""
    same = list(Plan.select().where(Plan.subtype == report.subtype).order_by(Plan.code))
    cat = list(Plan.select().where((Plan.category == report.category)
                                   & (Plan.subtype != report.subtype)).order_by(Plan.code))
    master = list(Plan.select().where(Plan.kind == "master").order_by(Plan.code))
    seen, out = set(), []
    for p in same + cat + master:
        if p.id not in seen:
            seen.add(p.id)
            out.append(p)
    return out


def active_activations(limit: int = 100) -> list[tuple[PlanActivation, Plan]]:
    rows = (PlanActivation.select(PlanActivation, Plan).join(Plan)
            .where(PlanActivation.deactivated_at.is_null())
            .order_by(PlanActivation.activated_at.desc()).limit(limit))
    return [(a, a.plan) for a in rows]


def departments(prefix: str = "", limit: int = 50) -> list[Department]:
    query = Department.select().where(Department.active == True)  # noqa: E712
    if prefix:
        query = query.where(Department.code.startswith(prefix) | Department.name.contains(prefix))
    return list(query.order_by(Department.code).limit(limit))


def refs_starting(prefix: str, limit: int = 20) -> list[str]:
    """Open item references for command-line completion."""
    out: list[str] = []
    for model in ITEM_MODELS.values():
        rows = (model.select(model.ref).where(model.closed_at.is_null()
                                              & model.ref.startswith(prefix))
                .order_by(model.ref.desc()).limit(limit))
        out.extend(r for (r,) in rows.tuples())
    return out[:limit]
