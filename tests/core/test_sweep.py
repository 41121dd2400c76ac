"""Auto-escalation: on time, once, from any number of processes (SQLite and PostgreSQL)."""

from __future__ import annotations

import collections
import datetime as dt

import pytest

from console import actions, sweep
from console.models import Event, Report, SupervisionItem, WorkOrder
from tests.conftest import LEADER, OFFICER, T0
from tests.core import _procs

M = dt.timedelta(minutes=1)
S = dt.timedelta(seconds=1)

pytestmark = pytest.mark.usefixtures("roster")


def fresh(item):
    return type(item).get_by_id(item.id)


def events_of(item, *names: str) -> list[Event]:
    q = Event.select().where((Event.item_kind == item.KIND) & (Event.item_id == item.id))
    if names:
        q = q.where(Event.action.in_(names))
    return list(q.order_by(Event.id))


def run(ctx) -> list[tuple[str, str, str]]:
    return sweep.auto_escalate(ctx).escalated


def report(ctx, level="III", **kw):
    kw.setdefault("title", "化工园区储罐泄漏")
    return actions.create_report(ctx, OFFICER, level=level, category="accident", **kw)


# --------------------------------------------------------------------------- unacknowledged


def test_unacknowledged_escalates_after_the_wait_not_before(ctx, clock, db):
    r = report(ctx, "III")  # 值班员 wait 15
    clock.set(T0 + 15 * M - S)
    assert run(ctx) == []
    assert fresh(r).step == 0 and events_of(r, "auto_escalate") == []
    clock.set(T0 + 15 * M)
    assert run(ctx) == [("report", r.ref, "unacknowledged")]
    r2 = fresh(r)
    assert (r2.step, r2.step_name, r2.version) == (1, "带班领导", 2)
    assert r2.next_escalation_at == T0 + 45 * M  # 带班领导 waits 30
    (ev,) = events_of(r, "auto_escalate")
    assert (ev.actor, ev.before["step"], ev.after["step"]) == ("system", 0, 1)
    assert ev.note == "not acknowledged in time — escalated automatically"


def test_running_twice_at_the_same_moment_escalates_once(ctx, clock, db):
    r = report(ctx, "III")
    clock.set(T0 + 20 * M)
    assert len(run(ctx)) == 1
    assert run(ctx) == []
    assert sweep.due_triggers(clock.now()) == []
    assert fresh(r).step == 1
    assert len(events_of(r, "auto_escalate")) == 1


def test_next_steps_wait_applies(ctx, clock, db):
    r = report(ctx, "III")  # waits 15, 30, 60, 120
    clock.set(T0 + 15 * M)
    run(ctx)
    clock.set(T0 + 45 * M - S)
    assert run(ctx) == []
    clock.set(T0 + 45 * M)
    run(ctx)
    assert fresh(r).step == 2
    clock.set(T0 + 105 * M - S)
    assert run(ctx) == []
    clock.set(T0 + 105 * M)
    run(ctx)
    assert fresh(r).step == 3 and fresh(r).next_escalation_at is None  # last step: stop
    clock.set(T0 + dt.timedelta(hours=9))
    reasons = [e.action for e in events_of(r) if e.actor == "system"]
    run(ctx)
    assert [e.action for e in events_of(r) if e.actor == "system"] == reasons + ["overdue"]


def test_acknowledge_stops_the_clock(ctx, clock, db):
    r = report(ctx, "III")
    clock.set(T0 + 10 * M)
    actions.acknowledge(ctx, OFFICER, r)
    clock.set(T0 + 119 * M)  # the report-up deadline (120 min) is not yet missed
    assert run(ctx) == []
    assert fresh(r).step == 0


def test_a_manual_escalation_restarts_the_wait(ctx, clock, db):
    r = report(ctx, "I")  # waits 5, 10, ...
    clock.set(T0 + 4 * M)
    actions.escalate(ctx, OFFICER, r)
    clock.set(T0 + 5 * M)
    assert run(ctx) == []  # the old step's wait no longer counts
    clock.set(T0 + 14 * M)
    assert run(ctx) == [("report", r.ref, "unacknowledged")]
    assert fresh(r).step == 2


# --------------------------------------------------------------------------- overdue


