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
        assert app.header_state.counters["report"].unacked == 3
        assert app.header_state.team.leader == LEADER.name


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


async def test_extend_chooses_its_length(make_app, duty):
    """Found: 延期 could not choose its length.  The prompt lists 1 day up to the rule's
    grant, each with its new due (the grant highlighted), and asks the reason."""
    ctx, refs = duty
    before = WorkOrder.get(WorkOrder.ref == refs["w1"]).deadline_at
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await select(pilot, refs["w1"])
        await pilot.press("x")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)
        options = prompt.query_one("#choices")
        grant = ctx.settings.wo_type_days["complaint"]
        assert options.option_count == grant
        assert options.get_option_at_index(options.highlighted).id == f"+{grant}"
        assert "1 working day — due" in str(options.get_option_at_index(0).prompt)
        assert "2 working days — due" in str(options.get_option_at_index(1).prompt)
        await pilot.press("home", "enter", *"等待配件", "enter")
        await settle(pilot)
    order = WorkOrder.get(WorkOrder.ref == refs["w1"])
    assert order.deadline_at == ctx.settings.calendar.add_working_days(before, 1)
    assert events_of(refs["w1"])[-1][0] == "extend"


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
        await pilot.press("i")  # the leader's own instruction: the form names them
        await settle(pilot)
        app.screen.query_one("#f-text").value = "restore heat by 18:00"
        await pilot.press("ctrl+s")
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


async def test_officer_records_an_instruction(make_app, duty):
    """i opens the instruction form for an officer (no longer "may not record")."""
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert not any("may not record an instruction" in m for m in messages(app))


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
        # Found: 挂号 from an item had no 承办单位 (the unit came only later, by assign)
        app.screen.query_one("#f-department").value = "ZJJ"
        await pilot.press("ctrl+s")
        await settle(pilot)
        item = SupervisionItem.get(SupervisionItem.source_ref == refs["fire"])
        assert item.title == "香坊区仓库火灾" and item.klass == "normal"
        assert item.department.code == "ZJJ"
        await pilot.press("3")
        await settle(pilot)
        await select(pilot, item.ref)
        await pilot.press("c", *"整改完成", "enter")  # 销号 with its result
        await settle(pilot)
        assert SupervisionItem.get_by_id(item.id).status == "closed"


# --------------------------------------------------------------------------- the verb table in the UI


FLAG_ROW = ('Verb("flag", "note", "text", key="g", command="flag", help="ui.verb.note", '
            'legal=dict.fromkeys(verbs.KINDS, "*open"), footer=True)')


