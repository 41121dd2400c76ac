"""The console never dies silently (issue 9 §1): an outage, a damaged row, a bug, a crash."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import threading

import pytest
from peewee import fn

from console import actions, i18n, logs
from console.models import Event, Report, database
from screens import app as app_module
from screens.app import CRASHED, DutyApp, run_console
from screens.queues import MainScreen
from screens.widgets.errordialog import ErrorDialog
from screens.widgets.itemlist import ItemList
from tests.conftest import OFFICER
from tests.ui.conftest import messages, select, settle


def screen_text(app) -> str:
    """What the screen shows, as text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def _until(pilot, predicate, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        await pilot.pause()
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    """The log file of this test (its own directory), set up as the CLI does."""
    monkeypatch.setenv("DUTYROOM_LOG_DIR", str(tmp_path / "log"))
    for h in list(logs.log.handlers):
        logs.log.removeHandler(h)
    logs._path[0] = None
    path = logs.setup("warning")
    yield path
    for h in list(logs.log.handlers):
        h.close()
        logs.log.removeHandler(h)
    logs._path[0] = None
    logs.log.propagate = True


def _acks(ref: str) -> int:
    return Event.select().where((Event.item_ref == ref) & (Event.action == "acknowledge")).count()


async def test_outage_banner_refusal_and_recovery(make_app, duty, sqlite_db, monkeypatch):
    """Found: an outage killed every console (refresh_counters' error closed the app, exit 0).
    Now: banner, actions refused with one line, retries, recovers by itself."""
    _ctx, refs = duty
    monkeypatch.setattr(app_module, "RETRY_FIRST", 0.05)
    monkeypatch.setattr(app_module, "RETRY_MAX", 0.2)
    app = make_app()
    path = sqlite_db.database
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, refs["fire"])
        sqlite_db.close()
        sqlite_db.database = "/nonexistent-dir/outage.db"  # every new connection now fails
        try:
            app.refresh_counters()
            assert await _until(pilot, lambda: app.db_error != "")
            header = app.screen.query_one("DutyHeader")
            assert header.unreachable and app.is_running and app.return_code is None
            assert "unreachable" in str(header.render())
            await pilot.press("a")  # acknowledge while the database is away: refused at once
            await settle(pilot)
            assert any("cannot be reached" in m for m in messages(app)), (messages(app), app.screen)
            # a typed command is refused the same way: it was dropped without a word
            before = len(messages(app))
            await pilot.press("colon", *f"note {refs['fire']} typed", "enter")
            await settle(pilot)
            assert any("cannot be reached" in m for m in messages(app)[before:]), messages(app)
            app.refresh_team()
            app.sweep_now()
            app.screen.pane().item_list.reload()
            await pilot.pause(0.5)  # several probes fail meanwhile
            assert app.db_error and app.is_running
        finally:
            sqlite_db.database = path
        assert await _until(pilot, lambda: app.db_error == "")
        assert app.screen.query_one("DutyHeader").unreachable == ""
        assert _acks(refs["fire"]) == 0  # nothing was written while away
        await settle(pilot)
        await select(pilot, refs["fire"])
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert _acks(refs["fire"]) == 1
        assert app.errors == []  # an outage is not a bug: no error dialog


async def test_outage_on_postgres_by_dead_port(ctx, tmp_path, monkeypatch):
    """The same on PostgreSQL: the server's port stops answering, then answers again."""
    from console import db as dbmod
    from tests.conftest import fresh_url
    from tests.ui.conftest import build_small

    with fresh_url("postgres", tmp_path) as url:
        pg = dbmod.open_database(url)
        dbmod.migrate(pg)
        refs = build_small(ctx)
        monkeypatch.setattr(app_module, "RETRY_FIRST", 0.05)
        monkeypatch.setattr(app_module, "RETRY_MAX", 0.2)
        i18n.set_language("en")
        app = DutyApp(ctx, OFFICER, live=False)
        try:
            async with app.run_test(size=(120, 36)) as pilot:
                await settle(pilot)
                port = pg.connect_params.get("port")
                pg.close()
                pg.connect_params["port"] = 1  # nothing listens there
                try:
                    app.refresh_counters()
                    assert await _until(pilot, lambda: app.db_error != "")
                    await pilot.press("a")
                    await settle(pilot)
                    assert any("cannot be reached" in m for m in messages(app))
                    await pilot.pause(0.3)
                    assert app.is_running
                finally:
                    pg.connect_params["port"] = port
                assert await _until(pilot, lambda: app.db_error == "")
                assert app.errors == [] and _acks(refs["gas"]) == 0
        finally:
            pg.close()


