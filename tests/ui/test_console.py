"""Pilot tests: command line, forms, search and filters, alerts, help, palette, tabs."""

from __future__ import annotations

import datetime as dt

from console import actions, i18n
from console.models import Report, WorkOrder
from screens.forms import ConfirmScreen, FormScreen
from screens.help import HelpScreen
from screens.plans import PlanScreen
from tests.conftest import LEADER, OFFICER2
from tests.ui.conftest import events_of, messages, plain, settle

SIZE = (120, 40)


async def command(pilot, line: str) -> None:
    await pilot.press("colon")
    pilot.app.screen.query_one("#commandbar").value = ":" + line
    await pilot.press("enter")
    await settle(pilot)


async def test_command_line_verbs(make_app, duty):
    _ctx, refs = duty
    app = make_app(actor=LEADER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await command(pilot, f"ack {refs['fire']}")
        await command(pilot, f"esc {refs['fire']} 秘书长")
        await command(pilot, f"esc {refs['heat']}")
        await command(pilot, f"assign {refs['w2']} 燃气")
        await command(pilot, f"urge {refs['w2']}")
        await command(pilot, f"extend {refs['w2']} waiting for parts")
        await command(pilot, f"fu {refs['fire']} fire under control")
        await command(pilot, f"note {refs['sv']} leader asked for a daily update")
        await command(pilot, f"level {refs['heat']} III")
        await command(pilot, f"close {refs['sv2']} done and checked")
        await command(pilot, f"reopen {refs['sv2']} not finished after all")
        assert Report.get(Report.ref == refs["fire"]).step_name == "秘书长"
        assert Report.get(Report.ref == refs["heat"]).level == "III"
        order = WorkOrder.get(WorkOrder.ref == refs["w2"])
        assert order.department.code == "RQJT" and order.status == "extended"
        assert [e[0] for e in events_of(refs["fire"])][-3:] == [
            "acknowledge", "escalate", "follow_up"]
        assert [e[0] for e in events_of(refs["sv2"])][-2:] == ["close", "reopen"]
        await command(pilot, f"open {refs['gas']}")
        assert app.screen.__class__.__name__ == "DetailScreen"


async def test_command_line_errors(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await command(pilot, "frobnicate BG-1")
        assert "unknown command frobnicate (see ? for the list)" in messages(app)
        await command(pilot, "ack NOPE-1")
        assert "no item NOPE-1" in messages(app)
        await command(pilot, f"assign {refs['w2']} 局")  # several departments match
        assert any("matches several" in m for m in messages(app))
        await command(pilot, f"close {refs['w2']}")  # illegal from "received"
        assert any("cannot close while received" in m for m in messages(app))


async def test_command_line_tab_completion(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", "e", "s", "tab")
        await settle(pilot)
        bar = app.screen.query_one("#commandbar")
        assert bar.value == ":esc "
        await pilot.press(*"SV-2026-000", "tab")
        await settle(pilot)
        assert bar.value in (f":esc {refs['sv']} ", f":esc {refs['sv2']} ")
        bar.value = f":esc {refs['sv']} 督查室"
        await pilot.press("tab")
        await settle(pilot)
        assert bar.value == f":esc {refs['sv']} 督查室主任"
        await pilot.press("escape")
        assert not bar.has_class("-open")


async def test_report_form_validation_and_save(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#f-received_at").value = "25:99"
        form.query_one("#f-dead").value = "x"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "expected a time" in str(form.query_one("#err-received_at").render())
        assert "place is required" in str(form.query_one("#err-place").render())
        assert "category is required" in str(form.query_one("#err-category").render())
        assert isinstance(app.screen, FormScreen) and events_of("BG-2026-0005") == []
        form.query_one("#f-received_at").value = "09:55"
        form.query_one("#f-dead").value = "1"
        form.query_one("#f-place").value = "道外区北十八道街"
        form.query_one("#f-category").value = "accident"
        form.query_one("#f-subtype").value = "gas_leak"
        form.query_one("#f-level").value = "I"
        form.query_one("#f-title").value = "道外区居民楼燃气爆燃"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.id == "main"
        report = Report.get(Report.ref == "BG-2026-0005")
        assert (report.level, report.dead, report.subtype) == ("I", 1, "gas_leak")
        assert report.received_at == dt.datetime(2026, 11, 27, 1, 55)  # 09:55 local
        assert "BG-2026-0005 created" in messages(app)
        assert app.screen.pane().item_list.total == 4


async def test_form_escape_asks_before_discarding(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("N", "escape")  # nothing typed: closes at once
        await settle(pilot)
        assert app.screen.id == "main"
        await pilot.press("N")
        await settle(pilot)
        app.screen.query_one("#f-place").value = "somewhere"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep typing
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.screen.id == "main"


async def test_work_order_and_supervision_forms(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2", "ctrl+n")
        await settle(pilot)
        form = app.screen
        form.query_one("#f-caller").value = "陈女士"
        form.query_one("#f-address").value = "南岗区西大直街"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "cause / request is required" in str(form.query_one("#err-cause").render()).lower()
        form.query_one("#f-cause").value = "楼道灯坏了"
        form.query_one("#f-course").value = "物业不管"
        form.query_one("#f-department").value = "ZJJ"
        await pilot.press("ctrl+s")
        await settle(pilot)
        order = WorkOrder.get(WorkOrder.caller == "陈女士")
        assert order.status == "assigned" and "物业不管" in order.content
        await pilot.press("3", "N")
        await settle(pilot)
        app.screen.query_one("#f-title").value = "楼道照明专项整治"
        app.screen.query_one("#f-klass").value = "complex"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.pane().item_list.total == 3
        assert "SV-2026-0003 created" in messages(app)


async def test_search_filters_and_scope(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        item_list = app.screen.pane().item_list
        await pilot.press("slash", *"香坊")
        await settle(pilot)
        assert item_list.total == 1 and item_list.selected.ref == refs["fire"]
        await pilot.press("escape")
        await settle(pilot)
        assert item_list.total == 3
        await pilot.press("z")  # closed
        await settle(pilot)
        assert item_list.total == 1 and item_list.selected.ref == refs["old"]
        await pilot.press("z", "m")  # all, mine
        await settle(pilot)
        assert item_list.total == 3  # liming took in gas, heat and the closed one
        await pilot.press("m", "F")
        await settle(pilot)
        app.screen.query_one("#flt-severity").value = "III"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert item_list.total == 1 and item_list.selected.ref == refs["fire"]
        await pilot.press("F", "ctrl+r")
        await settle(pilot)
        assert item_list.total == 3
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert item_list.total == 0


async def test_filter_by_category_and_days_received(make_app, duty):
    """Found (issue 10 §12): the filter screen had no category and no date range."""
    from screens.filters import FilterScreen

    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        item_list = app.screen.pane().item_list
        assert item_list.total == 3
        await pilot.press("F")
        await settle(pilot)
        dialog = app.screen
        dialog.query_one("#flt-scope").value = "all"
        dialog.query_one("#flt-category").value = "natural"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert item_list.total == 1 and item_list.selected.ref == refs["old"]
        assert "natural disaster" in plain(app.screen.pane().query_one(".filter-line"), 200)

        await pilot.press("F", "ctrl+r", "F")  # reset, then the days received
        await settle(pilot)
        dialog = app.screen
        dialog.query_one("#flt-since").value = "11/27"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FilterScreen)  # a bad date: said, nothing applied
        assert "expected a date YYYY-MM-DD" in str(dialog.query_one("#flt-error").render())
        dialog.query_one("#flt-since").value = "2026-11-28"
        dialog.query_one("#flt-until").value = "2026-11-30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert item_list.total == 0  # all came in on 11-27 (local)
        line = plain(app.screen.pane().query_one(".filter-line"), 200)
        assert "received 2026-11-28 – 2026-11-30" in line
        await pilot.press("F")
        await settle(pilot)
        assert app.screen.query_one("#flt-since").value == "2026-11-28"  # shown as typed
        app.screen.query_one("#flt-since").value = "2026-11-27"
        app.screen.query_one("#flt-until").value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert item_list.total == 3


async def test_alerts_banner_bell_and_ack(make_app, duty):
    ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.poll_changes()  # the feed learns where the log ends
        await settle(pilot)
        from console.context import Context

        other = Context(ctx.settings, ctx.clock, "other:console")
        major = actions.create_report(other, OFFICER2, title="松花江冰面塌陷", category="natural",
                                      level="I")
        ctx.clock.advance(minutes=40)  # the gas report misses its deadline; others their ack
        app.sweep_now()
        await settle(pilot)
        await settle(pilot)
        banner = app.screen.query_one("AlertBanner")
        assert banner.has_class("-active")
        texts = [a.message for a in app.alerts]
        assert any(major.ref in m and "NEW" in m for m in texts)
        assert any(refs["gas"] in m and "overdue" in m for m in texts)
        assert any("not acknowledged in time" in m for m in texts)
        assert app.alert_ids["report"]
        await pilot.press("A")  # the alert list; a acknowledges every item listed
        await settle(pilot)
        for key in ("a", "enter", "y"):
            await pilot.press(key)
            await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not app.alerts and not banner.has_class("-active")


async def test_tabs_help_plans_and_palette(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, kind in (("2", "work_order"), ("3", "supervision"), ("1", "report")):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.active_kind == kind
            assert app.focused is app.screen.pane().item_list
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "4")
        await settle(pilot)
        await pilot.press("slash", *"燃气", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        text = plain(app.screen.query_one("#plan-full"))
        assert "ZX-RQ-01" in text and "徐立军" in text
        await pilot.press("escape", "1", "ctrl+p")
        await settle(pilot)
        await pilot.press(*"Acknowledge")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ActionPrompt"


async def test_detail_in_chinese(make_app, duty):
    _ctx, refs = duty
    app = make_app(language="zh-CN")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = plain(app.screen.query_one("#detail-content"))
        assert "处理记录" in text and "登记" in text and "首报" in text
        i18n.set_language("en")


async def test_enter_reads_the_detail_in_one_database_call(make_app, duty, monkeypatch):
    """Work done per Enter (issue 14): the item, the names of its events and its merge
    block are read by one worker on one connection; they were three workers one after
    the other, three connections on PostgreSQL (3.8 ms each, measured)."""
    import screens.dbwork as dbwork

    calls: list[str] = []
    real = dbwork.in_db

    def counting(fn, *args, **kwargs):
        calls.append(getattr(fn, "__name__", str(fn)))
        return real(fn, *args, **kwargs)

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        monkeypatch.setattr(dbwork, "in_db", counting)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DetailScreen"
        assert plain(app.screen.query_one("#detail-content")).strip()  # the item is shown
        assert calls == ["_read_detail"], calls
