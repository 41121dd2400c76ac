"""Peewee models.  The schema itself is created only by console/migrations/.

All datetimes are naive UTC (see console/clock.py).  Every mutable row carries a
``version`` that actions check and bump; ``Event`` rows are never updated or
deleted.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database = DatabaseProxy()


class JSONText(TextField):
    """JSON kept as text, so SQLite and PostgreSQL store it the same way."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


def late(f: Any) -> Any:
    """Mark a column added after rows existed: a row's digest leaves it out while it holds
    its default, so the digests events recorded before the column was added still match
    (``actions.plumbing.row_values``)."""
    f.late = True
    return f


class Base(Model):
    class Meta:
        database = database
        legacy_table_names = False


# --------------------------------------------------------------------------- people


class Department(Base):
    """部门: a reporting unit and/or a 12345 handling unit (承办单位)."""

    code = CharField(unique=True, max_length=32)
    name = CharField(unique=True, max_length=100)
    phone = CharField(default="", max_length=40)
    active = BooleanField(default=True)
    version = IntegerField(default=1)


class Person(Base):
    """A member of the roster: who may log in, and in which role."""

    login = CharField(unique=True, max_length=64)
    name = CharField(max_length=64)
    title = CharField(default="", max_length=64)
    phone = CharField(default="", max_length=40)
    role = CharField(default="officer", max_length=16)  # viewer/unit/officer/leader/admin
    department = late(CharField(null=True, max_length=32))  # role unit: its department code
    active = BooleanField(default=True)
    version = IntegerField(default=1)


class Shift(Base):
    """班次: 带班领导 (leader), 主班 (primary) and 副班 (secondary) for a period."""

    ref = CharField(unique=True, max_length=32)
    starts_at = DateTimeField(index=True)
    ends_at = DateTimeField(index=True)
    leader = ForeignKeyField(Person, null=True, on_delete="RESTRICT", backref="+")
    primary = ForeignKeyField(Person, null=True, on_delete="RESTRICT", backref="+")
    secondary = ForeignKeyField(Person, null=True, on_delete="RESTRICT", backref="+")
    handed_over_at = DateTimeField(null=True)  # 交接班 time
    handed_over_by = CharField(null=True, max_length=64)
    taken_over_by = CharField(null=True, max_length=64)
    handover_note = TextField(default="")
    version = IntegerField(default=1)
    # 交接班 to the 三清 standard (migration 0010; console/actions/shifts.py): the three
    # 清 as submitted, the open items handed over [[kind, id, ref], …], the acceptance
    # (接班) or the take-over (接管) with its reason
    situation = TextField(null=True)
    problems = TextField(null=True)
    tasks = TextField(null=True)
    handed_items = JSONText(null=True)
    accepted_at = DateTimeField(null=True)
    takeover_reason = TextField(null=True)


# --------------------------------------------------------------------------- items


class Item(Base):
    """Columns every queue item shares: identity, status, owner, escalation state.

    Escalation state (after PagerDuty/GoAlert): the chain is a snapshot of the
    configured steps when the item was created; ``step`` is where it stands;
    ``next_escalation_at`` is set while the current step has not acknowledged;
    ``deadline_at`` is the next obligation (report up, follow-up, due date) and
    ``overdue_at`` marks that this deadline was missed (once per deadline).
    ``rank``/``sort_key`` keep queues in "most urgent first" order on an index.
    """

    ref = CharField(unique=True, max_length=40)
    status = CharField(max_length=16, index=True)
    owner = CharField(null=True, max_length=64)  # 首办责任人 (login)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    closed_at = DateTimeField(null=True)
    chain = JSONText(default=list)
    step = IntegerField(default=0)
    acked_by = CharField(null=True, max_length=64)
    acked_at = DateTimeField(null=True)
    next_escalation_at = DateTimeField(null=True, index=True)
    deadline_at = DateTimeField(null=True, index=True)
    overdue_at = DateTimeField(null=True)
    rank = IntegerField(default=0)
    sort_key = BigIntegerField(default=0)  # epoch seconds (BIGINT since migration 0002)
    version = IntegerField(default=1)
    # the acknowledgement lapses then, if nothing else happens (0007, console/problems.py)
    ack_expires_at = late(DateTimeField(null=True))

    KIND = ""
    SEVERITY_FIELD = ""  # the column that ranks the item (vocab.SEVERITY_FIELDS)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def step_name(self) -> str:
        chain = self.chain or []
        return chain[self.step][0] if 0 <= self.step < len(chain) else ""


