"""A queue on a large work_order table opens and moves by fetching a page or two; PageDown
and the cursor keys paint from pages fetched ahead by keyset and from lines drawn once;
a search counts through the index, capped, and never shows the previous count (issue 14).
Work done — rows fetched, queries, lines drawn, frames composited — never time."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from console import queries, rules, search
from console.models import WorkOrder, database
from tests.conftest import OFFICER
from tests.ui.conftest import plain, settle

N = 1_000_000
COLUMNS = ("ref", "status", "owner", "created_at", "updated_at", "closed_at", "chain", "step",
           "next_escalation_at", "deadline_at", "rank", "sort_key", "version", "received_at",
           "channel", "caller", "phone", "address", "type", "category", "content", "urgency",
           "assisting", "extensions", "reply")
URGENCY = ("normal", "normal", "normal", "urgent", "very_urgent")


# 1M plausible orders, 90 % closed, generated inside SQLite (a recursive CTE: a Python
# generator took most of the suite's time); rank/sort_key are rules.queue_position's,
# in integer seconds from the start's epoch (the test below checks one row against it)
_GENERATE = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last),
r AS (SELECT i, (i + 1) * 30 AS s, i % 10 != 0 AS closed, 2 + i % 9 AS due,
             CASE i % 5 WHEN 3 THEN 1 WHEN 4 THEN 2 ELSE 0 END AS u FROM n)
SELECT printf('12345-B%08d', i), CASE WHEN closed THEN 'closed' ELSE 'in_progress' END, 'liming',
       datetime(:start, '+' || s || ' seconds'), datetime(:start, '+' || s || ' seconds'),
       CASE WHEN closed THEN datetime(:start, '+' || (s + 259200) || ' seconds') END,
       CASE u WHEN 0 THEN :chain0 WHEN 1 THEN :chain1 ELSE :chain2 END, 0, NULL,
       CASE WHEN closed THEN NULL ELSE datetime(:start, '+' || (s + due * 86400) || ' seconds')
       END,
       CASE u WHEN 0 THEN :sev0 WHEN 1 THEN :sev1 ELSE :sev2 END + CASE WHEN closed THEN 10
       ELSE 0 END,
       CASE WHEN closed THEN -(:base + s + 259200) ELSE :base + s + due * 86400 END,
       1, datetime(:start, '+' || s || ' seconds'), 'phone', '市民' || (i % 997),
       '138' || printf('%08d', i), '道里区' || (i % 300) || '号', 'complaint', '供热',
       '第' || i || '号诉求：暖气不热', CASE u WHEN 0 THEN 'normal' WHEN 1 THEN 'urgent'
       ELSE 'very_urgent' END, '[]', 0, ''
FROM r
"""


def _params(start: dt.datetime, chains: dict[str, str], n: int = N) -> dict:
    levels = ("normal", "urgent", "very_urgent")
    params = {"last": n - 1, "start": str(start), "base": rules.epoch(start)}
    for k, urgency in enumerate(levels):
        params[f"chain{k}"] = chains[urgency]
        params[f"sev{k}"] = rules.severity_of("work_order", urgency)
    return params


def _bulk_insert(params: dict) -> None:
    """Indexes dropped during the load and rebuilt after (a sort beats 1M b-tree inserts)."""
    indexes = database.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND "
        "tbl_name = 'work_order' AND sql IS NOT NULL").fetchall()
    database.execute_sql("PRAGMA cache_size = -262144")
    database.execute_sql("PRAGMA synchronous = OFF")  # test data: no fsync per page
    with database.atomic():
        for name, create in indexes:  # the search index's triggers too: one rebuild after
            kind = "TRIGGER" if create.upper().startswith("CREATE TRIGGER") else "INDEX"
            database.execute_sql(f'DROP {kind} "{name}"')
        database.execute_sql(f"INSERT INTO work_order ({', '.join(COLUMNS)}) {_GENERATE}",
                             params)
        for _name, create in indexes:
            database.execute_sql(create)
        database.execute_sql("INSERT INTO work_order_fts(work_order_fts) VALUES ('rebuild')")
    database.execute_sql("PRAGMA synchronous = FULL")


def _as_rules_place_it(order: WorkOrder) -> None:
    """A generated row sorts where rules.queue_position puts it."""
    severity = rules.severity_of("work_order", order.urgency)
    assert (order.rank, order.sort_key) == rules.queue_position(
        severity, closed_at=order.closed_at, deadline_at=order.deadline_at,
        created_at=order.created_at)


