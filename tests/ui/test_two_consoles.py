"""Two consoles on one database: what one does, the other sees through the change feed."""

from __future__ import annotations

import asyncio
import dataclasses

from console import i18n
from screens.app import DutyApp
from tests.conftest import OFFICER, OFFICER2
from tests.ui.conftest import select, settle


async def _until(pilot, predicate, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        await pilot.pause()
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_one_console_sees_the_others_escalation(duty, tmp_path):
    ctx, refs = duty
    i18n.set_language("en")
    url = f"sqlite:///{tmp_path / 'duty.db'}"
    ctx_a = dataclasses.replace(ctx, console="host:pts/1", db_url=url)
    ctx_b = dataclasses.replace(ctx, console="host:pts/2", db_url=url)
    a = DutyApp(ctx_a, OFFICER, live=True)
    b = DutyApp(ctx_b, OFFICER2, live=True)
    async with a.run_test(size=(120, 36)) as pa, b.run_test(size=(120, 36)) as pb:
        await settle(pa)
        await settle(pb)
        assert await _until(pa, lambda: a.last_event_id is not None)
        await select(pb, refs["fire"])
        await pb.press("e")  # B escalates the fire report to the next step…
        await settle(pb)
        await pb.press("enter")  # …confirming with one keystroke
        await settle(pb)

        def a_shows_it() -> bool:
            row = a.screen.pane().item_list.find_loaded(refs["fire"])
            return row is not None and row.step == 1 and a.is_flashing("report", row.id)

        assert await _until(pa, a_shows_it), "console A did not see B's escalation"
        assert a.screen.query_one("DutyHeader").unreachable == ""


async def test_header_says_when_the_database_cannot_be_reached(duty, tmp_path):
    ctx, _refs = duty
    i18n.set_language("en")
    gone = dataclasses.replace(ctx, db_url=f"sqlite:///{tmp_path / 'moved-away.db'}")
    app = DutyApp(gone, OFFICER, live=True, readonly=True)
    async with app.run_test(size=(120, 36)) as pilot:
        header = app.screen.query_one("DutyHeader")
        assert await _until(pilot, lambda: header.unreachable != "")
        assert "unreachable" in str(header.render())


async def test_two_consoles_on_postgresql_see_each_other(ctx, tmp_path):
    """The same, over LISTEN/NOTIFY: consoles on several hosts share one PostgreSQL."""
    import pytest

    from console import db as dbmod
    from tests.conftest import drop_pg_schema, make_pg_schema, pg_available
    from tests.ui.conftest import build_small

    reason = pg_available()
    if reason:
        pytest.skip(reason)
    schema, url = make_pg_schema()
    database = dbmod.open_database(url)
    try:
        dbmod.migrate(database)
        refs = build_small(ctx)
        i18n.set_language("en")
        a = DutyApp(dataclasses.replace(ctx, console="host-a:pts/1", db_url=url), OFFICER)
        b = DutyApp(dataclasses.replace(ctx, console="host-b:pts/1", db_url=url), OFFICER2)
        async with a.run_test(size=(120, 36)) as pa, b.run_test(size=(120, 36)) as pb:
            await settle(pa)
            await settle(pb)
            assert await _until(pa, lambda: a.last_event_id is not None)
            await select(pb, refs["gas"])
            await pb.press("a")  # B acknowledges the gas leak
            await settle(pb)
            await pb.press("enter")
            await settle(pb)

            def a_shows_it() -> bool:
                row = a.screen.pane().item_list.find_loaded(refs["gas"])
                return row is not None and row.acked and a.is_flashing("report", row.id)

            assert await _until(pa, a_shows_it), "console A did not see B's acknowledgement"
    finally:
        database.close()
        drop_pg_schema(schema)