class Report(Item):
    """突发事件信息: an emergency information report (首报 → 续报 → 终报)."""

    KIND = "report"
    SEVERITY_FIELD = "level"

    received_at = DateTimeField(index=True)  # 接报时间
    occurred_at = DateTimeField(null=True)  # 事发时间
    place = CharField(default="", max_length=200)  # 事发地点
    category = CharField(max_length=16)  # natural/accident/health/security
    subtype = CharField(default="other", max_length=32)
    level = CharField(max_length=8, index=True)  # I/II/III/IV/unknown (待核)
    sensitive = BooleanField(default=False)
    title = CharField(max_length=200)
    summary = TextField(default="")  # 事件性质 and course
    dead = IntegerField(default=0)
    injured = IntegerField(default=0)
    missing = IntegerField(default=0)
    area = TextField(default="")  # 影响范围
    trend = TextField(default="")  # 发展趋势
    measures = TextField(default="")  # 已采取措施 / 领导到位
    requests = TextField(default="")  # 请求事项
    source_unit = CharField(default="", max_length=100)  # 信息来源
    reporter = CharField(default="", max_length=64)
    reporter_phone = CharField(default="", max_length=40)
    recorder = CharField(default="", max_length=64)  # 记录人
    reported_at = DateTimeField(null=True)  # first reported up (电话报告)
    followups = IntegerField(default=0)  # 续报 count

    class Meta:
        indexes = ((("rank", "sort_key", "id"), False),)


class WorkOrder(Item):
    """12345 工单: a citizen hotline work order."""

    KIND = "work_order"
    SEVERITY_FIELD = "urgency"

    received_at = DateTimeField(index=True)
    channel = CharField(default="phone", max_length=16)
    caller = CharField(default="", max_length=64)
    phone = CharField(default="", max_length=40, index=True)
    address = CharField(default="", max_length=200)
    type = CharField(max_length=16)  # enquiry/help/complaint/report/suggestion
    category = CharField(default="", max_length=64)
    content = TextField(default="")
    urgency = CharField(default="normal", max_length=16)  # normal/urgent/very_urgent
    department = ForeignKeyField(Department, null=True, on_delete="RESTRICT", backref="+",
                                 index=True)
    assisting = JSONText(default=list)  # 协办 department codes
    assigned_at = DateTimeField(null=True)
    extensions = IntegerField(default=0)
    satisfaction = IntegerField(null=True)  # 1–5
    reply = TextField(default="")
    # the unit desk (0007, console/actions/units.py): 签收, 退单 approval, 问题工单, 发回重办
    accept_due_at = late(DateTimeField(null=True))  # 签收 due (working hours after 交办)
    accepted_at = late(DateTimeField(null=True))
    accepted_by = late(CharField(null=True, max_length=64))
    accept_overdue_at = late(DateTimeField(null=True))  # not accepted in time (swept once)
    return_asked_at = late(DateTimeField(null=True))  # a return after 签收 awaits approval
    returns = late(IntegerField(default=0))  # 退单 count
    dept_trail = late(JSONText(null=True))  # lead departments it passed through, in order
    dept_count = late(IntegerField(default=0))  # distinct ones of them
    problem_ref = late(CharField(null=True, max_length=40))  # 问题工单: its 督办件
    redo_count = late(IntegerField(default=0))  # 发回重办 count

    class Meta:
        indexes = ((("rank", "sort_key", "id"), False),)


