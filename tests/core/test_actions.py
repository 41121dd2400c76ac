"""Every action, legal and illegal, on SQLite and PostgreSQL (the ``db`` fixture).

A legal action changes the row (version + 1) and appends exactly one event; an
illegal one raises a DomainError with a clear message and changes nothing: the
row, its version, the event count and the side tables stay as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from console import actions, i18n, rules
from console.clock import to_local, to_utc_naive
from console.errors import DomainError, NotFound, PermissionDenied, StaleVersion
from console.models import (
    ActivationMeasure,
    Counter,
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
from tests.conftest import ADMIN, LEADER, OFFICER, OFFICER2, T0, VIEWER

SH = ZoneInfo("Asia/Shanghai")
M = dt.timedelta(minutes=1)
SIDE_TABLES = (Event, ReportUpdate, Instruction, PlanActivation, ActivationMeasure, Counter,
               Report, WorkOrder, SupervisionItem, Plan, Person, Department, Shift)

pytestmark = pytest.mark.usefixtures("roster")


# --------------------------------------------------------------------------- helpers


def local(y, m, d, hh=10, mm=0) -> dt.datetime:
    return to_utc_naive(dt.datetime(y, m, d, hh, mm), SH)


def as_local(at: dt.datetime) -> dt.datetime:
    return to_local(at, SH).replace(tzinfo=None)


def fresh(item: Item) -> Item:
    return type(item).get_by_id(item.id)


def n_events() -> int:
    return Event.select().count()


def last_event() -> Event:
    return Event.select().order_by(Event.id.desc()).first()


def _state(item: Item | None) -> tuple:
    counts = tuple(m.select().count() for m in SIDE_TABLES)
    counters = sorted(Counter.select().tuples())
    data = dict(fresh(item).__data__) if item is not None else None
    return counts, counters, data


@contextlib.contextmanager
def nothing_changes(item: Item | None = None) -> Iterator[None]:
    """The block must leave the item's row and every table's row count as they were."""
    before = _state(item)
    yield
    assert _state(item) == before


@contextlib.contextmanager
def one_event(action: str, item: Item | None = None) -> Iterator[None]:
    """The block must append exactly one event ``action`` (and bump the item's version)."""
    n = n_events()
    version = fresh(item).version if item is not None else None
    yield
    assert n_events() == n + 1, "exactly one event per action"
    ev = last_event()
    assert ev.action == action
    if item is not None:
        assert (ev.item_kind, ev.item_id, ev.item_ref) == (item.KIND, item.id, item.ref)
        assert fresh(item).version == version + 1


def refuse(ctx, item, exc, match, fn, *args, **kw):
    """``fn`` raises ``exc`` matching ``match`` and changes nothing."""
    with nothing_changes(item), pytest.raises(exc, match=match):
        fn(ctx, *args, **kw)


def new_report(ctx, level="III", actor=OFFICER, **kw) -> Report:
    kw.setdefault("title", "某路段重大交通事故")
    kw.setdefault("category", "accident")
    return actions.create_report(ctx, actor, level=level, **kw)


def new_order(ctx, type="complaint", urgency="normal", **kw) -> WorkOrder:
    kw.setdefault("content", "小区供暖不热，室温12度")
    return actions.create_work_order(ctx, OFFICER, type=type, urgency=urgency, **kw)


def new_sv(ctx, klass="normal", **kw) -> SupervisionItem:
    kw.setdefault("title", "督办：供热不达标投诉集中")
    return actions.register_supervision(ctx, OFFICER, klass=klass, **kw)


def replied_order(ctx) -> WorkOrder:
    wo = new_order(ctx, department="GRB")
    return actions.reply(ctx, OFFICER, wo, "已派员维修，室温恢复20度")


def make_plan(ctx) -> Plan:
    return actions.upsert_plan(
        ctx, ADMIN, code="ZX-RQ-01", title="燃气泄漏事故应急预案", kind="special",
        category="accident", subtype="gas_leak",
        levels={"II": {"criteria": "10人以上死亡", "declared_by": "省政府",
                       "measures": ["召开指挥部会议", "报告省应急办", "派出抢险队伍"]}})


# --------------------------------------------------------------------------- creation


def test_create_report_numbers_and_one_event(ctx, db):
    n = n_events()
    r1 = new_report(ctx, "I", place="建设路与人民街交叉口", dead=3)
    r2 = new_report(ctx, "IV")
    assert (r1.ref, r2.ref) == ("BG-2026-0001", "BG-2026-0002")
    assert n_events() == n + 2
    ev = Event.get((Event.item_kind == "report") & (Event.item_id == r1.id))
    assert (ev.action, ev.actor, ev.actor_name, ev.console) == ("create", "liming", "李明",
                                                                 "test:console")
    r1 = fresh(r1)
    assert r1.status == "new" and r1.version == 1 and r1.owner == "liming" and r1.dead == 3
    assert r1.received_at == T0 and r1.recorder == "李明"
    assert r1.chain == rules.chain_snapshot(ctx.settings, "report", "I")
    assert r1.next_escalation_at == T0 + 5 * M
    assert r1.deadline_at == T0 + 30 * M  # Ⅰ: report up within 30 minutes
    initial = ReportUpdate.get(ReportUpdate.report == r1.id)
    assert (initial.stage, initial.seq, initial.dead) == ("initial", 0, 3)


def test_create_report_ref_year_is_the_local_year(ctx, clock, db):
    clock.set(dt.datetime(2026, 12, 31, 16, 30))  # 00:30 on 1 Jan 2027 in Shanghai
    assert new_report(ctx).ref == "BG-2027-0001"
    assert new_report(ctx, received_at=dt.datetime(2026, 12, 31, 15, 0)).ref == "BG-2026-0001"


def test_create_report_rejections(ctx, db):
    refuse(ctx, None, DomainError, "title is required", actions.create_report, OFFICER,
           title=" ", category="accident")
    refuse(ctx, None, DomainError, "category: expected one of", actions.create_report, OFFICER,
           title="x", category="weather")
    refuse(ctx, None, DomainError, "level: expected", actions.create_report, OFFICER,
           title="x", category="accident", level="V")
    refuse(ctx, None, DomainError, "time received is in the future", actions.create_report,
           OFFICER, title="x", category="accident", received_at=T0 + dt.timedelta(hours=1))
    refuse(ctx, None, DomainError, "dead: expected a whole number", actions.create_report,
           OFFICER, title="x", category="accident", dead=-1)
    new_report(ctx, ref="BG-2026-0042")
    refuse(ctx, None, DomainError, "BG-2026-0042 already exists", actions.create_report,
           OFFICER, title="x", category="accident", ref="BG-2026-0042")


def test_create_report_acknowledge_now(ctx, db):
    n = n_events()
    r = new_report(ctx, acknowledge_now=True)
    assert n_events() == n + 2
    assert (r.status, r.acked_by, r.next_escalation_at) == ("acknowledged", "liming", None)


def test_create_work_order(ctx, db):
    with one_event("create"):
        wo = new_order(ctx, type="enquiry", caller="张先生", phone="13800000000")
    assert wo.ref == "12345-2026000001"
    assert new_order(ctx).ref == "12345-2026000002"
    wo = fresh(wo)
    assert wo.status == "received" and wo.department_id is None
    assert as_local(wo.deadline_at) == dt.datetime(2026, 12, 1, 10)  # enquiry: 2 working days
    assigned = new_order(ctx, department="市住建局", assisting=["GRB"], ticket="T-1")
    assert (assigned.ref, assigned.status, assigned.assigned_at) == ("T-1", "assigned", T0)
    assert assigned.assisting == ["GRB"]
    refuse(ctx, None, DomainError, "T-1 already exists", actions.create_work_order, OFFICER,
           content="x", ticket="T-1")
    refuse(ctx, None, DomainError, "type: expected one of", actions.create_work_order, OFFICER,
           content="x", type="praise")
    refuse(ctx, None, DomainError, "urgency: expected one of", actions.create_work_order,
           OFFICER, content="x", urgency="asap")
    refuse(ctx, None, DomainError, "no department 房管局", actions.create_work_order, OFFICER,
           content="x", department="房管局")
    refuse(ctx, None, DomainError, "content is required", actions.create_work_order, OFFICER,
           content="")


def test_register_supervision(ctx, db):
    r = new_report(ctx)
    with one_event("create"):
        sv = new_sv(ctx, klass="urgent", source=r.ref, department="ZJJ")
    assert sv.ref == "SV-2026-0001"
    sv = fresh(sv)
    assert (sv.status, sv.source_kind, sv.source_ref) == ("registered", "report", r.ref)
    assert as_local(sv.deadline_at) == dt.datetime(2026, 12, 2, 10)  # 3 working days
    assert new_sv(ctx).ref == "SV-2026-0002"
    refuse(ctx, None, DomainError, "3715 class: expected one of", actions.register_supervision,
           OFFICER, title="x", klass="whenever")
    refuse(ctx, None, NotFound, "no item BG-2099-0001", actions.register_supervision, OFFICER,
           title="x", source="BG-2099-0001")


# --------------------------------------------------------------------------- acknowledge


def test_acknowledge_report(ctx, clock, db):
    r = new_report(ctx, actor=OFFICER2)
    clock.advance(minutes=2)
    with one_event("acknowledge", r):
        out = actions.acknowledge(ctx, OFFICER, r, expected_version=r.version)
    assert out.status == "acknowledged"
    assert (out.acked_by, out.acked_at, out.next_escalation_at) == ("liming", T0 + 2 * M, None)
    assert out.owner == "wangfang"  # 首办责任制: the first receiver keeps it
    ev = last_event()
    assert ev.before["status"] == "new" and ev.after["status"] == "acknowledged"
    refuse(ctx, r, DomainError, "already acknowledged by liming", actions.acknowledge,
           OFFICER2, r.ref)


def test_acknowledge_order_and_supervision_start_work(ctx, db):
    wo = new_order(ctx, department="ZJJ")
    assert actions.acknowledge(ctx, OFFICER, wo).status == "in_progress"
    received = new_order(ctx)
    assert actions.acknowledge(ctx, OFFICER, received).status == "received"
    sv = new_sv(ctx)
    assert actions.acknowledge(ctx, OFFICER, sv.ref).status == "in_progress"


def test_acknowledge_by_reference_and_kind_id(ctx, db):
    r = new_report(ctx)
    assert actions.acknowledge(ctx, OFFICER, ("report", r.id)).acked_by == "liming"
    refuse(ctx, None, NotFound, "no item BG-1999-0001", actions.acknowledge, OFFICER,
           "BG-1999-0001")
    refuse(ctx, None, NotFound, "no item report#999", actions.acknowledge, OFFICER,
           ("report", 999))


def test_an_action_on_a_damaged_row_is_one_line_refusal(ctx, db):
    """A row whose chain cannot be decoded (issue 9 §1): ``act ack`` said "unexpected
    error (JSONDecodeError)"; it is refused in one line naming the item, nothing written."""
    from peewee import SQL

    r = new_report(ctx)
    Report.update({Report.chain: SQL("'{broken'")}).where(Report.id == r.id).execute()
    events = Event.select().count()
    for target in (r.ref, ("report", r.id)):
        with pytest.raises(DomainError, match="the record is damaged"):
            actions.acknowledge(ctx, OFFICER, target)
    assert Event.select().count() == events


def test_acknowledge_closed_is_illegal(ctx, db):
    r = actions.close(ctx, OFFICER, new_report(ctx), "已处置完毕")
    refuse(ctx, r, DomainError, f"{r.ref}: cannot acknowledge while closed", actions.acknowledge,
           OFFICER, r)


# --------------------------------------------------------------------------- escalate


def test_escalate_next_step_reports_up(ctx, clock, db):
    r = actions.acknowledge(ctx, OFFICER, new_report(ctx, "I"))
    clock.advance(minutes=3)
    now = clock.now()
    with one_event("escalate", r):
        out = actions.escalate(ctx, OFFICER, r, expected_version=r.version)
    assert (out.step, out.step_name, out.status) == (1, "带班领导", "active")
    assert (out.acked_by, out.acked_at) == (None, None)  # the new step has to acknowledge
    assert out.next_escalation_at == now + 10 * M  # step 2's wait
    assert out.reported_at == now
    assert out.deadline_at == T0 + 60 * M  # now the written report is due
    assert last_event().after["step"] == 1


def test_escalate_to_chosen_step_forward_by_officer(ctx, db):
    r = new_report(ctx, "I")
    out = actions.escalate(ctx, OFFICER, r, to_step="秘书长")
    assert (out.step, out.next_escalation_at) == (3, T0 + 15 * M)
    out = actions.escalate(ctx, OFFICER, out, to_step=5)
    assert out.step == 4 and out.next_escalation_at is None  # last step: nothing further


def test_escalate_backwards_needs_a_leader(ctx, db):
    r = actions.escalate(ctx, OFFICER, new_report(ctx, "I"), to_step=3)
    refuse(ctx, r, PermissionDenied, "李明 \\(officer\\) may not escalate to any step",
           actions.escalate, OFFICER, r, to_step=1)
    with one_event("escalate", r):
        out = actions.escalate(ctx, LEADER, r, to_step="值班员")
    assert out.step == 0 and out.next_escalation_at == T0 + 5 * M


def test_escalate_refusals(ctx, db):
    r = actions.escalate(ctx, OFFICER, new_report(ctx, "IV"), to_step=3)  # IV has 3 steps
    refuse(ctx, r, DomainError, "already at the last step \\(应急办主任\\)", actions.escalate,
           OFFICER, r)
    refuse(ctx, r, DomainError, "no step 秘书长 in this chain", actions.escalate, LEADER, r,
           to_step="秘书长")
    refuse(ctx, r, DomainError, "no step 7 in this chain", actions.escalate, LEADER, r, to_step=7)
    refuse(ctx, r, DomainError, "is already at 应急办主任", actions.escalate, LEADER, r,
           to_step="应急办主任")
    closed = actions.close(ctx, OFFICER, new_report(ctx), "终报")
    refuse(ctx, closed, DomainError, "cannot escalate while closed", actions.escalate, LEADER,
           closed)


def test_escalate_work_order_keeps_status(ctx, db):
    wo = new_order(ctx, department="ZJJ")
    out = actions.escalate(ctx, OFFICER, wo)
    assert (out.step, out.status, out.deadline_at) == (1, "assigned", wo.deadline_at)


# --------------------------------------------------------------------------- assign / 改派


def test_assign_and_reassign_work_order(ctx, clock, db):
    wo = new_order(ctx)
    with one_event("assign", wo):
        out = actions.assign(ctx, OFFICER, wo, "ZJJ", assisting=["市供热办"])
    zjj = Department.get(Department.code == "ZJJ")
    assert (out.status, out.department_id, out.assigned_at, out.assisting) == (
        "assigned", zjj.id, T0, ["GRB"])
    assert last_event().note == "市住建局"
    shown = ("status", "department", "assigned_at", "assisting")  # and the 签收 (issue 11)
    assert ({k: last_event().before[k] for k in shown},
            {k: last_event().after[k] for k in shown}) == (
        {"status": "received", "department": None, "assigned_at": None, "assisting": []},
        {"status": "assigned", "department": "ZJJ", "assigned_at": T0.isoformat(sep=" "),
         "assisting": ["GRB"]})
    out = actions.acknowledge(ctx, OFFICER, out)
    assert out.status == "in_progress"
    refuse(ctx, out, DomainError, "already assigned to 市住建局", actions.assign, OFFICER, out,
           "ZJJ")
    clock.advance(hours=1)
    with one_event("assign", out):
        moved = actions.assign(ctx, OFFICER, out, "GRB", note="改派：属供热问题")
    assert moved.department_id == Department.get(Department.code == "GRB").id
    assert moved.status == "assigned" and moved.deadline_at == wo.deadline_at  # clock unchanged
    # the timeline names departments by code on both sides
    assert last_event().before["department"] == "ZJJ"
    assert last_event().after["department"] == "GRB"
    refuse(ctx, moved, DomainError, "no department 房管局", actions.assign, OFFICER, moved,
           "房管局")


def test_assign_from_replied_is_illegal(ctx, db):
    wo = replied_order(ctx)
    refuse(ctx, wo, DomainError, "cannot assign while replied", actions.assign, OFFICER, wo, "ZJJ")


def test_assign_report_and_supervision(ctx, db):
    r = actions.assign(ctx, OFFICER, new_report(ctx), "ZJJ")
    assert r.status == "active"
    sv = actions.assign(ctx, OFFICER, new_sv(ctx), "GRB")
    assert sv.department_id == Department.get(Department.code == "GRB").id
    assert last_event().after == {"department": "GRB"}


# --------------------------------------------------------------------------- urge


def test_urge(ctx, db):
    wo = new_order(ctx, department="ZJJ")
    with one_event("urge", wo):
        out = actions.urge(ctx, OFFICER, wo, note="请于今日答复")
    assert last_event().note == "请于今日答复" and out.status == "assigned"
    received = new_order(ctx)
    refuse(ctx, received, DomainError, "cannot chase while received", actions.urge, OFFICER,
           received)


# --------------------------------------------------------------------------- extend


def test_extend_work_order(ctx, clock, db):
    wo = actions.acknowledge(ctx, OFFICER, new_order(ctx, type="enquiry", department="ZJJ"))
    due = wo.deadline_at  # Tue 1 Dec 10:00
    refuse(ctx, wo, DomainError, "reason is required", actions.extend, OFFICER, wo, "  ")
    with one_event("extend", wo):
        out = actions.extend(ctx, OFFICER, wo, "需协调多个部门")
    assert (out.status, out.extensions) == ("extended", 1)
    assert as_local(out.deadline_at) == dt.datetime(2026, 12, 3, 10)  # +2 working days
    assert last_event().note == "需协调多个部门"
    assert last_event().before["deadline_at"] == due.isoformat(sep=" ")
    out = actions.extend(ctx, OFFICER, out, "再次延期", until=out.deadline_at + dt.timedelta(days=1))
    assert out.extensions == 2
    refuse(ctx, out, DomainError, "already extended 2 times", actions.extend, OFFICER, out, "三次")


def test_extend_by_a_chosen_length(ctx, db):
    """Found: 延期 could not choose its length — always the rule's whole grant."""
    from console import verbs

    wo = new_order(ctx, type="complaint", department="ZJJ")  # complaint: 5 working days
    due = wo.deadline_at
    limit, working = rules.extension_limit(ctx.settings, "work_order", "complaint")
    assert (limit, working) == (ctx.settings.wo_type_days["complaint"], True)
    out = actions.extend(ctx, OFFICER, wo, "等待配件", days=1, expected_version=wo.version)
    assert out.deadline_at == ctx.settings.calendar.add_working_days(due, 1)
    for days in (0, limit + 1):
        refuse(ctx, out, DomainError, f"extension of {days} days is not allowed: 1 to {limit}",
               actions.extend, OFFICER, out, "x", days=days)
    # the line and act: +DAYS before the reason; a reason that starts with a digit is a reason
    out = verbs.call(verbs.by_name("extend"), ctx, OFFICER, out, "+2 3号楼需停水", "")
    assert out.deadline_at == ctx.settings.calendar.add_working_days(due, 3)
    assert last_event().note == "3号楼需停水"
    with pytest.raises(DomainError, match=r"expected \+DAYS"):
        verbs.call(verbs.by_name("extend"), ctx, OFFICER, out, "+two 等待", "")
    options = rules.extension_options(ctx.settings, "work_order", "complaint", due)
    assert [n for n, _due, _w in options] == list(range(1, limit + 1))


def test_extend_must_be_before_the_deadline(ctx, clock, db):
    wo = new_order(ctx, type="enquiry", department="ZJJ")
    clock.set(wo.deadline_at + M)
    refuse(ctx, wo, DomainError, "must be asked before the deadline", actions.extend, OFFICER,
           wo, "来不及了")


def test_extend_to_an_earlier_date_refused(ctx, db):
    wo = new_order(ctx, department="ZJJ")
    refuse(ctx, wo, DomainError, "must be later", actions.extend, OFFICER, wo, "x",
           until=wo.deadline_at - M)


def test_extend_supervision_and_not_report(ctx, db):
    sv = new_sv(ctx, klass="urgent")
    out = actions.extend(ctx, OFFICER, sv, "涉及多部门")
    assert as_local(out.deadline_at) == dt.datetime(2026, 12, 7, 10)  # Wed 2 Dec + 3 wd
    r = new_report(ctx)
    refuse(ctx, r, DomainError, "cannot extend while new", actions.extend, OFFICER, r, "x")


# --------------------------------------------------------------------------- return / 退单


def test_return_order_then_reassign(ctx, clock, db):
    wo = new_order(ctx, department="ZJJ")
    refuse(ctx, wo, DomainError, "reason is required", actions.return_order, OFFICER, wo, "")
    clock.advance(days=4)  # Tue 1 Dec 10:00: the last moment (2 working days)
    with one_event("return", wo):
        out = actions.return_order(ctx, OFFICER, wo, "不属本单位职责")
    assert (out.status, out.department_id, out.assisting) == ("returned", None, [])
    assert last_event().note == "不属本单位职责"
    out = actions.assign(ctx, OFFICER, out, "GRB")
    assert out.status == "assigned"


def test_return_after_two_working_days_refused(ctx, clock, db):
    wo = new_order(ctx, department="ZJJ")
    clock.set(local(2026, 12, 1, 10, 1))
    refuse(ctx, wo, DomainError, "within 2 working days", actions.return_order, OFFICER, wo,
           "太晚")


def test_return_illegal_states(ctx, db):
    received = new_order(ctx)
    refuse(ctx, received, DomainError, "cannot return while received", actions.return_order,
           OFFICER, received, "x")
    r = new_report(ctx)
    refuse(ctx, r, DomainError, "cannot return while new", actions.return_order, OFFICER, r, "x")


# --------------------------------------------------------------------------- follow-up / 续报


def test_follow_ups_are_numbered_and_update_casualties(ctx, clock, db):
    r = actions.escalate(ctx, OFFICER, new_report(ctx, "I", dead=1, injured=2))
    clock.advance(minutes=20)
    with one_event("follow_up", r):
        r = actions.follow_up(ctx, OFFICER, r, "死亡人数上升", dead=3)
    clock.advance(minutes=30)
    r = actions.follow_up(ctx, OFFICER2, r, "伤员已送医", injured=5, missing=0)
    updates = list(ReportUpdate.select().where((ReportUpdate.report == r.id)
                                               & (ReportUpdate.stage == "followup"))
                   .order_by(ReportUpdate.seq))
    assert [(u.seq, u.text, u.author) for u in updates] == [
        (1, "死亡人数上升", "liming"), (2, "伤员已送医", "wangfang")]
    assert (updates[0].dead, updates[0].injured) == (3, None)
    assert (r.followups, r.dead, r.injured, r.missing, r.status) == (2, 3, 5, 0, "active")
    # next follow-up for a Ⅰ: 120 minutes after the last one (before 17:00)
    assert r.deadline_at == clock.now() + 120 * M


def test_open_report_without_deadline_in_2028(ctx, clock, db):
    # a Ⅳ report after its follow-up has no deadline; its queue key must still fit
    # PostgreSQL's integer column years from now
    clock.set(dt.datetime(2028, 3, 1, 2, 0))
    r = actions.escalate(ctx, OFFICER, new_report(ctx, "IV"))
    with one_event("follow_up", r):
        r = actions.follow_up(ctx, OFFICER, r, "续报一")
    assert r.deadline_at is None
    other = new_report(ctx, "IV")  # has a deadline: sorts first
    assert (other.rank, other.sort_key) < (r.rank, r.sort_key)
    assert actions.note(ctx, OFFICER, r, "仍在处置").version == r.version + 1


def test_follow_up_refusals(ctx, db):
    r = new_report(ctx)
    refuse(ctx, r, DomainError, "text is required", actions.follow_up, OFFICER, r, "")
    refuse(ctx, r, DomainError, "injured: expected a whole number", actions.follow_up, OFFICER,
           r, "x", injured="many")
    wo = new_order(ctx)
    refuse(ctx, wo, DomainError, "cannot add a follow-up while received", actions.follow_up,
           OFFICER, wo, "x")
    closed = actions.close(ctx, OFFICER, r, "终报")
    refuse(ctx, closed, DomainError, "cannot add a follow-up while closed", actions.follow_up,
           OFFICER, closed, "x")


# --------------------------------------------------------------------------- instruct / 批示


def test_instruct_names_the_leader(ctx, db):
    """批示: recorded by whoever types it, attributed to the leader who gave it
    (more in tests/core/test_handover_accept.py)."""
    r = new_report(ctx)
    refuse(ctx, r, DomainError, "who gave the instruction is required", actions.instruct,
           OFFICER, r, "全力救治伤员")
    with one_event("instruct", r):
        actions.instruct(ctx, OFFICER, r, "全力救治伤员", leader="张市长", title="市长")
    ins = Instruction.get((Instruction.item_kind == "report") & (Instruction.item_id == r.id))
    assert (ins.leader, ins.text, ins.recorded_by, ins.at) == ("张市长", "全力救治伤员",
                                                               "liming", T0)
    refuse(ctx, r, DomainError, "text is required", actions.instruct, LEADER, r, "")
    # an instruction may come after closing too
    closed = actions.close(ctx, OFFICER, r, "终报")
    with one_event("instruct", closed):
        actions.instruct(ctx, LEADER, closed, "总结经验教训")


# --------------------------------------------------------------------------- reply / visit


def test_reply_and_visit(ctx, db):
    wo = new_order(ctx, department="ZJJ")
    refuse(ctx, wo, DomainError, "text is required", actions.reply, OFFICER, wo, "")
    with one_event("reply", wo):
        wo = actions.reply(ctx, OFFICER, wo, "已维修")
    assert (wo.status, wo.reply) == ("replied", "已维修")
    refuse(ctx, wo, DomainError, "cannot reply while replied", actions.reply, OFFICER, wo, "x")
    for bad in (0, 6, "five", None):
        refuse(ctx, wo, DomainError, "satisfaction: expected 1 to 5", actions.visit, OFFICER, wo,
               bad)
    with one_event("visit", wo):
        wo = actions.visit(ctx, OFFICER, wo, 5, note="市民表示满意")
    assert (wo.status, wo.satisfaction) == ("visited", 5)
    refuse(ctx, wo, DomainError, "cannot record the follow-up call while visited", actions.visit,
           OFFICER, wo, 4)


def test_reply_or_visit_from_wrong_status(ctx, db):
    received = new_order(ctx)
    refuse(ctx, received, DomainError, "cannot reply while received", actions.reply, OFFICER,
           received, "x")
    assigned = new_order(ctx, department="ZJJ")
    refuse(ctx, assigned, DomainError, "cannot record the follow-up call while assigned",
           actions.visit, OFFICER, assigned, 3)


# --------------------------------------------------------------------------- close


def test_close_report_needs_final_text(ctx, clock, db):
    r = new_report(ctx, "III")
    refuse(ctx, r, DomainError, "final report is required", actions.close, OFFICER, r, "")
    clock.advance(hours=2)
    with one_event("close", r):
        out = actions.close(ctx, OFFICER, r, "事故处置完毕，道路恢复通行")
    assert (out.status, out.closed_at, out.deadline_at, out.next_escalation_at) == (
        "closed", clock.now(), None, None)
    final = ReportUpdate.get((ReportUpdate.report == r.id) & (ReportUpdate.stage == "final"))
    assert final.text == "事故处置完毕，道路恢复通行"
    assert out.rank >= 10  # closed sorts after every open item
    refuse(ctx, out, DomainError, "cannot close while closed", actions.close, OFFICER, out, "x")


@pytest.mark.parametrize("level", ["I", "II"])
def test_close_major_report_needs_a_leader(ctx, db, level):
    r = new_report(ctx, level)
    refuse(ctx, r, PermissionDenied, "may not close a level Ⅰ/Ⅱ report", actions.close, OFFICER,
           r, "终报")
    assert actions.close(ctx, LEADER, r, "终报").status == "closed"


def test_close_supervision_needs_result(ctx, db):
    sv = new_sv(ctx)
    refuse(ctx, sv, DomainError, "result is required", actions.close, OFFICER, sv, "")
    with one_event("close", sv):
        out = actions.close(ctx, OFFICER, sv, "已整改到位，销号")
    assert (out.status, out.result) == ("closed", "已整改到位，销号")


def test_close_work_order_only_after_reply(ctx, db):
    for status_maker in (lambda: new_order(ctx),
                         lambda: new_order(ctx, department="ZJJ"),
                         lambda: actions.acknowledge(ctx, OFFICER, new_order(ctx, department="ZJJ"))):
        wo = status_maker()
        refuse(ctx, wo, DomainError, f"cannot close while {wo.status.replace('_', ' ')}",
               actions.close, OFFICER, wo)
    wo = replied_order(ctx)
    with one_event("close", wo):
        out = actions.close(ctx, OFFICER, wo, satisfaction=4)
    assert (out.status, out.satisfaction) == ("closed", 4)
    visited = actions.visit(ctx, OFFICER, replied_order(ctx), 3)
    assert actions.close(ctx, OFFICER, visited).status == "closed"


# --------------------------------------------------------------------------- reopen


def test_reopen(ctx, clock, db):
    r = actions.close(ctx, OFFICER, new_report(ctx, "III"), "终报")
    refuse(ctx, r, DomainError, "reason is required", actions.reopen, OFFICER, r, "")
    clock.advance(hours=1)
    with one_event("reopen", r):
        out = actions.reopen(ctx, OFFICER, r, "现场出现新情况")
    assert (out.status, out.closed_at) == ("active", None)
    assert out.deadline_at is not None and out.next_escalation_at == clock.now() + 15 * M
    assert out.rank < 10
    refuse(ctx, out, DomainError, "cannot reopen while in hand", actions.reopen, OFFICER, out, "x")
    wo = actions.close(ctx, OFFICER, replied_order(ctx))
    wo = actions.reopen(ctx, OFFICER, wo, "市民不满意")
    assert wo.status == "in_progress"
    assert as_local(wo.deadline_at) == dt.datetime(2026, 12, 18, 11)  # complaint: 15 wd from now
    sv = actions.reopen(ctx, OFFICER, actions.close(ctx, OFFICER, new_sv(ctx), "办结"), "反弹")
    assert sv.status == "in_progress" and sv.deadline_at > clock.now()


# --------------------------------------------------------------------------- note


@pytest.mark.parametrize("closed", [False, True])
def test_note_in_any_status(ctx, db, closed):
    r = new_report(ctx)
    if closed:
        r = actions.close(ctx, OFFICER, r, "终报")
    with one_event("note", r):
        actions.note(ctx, OFFICER2, r, "22:10 已电话通知区应急局")
    assert last_event().note == "22:10 已电话通知区应急局"
    assert last_event().actor == "wangfang"
    refuse(ctx, r, DomainError, "note is required", actions.note, OFFICER, r, "   ")


def test_note_too_long(ctx, db):
    r = new_report(ctx)
    refuse(ctx, r, DomainError, "longer than 20000", actions.note, OFFICER, r, "字" * 20001)


# --------------------------------------------------------------------------- change_level


def test_change_level_retakes_the_chain(ctx, clock, db):
    r = new_report(ctx, "待核")
    assert r.level == "unknown" and r.deadline_at == T0 + 30 * M
    clock.advance(minutes=4)
    with one_event("change_level", r):
        out = actions.change_level(ctx, OFFICER, r, "Ⅲ", note="核实为较大事故")
    assert out.level == "III"
    assert out.chain == rules.chain_snapshot(ctx.settings, "report", "III")
    assert out.next_escalation_at == clock.now() + 15 * M  # Ⅲ's first wait, from now
    assert out.deadline_at == T0 + 120 * M  # Ⅲ: report up within 2 h of receipt
    assert (last_event().before["level"], last_event().after["level"]) == ("unknown", "III")
    refuse(ctx, out, DomainError, "already has that level", actions.change_level, OFFICER, out,
           "3")
    refuse(ctx, out, DomainError, "level: expected", actions.change_level, OFFICER, out, "junk")


def test_change_level_keeps_step_within_the_new_chain(ctx, db):
    r = actions.escalate(ctx, OFFICER, new_report(ctx, "I"), to_step=5)
    out = actions.change_level(ctx, LEADER, r, "IV")  # IV has 3 steps
    assert out.step == 2 and out.step_name == "应急办主任"


def test_change_level_only_for_open_reports(ctx, db):
    wo = new_order(ctx)
    refuse(ctx, wo, DomainError, "cannot set the level while received", actions.change_level,
           OFFICER, wo, "II")


# --------------------------------------------------------------------------- plans


def test_activate_tick_deactivate_plan(ctx, db):
    plan = make_plan(ctx)
    r = new_report(ctx, "II")
    with one_event("activate_plan", r):
        act = actions.activate_plan(ctx, OFFICER, plan.code, r.ref, "Ⅱ")
    assert (act.level, act.declared_by, act.activated_by) == ("II", "省政府", "liming")
    measures = list(ActivationMeasure.select().where(ActivationMeasure.activation == act.id)
                    .order_by(ActivationMeasure.idx))
    assert [m.text for m in measures] == ["召开指挥部会议", "报告省应急办", "派出抢险队伍"]
    refuse(ctx, r, DomainError, "plan ZX-RQ-01 is already active", actions.activate_plan,
           OFFICER, plan.code, r.ref, "II")

    with one_event("tick_measure", r):
        act = actions.tick_measure(ctx, OFFICER, act.id, 1, expected_version=act.version)
    m = ActivationMeasure.get((ActivationMeasure.activation == act.id) & (ActivationMeasure.idx == 1))
    assert (m.done_at, m.done_by) == (T0, "liming")
    refuse(ctx, r, DomainError, "already in that state", actions.tick_measure, OFFICER, act.id, 1)
    refuse(ctx, r, StaleVersion, "changed by someone else", actions.tick_measure, OFFICER,
           act.id, 0, expected_version=act.version - 1)
    refuse(ctx, r, NotFound, "no item", actions.tick_measure, OFFICER, act.id, 7)
    with one_event("untick_measure", r):
        act = actions.tick_measure(ctx, OFFICER, act.id, 1, done=False)
    assert fresh(m).done_at is None

    with one_event("deactivate_plan", r):
        act = actions.deactivate_plan(ctx, OFFICER, act.id, note="响应结束")
    assert act.deactivated_by == "liming" and act.deactivated_at == T0
    refuse(ctx, r, DomainError, "activation has ended", actions.deactivate_plan, OFFICER, act.id)
    refuse(ctx, r, DomainError, "activation has ended", actions.tick_measure, OFFICER, act.id, 0)
    # ended: it may be activated again
    actions.activate_plan(ctx, OFFICER, plan, r, "II")


def test_activate_plan_refusals(ctx, db):
    plan = make_plan(ctx)
    r = new_report(ctx)
    refuse(ctx, r, DomainError, "level: expected", actions.activate_plan, OFFICER, plan, r,
           "待核")
    refuse(ctx, r, NotFound, "no item ZX-NONE", actions.activate_plan, OFFICER, "ZX-NONE", r, "II")
    wo = new_order(ctx)
    refuse(ctx, wo, DomainError, "is not an emergency report", actions.activate_plan, OFFICER,
           plan, wo.ref, "II")
    closed = actions.close(ctx, OFFICER, r, "终报")
    refuse(ctx, closed, DomainError, f"{r.ref} is closed", actions.activate_plan, OFFICER, plan,
           closed, "II")


def test_activate_plan_without_report(ctx, db):
    plan = make_plan(ctx)
    with one_event("activate_plan"):
        act = actions.activate_plan(ctx, OFFICER, plan, None, "II")
    ev = last_event()
    assert (ev.item_kind, ev.item_ref) == ("plan", "ZX-RQ-01")
    assert act.report_id is None


# --------------------------------------------------------------------------- handover


def test_handover(ctx, db):
    shift = actions.upsert_shift(ctx, ADMIN, starts_at=T0 - dt.timedelta(hours=2),
                                 ends_at=T0 + dt.timedelta(hours=22), leader="zhaoqiang",
                                 primary="liming", secondary="wangfang")
    assert shift.ref == "ZB-20261127-08"
    with one_event("handover"):
        out = actions.handover(ctx, OFFICER, shift.id, "BG-2026-0001 待续报", to_login="wangfang",
                               expected_version=shift.version)
    assert (out.handed_over_at, out.handed_over_by, out.taken_over_by) == (T0, "liming",
                                                                           "wangfang")
    assert out.handover_note == "BG-2026-0001 待续报"
    assert (last_event().item_kind, last_event().item_ref) == ("shift", "ZB-20261127-08")
    refuse(ctx, None, DomainError, "already handed over", actions.handover, OFFICER, shift.id, "x")
    refuse(ctx, None, StaleVersion, "ZB-20261127-08 was changed", actions.handover, OFFICER,
           shift.id, "x", expected_version=1)
    refuse(ctx, None, NotFound, "no item #999", actions.handover, OFFICER, 999, "x")


# --------------------------------------------------------------------------- upserts


def test_upsert_department_one_event_per_change(ctx, db):
    with one_event("create"):
        d = actions.upsert_department(ctx, ADMIN, code="SWJ", name="市水务局")
    with nothing_changes():
        same = actions.upsert_department(ctx, ADMIN, code="SWJ", name="市水务局")
    assert same.version == d.version
    with one_event("update"):
        d2 = actions.upsert_department(ctx, ADMIN, code="SWJ", name="市水务局", phone="12345678")
    assert d2.version == d.version + 1 and d2.phone == "12345678"
    ev = last_event()
    assert (ev.item_kind, ev.item_ref, ev.before, ev.after) == (
        "department", "SWJ", {"phone": ""}, {"phone": "12345678"})


def test_upsert_person(ctx, db):
    with one_event("create"):
        actions.upsert_person(ctx, ADMIN, login="sunli", name="孙丽", role="officer")
    with nothing_changes():
        actions.upsert_person(ctx, ADMIN, login="sunli", name="孙丽", role="officer")
    with one_event("update"):
        p = actions.upsert_person(ctx, ADMIN, login="sunli", name="孙丽", role="leader")
    assert p.role == "leader" and last_event().after == {"role": "leader"}
    refuse(ctx, None, DomainError, "role: expected one of", actions.upsert_person, ADMIN,
           login="x", name="x", role="boss")
    refuse(ctx, None, PermissionDenied, "may not change the roster", actions.upsert_person,
           LEADER, login="x", name="x")


def test_upsert_plan(ctx, db):
    with one_event("create"):
        plan = make_plan(ctx)
    with nothing_changes():
        make_plan(ctx)
    with one_event("update"):
        actions.upsert_plan(ctx, ADMIN, code=plan.code, title=plan.title, kind="special",
                            category="accident", subtype="gas_leak", levels=plan.levels,
                            contacts=[{"name": "燃气公司调度", "phone": "96777"}])
    assert last_event().after == {"contacts": [{"name": "燃气公司调度", "phone": "96777"}]}


def test_upsert_shift(ctx, db):
    kw = dict(starts_at=T0, ends_at=T0 + dt.timedelta(hours=24), leader="zhaoqiang",
              primary="liming", secondary="wangfang")
    with one_event("create"):
        shift = actions.upsert_shift(ctx, ADMIN, **kw)
    with nothing_changes():
        same = actions.upsert_shift(ctx, ADMIN, **kw)
    assert same.version == shift.version
    with one_event("update"):
        moved = actions.upsert_shift(ctx, ADMIN, **{**kw, "secondary": "admin",
                                                    "ends_at": T0 + dt.timedelta(hours=12)})
    assert moved.secondary_id == Person.get(Person.login == "admin").id
    ev = last_event()
    assert set(ev.after) == {"secondary", "ends_at"}
    refuse(ctx, None, DomainError, "a shift must end after it starts", actions.upsert_shift,
           ADMIN, starts_at=T0, ends_at=T0)
    refuse(ctx, None, DomainError, "no person with login nobody", actions.upsert_shift, ADMIN,
           starts_at=T0, ends_at=T0 + M, leader="nobody")


# --------------------------------------------------------------------------- stale versions


def test_stale_version_names_ref_actor_and_action(ctx, db):
    r = new_report(ctx, "I")
    v = r.version
    actions.acknowledge(ctx, OFFICER, r, expected_version=v)  # 李明 wins
    with nothing_changes(r), pytest.raises(StaleVersion) as info:
        actions.escalate(ctx, OFFICER2, r, expected_version=v)  # 王芳 acted on what she saw
    assert str(info.value) == "BG-2026-0001 was acknowledged by 李明 at 10:00 — refreshed"


def test_stale_version_in_chinese(ctx, clock, db):
    r = new_report(ctx, "I")
    clock.advance(hours=4, minutes=14)
    actions.escalate(ctx, OFFICER2, r, expected_version=r.version)
    i18n.set_language("zh-CN")
    with nothing_changes(r), pytest.raises(StaleVersion) as info:
        actions.acknowledge(ctx, OFFICER, r, expected_version=r.version)
    assert str(info.value) == "BG-2026-0001 已由 王芳 于 14:14 升级上报——已刷新"


STALE_CALLS = {
    "acknowledge": lambda ctx, t, v: actions.acknowledge(ctx, OFFICER, t, expected_version=v),
    "escalate": lambda ctx, t, v: actions.escalate(ctx, OFFICER, t, expected_version=v),
    "assign": lambda ctx, t, v: actions.assign(ctx, OFFICER, t, "ZJJ", expected_version=v),
    "urge": lambda ctx, t, v: actions.urge(ctx, OFFICER, t, expected_version=v),
    "extend": lambda ctx, t, v: actions.extend(ctx, OFFICER, t, "r", expected_version=v),
    "return": lambda ctx, t, v: actions.return_order(ctx, OFFICER, t, "r", expected_version=v),
    "reply": lambda ctx, t, v: actions.reply(ctx, OFFICER, t, "x", expected_version=v),
    "note": lambda ctx, t, v: actions.note(ctx, OFFICER, t, "x", expected_version=v),
    "instruct": lambda ctx, t, v: actions.instruct(ctx, LEADER, t, "x", expected_version=v),
}


def test_every_item_action_checks_the_version(ctx, db):
    wo = new_order(ctx, department="ZJJ")
    actions.urge(ctx, OFFICER2, wo)  # version 2: anything at version 1 is stale
    for name, call in STALE_CALLS.items():
        with nothing_changes(wo), pytest.raises(StaleVersion) as info:
            call(ctx, wo.ref, 1)
        assert str(info.value).startswith(f"{wo.ref} was chased by 王芳 at 10:00"), name
    r = new_report(ctx)
    actions.note(ctx, OFFICER2, r, "x")
    for call in (
        lambda v: actions.follow_up(ctx, OFFICER, r, "x", expected_version=v),
        lambda v: actions.change_level(ctx, OFFICER, r, "I", expected_version=v),
        lambda v: actions.close(ctx, OFFICER, r, "x", expected_version=v),
    ):
        with nothing_changes(r), pytest.raises(StaleVersion, match="annotated by 王芳"):
            call(1)
    closed = actions.close(ctx, OFFICER, new_report(ctx), "x")
    with nothing_changes(closed), pytest.raises(StaleVersion, match="closed by 李明"):
        actions.reopen(ctx, OFFICER, closed, "x", expected_version=1)
    visited = replied_order(ctx)
    with nothing_changes(visited), pytest.raises(StaleVersion, match="replied by 李明"):
        actions.visit(ctx, OFFICER, visited, 5, expected_version=1)


def test_current_version_is_accepted(ctx, db):
    r = new_report(ctx)
    for _ in range(3):
        r = actions.note(ctx, OFFICER, r, "x", expected_version=r.version)
    assert r.version == 4


# --------------------------------------------------------------------------- roles


def _viewer_calls(ctx):
    r = new_report(ctx)
    wo = new_order(ctx, department="ZJJ")
    act = actions.activate_plan(ctx, OFFICER, make_plan(ctx), r, "II")
    shift = actions.upsert_shift(ctx, ADMIN, starts_at=T0, ends_at=T0 + M)
    v = VIEWER
    return r, [
        lambda: actions.acknowledge(ctx, v, r),
        lambda: actions.escalate(ctx, v, r),
        lambda: actions.escalate(ctx, v, r, to_step=2),
        lambda: actions.assign(ctx, v, wo, "GRB"),
        lambda: actions.urge(ctx, v, wo),
        lambda: actions.extend(ctx, v, wo, "r"),
        lambda: actions.return_order(ctx, v, wo, "r"),
        lambda: actions.follow_up(ctx, v, r, "x"),
        lambda: actions.instruct(ctx, v, r, "x"),
        lambda: actions.reply(ctx, v, wo, "x"),
        lambda: actions.visit(ctx, v, wo, 5),
        lambda: actions.close(ctx, v, r, "x"),
        lambda: actions.reopen(ctx, v, r, "x"),
        lambda: actions.note(ctx, v, r, "x"),
        lambda: actions.change_level(ctx, v, r, "II"),
        lambda: actions.create_report(ctx, v, title="x", category="accident"),
        lambda: actions.create_work_order(ctx, v, content="x"),
        lambda: actions.register_supervision(ctx, v, title="x"),
        lambda: actions.activate_plan(ctx, v, "ZX-RQ-01", None, "II"),
        lambda: actions.tick_measure(ctx, v, act.id, 0),
        lambda: actions.deactivate_plan(ctx, v, act.id),
        lambda: actions.handover(ctx, v, shift.id, "x"),
        lambda: actions.upsert_department(ctx, v, code="X", name="X"),
        lambda: actions.upsert_person(ctx, v, login="x", name="x"),
        lambda: actions.upsert_plan(ctx, v, code="X", title="X", kind="unit", category="accident"),
        lambda: actions.upsert_shift(ctx, v, starts_at=T0, ends_at=T0 + M),
    ]


def test_viewer_may_do_nothing(ctx, db):
    r, calls = _viewer_calls(ctx)
    for call in calls:
        with nothing_changes(r), pytest.raises(PermissionDenied, match=r"大屏 \(viewer\) may not"):
            call()


def test_officer_may_not_administer(ctx, db):
    for call in (lambda: actions.upsert_department(ctx, OFFICER, code="X", name="X"),
                 lambda: actions.upsert_person(ctx, OFFICER, login="x", name="x"),
                 lambda: actions.upsert_plan(ctx, OFFICER, code="X", title="X", kind="unit",
                                             category="accident"),
                 lambda: actions.upsert_shift(ctx, OFFICER, starts_at=T0, ends_at=T0 + M)):
        with nothing_changes(), pytest.raises(PermissionDenied, match="may not change the roster"):
            call()


# --------------------------------------------------------------------------- illegal table

# (maker of an item in a given state, action call) pairs that the rules forbid
def _illegal_cases(ctx):
    r_closed = actions.close(ctx, OFFICER, new_report(ctx), "终报")
    wo_received = new_order(ctx)
    wo_replied = replied_order(ctx)
    wo_closed = actions.close(ctx, OFFICER, replied_order(ctx))
    sv_closed = actions.close(ctx, OFFICER, new_sv(ctx), "销号")
    sv = new_sv(ctx)
    r = new_report(ctx)
    o = OFFICER
    return [
        (r_closed, lambda t: actions.escalate(ctx, o, t)),
        (r_closed, lambda t: actions.assign(ctx, o, t, "ZJJ")),
        (r_closed, lambda t: actions.urge(ctx, o, t)),
        (r_closed, lambda t: actions.change_level(ctx, o, t, "I")),
        (r, lambda t: actions.reply(ctx, o, t, "x")),
        (r, lambda t: actions.visit(ctx, o, t, 3)),
        (r, lambda t: actions.reopen(ctx, o, t, "x")),
        (wo_received, lambda t: actions.extend(ctx, o, t, "x")),
        (wo_received, lambda t: actions.urge(ctx, o, t)),
        (wo_replied, lambda t: actions.extend(ctx, o, t, "x")),
        (wo_replied, lambda t: actions.return_order(ctx, o, t, "x")),
        (wo_closed, lambda t: actions.reply(ctx, o, t, "x")),
        (wo_closed, lambda t: actions.acknowledge(ctx, o, t)),
        (wo_closed, lambda t: actions.close(ctx, o, t)),
        (sv, lambda t: actions.return_order(ctx, o, t, "x")),
        (sv, lambda t: actions.follow_up(ctx, o, t, "x")),
        (sv, lambda t: actions.reply(ctx, o, t, "x")),
        (sv, lambda t: actions.change_level(ctx, o, t, "I")),
        (sv_closed, lambda t: actions.extend(ctx, o, t, "x")),
        (sv_closed, lambda t: actions.escalate(ctx, o, t)),
    ]


def test_illegal_transitions_change_nothing(ctx, db):
    for item, call in _illegal_cases(ctx):
        item = fresh(item)
        with nothing_changes(item), pytest.raises(DomainError) as info:
            call(item.ref)
        assert not isinstance(info.value, (StaleVersion, PermissionDenied))
        assert str(info.value).startswith(f"{item.ref}: cannot "), str(info.value)


# --------------------------------------------------------------------------- the event log


def _verify_chain() -> int:
    prev = actions.GENESIS
    n = 0
    for ev in Event.select().order_by(Event.id):
        assert ev.prev_hash == prev, f"event {ev.id}: prev_hash does not match"
        row = {k: getattr(ev, k) for k in ("at", "actor", "actor_name", "console", "item_kind",
                                           "item_id", "item_ref", "action", "before", "after",
                                           "note", "intent", "state", "children")}
        assert actions.event_digest(ev.prev_hash, row) == ev.hash, f"event {ev.id}: bad hash"
        prev = ev.hash
        n += 1
    return n


def test_hash_chain_links_every_event(ctx, clock, db):
    r = new_report(ctx, "I", summary="首报")
    actions.acknowledge(ctx, OFFICER, r)
    clock.advance(minutes=3)
    actions.escalate(ctx, OFFICER, r)
    actions.follow_up(ctx, OFFICER, r, "续报一", dead=2)
    wo = new_order(ctx, department="ZJJ")
    actions.extend(ctx, OFFICER, wo, "延期原因")
    actions.instruct(ctx, LEADER, r, "批示")
    n = _verify_chain()
    assert n == n_events() and n >= 12  # roster (7) + these
    first = Event.select().order_by(Event.id).first()
    assert first.prev_hash == actions.GENESIS
    assert len({e.hash for e in Event.select()}) == n


def test_tampering_is_detected(ctx, db):
    r = new_report(ctx)
    actions.note(ctx, OFFICER, r, "原始记录")
    actions.note(ctx, OFFICER, r, "后续")
    _verify_chain()
    target = Event.select().where(Event.note == "原始记录").get()
    Event.update(note="篡改").where(Event.id == target.id).execute()  # bypassing actions
    with pytest.raises(AssertionError, match=f"event {target.id}: bad hash"):
        _verify_chain()


def test_event_records_before_after_and_console(ctx, db):
    r = new_report(ctx, "III")
    actions.acknowledge(ctx, OFFICER, r)
    ev = last_event()
    assert ev.before == {"status": "new", "acked_by": None, "acked_at": None,
                         "next_escalation_at": (T0 + 15 * M).isoformat(sep=" ")}
    assert ev.after == {"status": "acknowledged", "acked_by": "liming",
                        "acked_at": T0.isoformat(sep=" "), "next_escalation_at": None}
    assert (ev.at, ev.console, ev.actor_name) == (T0, "test:console", "李明")
