"""The wall board: locked keys, the PIN, what it shows, alerts, outages, and flat memory."""

from __future__ import annotations

import dataclasses
import gc
import io
import os
import sys
import tracemalloc

import pytest
import yaml
from textual.command import CommandPalette

from console import actions, board_queries, cli, i18n, kiosk
from console.feed import ChangeFeed
from console.models import ActivationMeasure, PlanActivation
from console.paths import default_config_file
from console.sweep import auto_escalate
from screens import board as board_mod
from screens.board import INERT_KEYS, BoardApp, UnlockScreen
from tests.conftest import ADMIN, OFFICER, VIEWER
from tests.ui.conftest import messages, plain, settle

PIN = "2468"
FAST_N = 2**10  # a cheap scrypt for tests; the format and the check are the same
# the suite runs 100 cycles; BOARD_CYCLES=1000 for a longer soak
WARM, CYCLES = int(os.environ.get("BOARD_WARM", 20)), int(os.environ.get("BOARD_CYCLES", 100))
FRAMES = int(os.environ.get("BOARD_FRAMES", 1))


def _with_board(ctx, **changes):
    board = dataclasses.replace(ctx.settings.board, **changes)
    ctx.settings = dataclasses.replace(ctx.settings, board=board)
    return ctx


@pytest.fixture
def make_board(duty):
    ctx, _refs = duty
    _with_board(ctx, pin_hash=kiosk.hash_secret(PIN, n=FAST_N))

    def make(language: str = "en") -> BoardApp:
        i18n.set_language(language)
        return BoardApp(ctx, VIEWER, live=False)

    return make


def _text(app, selector: str) -> str:
    return plain(app.query_one(selector), width=200)


# --------------------------------------------------------------------------- the PIN hash


def test_pin_hash_checks_and_salts():
    line = kiosk.hash_secret(PIN, n=FAST_N)
    assert line.startswith("scrypt$1024$8$1$")
    assert kiosk.check_secret(PIN, line)
    assert not kiosk.check_secret("2469", line)
    assert not kiosk.check_secret(PIN, "")
    assert not kiosk.check_secret(PIN, "scrypt$3$8$1$00$00")  # n not a power of two
    assert kiosk.hash_secret(PIN, n=FAST_N) != line  # a fresh salt each time


@pytest.mark.parametrize(("flag", "key"), [("--hash-pin", "pin_hash"),
                                         ("--hash-token", "token_hash")])
def test_hash_flags_read_stdin_and_print_the_config_line(monkeypatch, capsys, flag, key):
    monkeypatch.setattr(sys, "stdin", io.StringIO(PIN + "\n"))
    assert cli.main(["--lang", "en", "board", flag]) == 0
    out = capsys.readouterr().out.strip()
    got, value = out.split(": ", 1)
    assert got == key and kiosk.check_secret(PIN, value.strip('"'))


# --------------------------------------------------------------------------- who gets the board


def _login(monkeypatch, login: str) -> None:
    """The OS login the console would see (the real uid's account; no variable names it),
    and a terminal (the console refuses to start without one)."""
    monkeypatch.setattr(cli, "os_login", lambda *_a, **_k: login)
    monkeypatch.setattr(cli, "_console_terminal", lambda _args: None)


def _opened(monkeypatch) -> list[str]:
    """Record which full-screen app cli would open, instead of opening it."""
    import screens.app

    opened: list[str] = []
    monkeypatch.setattr(board_mod, "run_board", lambda ctx, actor, mouse=True: opened.append(
        f"board:{actor.login}") or 0)
    monkeypatch.setattr(screens.app, "run_console", lambda ctx, actor, readonly=False,
                        mouse=True: opened.append(f"console:{actor.login}") or 0)
    return opened


def test_viewer_gets_the_board_not_the_console(duty, tmp_path, monkeypatch):
    """Found: the viewer account got the officer's screen (action keys, Ctrl+Q quits)."""
    opened = _opened(monkeypatch)
    url = f"sqlite:///{tmp_path / 'duty.db'}"
    _login(monkeypatch, VIEWER.login)
    assert cli.main(["--db", url, "--lang", "en"]) == 0
    _login(monkeypatch, "nobody-in-the-roster")  # unknown: read-only too
    assert cli.main(["--db", url, "--lang", "en", "console"]) == 0
    _login(monkeypatch, OFFICER.login)
    assert cli.main(["--db", url, "--lang", "en"]) == 0
    assert opened == ["board:wallboard", "board:nobody-in-the-roster", "console:liming"]