def test_a_registered_verb_is_bound_on_both_item_screens():
    """Rows are read when the screens are defined: a row added before is bound on both."""
    import subprocess
    import sys

    script = ("from console import verbs\nfrom console.verbs import Verb\n"
              f"verbs.register({FLAG_ROW})\n"
              "from screens.queues import MainScreen\nfrom screens.detail import DetailScreen\n"
              "for cls in (MainScreen, DetailScreen):\n"
              "    print(cls.__name__, [(b.key, b.action, b.show) for b in cls.BINDINGS\n"
              "                         if b.id == 'item.flag'])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "MainScreen [('g', \"item('flag')\", True)]" in out
    assert "DetailScreen [('g', \"item('flag')\", True)]" in out


async def test_a_registered_verb_is_in_help_palette_and_flow(make_app, duty):
    from console import verbs
    from screens.app import DutyCommands
    from screens.help import help_renderable

    _ctx, refs = duty
    flag = verbs.register(eval(FLAG_ROW, {"Verb": verbs.Verb, "verbs": verbs}))
    try:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await select(pilot, refs["fire"])
            names = [name for name, _h, _c in DutyCommands(app.screen)._commands()]
            assert "Add a note  · g" in names
            text = plain_group(help_renderable(app))
            assert ":flag REF TEXT" in text and "g " in text
            app.screen.start_flow(flag.name, app.screen.current_target())  # as its key does
            await settle(pilot)
            assert isinstance(app.screen, ActionPrompt)
            await pilot.press(*"watch it", "enter")
            await settle(pilot)
            assert events_of(refs["fire"])[-1] == ("note", "liming", "watch it")
    finally:
        verbs.unregister("flag")


def plain_group(renderable) -> str:
    import io

    from rich.console import Console

    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_site_keymap_rebinds_an_item_key(make_app, duty):
    import dataclasses

    from screens.help import help_renderable

    ctx, refs = duty
    ctx.settings = dataclasses.replace(ctx.settings, keys={"item.acknowledge": "ctrl+a"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["fire"])
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press("escape")
        await settle(pilot)
        assert "^a" in plain_group(help_renderable(app))


async def test_unknown_binding_id_in_keys_is_a_config_error(make_app, duty):
    import dataclasses

    import pytest

    from console.errors import ConfigError

    ctx, _refs = duty
    ctx.settings = dataclasses.replace(ctx.settings, keys={"queue.serch": "f3"})
    with pytest.raises(ConfigError) as err:
        make_app()
    assert err.value.path == "keys.queue.serch"


async def test_footer_is_translated_and_viewer_footer_has_no_action_keys(make_app, duty):
    app = make_app(language="zh-CN")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = {ab.binding.description for ab in app.screen.active_bindings.values()
                 if ab.binding.show}
        assert "确认" in shown and "ui.verb.acknowledge" not in shown
        palette = app.screen.active_bindings["ctrl+p"].binding.description
        assert palette == "命令面板"
    viewer = make_app(actor=VIEWER)
    async with viewer.run_test(size=SIZE) as pilot:
        await settle(pilot)
        actions_shown = [ab.binding.action for ab in viewer.screen.active_bindings.values()
                         if ab.binding.show and ab.binding.action.startswith("item(")]
        assert actions_shown == []


async def test_escalate_prompt_names_the_next_step(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["fire"])
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        assert "escalates to step 2: 带班领导" in app.screen.subtitle


async def test_assign_note_typed_after_tab_from_the_filter_is_saved(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await select(pilot, refs["w2"])
        await pilot.press("d")
        await settle(pilot)
        await pilot.press(*"燃气", "tab", *"call back today", "enter")
        await settle(pilot)
        assert WorkOrder.get(WorkOrder.ref == refs["w2"]).department.code == "RQJT"
        assert events_of(refs["w2"])[-1] == ("assign", "liming", "call back today")


async def test_typed_note_survives_a_lost_conflict(make_app, duty):
    from screens.forms import ConfirmScreen

    ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["fire"])
        actions.acknowledge(ctx, OFFICER2, refs["fire"])  # another console, in between
        await pilot.press("n", *"pump truck on site", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "acknowledged by 王芳" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert events_of(refs["fire"])[-1] == ("note", "liming", "pump truck on site")


async def test_palette_strings_follow_the_language(make_app, duty):
    from textual.command import CommandInput, CommandPalette

    from screens.app import DutyCommands

    app = make_app(language="zh-CN")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        provider = DutyCommands(app.screen)
        hits = [h async for h in provider.search("退出")]
        assert hits and hits[0].command == app.action_quit
        misses = [h async for h in provider.search("zzqqxx")]
        assert [str(h.match_display) for h in misses] == ["没有匹配的命令"]
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        assert app.screen.query_one(CommandInput).placeholder == "搜索命令…"


async def test_follow_up_form_keeps_its_text_through_a_lost_conflict(make_app, duty):
    ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, refs["heat"])
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        actions.acknowledge(ctx, OFFICER2, refs["heat"])  # another console, in between
        await pilot.press(*"crews on site", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)  # not saved, nothing typed lost
        assert Report.get(Report.ref == refs["heat"]).followups == 0
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Report.get(Report.ref == refs["heat"]).followups == 1
        assert events_of(refs["heat"])[-1][:2] == ("follow_up", "liming")
