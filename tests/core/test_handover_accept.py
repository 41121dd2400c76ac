"""Leaders' instructions recorded as they happen, and a handover that can be accepted
(issue 10 items 2 and 3), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from console import actions, shiftwork, verbs, verify
from console.actions.plumbing import row_values
from console.context import Context
from console.errors import DomainError, PermissionDenied
from console.models import Event, Instruction, Report, Shift, WorkOrder
from tests.conftest import ADMIN, LEADER, OFFICER, OFFICER2, T0, Actor

OFFICER3 = Actor("zhoumin", "周敏", "officer")
LEADER2 = Actor("sunli", "孙丽", "leader")


@pytest.fixture
def duty(roster):
    """Shift A (now: 赵强, 李明), shift B next (孙丽, 王芳, 周敏) and a few open items."""
    ctx = roster
    for a in (OFFICER3, LEADER2):
        actions.upsert_person(ctx, ADMIN, login=a.login, name=a.name, role=a.role)
    actions.upsert_person(ctx, ADMIN, login=LEADER.login, name=LEADER.name, role="leader",
                          title="副市长")
    a = actions.upsert_shift(ctx, ADMIN, starts_at=T0 - dt.timedelta(hours=2),
                             ends_at=T0 + dt.timedelta(hours=22), leader=LEADER.login,
                             primary=OFFICER.login)
    b = actions.upsert_shift(ctx, ADMIN, starts_at=T0 + dt.timedelta(hours=22),
                             ends_at=T0 + dt.timedelta(hours=46), leader=LEADER2.login,
                             primary=OFFICER2.login, secondary=OFFICER3.login)
    items = [actions.create_report(ctx, OFFICER, title=f"燃气泄漏{i}", category="accident",
                                   level="III") for i in range(3)]
    items.append(actions.create_work_order(ctx, OFFICER, content="暖气不热"))
    done = actions.create_report(ctx, OFFICER, title="已办结", category="accident", level="IV")
    actions.close(ctx, OFFICER, done, "已处置")
    return ctx, a, b, items


def n_events(action: str | None = None) -> int:
    query = Event.select()
    return (query.where(Event.action == action) if action else query).count()


def three(**kw):
    values = {"situation": "全市平稳，燃气泄漏一起处置中", "problems": "BG-1 待续报",
              "tasks": "08:00 前报送续报"}
    values.update(kw)
    return values


# --------------------------------------------------------------------------- 批示


def test_officer_records_a_roster_leaders_instruction(duty):
    """Found: an officer was refused "may not record an instruction"."""
    ctx, _a, _b, items = duty
    report = items[0]
    given = T0 - dt.timedelta(minutes=15)
    actions.instruct(ctx, OFFICER, report.ref, "全力救治伤员", leader="zhaoqiang", at=given)
    ins = Instruction.get()
    assert (ins.leader, ins.leader_login, ins.leader_title) == ("赵强", "zhaoqiang", "副市长")
    assert (ins.recorded_by, ins.at, ins.text) == ("liming", given, "全力救治伤员")
    event = Event.select().where(Event.action == "instruct").get()
    assert event.actor == "liming"  # the recorder; the note names the leader too
    assert event.note == "赵强 (副市长) instructed: 全力救治伤员 (recorded by 李明)"
    assert Report.get_by_id(report.id).version == report.version + 1


def test_admin_record_names_the_leader_not_the_typist(duty):
    """Found: an admin's record named the admin (the typist) as the instructing leader."""
    ctx, _a, _b, items = duty
    actions.instruct(ctx, ADMIN, items[0].ref, "速报省应急厅", leader="zhaoqiang")
    ins = Instruction.get()
    assert (ins.leader, ins.recorded_by) == ("赵强", "admin")
    with pytest.raises(DomainError, match="who gave the instruction is required"):
        actions.instruct(ctx, ADMIN, items[0].ref, "再次")  # no leader: not the admin
    assert Instruction.select().count() == 1