def test_kiosk_setting_opens_the_board_for_anyone(duty, tmp_path, monkeypatch):
    opened = _opened(monkeypatch)
    site = tmp_path / "site.yaml"
    site.write_text("console:\n  kiosk: true\n", encoding="utf-8")
    _login(monkeypatch, OFFICER.login)
    url = f"sqlite:///{tmp_path / 'duty.db'}"
    assert cli.main(["--config", str(site), "--db", url, "--lang", "en"]) == 0
    assert cli.main(["--config", str(site), "--db", url, "--lang", "en", "board"]) == 0
    assert opened == ["board:liming", "board:liming"]


def test_bad_board_settings_are_one_line_errors(tmp_path, capsys):
    site = tmp_path / "site.yaml"
    site.write_text("kiosk:\n  pin_hash: hunter2\n", encoding="utf-8")
    assert cli.main(["--config", str(site), "check-config"]) == 1
    err = capsys.readouterr().err.strip()
    assert "site.yaml" in err and "kiosk.pin_hash" in err and len(err.splitlines()) == 1


# --------------------------------------------------------------------------- no way out


@pytest.mark.parametrize("key", [*INERT_KEYS, "q", "escape"])
async def test_each_key_is_inert(make_board, monkeypatch, key):
    kills: list[tuple] = []
    monkeypatch.setattr(os, "kill", lambda *a: kills.append(a))
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert not isinstance(app.screen, CommandPalette)
        assert len(app.screen_stack) == 1
        assert kills == []  # Ctrl+Z did not suspend the process
        assert not any("quit" in m.lower() for m in messages(app))  # not even a hint


async def test_palette_actions_are_inert(make_board):
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for action in ("quit", "command_palette", "suspend_process", "screenshot",
                       "change_theme", "help_quit"):
            await app.run_action(action)
            await settle(pilot)
            assert app.is_running and len(app.screen_stack) == 1, action


async def _open_pin_prompt(pilot) -> None:
    """The board up, then ``u``: the PIN prompt is on top."""
    await settle(pilot)
    await pilot.press("u")
    await settle(pilot)
    assert isinstance(pilot.app.screen, UnlockScreen)


async def test_wrong_pin_refuses_right_pin_exits(make_board):
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_pin_prompt(pilot)
        await pilot.press(*"1111", "enter")
        await settle(pilot)
        assert app.is_running and not app.unlocked
        assert "Wrong PIN: the board stays locked" in messages(app)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("ctrl+q")  # inert in the prompt too
        await pilot.press(*PIN, "enter")
        await settle(pilot)
        await pilot.pause()
    assert app.unlocked and app.return_code == 0


async def test_board_keeps_ticking_while_the_pin_prompt_is_open(make_board):
    """The clock, countdowns and a refresh find the board's parts under the PIN prompt."""
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_pin_prompt(pilot)
        app._failed("unable to open database file")
        await pilot.pause(1.3)  # the one-second tick fires under the prompt
        assert app.is_running and isinstance(app.screen, UnlockScreen)
        assert app.board_screen.query_one("#dberror").display


async def test_a_tick_or_result_landing_at_teardown_does_nothing(make_board, duty):
    """Found in CI: the one-second tick fired while run_test tore the board down, and its
    query for the clock raised NoMatches.  Timers and worker results may land late."""
    ctx, _refs = duty
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        snap = app.snapshot
        for widget in list(app.board_screen.children):
            await widget.remove()
        app.tick()
        app._failed("unable to open database file")
        app._show(snap)
        app.flash()
        app.render_view()
        assert app.is_running
    app.tick()  # and after the app is gone


async def test_pin_locks_out_after_repeated_failures(make_board):
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(board_mod.MAX_TRIES):
            await pilot.press("u")
            await settle(pilot)
            await pilot.press(*"0000", "enter")
            await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert not isinstance(app.screen, UnlockScreen)  # the right PIN would not be asked
        assert "Too many wrong PINs" in messages(app)[-1]


