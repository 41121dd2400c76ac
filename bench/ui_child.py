"""UI measurements, each in a fresh process: ``python -m bench.ui_child MODE ARGS…``.

Prints one JSON object on its last stdout line.  Modes:
  empty                       empty Textual app: start → first frame, VmHWM
  emptykeys REPEATS           empty Textual app: key → the frame echoing it (the keys' floor)
  start URL                   DutyApp on URL: start → first frame showing queue rows, VmHWM
  keys URL REPEATS            key → paint samples (ms) per key, on the work-order queue
  rss URL STEPS               scroll the whole work-order queue (scope all), then VmHWM
  datatable URL ROWS          Textual DataTable loaded with ROWS queue rows: first paint, VmHWM

"Painted" is defined by a hook on ``App._display`` — the call that hands one
composited frame to the driver (in headless mode Textual composites the frame,
calling every widget's ``render_line``, and only skips the terminal write).  A
measurement is armed with a predicate over the widgets' state ("the cursor is
on row n and every visible row's data is present", "the detail screen has its
item", …); the first frame at which the predicate holds is the paint.  Since
rendering and the check run in the same synchronous call, that frame was
composited from the final state.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

T_IMPORT = time.perf_counter()
SIZE = (120, 40)
BUDGET_END = time.perf_counter() + float(os.environ.get("BENCH_CHILD_BUDGET", "600"))


def vm(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident memory, MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Probe:
    """Armed with a predicate; records the time of the first frame where it holds."""

    def __init__(self) -> None:
        self.pred: Callable[[], bool] | None = None
        self.at: float | None = None
        self.frames = 0

    def arm(self, pred: Callable[[], bool]) -> None:
        self.pred, self.at = pred, None

    def frame(self) -> None:
        self.frames += 1
        if self.pred is not None and self.at is None:
            try:
                ok = self.pred()
            except Exception:  # noqa: BLE001 - a widget not there yet: not painted
                ok = False
            if ok:
                self.at = time.perf_counter()
                self.pred = None

    async def wait(self, timeout: float = 15.0) -> float | None:
        end = time.perf_counter() + timeout
        while self.at is None and time.perf_counter() < end:
            await asyncio.sleep(0.001)
        return self.at


def probed(app_cls):
    import inspect
    from pathlib import Path

    css = getattr(app_cls, "CSS_PATH", None)
    here = Path(inspect.getfile(app_cls)).parent
    if isinstance(css, str | Path):
        css = [css]

    class Probed(app_cls):
        CSS_PATH = [str(here / c) for c in css] if css else None

        def _display(self, screen, renderable):  # noqa: ANN001
            super()._display(screen, renderable)
            if renderable is not None:
                self.probe.frame()

    return Probed


def settled(lst) -> bool:
    """The list knows its size and has every visible row (pages fetched ahead, off the
    screen, may still be coming: the officer does not wait for them)."""
    from screens.widgets.itemlist import PAGE

    if lst.total is None:
        return False
    top = int(lst.scroll_y)
    for i in range(top, min(lst.total, top + lst.size.height)):
        page = lst._pages.get(i // PAGE)
        if page is None or i % PAGE >= len(page):
            return False
    return True


def _duty(url: str):
    """What ``dutyroom --db URL`` does before the app runs (settings, database, operator)."""
    from console import cli, db, i18n, settings
    from console.context import Context

    cfg = settings.load()
    i18n.set_language(settings.language_of(cfg))
    database = db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    db.migrate(database)
    ctx = Context(cfg)
    actor, readonly = cli.operator(ctx, None)
    return ctx, actor, readonly


# --------------------------------------------------------------------------- modes


async def mode_empty() -> dict:
    from textual.app import App
    from textual.widgets import Static

    class Empty(App):
        def compose(self):
            yield Static("BENCH-READY-7731")

    t0 = time.perf_counter()
    app = probed(Empty)()
    app.probe = Probe()
    app.probe.arm(lambda: True)
    async with app.run_test(size=SIZE):
        at = await app.probe.wait()
    return {"first_paint_ms": (at - t0) * 1000, "hwm_mb": vm()}


def _count_shown(main) -> bool:
    """The work-order queue's count line shows a number, not "counting…"."""
    from console.i18n import t

    line = str(main.query_one("#filter-work_order").content)
    return not line.startswith(t("ui.list.counting"))


async def mode_emptykeys(repeats: int) -> dict:
    """The floor of every key row: an empty app that repaints one Static per key."""
    from textual.app import App
    from textual.widgets import Static

    class Echo(App):
        n = 0

        def compose(self):
            yield Static("0", id="echo")

        def on_key(self) -> None:
            self.n += 1
            self.query_one("#echo", Static).update(str(self.n))

    app = probed(Echo)()
    app.probe = Probe()
    out = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(repeats):
            want = app.n + 1
            out.append(await _press(app, pilot, "x", lambda want=want: app.n == want and str(
                app.query_one("#echo", Static).content) == str(want)))
    return {"key echo": out}


