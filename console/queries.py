"""Read side: queue windows, counters, detail, timeline, plans, the duty team, and every
other read the screens do — returning plain dataclasses (console/views.py), never ORM rows.

Queues never load a table: a screen asks for ``window(filter, offset, limit)`` (or the
keyset variants) for the rows it can show.  Every query here walks an index: the queue
order is (rank, sort_key, id), see ``rules.queue_position``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from peewee import JOIN, ForeignKeyField, Tuple, fn

from . import schedule_queries, search  # merge_queries: 并单, 重复投诉
from .errors import PermissionDenied
from .i18n import t
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
    database,
)
from .queue_filter import OPEN_RANKS
from .queue_filter import RECEIVED as RECEIVED  # re-exported: callers read them here too
from .queue_filter import UNIT_KINDS as UNIT_KINDS
from .queue_filter import QueueFilter as QueueFilter
from .queue_filter import day_bounds as day_bounds
from .queue_filter import order as _order
from .queue_filter import where as _where
from .shiftwork import instruction_people  # 批示: the leader with title, the recorder
from .textsafe import one_line, visible
from .views import (
    SEVERITY_FIELD,
    ActivationView,
    AdminRows,
    Detail,
    EventView,
    FeedRow,
    HeaderTeam,
    InstructionView,
    LinkView,
    MeasureView,
    PlanChoice,
    UpdateView,
    chain_steps,
    item_view,
    safe,
)

KINDS = ("report", "work_order", "supervision")


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
    damaged: bool = False  # a stored value could not be decoded: shown as damaged

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.rank, self.sort_key, self.id)


_SEVERITY = SEVERITY_FIELD  # which column is the severity of each kind


def _columns(kind: str) -> list:
    model = ITEM_MODELS[kind]
    common = [model.id, model.ref, getattr(model, _SEVERITY[kind]), model.status, model.step,
              model.chain.coerce(False),  # raw text: a damaged row, not a failed page
              model.deadline_at, model.acked_at, model.overdue_at, model.closed_at,
              model.version, model.rank, model.sort_key, model.updated_at]
    if kind == "report":
        return common + [Report.title, Report.place, Report.dead, Report.injured]
    if kind == "work_order":
        return common + [WorkOrder.content, Department.name, WorkOrder.caller, WorkOrder.type]
    if kind == "scheduled":
        return schedule_queries.columns(common)
    return common + [SupervisionItem.title, Department.name, SupervisionItem.klass,
                     SupervisionItem.source_ref]


def _decodechain_steps(kind: str, chain: Any) -> list | None:
    """The stored chain, or None when it cannot be read (a damaged row)."""
    if isinstance(chain, list):
        return chain
    try:
        value = ITEM_MODELS[kind].chain.python_value(chain)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, list) or value is None else None


def _row(kind: str, t: tuple) -> QueueRow:
    (id_, ref, sev, status, step, chain, deadline, acked_at, overdue_at, closed_at, version,
     rank, sort_key, updated_at, a, b, c, d) = t
    decoded = _decodechain_steps(kind, chain)
    damaged = decoded is None and chain is not None
    steps = chain_steps(decoded or [])
    step_name = steps[step][0] if isinstance(step, int) and 0 <= step < len(steps) else ""
    if kind == "report":
        title, where, extra = a, b, {"dead": c, "injured": d}
    elif kind == "work_order":
        title, where, extra = (a or "")[:120], b, {"caller": one_line(c), "type": d}
    elif kind == "scheduled":
        title, where, extra = schedule_queries.row_parts(a, b, c, d)
    else:
        title, where, extra = a, b, {"klass": c, "source": one_line(d)}
    return QueueRow(kind, id_, one_line(ref), sev or "", one_line(title), status or "", step or 0,
                    step_name, one_line(where), deadline, acked_at is not None, overdue_at,
                    closed_at, version or 0, rank, sort_key, updated_at, extra, damaged)


def _base(f: QueueFilter):
    model = ITEM_MODELS[f.kind]
    query = model.select(*_columns(f.kind))
    if f.kind in ("work_order", "supervision", "scheduled"):
        query = query.join(Department, JOIN.LEFT_OUTER, on=(model.department == Department.id))
    return _where(query, f)


def short_partial(f: QueueFilter) -> bool:  # a 1–2 character search saw part of the queue
    m = ITEM_MODELS[f.kind]
    return search.partial(f.search.strip(), lambda: _where(m.select(m.id), f.with_(search="")))


def in_view(f: QueueFilter, item_id: int) -> bool:
    """Whether the item is among what ``f`` shows, in any scope (one indexed probe)."""
    model = ITEM_MODELS[f.kind]
    return _where(model.select(model.id), f.with_(scope="all")).where(
        model.id == item_id).exists()


def count(f: QueueFilter, cap: int | None = None) -> int:  # cap: walk at most cap + 1 rows
    model = ITEM_MODELS[f.kind]
    if cap is not None:
        return int(_where(model.select(model.id), f).limit(cap + 1).count())
    return int(_where(model.select(fn.COUNT(model.id)), f).scalar() or 0)


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
    every = _base(QueueFilter(f.kind, scope="all"))  # the ids are filtered: not twice
    rows = [_row(f.kind, r) for r in every.where(model.id.in_(ids)).tuples()]
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


def counters(kind: str, now: dt.datetime, cap: int | None = None,
             unit: str | None = None) -> Counters:
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
        if unit is not None:  # a unit liaison's header counts its own items (QueueFilter.unit)
            query = _where(query, QueueFilter(kind, scope="all", unit=unit))
        if cap is not None:
            query = query.limit(cap + 1)
        return int(query.count())

    return Counters(n(model.rank < OPEN_RANKS), n(model.status == new_status),
                    n(model.closed_at.is_null() & model.acked_at.is_null()),
                    n(model.deadline_at.is_null(False) & (model.deadline_at <= now)), cap)


# --------------------------------------------------------------------------- detail


def _tolerant(query, fields: list) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """Rows of ``query`` as {field name: value} with text made safe, and the names of the
    fields whose stored value could not be decoded (None in the dict).  The raw cursor is
    read and each column converted by its own field, so one damaged value (a chain stored
    as ``{broken``) marks that field instead of failing the read."""
    cursor = database.execute(query)
    out = []
    for raw in cursor.fetchall():
        row: dict[str, Any] = {}
        damaged = []
        for f, value in zip(fields, raw, strict=False):
            name = f.name + "_id" if isinstance(f, ForeignKeyField) else f.name
            try:
                row[name] = safe(f.python_value(value))
            except (ValueError, TypeError, OverflowError):
                row[name] = None
                damaged.append(f.name)
        out.append((row, tuple(damaged)))
    return out


def _read(model, where) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    fields = list(model._meta.sorted_fields)
    return _tolerant(model.select(*fields).where(where), fields)


def running_plans(report_id: int) -> list[str]:
    """The codes of the plans whose response for this report is still running."""
    return [a.plan.code for a in PlanActivation.select(PlanActivation, Plan).join(Plan)
            .where((PlanActivation.report == report_id)
                   & PlanActivation.deactivated_at.is_null()).order_by(PlanActivation.id)]


def _activations(report_id: int) -> list[ActivationView]:
    out = []
    for act in (PlanActivation.select(PlanActivation, Plan).join(Plan)
                .where(PlanActivation.report == report_id).order_by(PlanActivation.id)):
        measures = [MeasureView(m.idx, visible(m.text), m.done_at, one_line(m.done_by or ""))
                    for m in ActivationMeasure.select()
                    .where(ActivationMeasure.activation == act.id)
                    .order_by(ActivationMeasure.idx)]
        out.append(ActivationView(act.id, act.version, act.level, act.activated_at,
                                  one_line(act.activated_by), act.deactivated_at,
                                  one_line(act.plan.code), one_line(act.plan.title), measures))
    return out


def _link(item: Item) -> LinkView:
    title = getattr(item, "title", "") or (getattr(item, "content", "") or "")[:60]
    return LinkView(item.KIND, one_line(item.ref), getattr(item, _SEVERITY[item.KIND]),
                    item.status, one_line(title))


def _source(ref: str) -> LinkView | None:
    """An instruction's source is the item it was given on: the reference, looked up anywhere."""
    for model in ITEM_MODELS.values():
        found = model.select(model.id, model.ref, model.status,
                             getattr(model, _SEVERITY[model.KIND]),
                             *([model.title] if hasattr(model, "title") else [model.content])
                             ).where(model.ref == ref).first()
        if found is not None:
            return _link(found)
    return LinkView("", one_line(ref), "", "", "")


def detail(kind: str, item_id: int, *, events_limit: int = 500,
           unit: str | None = None) -> Detail | None:
    """One item whole.  ``unit``: a unit liaison's department (``QueueFilter.unit``), who
    may read only what its queues show: another's item (a typed ``:open``, a link) is
    refused — the caller's phone and address are not theirs to see."""
    model = ITEM_MODELS[kind]
    rows = _read(model, model.id == item_id)
    if not rows:
        return None
    item = item_view(kind, *rows[0])
    if unit is not None and not in_view(QueueFilter(kind, unit=unit), item_id):
        raise PermissionDenied(t("unitdesk.error.not_your_unit_view", ref=item.ref,
                                 dept=unit or "-"))
    dept = None
    if kind in ("work_order", "supervision", "scheduled") and item.fields.get("department_id"):
        name = (Department.select(schedule_queries.department_label(kind))  # + phone
                .where(Department.id == item.fields["department_id"]).scalar())
        dept = one_line(name) if name else None
    updates, activations = [], []
    if kind == "report":
        updates = [UpdateView(u.stage, u.seq, u.at, one_line(u.author), visible(u.text), u.dead,
                              u.injured, u.missing)
                   for u in ReportUpdate.select().where(ReportUpdate.report == item.id)
                   .order_by(ReportUpdate.seq, ReportUpdate.id)]
        activations = _activations(item.id)
    instructions = [InstructionView(*instruction_people(i), visible(i.text))
                    for i in Instruction.select().where((Instruction.item_kind == kind)
                                                        & (Instruction.item_id == item.id))
                    .order_by(Instruction.id)]
    supervision = []
    if kind != "supervision":
        supervision = [_link(sv) for sv in SupervisionItem.select(
            SupervisionItem.id, SupervisionItem.ref, SupervisionItem.status,
            SupervisionItem.klass, SupervisionItem.title)
            .where(SupervisionItem.source_ref == item.ref).order_by(SupervisionItem.id)]
    source_ref = item.fields.get("source_ref")
    source = _source(source_ref) if kind == "supervision" and source_ref else None
    return Detail(item, dept, updates, instructions, activations, supervision,
                  timeline(kind, item.id, limit=events_limit), source)


def timeline(kind: str, item_id: int, *, limit: int = 500) -> list[EventView]:
    """An item's newest ``limit`` events, oldest first (an undecodable one is marked)."""
    fields = [Event.id, Event.at, Event.actor, Event.actor_name, Event.console, Event.action,
              Event.before, Event.after, Event.note]
    query = (Event.select(*fields).where((Event.item_kind == kind) & (Event.item_id == item_id))
             .order_by(Event.id.desc()).limit(limit))
    out = []
    for row, damaged in reversed(_tolerant(query, fields)):
        before, after = row["before"], row["after"]
        out.append(EventView(row["id"], row["at"], one_line(row["actor"]),
                             one_line(row["actor_name"] or ""), one_line(row["console"] or ""),
                             row["action"] or "", before if isinstance(before, dict) else None,
                             after if isinstance(after, dict) else None,
                             visible(row["note"] or ""), bool(damaged)))
    return out


def events_after(last_id: int, limit: int = 1000) -> list[FeedRow]:
    """The change feed's read: events committed after ``last_id`` (an undecodable one too)."""
    fields = [getattr(Event, f.name) for f in dataclasses.fields(FeedRow)]
    query = Event.select(*fields).where(Event.id > last_id).order_by(Event.id).limit(limit)
    return [FeedRow(**row) for row, _damaged in _tolerant(query, fields)]


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


def header_team(now: dt.datetime) -> HeaderTeam:
    team = duty_team(now)
    names = [one_line(p.name) if p is not None else None
             for p in (team.leader, team.primary, team.secondary)]
    return HeaderTeam(team.shift is not None, *names)


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


def plan_choices(report_id: int) -> tuple[list[PlanChoice], list[PlanChoice]]:
    """Plans to activate on a report: the suggested ones (plans_for), then all of them."""
    report = Report.get_or_none(Report.id == report_id)
    suggested = plans_for(report)[:8] if report is not None else []
    return ([PlanChoice(one_line(p.code), one_line(p.title)) for p in suggested],
            [PlanChoice(one_line(p.code), one_line(p.title)) for p in plans(limit=500)])


def plan_record(code: str) -> dict[str, Any] | None:
    """A plan's stored values as plain data (an edit keeps what its form does not show)."""
    plan = Plan.get_or_none(Plan.code == code)
    return None if plan is None else {f: getattr(plan, f) for f in Plan._meta.sorted_field_names}


def admin_section(section: str, now: dt.datetime) -> AdminRows:
    """One section of the admin screen: people, departments, shifts to come, or plans."""
    if section == "people":
        return AdminRows(section, {p.login: {"login": p.login, "name": p.name, "title": p.title,
                                             "phone": p.phone, "role": p.role,
                                             "department": p.department or "",  # role unit
                                             "active": p.active, "version": p.version}
                                   for p in Person.select().order_by(Person.login).limit(5000)})
    if section == "departments":
        return AdminRows(section, {d.code: {"code": d.code, "name": d.name, "phone": d.phone,
                                            "active": d.active, "version": d.version}
                                   for d in Department.select().order_by(Department.code)
                                   .limit(5000)})
    if section == "shifts":
        return _admin_shifts(now)
    return AdminRows(section, {p.code: {"code": p.code, "title": p.title, "kind": p.kind,
                                        "category": p.category, "summary": p.summary,
                                        "contacts": list(p.contacts or []),
                                        "levels": dict(p.levels or {}), "version": p.version}
                               for p in Plan.select().order_by(Plan.kind, Plan.code).limit(2000)})


def _admin_shifts(now: dt.datetime) -> AdminRows:
    people = {p.id: p for p in Person.select().limit(5000)}
    shifts = Shift.select().where(Shift.ends_at > now).order_by(Shift.starts_at).limit(200)

    def login(pid: int | None) -> str:
        return people[pid].login if pid in people else ""

    records = {s.ref: {"ref": s.ref, "starts_at": s.starts_at, "ends_at": s.ends_at,
                       "leader": login(s.leader_id), "primary": login(s.primary_id),
                       "secondary": login(s.secondary_id),
                       "handed_over_at": s.handed_over_at, "version": s.version}
               for s in shifts}
    roster = tuple((p.login, one_line(p.name)) for p in sorted(people.values(),
                                                               key=lambda p: p.login)
                   if p.active and p.role != "viewer")
    return AdminRows("shifts", records, roster)
