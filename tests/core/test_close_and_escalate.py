"""Issue 10, the core parts.

§4 closing a report left its emergency plan running (the handover still listed the
response): closing is refused with a message naming the plan, unless the caller asks
to end the response too (``end_plans=True``: each activation ended, each its own event).

§6 escalating an overdue report by hand set its new deadline to the moment of
escalating, so it was overdue again at once (and the sweep escalated it again).
"""

from __future__ import annotations

import datetime as dt

import pytest

from console import actions, sweep, verify
from console.errors import DomainError
from console.models import Event, PlanActivation, Report
from tests.conftest import LEADER, OFFICER
from tests.core.test_actions import make_plan

pytestmark = pytest.mark.usefixtures("roster")
M = dt.timedelta(minutes=1)


def _with_plan(ctx) -> Report:
    r = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="II")
    actions.activate_plan(ctx, LEADER, make_plan(ctx), r.ref, "II")
    return Report.get_by_id(r.id)


def test_close_refused_while_the_plan_response_runs(ctx):
    r = _with_plan(ctx)
    events = Event.select().count()
    with pytest.raises(DomainError, match="ZX-RQ-01"):
        actions.close(ctx, LEADER, r.ref, "处置完毕")
    assert Report.get_by_id(r.id).status != "closed" and Event.select().count() == events
    assert PlanActivation.get().deactivated_at is None


def test_close_ending_the_response(ctx):
    r = _with_plan(ctx)
    closed = actions.close(ctx, LEADER, r.ref, "处置完毕", end_plans=True)
    assert closed.status == "closed"
    act = PlanActivation.get()
    assert act.deactivated_at is not None and act.deactivated_by == LEADER.login
    last = list(Event.select().where(Event.item_id == r.id, Event.item_kind == "report")
                .order_by(Event.id.desc()).limit(2))
    assert [e.action for e in last] == ["deactivate_plan", "close"]
    assert closed.version == Report.get_by_id(r.id).version
    assert verify.verify_all()[1] == []


def test_close_after_the_response_ended(ctx):
    r = _with_plan(ctx)
    actions.deactivate_plan(ctx, LEADER, PlanActivation.get().id)
    assert actions.close(ctx, LEADER, r.ref, "处置完毕").status == "closed"


def test_escalating_an_overdue_report_by_hand_gives_a_deadline_ahead(ctx, clock):
    r = actions.create_report(ctx, OFFICER, title="山体滑坡", category="natural", level="I")
    clock.advance(minutes=95)  # report-up (30 min) and written report (60 min) both missed
    sweep.auto_escalate(ctx)  # marks it overdue and moves it up once
    r = Report.get_by_id(r.id)
    assert r.overdue_at is not None and r.reported_at is None
    out = actions.escalate(ctx, OFFICER, r.ref, note="已电话报告")
    assert out.deadline_at > clock.now()
    assert sweep.due_triggers(clock.now()) == []  # not overdue again at once
    assert verify.verify_all()[1] == []