class SupervisionItem(Item):
    """督办件: registered (挂号) from a report, order or instruction; struck off (销号) when done."""

    KIND = "supervision"
    SEVERITY_FIELD = "klass"

    title = CharField(max_length=200)
    content = TextField(default="")
    klass = CharField(max_length=16)  # 3715: urgent/normal/complex
    source_kind = CharField(default="", max_length=16)  # report/work_order/instruction/""
    source_ref = CharField(default="", max_length=40)
    department = ForeignKeyField(Department, null=True, on_delete="RESTRICT", backref="+")
    registered_at = DateTimeField(index=True)
    result = TextField(default="")

    class Meta:
        indexes = ((("rank", "sort_key", "id"), False),)


class ScheduledReport(Item):
    """定期报送: one department's report expected for one period (migration 0009).

    due → received / late (received after ``due_at``), or missing once ``due_at`` +
    grace passed (then overdue and escalating like any item; receiving it later
    still closes it, as late).  ``deadline_at`` is ``due_at`` + grace while open.
    """

    KIND = "scheduled"
    SEVERITY_FIELD = "cadence"

    department = ForeignKeyField(Department, on_delete="RESTRICT", backref="+")
    topic = CharField(max_length=32)
    cadence = CharField(max_length=16)  # weekly/monthly/seasonal
    period = CharField(max_length=16)  # 2026-W49 / 2026-12
    due_at = DateTimeField(index=True)
    grace = IntegerField(default=0)  # minutes
    received_at = DateTimeField(null=True)
    received_by = CharField(null=True, max_length=64)
    file_path = TextField(default="")
    file_sha256 = CharField(default="", max_length=64)

    class Meta:
        indexes = ((("rank", "sort_key", "id"), False),
                   (("department", "topic", "period"), True))


ITEM_MODELS: dict[str, type[Item]] = {
    "report": Report,
    "work_order": WorkOrder,
    "supervision": SupervisionItem,
    "scheduled": ScheduledReport,  # scheduled department reports (console/schedule.py)
}


class ReportUpdate(Base):
    """A report stage: 首报 (initial), 续报 N (followup, numbered), 终报 (final)."""

    report = ForeignKeyField(Report, on_delete="CASCADE", backref="updates")
    stage = CharField(max_length=16)  # initial/followup/final
    seq = IntegerField(default=0)
    at = DateTimeField()
    text = TextField()
    dead = IntegerField(null=True)
    injured = IntegerField(null=True)
    missing = IntegerField(null=True)
    author = CharField(max_length=64)

    class Meta:
        indexes = ((("report", "seq"), False),)


class Instruction(Base):
    """领导批示: a leader's instruction recorded against an item."""

    item_kind = CharField(max_length=16)
    item_id = IntegerField()
    leader = CharField(max_length=64)  # who gave it (name)
    text = TextField()
    at = DateTimeField()  # when it was given (the officer records it then or later)
    recorded_by = CharField(max_length=64)
    # migration 0010: the leader's roster login (None: a leader outside the roster) and title
    leader_login = CharField(null=True, max_length=64)
    leader_title = CharField(null=True, max_length=64)

    class Meta:
        indexes = ((("item_kind", "item_id"), False),)


# --------------------------------------------------------------------------- plans


class Plan(Base):
    """应急预案: graded response Ⅰ–Ⅳ with activation criteria and a checklist per level."""

    code = CharField(unique=True, max_length=32)
    title = CharField(max_length=200)
    kind = CharField(max_length=16)  # master/special/department/unit
    category = CharField(max_length=16)
    subtype = CharField(default="other", max_length=32)
    owner = CharField(default="", max_length=32)  # department code
    summary = TextField(default="")
    levels = JSONText(default=dict)  # {"I": {"criteria", "declared_by", "measures": [...]}}
    contacts = JSONText(default=list)  # [{"name", "post", "phone"}]
    related = JSONText(default=list)
    shelters = JSONText(default=list)
    version = IntegerField(default=1)