@pytest.mark.slow
async def test_million_rows_fetch_only_what_is_shown(make_app, duty):
    ctx, _refs = duty
    chains = _chains(ctx)
    started = time.perf_counter()
    _bulk_insert(_params(dt.datetime(2023, 1, 1), chains))
    built = time.perf_counter() - started
    assert WorkOrder.select().count() == N + 3
    for ref in ("12345-B00000000", "12345-B00000001", "12345-B00000004", "12345-B00999999"):
        _as_rules_place_it(WorkOrder.get(WorkOrder.ref == ref))
    print(f"built {N:,} rows in {built:.1f}s")

    app = make_app(actor=OFFICER)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        item_list = app.screen.pane().item_list
        assert item_list.total == N // 10 + 3  # the open ones
        fetched_at_open = item_list.rows_fetched
        for key in ("down", "down", "pagedown", "pagedown", "end", "pageup", "home"):
            await pilot.press(key)
            await settle(pilot)
        assert item_list.cursor == 0
        assert item_list.selected is not None
        await pilot.press("end")
        await settle(pilot)
        last = item_list.selected
        assert last is not None and item_list.cursor == item_list.total - 1
        # everything shown came from a handful of pages, never the table
        assert item_list.rows_fetched < 1000, item_list.rows_fetched
        assert item_list.queries_issued < 30, item_list.queries_issued
        assert fetched_at_open <= 100
        # the closed scope holds 900,000 rows: same cost
        await pilot.press("z")
        await settle(pilot)
        assert item_list.total == N - N // 10 + 0
        before = item_list.rows_fetched
        await pilot.press("end")
        await settle(pilot)
        assert item_list.rows_fetched - before <= 100
        # a search through the index: "counting…" at once, then a capped count (the line
        # is recorded as drawn: on a fast machine the count can land before a look)
        pane = app.screen.pane()
        shown: list[str] = []
        describe = pane.describe

        def recorded() -> None:
            describe()
            shown.append(plain(pane.query_one(".filter-line"), 300))

        pane.describe = recorded
        await pilot.press("z", "z", "slash", *"暖气不热")
        await settle(pilot)
        final = [x for x in shown if "search “暖气不热”" in x]
        assert final and "counting" in final[0], shown
        assert item_list.total == search.CAP + 1 and item_list.capped
        assert f"{search.CAP}+ items" in plain(app.screen.pane().query_one(".filter-line"))
        assert item_list.selected is not None


def _chains(ctx) -> dict[str, str]:
    return {u: json.dumps(rules.chain_snapshot(ctx.settings, "work_order", u),
                          ensure_ascii=False, sort_keys=True) for u in URGENCY}


class Frames:
    """Counts the frames the app composites (App._display), as bench/ui_child.py does."""

    def __init__(self, app) -> None:
        self.n = 0
        original = app._display

        def display(screen, renderable) -> None:
            original(screen, renderable)
            if renderable is not None:
                self.n += 1

        app._display = display


async def _work_orders_queue(make_app, duty, n: int):
    ctx, _refs = duty
    _bulk_insert(_params(dt.datetime(2026, 11, 1), _chains(ctx), n))
    app = make_app(actor=OFFICER)
    return app


async def test_pagedown_paints_from_pages_fetched_ahead_by_keyset(make_app, duty, monkeypatch):
    app = await _work_orders_queue(make_app, duty, 5000)
    offsets = []
    window = queries.window

    def counted_window(f, offset, limit, **kw):
        offsets.append(offset)
        return window(f, offset, limit, **kw)

    monkeypatch.setattr(queries, "window", counted_window)
    app.tick = lambda: None  # the once-a-second repaint (countdowns) is no key's frame
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot, 3)
        lst = app.screen.pane().item_list
        height = lst.size.height
        assert lst.total == 503 and height > 20
        frames = Frames(app)
        offsets.clear()
        fetched, drawn, per_key = lst.rows_fetched, lst.lines_drawn, []
        for _ in range(8):
            before = frames.n
            await pilot.press("pagedown")
            await settle(pilot, 3)
            per_key.append(frames.n - before)
        # the pages came by keyset seeks (queries.after), never by OFFSET
        assert [o for o in offsets if o > 0] == []
        # only the rows that came into reach: 8 screens plus the one ahead, in pages
        assert lst.rows_fetched - fetched <= (8 + 2) * height + 2 * 50, lst.rows_fetched
        # each PageDown: one frame from rows already held (no "…" frame, then the rows)
        assert max(per_key) == 1, per_key
        assert lst.lines_drawn - drawn <= 8 * height + 8, lst.lines_drawn - drawn
        # a cursor move inside the screen redraws two lines: the old and the new cursor row
        drawn = lst.lines_drawn
        await pilot.press("down")
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert lst.lines_drawn - drawn <= 4, lst.lines_drawn - drawn


async def test_search_count_is_capped_and_never_stale(make_app, duty, monkeypatch):
    app = await _work_orders_queue(make_app, duty, 3000)
    monkeypatch.setattr(search, "CAP", 99)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot, 3)
        pane = app.screen.pane()
        lst = pane.item_list
        assert "303 items" in plain(pane.query_one(".filter-line"))
        await pilot.press("z", "z")  # every scope: 3,003 rows
        await settle(pilot, 3)
        shown: list[str] = []
        describe = pane.describe

        def recorded() -> None:
            describe()
            shown.append(plain(pane.query_one(".filter-line"), 300).split("   /")[0])

        pane.describe = recorded
        await pilot.press("slash", *"暖气不")
        await settle(pilot, 3)
        # each keystroke's line says "counting…" until its own count is in: never the
        # previous question's number (3,003 items, or the count of "暖气")
        for typed in ("暖", "暖气", "暖气不"):
            lines = [x for x in shown if x.endswith(f"search “{typed}”")]
            assert lines and lines[0].startswith("counting"), shown
        assert shown[-1].startswith("99+ items"), shown
        assert lst.total == 100 and lst.capped
        await pilot.press("enter", "end")  # a capped list is read forwards: the 100th match
        await settle(pilot, 3)
        assert lst.cursor == 99 and lst.selected is not None
        assert "暖气不热" in lst.selected.title
        await pilot.press("slash", "end", "backspace")  # two characters: the queue's first rows only
        await settle(pilot, 3)
        assert not lst.partial  # 3,003 rows: within SHORT_SCAN
        monkeypatch.setattr(search, "SHORT_SCAN", 1000)
        await pilot.press("不")
        await settle(pilot, 3)
        await pilot.press("backspace")
        await settle(pilot, 3)
        assert lst.partial, (lst.filter, lst.counted, app.focused)
        assert "type 3 characters" in plain(pane.query_one(".filter-line"), 300)