async def test_no_pin_configured_means_no_unlock(duty):
    ctx, _ = duty
    _with_board(ctx, pin_hash="")
    app = BoardApp(ctx, VIEWER, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert not isinstance(app.screen, UnlockScreen) and app.is_running
        assert "No PIN is set" in messages(app)[-1]


# --------------------------------------------------------------------------- what it shows


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
@pytest.mark.parametrize("language", ["en", "zh-CN"])
async def test_board_shows_team_counters_and_urgent_rows(make_board, duty, size, language):
    _ctx, refs = duty
    app = make_board(language)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = _text(app, "#view")
        assert refs["gas"] in view and refs["w3"] in view  # Ⅱ report, 特急 order
        assert refs["old"] not in view  # closed
        assert "赵强" in _text(app, "#info")  # the leader on shift
        assert app.snapshot.counters["report"].unacked == 3
        assert app.query_one("#count-report").query_one(".unacked").value == "3"
        lines = [ln for ln in view.splitlines() if ln.strip()]
        assert all(len(ln.rstrip()) <= size[0] for ln in lines)


@pytest.mark.parametrize(("language", "word"), [("en", "very urgent"), ("zh-CN", "特急")])
async def test_severity_labels_are_whole_at_80_columns(make_board, duty, language, word):
    _ctx, refs = duty
    app = make_board(language)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = next(ln for ln in _text(app, "#view").splitlines() if refs["w3"] in ln)
        assert row.lstrip().startswith(word)  # was "very …": cut to six cells


@pytest.mark.parametrize(("size", "rows"), [((80, 24), 3), ((160, 50), 3), ((384, 108), 10)])
async def test_the_clock_and_counters_grow_with_a_4k_wall(make_board, duty, size, rows):
    """Found: on a 4K terminal (384×108 cells) the clock and the counters stayed 3 rows
    high, unreadable across the room; there they are drawn in a scaled block font."""
    app = make_board()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        clock = app.query_one("#clock")
        unacked = app.query_one("#count-report").query_one(".unacked")
        assert clock.size.height == rows and unacked.size.height == rows
        assert clock.region.right <= size[0] and unacked.value == "3"
        info = app.query_one("#info").region
        assert info.x >= clock.region.right  # the team beside the clock, not under it


async def test_countdowns_are_live_without_reading_again(make_board, duty):
    ctx, refs = duty
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        reads = app.refreshes
        before = next(ln for ln in _text(app, "#view").splitlines() if refs["gas"] in ln)
        ctx.clock.advance(seconds=61)
        app.tick()
        await pilot.pause()
        after = next(ln for ln in _text(app, "#view").splitlines() if refs["gas"] in ln)
        assert before != after and app.refreshes == reads


async def test_a_tick_that_changes_nothing_repaints_no_row(make_board, duty):
    """The one-second tick rewrote the whole view and the team lines each second, unchanged."""
    ctx, _refs = duty
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        updated: list[str] = []
        for part in ("#view", "#info", "#view-title"):
            widget = app.query_one(part)
            widget.update = lambda content, _id=part, **kw: updated.append(_id)
        app.tick()
        app.tick()
        assert updated == []  # the clock stood still: only the clock and the seconds left
        ctx.clock.advance(seconds=61)
        app.tick()
        assert "#view" in updated  # the countdowns moved


async def test_views_cycle_to_overdue_and_plans(make_board, duty):
    ctx, refs = duty
    report = actions.find_item(refs["gas"])
    act = actions.activate_plan(ctx, OFFICER, "ZX-RQ-01", report, "II")
    actions.tick_measure(ctx, OFFICER, act.id, 0)
    total = PlanActivation.get_by_id(act.id).measures.count()
    app = make_board()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert app.view == "urgent"
        app.next_view()
        await pilot.pause()
        assert app.view == "overdue" and "Overdue" in _text(app, "#view-title")
        app.next_view()
        await pilot.pause()
        plans = _text(app, "#view")
        assert "ZX-RQ-01" in plans and f"checklist 1/{total}" in plans
        app.next_view()
        assert app.view == "reports"  # the scheduled reports missing
        app.next_view()
        assert app.view == "urgent"  # round again


@pytest.mark.parametrize("language", ["en", "zh-CN"])
async def test_missing_scheduled_reports_have_their_view(make_board, duty, language):
    """The issue lists 'missing scheduled reports' among what the wall shows."""
    import datetime as dt

    ctx, _refs = duty
    for code, name, phone in (("XCB", "市委宣传部", "0451-86742121"),
                              ("ZFW", "市委政法委", "0451-86752222")):
        actions.upsert_department(ctx, ADMIN, code=code, name=name, phone=phone)
    auto_escalate(ctx)  # the week's expected reports, due Monday 30 Nov 12:00 (+2 h grace)
    ctx.clock.set(dt.datetime(2026, 11, 30, 7, 0))  # 15:00 local: both missing
    auto_escalate(ctx)
    app = make_board(language)
    assert "reports" in app.settings.views  # shipped in the cycle
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        while app.view != "reports":
            app.next_view()
        await pilot.pause()
        view = _text(app, "#view")
        assert "BS-2026-0001" in view and "BS-2026-0002" in view
        assert "市委宣传部" in view and "2026-W49" in view and "-1h00m" in view
        title = {"en": "Scheduled reports missing", "zh-CN": "未按时报送的定期报告"}[language]
        assert title in _text(app, "#view-title")


# --------------------------------------------------------------------------- alerts, outages


def _events(ctx, feed: ChangeFeed):
    return feed.poll(0.0)


async def test_new_major_report_and_missed_deadline_flash_and_ring(make_board, duty, tmp_path,
                                                                   monkeypatch):
    ctx, refs = duty
    feed = ChangeFeed(f"sqlite:///{tmp_path / 'duty.db'}")
    feed.poll(0.0)
    app = make_board()
    bells: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        actions.create_report(ctx, OFFICER, title="轻微事件", category="accident", level="IV")
        app.feed_woke(_events(ctx, feed))
        await settle(pilot)
        assert bells == [] and not app.screen.has_class("-flash")
        major = actions.create_report(ctx, OFFICER, title="化工厂爆炸", category="accident",
                                      subtype="hazmat", level="I")
        app.feed_woke(_events(ctx, feed))
        await settle(pilot)
        assert bells == [1] and app.screen.has_class("-flash")
        assert major.ref in _text(app, "#alerts") and major.ref in _text(app, "#view")
        ctx.clock.advance(hours=30)
        auto_escalate(ctx)
        events = _events(ctx, feed)
        assert any(e.action == "overdue" for e in events)
        app.feed_woke(events)
        await settle(pilot)
        assert len(bells) == 2 and "DEADLINE MISSED" in _text(app, "#alerts")


async def test_database_outage_banner_then_recovers_by_itself(make_board, monkeypatch):
    real = board_queries.snapshot
    calls = {"n": 0}

    def failing(now, rows=12):
        calls["n"] += 1
        from peewee import OperationalError

        raise OperationalError("unable to open database file")

    monkeypatch.setattr(board_mod, "RETRY_SECONDS", 0.05)
    app = make_board()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(board_queries, "snapshot", failing)
        app.refresh_data()
        await settle(pilot)
        banner = app.query_one("#dberror")
        assert banner.display and "unable to open database file" in _text(app, "#dberror")
        await pilot.pause(0.3)
        assert calls["n"] >= 2  # retried without anyone asking
        monkeypatch.setattr(board_queries, "snapshot", real)
        for _ in range(20):
            await pilot.pause(0.05)
            if not banner.display:
                break
        assert not banner.display and app.db_error == ""
        n = calls["n"]
        await pilot.pause(0.2)
        assert calls["n"] == n  # the retry timer stopped once the database answered


# --------------------------------------------------------------------------- days without growing


async def test_memory_stays_flat_through_many_cycles(make_board, duty, tmp_path):
    """Hundreds of feed wake-ups, view cycles and ticks on a fast clock: no growth."""
    ctx, refs = duty
    feed = ChangeFeed(f"sqlite:///{tmp_path / 'duty.db'}")
    feed.poll(0.0)
    app = make_board()
    app.bell = lambda: None
    wakeups = 0

    async def cycle(pilot, i: int) -> None:
        nonlocal wakeups
        level = ("I", "III", "IV")[i % 3]
        actions.create_report(ctx, OFFICER, title=f"事件{i}", category="accident", level=level)
        ctx.clock.advance(minutes=12)  # 240 cycles: two days on the board's clock
        if i % 20 == 19:
            auto_escalate(ctx)  # missed deadlines: alerts too
        events = feed.poll(0.0)
        assert events
        app.feed_woke(events)
        wakeups += 1
        app.next_view()
        app.tick()
        await settle(pilot, rounds=1)

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for i in range(WARM):  # warm up: caches, the style cache, first alerts
            await cycle(pilot, i)
        gc.collect()
        tracemalloc.start(FRAMES)
        try:
            base = _board_bytes()
            total0 = tracemalloc.get_traced_memory()[0]
            first = tracemalloc.take_snapshot() if os.environ.get("BOARD_TOP") else None
            widgets = len(list(app.screen.walk_children()))
            for i in range(WARM, WARM + CYCLES):
                await cycle(pilot, i)
            gc.collect()
            grown = _board_bytes() - base
            total = tracemalloc.get_traced_memory()[0] - total0
            if os.environ.get("BOARD_TOP"):
                for stat in tracemalloc.take_snapshot().compare_to(first, "lineno")[:15]:
                    print(stat)
        finally:
            tracemalloc.stop()
        assert wakeups == WARM + CYCLES and app.refreshes >= CYCLES  # every wake-up read the snapshot
        assert len(list(app.screen.walk_children())) == widgets
        assert len(app.alerts) <= 3
        print(f"board's own allocations grew {grown} B, all allocations {total} B "
              f"over {CYCLES} cycles")
        assert grown < 100_000, f"the board's own allocations grew by {grown} bytes"
        assert total < 4_000_000, f"all allocations grew by {total} bytes"


def _board_bytes() -> int:
    """Bytes still allocated with a frame of the board's own code in their traceback."""
    own = {os.path.abspath(board_mod.__file__), os.path.abspath(board_queries.__file__)}
    snap = tracemalloc.take_snapshot()
    # the raw traces (domain, size, frames, nframe): Filter(all_frames=True) took minutes
    return sum(size for _d, size, frames, *_ in snap.traces._traces
               if any(name in own for name, _line in frames))


def test_no_mouse_runs_the_board_without_the_mouse(duty, tmp_path, monkeypatch):
    runs: list[dict] = []
    monkeypatch.setattr(BoardApp, "run", lambda self, **kw: runs.append(kw))
    monkeypatch.setattr(board_mod.signal, "signal", lambda *a: None)  # not this test's signals
    _login(monkeypatch, VIEWER.login)
    url = f"sqlite:///{tmp_path / 'duty.db'}"
    assert cli.main(["--db", url, "board", "--no-mouse"]) == 0
    assert cli.main(["--db", url, "board"]) == 0
    assert runs == [{"mouse": False}, {"mouse": True}]


def test_snapshot_reads_a_window_on_both_databases(roster, db):
    """The board's read on SQLite and PostgreSQL: capped rows, progress counted per activation."""
    ctx = roster
    for i in range(6):
        actions.create_report(ctx, OFFICER, title=f"事件{i}", category="accident",
                              level=("I", "IV")[i % 2])
    data = yaml.safe_load((default_config_file().parent / "plans" / "zx-rq-01.yaml").read_text(
        encoding="utf-8"))
    actions.upsert_plan(ctx, ADMIN, **data)
    report = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="II")
    act = actions.activate_plan(ctx, OFFICER, data["code"], report.ref, "II")
    actions.tick_measure(ctx, OFFICER, act.id, 0)
    snap = board_queries.snapshot(ctx.now(), rows=4)
    assert len(snap.urgent) == 4 and snap.urgent[0].severity == "I"
    assert snap.counters["report"].open == 7 and snap.team is None
    [a] = snap.activations
    assert a.plan_code == data["code"] and a.done == 1
    assert a.total == ActivationMeasure.select().where(
        ActivationMeasure.activation == act.id).count() > 1


def test_the_block_font_is_as_wide_as_it_says():
    """The width the layout asks for is the width drawn, for every glyph and scale."""
    from screens.widgets.bigdigits import FONT, block_lines, block_width

    for value in ("12:34:56", "999+", "…", "-7", "".join(FONT)):
        for scale in (1, 2, 3):
            lines = block_lines(value, scale)
            assert len(lines) == 5 * scale
            assert {len(ln) for ln in lines} == {block_width(value, scale)}, (value, scale)
