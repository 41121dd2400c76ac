"""A queue on a 1,000,000-row work_order table opens and moves by fetching a page or two."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from console import rules
from console.models import WorkOrder, database
from tests.conftest import OFFICER
from tests.ui.conftest import settle

N = 1_000_000
COLUMNS = ("ref", "status", "owner", "created_at", "updated_at", "closed_at", "chain", "step",
           "next_escalation_at", "deadline_at", "rank", "sort_key", "version", "received_at",
           "channel", "caller", "phone", "address", "type", "category", "content", "urgency",
           "assisting", "extensions", "reply")
URGENCY = ("normal", "normal", "normal", "urgent", "very_urgent")


def _rows(start: dt.datetime, chains: dict[str, str]):
    """1M plausible orders, 90 % closed; rank/sort_key from rules.queue_position."""
    step, three = dt.timedelta(seconds=30), dt.timedelta(days=3)
    due = [dt.timedelta(days=2 + k) for k in range(9)]
    severity = {u: rules.severity_of("work_order", u) for u in URGENCY}
    received = start
    for i in range(N):
        received += step
        urgency = URGENCY[i % 5]
        closed = received + three if i % 10 else None
        deadline = None if closed else received + due[i % 9]
        rank, key = rules.queue_position(severity[urgency], closed_at=closed,
                                         deadline_at=deadline, created_at=received)
        r = str(received)
        yield (f"12345-B{i:08d}", "closed" if closed else "in_progress", "liming", r, r,
               str(closed) if closed else None, chains[urgency], 0, None,
               str(deadline) if deadline else None, rank, key, 1, r, "phone",
               f"市民{i % 997}", f"138{i:08d}", f"道里区{i % 300}号", "complaint", "供热",
               f"第{i}号诉求：暖气不热", urgency, "[]", 0, "")


def _bulk_insert(rows) -> None:
    """Indexes dropped during the load and rebuilt after (a sort beats 1M b-tree inserts)."""
    indexes = database.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'work_order' "
        "AND sql IS NOT NULL").fetchall()
    sql = (f"INSERT INTO work_order ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
    database.execute_sql("PRAGMA cache_size = -262144")
    database.execute_sql("PRAGMA synchronous = OFF")  # test data: no fsync per page
    with database.atomic():
        for name, _sql in indexes:
            database.execute_sql(f'DROP INDEX "{name}"')
        database.connection().executemany(sql, rows)
        for _name, create in indexes:
            database.execute_sql(create)
    database.execute_sql("PRAGMA synchronous = FULL")


@pytest.mark.slow
async def test_million_rows_fetch_only_what_is_shown(make_app, duty):
    ctx, _refs = duty
    chains = {u: json.dumps(rules.chain_snapshot(ctx.settings, "work_order", u),
                            ensure_ascii=False, sort_keys=True) for u in URGENCY}
    started = time.perf_counter()
    _bulk_insert(_rows(dt.datetime(2023, 1, 1), chains))
    built = time.perf_counter() - started
    assert WorkOrder.select().count() == N + 3
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
