"""The 12345 unit desk (issue 11): 签收, the unit role, return approval, problem orders,
redo and acknowledgements that expire — each rule legal and illegal, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from console import actions, intake, sweep, verify
from console.actions.units import add_working_hours
from console.context import Actor
from console.errors import DomainError, PermissionDenied
from console.figures import Period, figures
from console.models import Event, Person, Report, SupervisionItem, WorkOrder
from tests.conftest import ADMIN, LEADER, OFFICER, T0

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
UNIT = Actor("zjj_liaison", "住建联络员", "unit")
UNIT_GRB = Actor("grb_liaison", "供热联络员", "unit")


@pytest.fixture
def desk(ctx, roster):
    actions.upsert_person(ctx, ADMIN, login=UNIT.login, name=UNIT.name, role="unit",
                          department="ZJJ")
    actions.upsert_person(ctx, ADMIN, login=UNIT_GRB.login, name=UNIT_GRB.name, role="unit",
                          department="市供热办")  # by name: the code is stored
    actions.upsert_department(ctx, ADMIN, code="SWJ", name="市水务局")
    return ctx


def order(ctx, dept="ZJJ", **kw):
    kw.setdefault("content", "小区供暖不热")
    kw.setdefault("type", "complaint")
    return actions.create_work_order(ctx, OFFICER, department=dept, **kw)


def fresh(item):
    return type(item).get_by_id(item.id)


def events(item, action):
    return list(Event.select().where((Event.item_kind == item.KIND) & (Event.item_id == item.id)
                                     & (Event.action == action)))


def run(ctx):
    return sweep.auto_escalate(ctx).escalated


def with_desk(ctx, **changes):
    settings = dataclasses.replace(ctx.settings, unitdesk=dataclasses.replace(
        ctx.settings.unitdesk, **changes))
    return dataclasses.replace(ctx, settings=settings)


# --------------------------------------------------------------------------- working hours


def test_working_hours_skip_nights_lunch_weekends_and_holidays(cfg):
    local = dt.timezone(dt.timedelta(hours=8))

    def at(y, mo, d, h, mi=0):
        return dt.datetime(y, mo, d, h, mi, tzinfo=local).astimezone(dt.UTC).replace(tzinfo=None)

    assert add_working_hours(cfg, at(2026, 11, 27, 10), 2) == at(2026, 11, 27, 12)
    assert add_working_hours(cfg, at(2026, 11, 27, 11), 2) == at(2026, 11, 27, 14, 30)
    assert add_working_hours(cfg, at(2026, 11, 27, 17), 2) == at(2026, 11, 30, 10, 30)  # Fri→Mon
    assert add_working_hours(cfg, at(2026, 11, 28, 3), 2) == at(2026, 11, 30, 11)  # Saturday
    assert add_working_hours(cfg, at(2026, 9, 30, 17), 1) == at(2026, 10, 8, 9, 30)  # 国庆


# --------------------------------------------------------------------------- 签收


def test_dispatch_sets_the_acceptance_limit_and_the_unit_accepts(desk, ctx, clock):
    wo = order(ctx)
    assert wo.accept_due_at == T0 + 2 * H and wo.accepted_at is None
    assert wo.dept_trail == ["ZJJ"] and wo.dept_count == 1
    clock.advance(minutes=30)
    out = actions.accept(ctx, UNIT, wo.ref, note="已安排人员")
    assert (out.accepted_by, out.accepted_at, out.status) == (UNIT.login, T0 + 30 * M,
                                                               "in_progress")
    assert out.deadline_at == wo.deadline_at  # clock_starts: assignment (the default)
    assert events(wo, "accept")[0].note == "已安排人员"
    with pytest.raises(DomainError, match="already accepted"):
        actions.accept(ctx, OFFICER, wo.ref)
    assert _figures(ctx)["groups"]["ZJJ"]["accepted_on_time"] == 1


def test_an_officer_records_acceptance_on_the_phoned_word(desk, ctx):
    wo = order(ctx)
    actions.accept(ctx, OFFICER, wo.ref, note="张科长")
    assert "phoned" in events(wo, "accept")[0].note and "张科长" in events(wo, "accept")[0].note


def test_accept_is_refused_before_assignment_and_for_a_viewer(desk, ctx):
    wo = actions.create_work_order(ctx, OFFICER, content="咨询", type="enquiry")
    with pytest.raises(DomainError, match="cannot"):
        actions.accept(ctx, OFFICER, wo.ref)
    with pytest.raises(PermissionDenied):
        actions.accept(ctx, Actor("wallboard", "大屏", "viewer"), order(ctx).ref)


def test_clock_starting_at_acceptance_counts_the_limit_from_then(desk, ctx, clock):
    wo = order(ctx, type="enquiry")
    clock.advance(hours=3)
    out = actions.accept(with_desk(ctx, clock_starts="acceptance"), UNIT, wo.ref)
    assert out.deadline_at == wo.deadline_at + 3 * H  # the type's 2 working days, from 13:00


def test_not_accepted_in_time_escalates_once(desk, ctx, clock):
    wo = order(ctx)
    on_time = order(ctx)
    actions.accept(ctx, UNIT, on_time.ref)
    clock.set(T0 + 2 * H - M)
    assert run(ctx) == []
    clock.set(T0 + 2 * H)
    assert run(ctx) == [("work_order", wo.ref, "not_accepted")]
    assert run(ctx) == []
    assert fresh(wo).step == 1 and fresh(wo).accept_overdue_at == T0 + 2 * H
    assert len(events(wo, "accept_overdue")) == 1 and events(on_time, "accept_overdue") == []
    late = actions.accept(ctx, UNIT, wo.ref)  # still accepted, late
    zjj = _figures(ctx)["groups"]["ZJJ"]
    assert (zjj["accepted"], zjj["accepted_on_time"], zjj["accept_on_time_rate"]) == (2, 1, 0.5)
    assert late.accepted_at is not None


# --------------------------------------------------------------------------- the unit role


def test_the_unit_acts_on_its_own_orders_only(desk, ctx):
    mine, theirs = order(ctx), order(ctx, dept="GRB")
    for fn, args in ((actions.accept, ()), (actions.reply, ("已处理",)),
                     (actions.extend, ("需要勘查",)), (actions.return_order, ("非本单位职责",)),
                     (actions.note, ("记录",))):
        with pytest.raises(PermissionDenied, match="acts for unit ZJJ only") as refused:
            fn(ctx, UNIT, theirs.ref, *args)
        assert "\n" not in str(refused.value)
    assert fresh(theirs).version == theirs.version
    actions.accept(ctx, UNIT_GRB, theirs.ref)
    actions.accept(ctx, UNIT, mine.ref)
    actions.reply(ctx, UNIT, mine.ref, "已修复")


def test_the_unit_may_not_do_the_duty_rooms_work(desk, ctx):
    wo = order(ctx)
    report = actions.create_report(ctx, OFFICER, title="火情", category="accident", level="III")
    for fn, target, args in ((actions.assign, wo, ("GRB",)), (actions.close, wo, ("",)),
                             (actions.escalate, wo, ()), (actions.urge, wo, ()),
                             (actions.approve_return, wo, ()), (actions.note, report, ("x",)),
                             (actions.acknowledge, report, ())):
        with pytest.raises(PermissionDenied):
            fn(ctx, UNIT, target.ref, *args)
    with pytest.raises(PermissionDenied):
        actions.create_work_order(ctx, UNIT, content="自建工单", type="help")


def test_a_unit_person_needs_an_existing_department(desk, ctx):
    with pytest.raises(DomainError, match="department"):
        actions.upsert_person(ctx, ADMIN, login="x1", name="无部门", role="unit")
    with pytest.raises(DomainError, match="no department"):
        actions.upsert_person(ctx, ADMIN, login="x2", name="错部门", role="unit",
                              department="NOPE")
    with pytest.raises(DomainError, match="role unit"):
        actions.upsert_person(ctx, ADMIN, login="x3", name="值班员", role="officer",
                              department="ZJJ")
    assert Person.get(Person.login == UNIT_GRB.login).department == "GRB"


def test_import_accepts_a_unit_person_with_its_department(desk, ctx, tmp_path):
    path = tmp_path / "people.jsonl"
    path.write_text(json.dumps({"kind": "person", "login": "swj", "name": "水务联络员",
                                "role": "unit", "department": "SWJ"}), encoding="utf-8")
    records = intake.load_file(path, ctx.settings)
    actions.import_records(ctx, ADMIN, records, source="people.jsonl")
    assert Person.get(Person.login == "swj").department == "SWJ"


# --------------------------------------------------------------------------- 退单


def test_a_return_after_acceptance_needs_approval(desk, ctx):
    wo = order(ctx)
    actions.accept(ctx, UNIT, wo.ref)
    with pytest.raises(DomainError, match="ask to return"):
        actions.return_order(ctx, UNIT, wo.ref, "非本单位职责")
    with pytest.raises(DomainError, match="no return is waiting"):
        actions.approve_return(ctx, OFFICER, wo.ref)
    asked = actions.ask_return(ctx, UNIT, wo.ref, "属供热办职责")
    assert asked.status == "in_progress" and asked.return_asked_at == T0
    with pytest.raises(DomainError, match="already waiting"):
        actions.ask_return(ctx, UNIT, wo.ref, "再次申请")
    with pytest.raises(PermissionDenied):
        actions.approve_return(ctx, UNIT, wo.ref)  # the unit cannot approve its own
    kept = actions.refuse_return(ctx, OFFICER, wo.ref, "职责明确，请继续办理")
    assert kept.return_asked_at is None and kept.department_id is not None
    actions.ask_return(ctx, UNIT, wo.ref, "确属供热办职责")
    out = actions.approve_return(ctx, LEADER, wo.ref, note="同意")
    assert (out.status, out.department_id, out.returns, out.accepted_at) == ("returned", None,
                                                                              1, None)


def test_before_acceptance_the_unit_returns_directly_and_asking_is_refused(desk, ctx, clock):
    wo = order(ctx)
    with pytest.raises(DomainError, match="return it directly"):
        actions.ask_return(ctx, UNIT, wo.ref, "非本单位")
    out = actions.return_order(ctx, UNIT, wo.ref, "非本单位职责")
    assert out.returns == 1 and out.accept_due_at is None
    late = order(ctx)
    actions.accept(ctx, UNIT, late.ref)
    clock.advance(days=5)  # Fri + 5 days: past the 2 working days counted from assignment
    with pytest.raises(DomainError, match="within 2 working days"):
        actions.ask_return(ctx, UNIT, late.ref, "太晚了")


# --------------------------------------------------------------------------- 问题工单


def _bounce(ctx, wo, depts=("ZJJ", "GRB", "ZJJ")):
    for i, dept in enumerate(depts):
        if i:
            actions.assign(ctx, OFFICER, wo.ref, dept)
        actions.return_order(ctx, OFFICER, wo.ref, f"第{i + 1}次退单")


def test_three_returns_make_a_problem_order_registered_once(desk, ctx):
    wo = order(ctx)
    _bounce(ctx, wo, ("ZJJ", "GRB"))
    assert [r for r in run(ctx) if r[2] == "problem"] == []
    actions.assign(ctx, OFFICER, wo.ref, "ZJJ")
    actions.return_order(ctx, OFFICER, wo.ref, "第3次退单")
    assert fresh(wo).returns == 3 and fresh(wo).dept_count == 2
    assert run(ctx) == [("work_order", wo.ref, "problem")]
    assert run(ctx) == []
    sv = SupervisionItem.get(SupervisionItem.source_ref == wo.ref)
    assert fresh(wo).problem_ref == sv.ref and sv.klass == "complex"
    assert len(events(wo, "problem_order")) == 1
    assert SupervisionItem.select().count() == 1


def test_three_departments_make_a_problem_order(desk, ctx):
    wo = order(ctx)
    actions.assign(ctx, OFFICER, wo.ref, "GRB")
    assert run(ctx) == []
    actions.assign(ctx, OFFICER, wo.ref, "SWJ")
    assert fresh(wo).dept_count == 3 and fresh(wo).returns == 0
    assert run(ctx) == [("work_order", wo.ref, "problem")]
    sv = SupervisionItem.get(SupervisionItem.source_ref == wo.ref)
    assert sv.department_id == fresh(wo).department_id


def test_problem_thresholds_are_configuration(desk, ctx):
    wo = order(ctx)
    actions.return_order(ctx, OFFICER, wo.ref, "退单")
    assert run(with_desk(ctx, problem_returns=1)) == [("work_order", wo.ref, "problem")]


# --------------------------------------------------------------------------- 发回重办


def _replied(ctx, wo):
    actions.accept(ctx, UNIT, wo.ref)
    return actions.reply(ctx, UNIT, wo.ref, "已处理")


def test_a_dissatisfied_visit_sends_the_order_back_to_be_redone(desk, ctx, clock):
    wo = order(ctx)
    _replied(ctx, wo)
    clock.advance(days=3)
    out = actions.visit(ctx, OFFICER, wo.ref, 2)
    assert (out.status, out.redo_count, out.satisfaction) == ("in_progress", 1, 2)
    assert out.department_id == wo.department_id and out.deadline_at > wo.deadline_at
    actions.reply(ctx, UNIT, wo.ref, "重新处理完毕")
    assert actions.visit(ctx, OFFICER, wo.ref, 4).status == "visited"
    assert fresh(wo).redo_count == 1
    total = _figures(ctx)["total"]
    assert (total["visited"], total["redone"], total["redos"], total["redo_rate"]) == (1, 1, 1, 1.0)


def test_no_redo_when_the_officer_records_why(desk, ctx):
    wo = order(ctx)
    _replied(ctx, wo)
    with pytest.raises(DomainError, match="reason"):
        actions.visit_no_redo(ctx, OFFICER, wo.ref, 1)
    out = actions.visit_no_redo(ctx, OFFICER, wo.ref, 1, note="诉求超出政策范围")
    assert (out.status, out.redo_count, out.satisfaction) == ("visited", 0, 1)
    assert events(wo, "visit_no_redo")[0].note == "诉求超出政策范围"
    satisfied = order(ctx)
    _replied(ctx, satisfied)
    assert actions.visit(ctx, OFFICER, satisfied.ref, 3).status == "visited"


# --------------------------------------------------------------------------- ack expiry


def test_an_acknowledgement_expires_when_nothing_happens_and_the_chain_resumes(desk, ctx, clock):
    major = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="II")
    assert actions.acknowledge(ctx, OFFICER, major.ref).ack_expires_at == T0 + 60 * M  # default
    # a Ⅲ (report up due after 120 min) with 20 minutes configured: no deadline interferes
    ctx = with_desk(ctx, ack_expiry={"report": {"III": 20}})
    r = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="III")
    r = actions.acknowledge(ctx, OFFICER, r.ref)
    assert r.ack_expires_at == T0 + 20 * M and r.next_escalation_at is None
    clock.set(T0 + 10 * M)
    actions.note(ctx, OFFICER, r.ref, "现场已处置")  # something happened: the countdown restarts
    def swept():
        return [x for x in run(ctx) if x[1] == r.ref]

    clock.set(T0 + 20 * M)
    assert swept() == []
    clock.set(T0 + 30 * M)
    assert swept() == [("report", r.ref, "ack_expired")]
    assert swept() == []
    out = fresh(r)
    assert out.acked_at is None and out.ack_expires_at is None
    assert out.next_escalation_at == T0 + 30 * M + dt.timedelta(minutes=out.chain[out.step][1])
    assert len(events(r, "ack_expired")) == 1


def test_acknowledgements_of_work_orders_and_minor_reports_do_not_expire(desk, ctx, clock):
    wo = actions.acknowledge(ctx, OFFICER, order(ctx).ref)
    minor = actions.acknowledge(ctx, OFFICER, actions.create_report(
        ctx, OFFICER, title="小火", category="accident", level="IV").ref)
    assert wo.ack_expires_at is None and minor.ack_expires_at is None
    closed = actions.acknowledge(ctx, OFFICER, actions.create_report(
        ctx, OFFICER, title="事故", category="accident", level="I").ref)
    assert closed.ack_expires_at is not None
    closed = actions.close(ctx, LEADER, closed.ref, "处置完毕")
    assert closed.ack_expires_at is None


def test_the_log_still_verifies_after_the_desk_worked(desk, ctx, clock):
    wo = order(ctx)
    _bounce(ctx, wo)
    clock.advance(hours=3)
    run(ctx)
    r = actions.acknowledge(ctx, OFFICER, actions.create_report(
        ctx, OFFICER, title="险情", category="natural", level="I").ref)
    clock.advance(hours=2)
    run(ctx)
    assert Report.get_by_id(r.id).acked_at is None
    n, problems = verify.verify_all()
    assert problems == [] and n == Event.select().count()
    assert WorkOrder.get_by_id(wo.id).problem_ref


def _figures(ctx) -> dict:
    """The work-order figures of the orders received around T0, per unit."""
    return figures("work_order", Period(T0 - H, T0 + H), "department", settings=ctx.settings,
                   now=ctx.now())


def test_a_units_view_holds_its_own_orders_only(desk, ctx):
    from console.queries import QueueFilter, count, in_view

    mine, theirs = order(ctx), order(ctx, dept="SWJ")
    view = QueueFilter("work_order", scope="all", unit="ZJJ")
    assert count(view) == 1 and in_view(view, mine.id) and not in_view(view, theirs.id)
    assert count(view.with_(department="SWJ")) == 0  # a filter narrows, never widens
    assert count(QueueFilter("report", scope="all", unit="ZJJ")) == 0
    assert count(QueueFilter("work_order", scope="all", unit="")) == 0  # bound to nothing


def test_a_unit_reads_only_its_own_items(desk):
    """queries.detail for a unit liaison: its department's orders, nobody else's, no reports."""
    from console import queries

    own, others = order(desk), order(desk, dept="SWJ")
    report = actions.create_report(desk, OFFICER, title="燃气泄漏", category="accident",
                                   subtype="gas_leak", level="II")
    assert queries.detail("work_order", own.id, unit="ZJJ").item.ref == own.ref
    for kind, item in (("work_order", others), ("report", report)):
        with pytest.raises(PermissionDenied, match=item.ref):
            queries.detail(kind, item.id, unit="ZJJ")
    assert queries.detail("work_order", others.id).item.ref == others.ref  # an officer: all
