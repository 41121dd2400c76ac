"""Pilot tests: every item key on the queue and detail screens, with the timeline checked."""

from __future__ import annotations

from console import actions
from console.models import ActivationMeasure, PlanActivation, Report, SupervisionItem, WorkOrder
from screens.detail import ChecklistScreen, DetailScreen
from screens.forms import ActionPrompt, FormScreen
from tests.conftest import LEADER, OFFICER2, VIEWER
from tests.ui.conftest import events_of, messages, plain, select, settle

SIZE = (120, 40)


async def test_queue_opens_with_counters_and_rows(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        item_list = app.screen.pane().item_list
        assert item_list.total == 3  # the closed report is not in the open scope
        assert item_list.selected.ref == refs["gas"]  # Ⅱ first: most urgent
        assert app._header_state["counters"]["report"].unacked == 3
        assert app._header_state["team"].leader.name == LEADER.name


async def test_acknowledge_one_key_and_enter(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["fire"])
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press(*"on scene", "enter")
        await settle(pilot)
        assert events_of(refs["fire"])[-1] == ("acknowledge", "liming", "on scene")
        assert any("Acknowledge" in m and refs["fire"] in m for m in messages(app))
        row = app.screen.pane().item_list.selected
        assert row.ref == refs["fire"] and row.acked  # the cursor stayed on the item


async def test_escalate_next_and_chosen_step(make_app, duty):
    _ctx, refs = duty
    app = make_app(actor=LEADER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["fire"])
        await pilot.press("e", "enter")
        await settle(pilot)
        assert Report.get(Report.ref == refs["fire"]).step == 1
        await pilot.press("E")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press("down", "enter")  # default is the next step; one more down
        await settle(pilot)
        report = Report.get(Report.ref == refs["fire"])
        assert report.step == 3 and report.step_name == "秘书长"
        assert [e[0] for e in events_of(refs["fire"])][-2:] == ["escalate", "escalate"]


async def test_assign_work_order_with_filter(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await select(pilot, refs["w2"])
        await pilot.press("d")
        await settle(pilot)
        await pilot.press(*"燃气", "enter")
        await settle(pilot)
        order = WorkOrder.get(WorkOrder.ref == refs["w2"])
        assert order.status == "assigned" and order.department.code == "RQJT"
        assert events_of(refs["w2"])[-1][0] == "assign"


async def test_required_reason_is_asked_for(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await select(pilot, refs["w1"])
        await pilot.press("x", "enter")  # extend with no reason
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        assert "required" in str(app.screen.query_one("#error").render())
        await pilot.press(*"parts ordered", "enter")
        await settle(pilot)
        order = WorkOrder.get(WorkOrder.ref == refs["w1"])
        assert order.status == "extended" and order.extensions == 1
        await pilot.press("r", *"not ours", "enter")
        await settle(pilot)
        assert WorkOrder.get(WorkOrder.ref == refs["w1"]).status == "returned"
        assert [e[0] for e in events_of(refs["w1"])][-2:] == ["extend", "return"]


async def test_urge_note_reply_visit_close_reopen(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await select(pilot, refs["w1"])
        await pilot.press("u", "enter")
        await settle(pilot)
        await pilot.press("n", *"called the unit", "enter")
        await settle(pilot)
        await pilot.press("R", *"fixed the valve", "enter")
        await settle(pilot)
        await select(pilot, refs["w1"])
        await pilot.press("v", "enter")  # satisfaction: 5 is first
        await settle(pilot)
        await select(pilot, refs["w1"])
        await pilot.press("c", "enter")
        await settle(pilot)
        order = WorkOrder.get(WorkOrder.ref == refs["w1"])
        assert order.status == "closed" and order.satisfaction == 5
        await pilot.press("z", "z")  # scope: closed → all
        await settle(pilot)
        await select(pilot, refs["w1"])
        await pilot.press("o", *"caller rang again", "enter")
        await settle(pilot)
        assert WorkOrder.get(WorkOrder.ref == refs["w1"]).status == "in_progress"
        assert [e[0] for e in events_of(refs["w1"])][-6:] == [
            "urge", "note", "reply", "visit", "close", "reopen"]


async def test_follow_up_form_level_and_close_report(make_app, duty):
    _ctx, refs = duty
    app = make_app(actor=LEADER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["heat"])
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)  # nothing saved: the text is required
        await pilot.press(*"crews on site", "tab", "1", "ctrl+s")
        await settle(pilot)
        report = Report.get(Report.ref == refs["heat"])
        assert report.followups == 1 and report.dead == 1
        await select(pilot, refs["heat"])
        await pilot.press("L")
        await settle(pilot)
        await pilot.press("up", "enter")  # 待核 → Ⅳ
        await settle(pilot)
        assert Report.get(Report.ref == refs["heat"]).level == "IV"
        await select(pilot, refs["heat"])
        await pilot.press("i", *"restore heat by 18:00", "enter")
        await settle(pilot)
        await select(pilot, refs["heat"])
        await pilot.press("c", "enter")  # a final report is required
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press(*"heat restored", "enter")
        await settle(pilot)
        assert Report.get(Report.ref == refs["heat"]).status == "closed"
        assert [e[0] for e in events_of(refs["heat"])][-4:] == [
            "follow_up", "change_level", "instruct", "close"]


async def test_stale_version_is_reported_and_refreshed(make_app, duty):
    ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["fire"])
        shown = app.screen.pane().item_list.selected.version
        actions.acknowledge(ctx, OFFICER2, refs["fire"])  # another console, in between
        await pilot.press("e", "enter")
        await settle(pilot)
        assert f"{refs['fire']} was acknowledged by 王芳 at 10:00 — refreshed" in messages(app)
        assert Report.get(Report.ref == refs["fire"]).step == 0  # nothing applied
        assert app.screen.pane().item_list.selected.version == shown + 1  # refreshed


async def test_illegal_transition_is_a_message(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await select(pilot, refs["w2"])
        await pilot.press("c")  # a received order cannot be closed
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt)
        assert any("cannot close while received" in m for m in messages(app))
        await pilot.press("f")  # follow-up is for reports
        await settle(pilot)
        assert any("not for a work order" in m for m in messages(app))


async def test_leader_only_instruction(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt)
        assert any("may not record an instruction" in m for m in messages(app))


async def test_viewer_is_read_only(make_app, duty):
    _ctx, refs = duty
    app = make_app(actor=VIEWER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("a", "e", "d", "N"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.id == "main"
        assert messages(app).count("read-only view: 大屏 may not act") == 4
        assert events_of(refs["gas"])[-1][0] != "acknowledge"


async def test_readonly_flag_blocks_officer(make_app, duty):
    app = make_app(readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert "read-only view: 李明 may not act" in messages(app)


async def test_detail_plan_activation_checklist_and_end(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["gas"])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("p")
        await settle(pilot)
        assert app.screen.query_one("#choices").get_option_at_index(0).id == "ZX-RQ-01"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # level: the report's own, Ⅱ
        await settle(pilot)
        act = PlanActivation.get()
        assert act.level == "II"
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        await pilot.press("enter", "down", "space")
        await settle(pilot)
        await pilot.press("up", "enter")  # untick the first again
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        done = [m.idx for m in ActivationMeasure.select().where(ActivationMeasure.done_at
                                                                .is_null(False))]
        assert done == [1]
        text = plain(app.screen.query_one("#detail-content"))
        assert "[x] 2." in text and "Timeline" in text
        await pilot.press("P", "y")
        await settle(pilot)
        assert PlanActivation.get().deactivated_at is not None
        assert [e[0] for e in events_of(refs["gas"])][-5:] == [
            "activate_plan", "tick_measure", "tick_measure", "untick_measure", "deactivate_plan"]


async def test_register_supervision_from_item(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["fire"])
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        item = SupervisionItem.get(SupervisionItem.source_ref == refs["fire"])
        assert item.title == "香坊区仓库火灾" and item.klass == "normal"
        await pilot.press("3")
        await settle(pilot)
        await select(pilot, item.ref)
        await pilot.press("c", *"整改完成", "enter")  # 销号 with its result
        await settle(pilot)
        assert SupervisionItem.get_by_id(item.id).status == "closed"
