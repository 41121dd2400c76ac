"""Pilot: the statistics screen (issue 12) — figures, choosers and charts, read in workers."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Select, Sparkline

from screens.figures import FiguresScreen, MonthBars
from screens.widgets.footer import DutyFooter
from tests.ui.conftest import plain, settle

SIZE = (120, 40)


def _rows(screen) -> list[list[str]]:
    table = screen.query_one("#figures-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_figures_screen_groups_charts_and_choosers(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(FiguresScreen(period="this_month", by="department"))
        await settle(pilot, 3)
        screen = app.screen
        assert isinstance(screen, FiguresScreen)
        rows = _rows(screen)
        # three orders this month: one to 市供热办, two not yet assigned
        assert rows[0][:3] == ["total", "3", "0"]
        assert {r[0]: r[1] for r in rows[1:]} == {"市供热办": "1", "(no unit assigned)": "2"}
        assert "work order figures, 2026-11-01 to 2026-11-30" in plain(
            screen.query_one("#figures-status"))
        days = screen.query_one("#figures-days", Sparkline).data
        assert len(days) == 30 and days[26] == 3  # all on 27 November
        assert screen.query_one("#figures-months", MonthBars).series[-1] == ("2026-11", 3)

        screen.query_one("#figures-kind", Select).value = "report"
        await settle(pilot, 3)
        head = [str(c.label) for c in screen.query_one("#figures-table", DataTable)
                .columns.values()]
        assert "reported up" in head
        rows = _rows(screen)
        assert rows[0][:3] == ["total", "4", "1"] and len(rows) == 1  # no department for reports
        screen.query_one("#figures-by", Select).value = "level"
        await settle(pilot, 3)
        assert {r[0]: r[1] for r in _rows(screen)[1:]} == {
            "II Serious": "1", "III Major": "1", "IV General": "1", "To be verified": "1"}

        screen.query_one("#figures-period", Select).value = "custom"
        await settle(pilot)
        assert screen.query_one("#figures-from", Input).display
        screen.query_one("#figures-from", Input).value = "2026-11-30"
        screen.query_one("#figures-to", Input).value = "2026-11-01"
        screen.action_reload()
        await settle(pilot)
        assert "custom period" in plain(screen.query_one("#figures-status"))
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, FiguresScreen)


async def test_figures_screen_in_chinese(make_app):
    app = make_app(language="zh-CN")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(FiguresScreen(kind="supervision", by="class"))
        await settle(pilot, 3)
        screen = app.screen
        assert "统计" in plain(screen.query_one("#figures-title"))
        rows = _rows(screen)
        assert rows[0][:2] == ["合计", "2"] and len(rows) == 3  # urgent and normal
        assert "督办件统计" in plain(screen.query_one("#figures-status"))


async def test_figures_screen_speaks_chinese_under_its_chart_and_shows_its_keys(make_app):
    """The per-day chart's range says 最多, not an English "max"; the footer shows esc 返回."""
    app = make_app(language="zh-CN")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(FiguresScreen(period="this_month", by="department"))
        await settle(pilot, 3)
        screen = app.screen
        span = plain(screen.query_one("#figures-days-range"))
        assert "2026-11-01 … 2026-11-30" in span and "最多 3 件" in span and "max" not in span
        footer = screen.query_one(DutyFooter)
        assert footer.display and footer.region.height == 1 and footer.region.y == 23


async def test_figures_screen_shows_the_unit_desks_rates_in_chinese(make_app):
    """Issue 11's done-when: the figures show 按时签收率 and 发回重办率, per unit."""
    app = make_app(language="zh-CN")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(FiguresScreen(period="this_month", by="department"))
        await settle(pilot, 3)
        table = app.screen.query_one("#figures-table", DataTable)
        head = [str(c.label) for c in table.columns.values()]
        assert "按时签收率" in head and "发回重办率" in head
        rows = _rows(app.screen)
        assert all(len(r) == len(head) for r in rows)