def test_overdue_marks_once_and_escalates_one_step(ctx, clock, db):
    r = actions.acknowledge(ctx, OFFICER, report(ctx, "III"))  # report-up due T0+120
    clock.set(T0 + 120 * M - S)
    assert run(ctx) == []
    clock.set(T0 + 120 * M)
    assert run(ctx) == [("report", r.ref, "overdue")]
    r2 = fresh(r)
    assert (r2.overdue_at, r2.step, r2.acked_at) == (T0 + 120 * M, 1, None)
    assert r2.next_escalation_at == T0 + 150 * M  # the new step must acknowledge in 30
    assert run(ctx) == []
    actions.acknowledge(ctx, LEADER, r2)
    clock.set(T0 + dt.timedelta(days=3))
    assert run(ctx) == []  # the same missed deadline is never marked again
    assert len(events_of(r, "overdue")) == 1
    assert fresh(r).step == 1
    (ev,) = events_of(r, "overdue")
    assert ev.after["overdue_at"] == (T0 + 120 * M).isoformat(sep=" ")
    assert ev.note == "deadline missed — escalated automatically"


def test_overdue_and_unacknowledged_together_move_one_step(ctx, clock, db):
    r = report(ctx, "I")  # unacknowledged after 5 min; report-up deadline after 30
    clock.set(T0 + 30 * M)
    assert run(ctx) == [("report", r.ref, "overdue")]
    assert fresh(r).step == 1
    assert len(events_of(r, "overdue", "auto_escalate")) == 1


def test_overdue_at_the_last_step_marks_once_and_stays(ctx, clock, db):
    r = actions.escalate(ctx, OFFICER, report(ctx, "IV"), to_step=3)  # IV: 3 steps
    r = actions.acknowledge(ctx, LEADER, r)
    due = r.deadline_at  # written report of a IV: 24 h after receipt
    clock.set(due)
    assert run(ctx) == [("report", r.ref, "overdue")]
    r2 = fresh(r)
    assert (r2.step, r2.overdue_at, r2.next_escalation_at) == (2, due, None)
    assert r2.status == "active" and r2.acked_by == "zhaoqiang"  # nothing else broke
    clock.set(due + dt.timedelta(days=2))
    assert run(ctx) == []
    assert len(events_of(r, "overdue")) == 1
    # and the item still works
    assert actions.note(ctx, OFFICER, r2, "已督促").version == r2.version + 1


def test_closed_items_never_escalate(ctx, clock, db):
    r = actions.close(ctx, OFFICER, report(ctx, "III"), "已处置")
    wo = actions.create_work_order(ctx, OFFICER, content="噪音扰民", type="complaint",
                                   department="ZJJ")
    wo = actions.close(ctx, OFFICER, actions.reply(ctx, OFFICER, wo, "已处理"))
    sv = actions.close(ctx, OFFICER, actions.register_supervision(ctx, OFFICER, title="督办"),
                       "销号")
    clock.set(T0 + dt.timedelta(days=60))
    assert run(ctx) == []
    for item in (r, wo, sv):
        assert events_of(item, "overdue", "auto_escalate") == []
        assert fresh(item).step == 0


def test_a_trigger_for_an_item_closed_meanwhile_is_skipped(ctx, clock, db):
    r = report(ctx, "III")
    clock.set(T0 + 3 * dt.timedelta(hours=1))
    triggers = sweep.due_triggers(clock.now())
    assert ("report", r.id, "overdue") in triggers and ("report", r.id, "unacknowledged") in triggers
    actions.close(ctx, OFFICER, r, "已处置")  # another console closes it first
    assert actions.sweep_batch(ctx, triggers) == []
    assert events_of(r, "overdue", "auto_escalate") == []


def test_extend_resets_overdue_and_the_new_deadline_can_be_missed_once(ctx, clock, db):
    wo = actions.create_work_order(ctx, OFFICER, content="井盖缺失", type="enquiry",
                                   department="ZJJ")
    wo = actions.accept(ctx, OFFICER, actions.acknowledge(ctx, OFFICER, wo))  # 签收 (issue 11)
    due = wo.deadline_at  # Tue 1 Dec 10:00
    clock.set(due)  # the sweep at the deadline marks it; an extension at that minute is allowed
    assert run(ctx) == [("work_order", wo.ref, "overdue")]
    wo = actions.acknowledge(ctx, OFFICER, fresh(wo))
    wo = actions.extend(ctx, OFFICER, wo, "需现场勘查")
    assert wo.overdue_at is None and wo.deadline_at > due
    clock.set(wo.deadline_at - S)
    assert run(ctx) == []
    clock.set(wo.deadline_at)
    assert run(ctx) == [("work_order", wo.ref, "overdue")]
    clock.set(wo.deadline_at + dt.timedelta(days=5))
    assert run(ctx) == []
    assert len(events_of(wo, "overdue")) == 2
    assert fresh(wo).step == 2