def test_instruction_leader_outside_roster_time_and_refusals(duty):
    ctx, _a, _b, items = duty
    ref = items[1].ref
    actions.instruct(ctx, OFFICER, ref, "注意防范次生灾害", leader="张市长", title="市长")
    ins = Instruction.get()
    assert (ins.leader, ins.leader_login, ins.leader_title) == ("张市长", None, "市长")
    before = n_events()
    with pytest.raises(DomainError, match="give their title too") as e:
        actions.instruct(ctx, OFFICER, ref, "x", leader="张市长")
    assert e.value.field == "title"
    with pytest.raises(DomainError, match="not a leader"):
        actions.instruct(ctx, OFFICER, ref, "x", leader="wangfang")
    with pytest.raises(DomainError, match="in the future") as e:
        actions.instruct(ctx, OFFICER, ref, "x", leader="zhaoqiang",
                         at=T0 + dt.timedelta(minutes=5))
    assert e.value.field == "at"
    with pytest.raises(DomainError, match="is required"):
        actions.instruct(ctx, OFFICER, ref, "x")  # an officer names the leader
    with pytest.raises(DomainError, match="no roster login nobody"):
        verbs.call(verbs.by_name("instruct"), ctx, OFFICER, ref, "@nobody 内容")
    with pytest.raises(PermissionDenied):
        actions.instruct(ctx, Actor("wallboard", "大屏", "viewer"), ref, "x", leader="zhaoqiang")
    assert n_events() == before and Instruction.select().count() == 1
    # a leader records their own; the command line names the leader and the time
    actions.instruct(ctx, LEADER, ref, "同意")
    verbs.call(verbs.by_name("instruct"), ctx, OFFICER, ref, "@zhaoqiang 09:40 立即处置")
    verbs.call(verbs.by_name("instruct"), ctx, OFFICER, ref, "@李副市长/副市长 加强巡查")
    rows = list(Instruction.select().order_by(Instruction.id))[1:]
    assert [(r.leader, r.recorded_by, r.text) for r in rows] == [
        ("赵强", "zhaoqiang", "同意"), ("赵强", "liming", "立即处置"),
        ("李副市长", "liming", "加强巡查")]
    assert rows[1].at == T0 - dt.timedelta(minutes=20)  # 09:40 local is 01:40 UTC
    assert verify.verify_all()[1] == []


# --------------------------------------------------------------------------- 交班


def test_only_people_on_the_shift_hand_it_over(duty):
    """Found: anyone (root, not on the shift) handed the shift over."""
    ctx, a, _b, items = duty
    before = n_events()
    for who in (ADMIN, OFFICER2):  # an admin, an officer of the next shift
        with pytest.raises(PermissionDenied, match=f"{who.name} is not on shift {a.ref}"):
            actions.submit_handover(ctx, who, a.id, **three())
    with pytest.raises(PermissionDenied, match="not on shift"):
        actions.handover(ctx, ADMIN, a.id, "交班")  # the one-note form too
    with pytest.raises(DomainError, match="tasks is required") as e:
        actions.submit_handover(ctx, OFFICER, a.id, **three(tasks=" "))
    assert e.value.field == "tasks"
    assert n_events() == before and Shift.get_by_id(a.id).handed_over_at is None

    out = actions.submit_handover(ctx, OFFICER, None, **three())  # the outgoing shift
    assert out.id == a.id and out.handed_over_by == "liming" and out.handed_over_at == T0
    assert (out.situation, out.problems, out.tasks) == tuple(three().values())
    assert [ref for _k, _i, ref in out.handed_items] == [i.ref for i in items[:3]] + [
        items[3].ref]
    event = Event.select().order_by(Event.id.desc()).first()
    assert (event.action, event.item_ref, event.actor) == ("submit_handover", a.ref, "liming")
    assert event.after["items"] == 4 and event.after["post"] == "primary"
    assert n_events() == before + 1
    with pytest.raises(DomainError, match="already handed over by 李明"):
        actions.submit_handover(ctx, LEADER, a.id, **three())


def test_the_duty_leader_may_hand_over(duty):
    ctx, a, _b, _items = duty
    out = actions.submit_handover(ctx, LEADER, a.ref, **three())
    assert out.handed_over_by == "zhaoqiang"


# --------------------------------------------------------------------------- 接班


def test_accept_makes_the_incoming_officer_owner_of_every_item(duty):
    """Found: the incoming officer had no 接班, so nobody took over the open items."""
    ctx, a, b, items = duty
    ctx = Context(dataclasses.replace(
        ctx.settings, handover=dataclasses.replace(ctx.settings.handover, batch=2)),
        ctx.clock, ctx.console)
    actions.submit_handover(ctx, OFFICER, a.id, **three())
    closed = actions.close(ctx, OFFICER, items[2], "已处置")  # closed after the handover
    before = n_events()
    with pytest.raises(PermissionDenied, match=f"not on the next shift {b.ref}"):
        actions.accept_handover(ctx, OFFICER, a.id, confirmed=("situation", "problems", "tasks"))
    with pytest.raises(DomainError, match="tasks is not confirmed") as e:
        actions.accept_handover(ctx, OFFICER2, a.id, confirmed=("situation", "problems"))
    assert e.value.field == "tasks" and n_events() == before

    ctx.clock.set(T0 + dt.timedelta(hours=22, minutes=5))  # the next shift has begun
    out = actions.accept_handover(ctx, OFFICER2, None, intent="accept-1",
                                  confirmed=("situation", "problems", "tasks"))
    assert out.shift.id == a.id and out.shift.taken_over_by == "wangfang"
    assert sorted(out.owned) == sorted(i.ref for i in (items[0], items[1], items[3]))
    assert out.stale == [(closed.ref, "closed since the handover")]
    for item in (items[0], items[1], items[3]):
        row = type(item).get_by_id(item.id)
        assert row.owner == "wangfang"
        events = list(Event.select().where((Event.item_ref == item.ref)
                                           & (Event.action == "take_over_item")))
        assert len(events) == 1 and events[0].before == {"owner": "liming"}
    assert n_events("accept_handover") == 1 and n_events() == before + 1 + 3

    # exactly once: the same intent again writes nothing; the same person resumes
    # (nothing left); anyone else is refused
    again = actions.accept_handover(ctx, OFFICER2, None, intent="accept-1",
                                    confirmed=("situation", "problems", "tasks"))
    assert again.owned == [] and n_events() == before + 4
    again = actions.accept_handover(ctx, OFFICER2, a.id,
                                    confirmed=("situation", "problems", "tasks"))
    assert again.owned == [] and again.already == 3 and n_events() == before + 4
    with pytest.raises(DomainError, match="already accepted by 王芳"):
        actions.accept_handover(ctx, OFFICER3, a.id, confirmed=("situation", "problems",
                                                                "tasks"))
    assert verify.verify_all()[1] == []