async def test_damaged_row_shows_as_damaged(make_app, duty):
    """Found: one report with chain '{broken' stopped every console at start."""
    ctx, refs = duty
    Report.update(chain="{broken").where(Report.ref == refs["fire"]).execute()
    # the query above stores the JSON of the string: write the raw text itself
    database.execute_sql("UPDATE report SET chain = '{broken' WHERE ref = ?", (refs["fire"],))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        item_list = app.screen.pane().item_list
        assert item_list.total == 3
        row = item_list.find_loaded(refs["fire"])
        assert row is not None and row.damaged
        lines = [item_list.render_line(y).text for y in range(item_list.size.height)]
        assert any(refs["fire"] in line and "damaged" in line for line in lines)
        app.poll_changes()  # the feed's starting point
        await settle(pilot)
        gas = actions.find_item(refs["gas"])
        actions.note(ctx, OFFICER, gas, "a note whose event is then damaged",
                     expected_version=gas.version)
        database.execute_sql("UPDATE event SET after = '{broken' WHERE id = "
                             "(SELECT MAX(id) FROM event)")
        app.poll_changes()  # the feed reads the damaged event: no error, no dialog
        await settle(pilot)
        assert app.last_event_id == Event.select(fn.MAX(Event.id)).scalar()
        await select(pilot, refs["fire"])
        await pilot.press("enter")
        await settle(pilot)
        body = screen_text(app)
        assert "cannot be read as stored (chain)" in body
        assert app.is_running and app.errors == []


async def test_unexpected_error_shows_a_dialog_and_keeps_running(make_app, duty, log_file,
                                                                monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("counters are broken")

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(app_module.queries, "counters", broken)
        app.refresh_counters()
        assert await _until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        ref = app.errors[-1]
        shown = str(app.screen.query_one("#error-ref").render())
        assert ref in shown and str(log_file) in shown
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.is_running
    text = log_file.read_text(encoding="utf-8")
    assert ref in text and "Traceback" in text and "counters are broken" in text


def test_crash_is_logged_and_exits_nonzero(duty, log_file, monkeypatch, capfd):
    """Found: a crash printed a traceback (with locals) and the process exited 0."""
    ctx, _refs = duty

    def boom(self) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(MainScreen, "on_mount", boom)
    status = run_console(ctx, OFFICER, headless=True)
    assert status == CRASHED
    err = capfd.readouterr().err
    assert "Traceback" not in err and "a bug in a handler" not in err
    assert len(err.strip().splitlines()) == 1 and "RuntimeError" in err
    text = log_file.read_text(encoding="utf-8")
    assert "Traceback" in text and "a bug in a handler" in text


async def test_queue_load_reads_no_geometry_off_the_loop(make_app, duty, monkeypatch):
    """Found: ItemList._load read self.size in its thread (LookupError on active_app)."""
    loop_thread = threading.get_ident()
    size = ItemList.size
    off_loop: list[str] = []

    def watched(self):
        if threading.get_ident() != loop_thread:
            off_loop.append(threading.current_thread().name)
        return size.fget(self)

    monkeypatch.setattr(ItemList, "size", property(watched))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.screen.pane().item_list.reload()
        await settle(pilot)
        assert app.screen.pane().item_list.total == 3
    assert off_loop == []


def test_log_file_is_private(log_file):
    logs.get("test").warning("hello")
    assert log_file.stat().st_mode & 0o777 == 0o600
    assert log_file.parent.stat().st_mode & 0o777 == 0o700
    assert logging.getLogger("dutyroom").propagate is False


async def test_sweep_failure_is_logged_and_shown(make_app, duty, log_file, monkeypatch):
    """Found: sweep_now swallowed every error (nothing kept, nothing shown)."""
    def broken(_ctx):
        raise KeyError("chain step")

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(app_module.sweep, "auto_escalate", broken)
        app.sweep_now()
        assert await _until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert app.is_running
    text = log_file.read_text(encoding="utf-8")
    assert app.errors[-1] in text and "KeyError: 'chain step'" in text