def test_a_new_report_deadline_can_be_missed_again(ctx, clock, db):
    r = actions.acknowledge(ctx, OFFICER, report(ctx, "III"))
    clock.set(T0 + 121 * M)
    run(ctx)  # report-up missed: marked, one step up
    r = actions.escalate(ctx, LEADER, fresh(r))  # reported up: the written report is due next
    assert r.overdue_at is None and r.deadline_at == T0 + 240 * M
    r = actions.acknowledge(ctx, LEADER, r)
    clock.set(T0 + 240 * M)
    assert run(ctx) == [("report", r.ref, "overdue")]
    assert len(events_of(r, "overdue")) == 2


def test_supervision_overdue_by_3715(ctx, clock, db):
    sv = actions.register_supervision(ctx, OFFICER, title="群众反映供热问题", klass="urgent")
    sv = actions.acknowledge(ctx, OFFICER, sv)
    clock.set(sv.deadline_at)  # Wed 2 Dec 10:00
    assert run(ctx) == [("supervision", sv.ref, "overdue")]
    assert isinstance(fresh(sv), SupervisionItem) and fresh(sv).step == 1


# --------------------------------------------------------------------------- many processes


def _due_items(ctx, n_unacked: int, n_overdue: int) -> dict[str, str]:
    """Items due at T0+15min: unacknowledged Ⅲ reports and acknowledged overdue orders."""
    expected = {}
    for i in range(n_unacked):
        r = actions.create_report(ctx, OFFICER, title=f"事件{i}", category="accident",
                                  level="III")
        expected[r.ref] = "auto_escalate"
    for i in range(n_overdue):
        wo = actions.create_work_order(ctx, OFFICER, content=f"工单{i}", type="help",
                                       urgency="urgent", department="ZJJ",
                                       received_at=T0 - dt.timedelta(hours=30))
        actions.acknowledge(ctx, OFFICER, wo)
        expected[wo.ref] = "overdue"
    return expected


@pytest.mark.multiprocess
@pytest.mark.parametrize("n_procs", [2, 4])
def test_sweep_from_several_processes_escalates_once(ctx, db, db_url, roster, n_procs):
    expected = _due_items(ctx, 30, 20)
    moment = T0 + 15 * M
    n_before = Event.select().count()
    db.close()  # nothing held open while the others work
    results = _procs.run_all(_procs.sweep_worker,
                             [(f"proc{i}", db_url, moment, 5) for i in range(n_procs)])
    errors = [err for _name, _esc, err in results if err]
    assert not errors, errors[0]
    done = [tuple(x) for _name, esc, _err in results for x in esc]
    # every due item escalated by exactly one process, once
    assert len(done) == len(expected) == len({ref for _k, ref, _r in done})
    assert {ref for _k, ref, _r in done} == set(expected)
    auto = Event.select().where(Event.id > 0).where(Event.actor == "system")
    per_item = collections.Counter((e.item_ref, e.action) for e in auto)
    assert per_item == collections.Counter(expected.items())
    assert Event.select().count() == n_before + len(expected)
    for model in (Report, WorkOrder):
        for item in model.select():
            assert item.step == 1, item.ref
            assert item.version == (2 if model is Report else 3), item.ref
    assert_one_chain()


def assert_one_chain() -> None:
    """Events written by several processes still form one unbroken hash chain."""
    prev = actions.GENESIS
    for e in Event.select().order_by(Event.id):
        assert e.prev_hash == prev, f"event {e.id}: the chain forked"
        prev = e.hash


@pytest.mark.multiprocess
def test_many_writers_lose_nothing(ctx, db, db_url, roster):
    refs = [actions.create_report(ctx, OFFICER, title=f"共享事件{i}", category="health",
                                  level="IV").ref for i in range(6)]
    n_created = Event.select().count()
    db.close()
    logins = ["liming", "wangfang", "zhaoqiang", "sunli"]
    results = _procs.run_all(_procs.writer_worker,
                             [(f"w{i}", db_url, T0, login, refs, 25)
                              for i, login in enumerate(logins)])
    errors = [err for _name, _p, err in results if err]
    assert not errors, errors[0]
    accepted = [tuple(a) for _n, (acc, _stale), _e in results for a in acc]
    print("stale retries:", sum(s for _n, (_a, s), _e in results))
    assert len(accepted) == 4 * 25
    # every accepted action has exactly one event, nothing else was written
    assert Event.select().count() == n_created + len(accepted)
    logged = collections.Counter(
        (e.item_ref, e.action) for e in Event.select().where(Event.id > 0)
        if e.action in ("acknowledge", "note"))
    assert logged == collections.Counter(accepted)
    for ref in refs:
        r = Report.get(Report.ref == ref)
        n_actions = sum(1 for a in accepted if a[0] == ref)
        assert r.version == 1 + n_actions, ref  # no update lost
        assert sum(1 for a in accepted if a == (ref, "acknowledge")) == 1  # acknowledged once
    assert_one_chain()
