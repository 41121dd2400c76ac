"""Closing a report whose plan response runs, at the console (issue 10 §4).

*Found*: the core refused the close naming the plan and said "or end it with the close",
but no key or prompt of the console could: the officer was left with a refusal. Now `c`
asks first to end the response with the close; yes closes and ends it, no leaves both.
"""

from __future__ import annotations

from console import actions
from console.models import PlanActivation, Report
from screens.forms import ConfirmScreen
from tests.conftest import ADMIN, LEADER
from tests.ui.conftest import settle


def _running(ctx) -> Report:
    plan = actions.upsert_plan(
        ctx, ADMIN, code="ZX-RQ-01", title="燃气泄漏事故应急预案",
        kind="special", category="accident", subtype="gas_leak",
        levels={"II": {"criteria": "10人以上死亡", "declared_by": "省政府",
                       "measures": ["召开指挥部会议", "报告省应急办"]}})
    r = actions.create_report(ctx, LEADER, title="道外区燃气泄漏", category="accident",
                              level="II")
    actions.activate_plan(ctx, LEADER, plan, r.ref, "II")
    return r


async def _close(pilot, ref: str) -> ConfirmScreen:
    await pilot.press("colon")
    pilot.app.screen.query_one("#commandbar").value = f":close {ref} 险情排除，终报"
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmScreen)
    return pilot.app.screen


async def test_close_asks_to_end_the_plan_response_and_ends_it(make_app, duty):
    ctx, _refs = duty
    r = _running(ctx)
    app = make_app(actor=LEADER, language="zh-CN")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        confirm = await _close(pilot, r.ref)
        assert "ZX-RQ-01" in confirm.question and "结束响应" in confirm.question
        await pilot.press("y")
        await settle(pilot)
    assert Report.get_by_id(r.id).status == "closed"
    assert PlanActivation.get().deactivated_at is not None


async def test_declining_leaves_the_report_and_its_plan_running(make_app, duty):
    ctx, _refs = duty
    r = _running(ctx)
    app = make_app(actor=LEADER)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        confirm = await _close(pilot, r.ref)
        assert "ZX-RQ-01" in confirm.question
        await pilot.press("n")
        await settle(pilot)
    assert Report.get_by_id(r.id).status != "closed"
    assert PlanActivation.get().deactivated_at is None
