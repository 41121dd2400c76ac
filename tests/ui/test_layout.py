"""Layout as a person sees it (issue 10 §11), checked on the rendered screen, not widget state.

Found: with a scrollbar the last column lost two characters (``-17d02`` for ``-17d02h``);
urgency was cut to ``very …``; at 80 columns the operator's name was hidden and in English
the counters line disappeared; timeline rows were cut with ``…``; "1 supervision items";
the 12345 queue's footer offered 续报 and 预案措施清单.
"""

from __future__ import annotations

import datetime as dt
import html
import re

from console import actions, i18n
from screens import fmt
from tests.conftest import OFFICER, T0
from tests.ui.conftest import select, settle


def screen_lines(app) -> list[str]:
    """The screen as rendered, one string per terminal row (from the SVG screenshot)."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text[^>]*?x="([\d.]+)"[^>]*?y="([\d.]+)"[^>]*>(.*?)</text>', svg,
                         re.S):
        text = html.unescape(re.sub(r"<[^>]+>", "", m.group(3))).replace("\xa0", " ")
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), text))
    return ["".join(t for _x, t in sorted(parts)) for _y, parts in sorted(rows.items())]


def _many_orders(ctx, n: int = 30) -> None:
    for i in range(n):
        actions.create_work_order(ctx, OFFICER, content=f"路灯不亮第{i}处", type="help",
                                  urgency=("very_urgent", "urgent", "normal")[i % 3],
                                  caller="赵先生", address="平房区")


async def test_rows_keep_their_last_column_beside_a_scrollbar(make_app, duty):
    ctx, _refs = duty
    _many_orders(ctx)
    ctx.clock.set(T0 + dt.timedelta(days=20, hours=3))  # every order long overdue: -NNdNNh
    app = make_app(language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        item_list = app.screen.pane().item_list
        assert item_list.total > item_list.size.height  # there is a scrollbar
        lines = screen_lines(app)
        now = ctx.now()
        shown = 0
        for i in range(item_list.size.height):
            row = item_list.row_at(i)
            line = next((ln for ln in lines if row is not None and row.ref in ln), None)
            if line is None:
                continue
            shown += 1
            left = fmt.countdown(row.deadline_at, now)
            assert left in line, (left, line)  # not "-20d02" for "-20d02h"
            if row.severity == "very_urgent":
                assert "very urgent" in line and "very …" not in line
        assert shown >= 10
        # the operator's name is on the first line; the English counters line is there
        assert lines[0].rstrip().endswith(OFFICER.name)
        assert any("1·Reports" in ln and "3·Superv. unack" in ln for ln in lines[:3])
        footer = lines[-1]
        assert "follow-up" not in footer and "checklist" not in footer
        await select(pilot, item_list.row_at(0).ref)
        await pilot.press("enter")
        await settle(pilot)
        footer = screen_lines(app)[-1]
        assert "follow-up" not in footer and "checklist" not in footer


async def test_timeline_rows_are_read_whole_and_plurals(make_app, duty):
    ctx, refs = duty
    gas = actions.find_item(refs["gas"])
    note = "现场" + "燃气管道抢修人员已到达并开始处置" * 8 + "终了标记"
    actions.note(ctx, OFFICER, gas, note, expected_version=gas.version)
    app = make_app(language="zh-CN")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await select(pilot, refs["gas"])
        await pilot.press("enter")
        await settle(pilot)
        body = app.screen.query_one("#detail-body")
        body.scroll_end(animate=False, immediate=True)
        await settle(pilot)
        text = "".join(ln.strip() for ln in screen_lines(app))
        assert "终了标记" in text  # the note's end is on screen: folded, not cut with …
    i18n.set_language("en")
    assert fmt.count("supervision", 1) == "1 supervision item"
    assert fmt.count("items", 2) == "2 items"
    app = make_app(language="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*refs["fire"])
        await settle(pilot)
        assert any("1 item ·" in ln for ln in screen_lines(app))


async def test_the_footer_shows_whole_keys_only_at_every_width(make_app, duty):
    """Found: at 80–100 columns the last key was cut mid-word (`a Acknowled`, `e 升级到下一`)
    and at 100 columns in Chinese the palette key was garbled (`命令  板`)."""
    from textual.widgets._footer import FooterKey

    from screens.widgets.footer import DutyFooter

    for lang in ("zh-CN", "en"):
        i18n.set_language(lang)
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            for width in (80, 90, 100, 123, 160):
                await pilot.resize_terminal(width, 24)
                await settle(pilot)
                footer = app.screen.query_one(DutyFooter)
                keys = [k for k in footer.query(FooterKey) if "-command-palette" not in k.classes]
                palette = footer.query_one(".-command-palette", FooterKey)
                assert keys, (lang, width)
                assert max(k.region.right for k in keys) <= palette.region.x, (lang, width)
                shown = screen_lines(app)[-1]
                for k in keys:  # each shown whole on the screen: key and description
                    assert f"{k.key_display} {k.description}" in shown, (lang, width, shown)
                assert palette.description in shown
            wide = len(keys)
        assert wide > 6  # 160 columns show more than 80 do


async def test_an_idle_second_repaints_only_what_moved(make_app, duty, monkeypatch):
    """Found (idle benchmark): every second the console rewrote every visible row and both
    header lines (50 kB in 5 s on the demo's 80×24) for a clock.  Now a second with nothing
    new repaints the clock's line and the rows whose countdown text moved, nothing else."""
    from screens.widgets.header import DutyHeader
    from screens.widgets.itemlist import ItemList

    ctx, _refs = duty
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        items = app.screen.pane().item_list
        rows: list[int] = []
        regions: list = []
        monkeypatch.setattr(ItemList, "refresh_line", lambda self, y: rows.append(y))
        whole: list = []  # the list repainted whole: every row rewritten
        real_list = ItemList.refresh
        monkeypatch.setattr(ItemList, "refresh", lambda self, *r, **kw: (
            whole.append(r) if not r else None, real_list(self, *r, **kw))[1])
        real = DutyHeader.refresh
        monkeypatch.setattr(DutyHeader, "refresh",
                            lambda self, *r, **kw: (regions.append(r), real(self, *r, **kw)))
        app.tick()  # the clock stands still: nothing moved
        await settle(pilot)
        assert rows == [] and regions == [] and whole == []
        before = [items.row_text(r) for r in items.loaded_rows()]
        ctx.clock.advance(seconds=1)
        moved = [i for i, (r, was) in enumerate(zip(items.loaded_rows(), before, strict=True))
                 if items.row_text(r) != was]  # the mm:ss ones, and one at the hour's edge
        assert moved
        app.tick()
        await settle(pilot)
        assert sorted(rows) == moved  # only those rows (none of the h/m or d/h ones)
        assert whole == []
        assert [r[0].height for r in regions] == [1]  # the clock's line, not the counters