class PlanActivation(Base):
    """A plan activated for a report at a response level."""

    plan = ForeignKeyField(Plan, on_delete="RESTRICT", backref="+")
    report = ForeignKeyField(Report, null=True, on_delete="RESTRICT", backref="+")
    level = CharField(max_length=8)
    declared_by = CharField(default="", max_length=64)
    activated_by = CharField(max_length=64)
    activated_at = DateTimeField()
    deactivated_by = CharField(null=True, max_length=64)
    deactivated_at = DateTimeField(null=True)
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("report",), False),)


class ActivationMeasure(Base):
    """One checklist measure of an activation; ticking it is an event."""

    activation = ForeignKeyField(PlanActivation, on_delete="CASCADE", backref="measures")
    idx = IntegerField()
    text = TextField()
    done_at = DateTimeField(null=True)
    done_by = CharField(null=True, max_length=64)

    class Meta:
        indexes = ((("activation", "idx"), True),)


# --------------------------------------------------------------------------- log


class Event(Base):
    """Append-only timeline.  Each row stores the hash of the one before it."""

    at = DateTimeField(index=True)
    actor = CharField(max_length=64)  # login
    actor_name = CharField(default="", max_length=64)
    console = CharField(default="", max_length=100)  # host:tty/pid
    item_kind = CharField(max_length=16)
    item_id = IntegerField()
    item_ref = CharField(default="", max_length=40)
    action = CharField(max_length=24)
    before = JSONText(null=True)
    after = JSONText(null=True)
    note = TextField(default="")
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    # idempotency key of the intent that wrote it (migration 0003, UNIQUE): see
    # actions.plumbing._transaction
    intent = CharField(null=True, max_length=64)
    # tamper evidence (migration 0004): the digest of the row the event is about as the
    # event left it, and the digests of the child rows (report updates, instructions)
    # it wrote — ``dutyroom verify`` finds rows changed without an event
    state = CharField(null=True, max_length=64)
    children = JSONText(null=True)

    class Meta:
        indexes = ((("item_kind", "item_id", "id"), False),)


class Counter(Base):
    """Reference-number sequences, per kind and year (taken under the write lock)."""

    name = CharField(primary_key=True, max_length=40)
    value = IntegerField(default=0)


# columns added after rows were hashed: left out of a row's digest while NULL, so rows
# written before them still match the digest their events recorded (plumbing.row_values)
for _f in (Shift.situation, Shift.problems, Shift.tasks, Shift.handed_items, Shift.accepted_at,
           Shift.takeover_reason, Instruction.leader_login, Instruction.leader_title):
    _f.digest_if_set = True

ALL_MODELS = [Department, Person, Shift, Report, WorkOrder, SupervisionItem, ReportUpdate,
              Instruction, Plan, PlanActivation, ActivationMeasure, Event, Counter]
ALL_MODELS.append(ScheduledReport)  # migration 0009


# --------------------------------------------------------------------------- merge and repeats


class ItemLink(Base):
    """A link between two items of one kind (migration 0008, console/actions/merge.py).

    ``relation``: "merged" (并单: ``item`` closed into ``other``, the master), "related"
    (linked, both open) or "repeat" (重复投诉: ``item`` may repeat ``other``, flagged at
    intake).  ``ended_at`` ends a link (unmerge, a dismissed candidate) — rows are never
    deleted.  The facts are in the events (merge/unmerge/link on both items); this table
    is the index the references, the detail and the repeat filter read.
    """

    kind = CharField(max_length=16)
    item_id = IntegerField()
    other_id = IntegerField()
    relation = CharField(max_length=16)
    at = DateTimeField()
    actor = CharField(default="", max_length=64)
    ended_at = DateTimeField(null=True)

    class Meta:
        table_name = "item_link"


ALL_MODELS.append(ItemLink)