def test_accept_before_submission_is_refused(duty):
    ctx, a, _b, _items = duty
    with pytest.raises(DomainError, match="has not been handed over"):
        actions.accept_handover(ctx, OFFICER2, a.id, confirmed=("situation", "problems",
                                                                "tasks"))


# --------------------------------------------------------------------------- 接管


def test_take_over_needs_a_reason_and_the_next_shift(duty):
    ctx, a, _b, items = duty
    before = n_events()
    with pytest.raises(DomainError, match="reason is required"):
        actions.take_over_shift(ctx, LEADER2, a.id, reason="")
    with pytest.raises(PermissionDenied, match="not on the next shift"):
        actions.take_over_shift(ctx, ADMIN, a.id, reason="李明病假")
    assert n_events() == before
    out = actions.take_over_shift(ctx, LEADER2, a.id, reason="李明突发疾病送医")
    assert out.shift.takeover_reason == "李明突发疾病送医" and out.shift.accepted_at == T0
    assert len(out.owned) == 4
    assert all(WorkOrder.get_by_id(items[3].id).owner == "sunli" for _ in (1,))
    event = Event.select().where(Event.action == "take_over").get()
    assert (event.actor, event.note) == ("sunli", "李明突发疾病送医")
    assert n_events() == before + 1 + 4
    with pytest.raises(DomainError, match="already accepted"):
        actions.take_over_shift(ctx, OFFICER2, a.id, reason="again")
    with pytest.raises(DomainError, match="already accepted"):
        actions.submit_handover(ctx, OFFICER, a.id, **three())


def test_take_over_after_submission_is_refused(duty):
    ctx, a, _b, _items = duty
    actions.submit_handover(ctx, OFFICER, a.id, **three())
    with pytest.raises(DomainError, match="accept it"):
        actions.take_over_shift(ctx, OFFICER2, a.id, reason="x")


# --------------------------------------------------------------------------- warnings


def test_warnings_before_a_shift_without_a_leader_or_an_officer(duty):
    ctx, _a, b, _items = duty
    assert shiftwork.warnings(ctx, T0) == []
    ctx.clock.set(T0 + dt.timedelta(hours=12))  # 12 h ahead: B starts, nothing after it
    assert shiftwork.warnings(ctx, ctx.now()) == []
    actions.upsert_shift(ctx, ADMIN, starts_at=b.starts_at, ends_at=b.ends_at, ref=b.ref,
                         leader=None, primary=None, secondary=OFFICER3.login,
                         expected_version=b.version)
    c = actions.upsert_shift(ctx, ADMIN, starts_at=b.ends_at,
                             ends_at=b.ends_at + dt.timedelta(hours=24), leader=LEADER2.login)
    ctx.clock.set(T0 + dt.timedelta(hours=36))  # B on duty, C starts within 12 h
    lines = shiftwork.warnings(ctx, ctx.now())
    assert any(f"shift {b.ref}" in w and "no duty leader" in w for w in lines)
    assert any(f"shift {c.ref}" in w and "no duty officer" in w for w in lines)
    assert not any(f"shift {b.ref}" in w and "no duty officer" in w for w in lines)
    ctx.clock.set(T0 + dt.timedelta(hours=60))
    assert any(f"shift {c.ref} ends" in w for w in shiftwork.warnings(ctx, ctx.now()))


def test_new_columns_leave_older_rows_digest_alone(duty):
    """Rows hashed before migration 0010 still match: a NULL new column is not hashed."""
    _ctx, a, _b, _items = duty
    values = row_values(Shift.get_by_id(a.id))
    assert not {"situation", "handed_items", "accepted_at", "takeover_reason"} & set(values)