def _main_list(app, kind: str):
    return app.query_one(f"#list-{kind}")


async def _start_duty(url: str, live: bool):
    import console.cli  # noqa: F401 - imports are not part of "after imports"
    import console.settings  # noqa: F401
    from screens.app import DutyApp

    t0 = time.perf_counter()
    ctx, actor, readonly = _duty(url)
    app = probed(DutyApp)(ctx, actor, readonly=readonly, live=live)
    app.probe = Probe()

    def first_rows() -> bool:
        screen = app.screen
        kind = screen.active_kind
        lst = _main_list(screen, kind)
        return lst.total is not None and lst.total > 0 and settled(lst)

    app.probe.arm(first_rows)
    return t0, app


async def mode_start(url: str) -> dict:
    t0, app = await _start_duty(url, live=True)
    async with app.run_test(size=SIZE):
        at = await app.probe.wait(60)
        shown = app.screen.active_kind
    return {"first_paint_ms": (at - t0) * 1000 if at else None, "hwm_mb": vm(), "queue": shown}


async def _press(app, pilot, key: str, pred: Callable[[], bool], timeout: float = 15):
    if time.perf_counter() > BUDGET_END:
        return None  # out of time: reported as timed out
    app.probe.arm(pred)
    t0 = time.perf_counter()
    try:
        await asyncio.wait_for(pilot.press(key), timeout)
    except TimeoutError:
        return None
    at = await app.probe.wait(timeout)
    return (at - t0) * 1000 if at else None


async def _settle(app, pilot, pred: Callable[[], bool], timeout: float = 30) -> None:
    end = min(time.perf_counter() + timeout, BUDGET_END)
    while time.perf_counter() < end:
        try:
            await asyncio.wait_for(pilot.pause(), 5)
        except TimeoutError:
            pass
        if pred():
            return
        await asyncio.sleep(0.005)


async def mode_keys(url: str, repeats: int) -> dict:
    from screens.detail import DetailScreen

    _t0, app = await _start_duty(url, live=False)
    out: dict[str, list] = {}

    def rec(name: str, ms: float | None) -> None:
        out.setdefault(name, []).append(ms)
        if os.environ.get("BENCH_DEBUG"):
            print(f"{name}: {ms}", file=sys.stderr, flush=True)

    async with app.run_test(size=SIZE) as pilot:
        await app.probe.wait(60)
        main = app.screen
        wo = _main_list(main, "work_order")
        rp = _main_list(main, "report")

        # switch queue: 2 / 1 alternately (the other queue was counted at start)
        for i in range(repeats):
            kind, key, lst = (("work_order", "2", wo) if i % 2 == 0 else ("report", "1", rp))
            rec("switch queue (1/2)", await _press(
                app, pilot, key,
                lambda kind=kind, lst=lst: main.active_kind == kind and settled(lst)))
        await pilot.press("2")
        await _settle(app, pilot, lambda: settled(wo))

        # cursor down
        for _ in range(repeats * 2):
            want = wo.cursor + 1
            rec("cursor down", await _press(
                app, pilot, "down", lambda want=want: wo.cursor == want and settled(wo)))

        # page down
        for _ in range(repeats * 2):
            want = min(wo.total - 1, wo.cursor + max(1, wo.size.height - 1))
            rec("page down", await _press(
                app, pilot, "pagedown", lambda want=want: wo.cursor == want and settled(wo)))

        # jump to end (cold: the list is re-read first, so End's page is not cached)
        for _ in range(repeats):
            await pilot.press("home")
            await pilot.press("ctrl+r")
            await _settle(app, pilot, lambda: wo.cursor == 0 and settled(wo)
                          and not any(w.group == "load" and w.is_running for w in app.workers))
            rec("jump to end", await _press(
                app, pilot, "end", lambda: wo.cursor == wo.total - 1 and settled(wo)))
        await pilot.press("home")
        await _settle(app, pilot, lambda: settled(wo))

        # open detail (Enter), back (Escape, not measured)
        for i in range(repeats):
            for _ in range(i % 3):
                await pilot.press("down")
            await _settle(app, pilot, lambda: settled(wo))
            rec("open detail (Enter)", await _press(
                app, pilot, "enter",
                lambda: isinstance(app.screen, DetailScreen) and app.screen.detail is not None))
            await pilot.press("escape")
            await _settle(app, pilot, lambda: app.screen is main and settled(wo))

        # a filter: "!" overdue only, on and off
        for _ in range(repeats):
            want = not wo.filter.overdue_only
            rec("filter: overdue only (!)", await _press(
                app, pilot, "exclamation_mark",
                lambda want=want: wo.filter.overdue_only == want and settled(wo)))
        if wo.filter.overdue_only:
            await pilot.press("exclamation_mark")
            await _settle(app, pilot, lambda: settled(wo))

        # scope: open → closed → all → open
        for _ in range(max(3, repeats // 3 * 3)):
            want = {"open": "closed", "closed": "all", "all": "open"}[wo.filter.scope]
            rec("filter: scope (z)", await _press(
                app, pilot, "z", lambda want=want: wo.filter.scope == want and settled(wo),
                timeout=60))
        await _settle(app, pilot, lambda: wo.filter.scope == "open" and settled(wo))

        # incremental search: "/", then each character is one search
        term = "暖气不热"
        for _ in range(max(2, repeats // 2)):
            await pilot.press("slash")
            await pilot.pause()
            typed = ""
            for ch in term:
                typed += ch
                ms = await _press(
                    app, pilot, ch, lambda typed=typed: wo.filter.search == typed
                    and settled(wo) and _count_shown(main), timeout=60)
                rec("incremental search (per key)", ms)
                if len(typed) == 2:  # issue 14's worst figure: 2nd character → count shown
                    rec("search: 2nd character → filtered count", ms)
            await pilot.press("escape")
            await _settle(app, pilot, lambda: wo.filter.search == "" and settled(wo))
            await pilot.press("escape")
        out["_queries"] = [wo.queries_issued]
        out["_rows_fetched"] = [wo.rows_fetched]
    out["_hwm_mb"] = [vm()]
    return out


async def mode_rss(url: str, steps: int) -> dict:
    _t0, app = await _start_duty(url, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.probe.wait(60)
        main = app.screen
        wo = _main_list(main, "work_order")
        await pilot.press("2")
        await _settle(app, pilot, lambda: settled(wo))
        await pilot.press("z", "z")  # open → closed → all: every row
        await _settle(app, pilot, lambda: wo.filter.scope == "all" and settled(wo), 120)
        total = wo.total
        after_open = vm("VmRSS")
        # a full scroll: the cursor visits the whole queue, top to bottom, in `steps` jumps
        # (each lands on rows never seen before), then End and a run of PageDowns
        for k in range(steps + 1):
            wo.cursor = min(total - 1, k * (total - 1) // steps)
            await _settle(app, pilot, lambda: settled(wo))
        await pilot.press("home")
        await _settle(app, pilot, lambda: settled(wo))
        for _ in range(100):
            await pilot.press("pagedown")
        await _settle(app, pilot, lambda: settled(wo))
        await pilot.press("end")
        await _settle(app, pilot, lambda: settled(wo))
        fetched = wo.rows_fetched
    return {"hwm_mb": vm(), "rss_after_open_mb": after_open, "total": total,
            "rows_fetched": fetched, "pages_cached_max": 40}


async def mode_datatable(url: str, n: int) -> dict:
    from peewee import JOIN
    from textual.app import App
    from textual.widgets import DataTable

    from console import db
    from console.models import Department, WorkOrder

    t0 = time.perf_counter()
    db.open_database(url)
    w = WorkOrder
    rows = [(ref, urg, (content or "")[:40], status, dept or "", str(deadline or ""))
            for ref, urg, content, status, dept, deadline in
            w.select(w.ref, w.urgency, w.content, w.status, Department.name, w.deadline_at)
            .join(Department, on=(w.department == Department.id), join_type=JOIN.LEFT_OUTER)
            .order_by(w.rank, w.sort_key, w.id).limit(n).tuples()]
    t_loaded = time.perf_counter()

    class Naive(App):
        def compose(self):
            yield DataTable()

        def on_mount(self):
            table = self.query_one(DataTable)
            table.add_columns("ref", "urgency", "content", "status", "department", "deadline")
            table.add_rows(rows)

    app = probed(Naive)()
    app.probe = Probe()
    app.probe.arm(lambda: app.query_one(DataTable).row_count == len(rows))
    async with app.run_test(size=SIZE) as pilot:
        at = await app.probe.wait(600)
        # one key after the load: how the naive table moves
        t1 = time.perf_counter()
        await pilot.press("end")
        await pilot.pause()
        end_ms = (time.perf_counter() - t1) * 1000
    return {"first_paint_ms": (at - t0) * 1000 if at else None,
            "query_ms": (t_loaded - t0) * 1000, "hwm_mb": vm(), "rows": len(rows),
            "end_ms": end_ms}


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "empty":
        result = asyncio.run(mode_empty())
    elif mode == "emptykeys":
        result = asyncio.run(mode_emptykeys(int(argv[1])))
    elif mode == "start":
        result = asyncio.run(mode_start(argv[1]))
    elif mode == "keys":
        result = asyncio.run(mode_keys(argv[1], int(argv[2])))
    elif mode == "rss":
        result = asyncio.run(mode_rss(argv[1], int(argv[2])))
    elif mode == "datatable":
        result = asyncio.run(mode_datatable(argv[1], int(argv[2])))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
