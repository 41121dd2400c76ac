"""UI fixtures: a small duty-room database built through console.actions, and app helpers.

The database is built once per session (``_small_template``: ~25 actions on a freshly
migrated file) and copied for each test, as tests/core does with its migrated file:
every test still gets its own file at ``tmp_path / "duty.db"``, in the same state.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from console import actions, i18n
from console import db as dbmod
from console.clock import FrozenClock
from console.context import Context
from console.paths import default_config_file
from screens.app import DutyApp
from tests.conftest import ADMIN, LEADER, OFFICER, OFFICER2, T0, VIEWER

PLANS = ("zx-rq-01.yaml", "zt-01.yaml", "zx-gr-01.yaml")


def build_small(ctx) -> dict[str, str]:
    """A night in a small duty room: a few reports, orders and supervision items."""
    for a in (OFFICER, OFFICER2, LEADER, ADMIN, VIEWER):
        actions.upsert_person(ctx, ADMIN, login=a.login, name=a.name, role=a.role)
    for code, name in (("ZJJ", "市住建局"), ("GRB", "市供热办"), ("GAJ", "市公安局"),
                       ("RQJT", "市燃气集团")):
        actions.upsert_department(ctx, ADMIN, code=code, name=name)
    actions.upsert_shift(ctx, ADMIN, starts_at=T0 - dt.timedelta(hours=2),
                         ends_at=T0 + dt.timedelta(hours=22), leader=LEADER.login,
                         primary=OFFICER.login, secondary=OFFICER2.login)
    plans_dir = default_config_file().parent / "plans"
    for name in PLANS:
        data = yaml.safe_load((plans_dir / name).read_text(encoding="utf-8"))
        actions.upsert_plan(ctx, ADMIN, **data)
    ctx.clock.set(T0 - dt.timedelta(minutes=20))
    gas = actions.create_report(
        ctx, OFFICER, title="道里区安静街燃气泄漏", category="accident", subtype="gas_leak",
        level="II", place="道里区安静街12号", summary="居民楼燃气管道泄漏，已疏散两个单元",
        injured=2, source_unit="道里区应急局", reporter="张伟", reporter_phone="13900001111")
    ctx.clock.set(T0 - dt.timedelta(minutes=10))
    fire = actions.create_report(
        ctx, OFFICER2, title="香坊区仓库火灾", category="accident", subtype="fire", level="III",
        place="香坊区红旗大街88号", summary="仓库起火，无人员被困")
    heat = actions.create_report(
        ctx, OFFICER, title="南岗区小区供热中断", category="accident", subtype="heating",
        level="unknown", place="南岗区学府路", summary="约300户供热中断")
    ctx.clock.set(T0 - dt.timedelta(minutes=5))
    old = actions.create_report(ctx, OFFICER, title="松北区道路结冰", category="natural",
                                subtype="snow_ice", level="IV", place="松北区世茂大道")
    actions.acknowledge(ctx, OFFICER, old, expected_version=old.version)
    old = actions.find_item(old.ref)
    actions.close(ctx, OFFICER, old, "已撒融雪剂，道路恢复通行", expected_version=old.version)
    w1 = actions.create_work_order(
        ctx, OFFICER, content="小区暖气不热，室温只有12度", type="complaint", urgency="urgent",
        caller="刘女士", phone="13800002222", address="南岗区学府路15号", department="GRB")
    w2 = actions.create_work_order(
        ctx, OFFICER2, content="咨询燃气开户需要什么材料", type="enquiry", caller="王先生",
        phone="13800003333", address="道外区")
    w3 = actions.create_work_order(
        ctx, OFFICER, content="路灯不亮已一周", type="help", urgency="very_urgent",
        caller="赵先生", address="平房区友协大街")
    ctx.clock.set(T0)
    sv = actions.register_supervision(ctx, LEADER, title="落实燃气泄漏整改", klass="urgent",
                                      source=gas.ref, department="ZJJ")
    sv2 = actions.register_supervision(ctx, OFFICER, title="冬季供热投诉办理情况", klass="normal",
                                       content="每周报送")
    return {"gas": gas.ref, "fire": fire.ref, "heat": heat.ref, "old": old.ref,
            "w1": w1.ref, "w2": w2.ref, "w3": w3.ref, "sv": sv.ref, "sv2": sv2.ref}


@pytest.fixture(scope="session")
def _small_template(tmp_path_factory, cfg) -> tuple[object, dict[str, str]]:
    """(path, refs) of a closed SQLite file holding build_small's night."""
    path = tmp_path_factory.mktemp("ui-template") / "duty.db"
    database = dbmod.open_database(f"sqlite:///{path}")
    try:
        dbmod.migrate(database)
        i18n.set_language("en")  # as every test starts (tests/conftest.py::_language)
        refs = build_small(Context(cfg, FrozenClock(T0), "test:console"))
    finally:
        database.close()  # the last connection closing folds the WAL into the file
    return path, refs


@pytest.fixture
def duty(ctx, tmp_path, _small_template):
    """(ctx, refs) over a copy of the small database; the clock stands at T0."""
    template, refs = _small_template
    path = tmp_path / "duty.db"
    shutil.copyfile(template, path)
    database = dbmod.open_database(f"sqlite:///{path}")
    yield ctx, dict(refs)
    database.close()


@pytest.fixture
def make_app(duty):
    ctx, _refs = duty

    def make(actor=OFFICER, readonly=False, language="en") -> DutyApp:
        i18n.set_language(language)
        return DutyApp(ctx, actor, readonly=readonly, live=False)

    return make


async def settle(pilot, rounds: int = 10) -> None:
    """Let workers finish and the screen repaint (repeat: one worker may start another).

    Returns after two pauses in a row that find no worker running (a worker's callback,
    or the code awaiting it, may start the next one a turn later); the suite used to
    pause four times after every key whatever happened.
    """
    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        await pilot.pause()
        # "flow" workers wait on the officer (a prompt is open) and "livefeed" runs for the
        # app's life: never wait for those
        running = [w for w in app.workers
                   if w.group not in ("flow", "livefeed") and not w.is_finished]
        if not running:
            quiet += 1
            if quiet >= 2:
                return
            continue
        quiet = 0
        for worker in running:
            try:
                await worker.wait()
            except Exception:  # noqa: BLE001 - cancelled or failed: the test checks the result
                pass


def messages(app) -> list[str]:
    """The notifications shown so far (newest last)."""
    return [n.message for n in app._notifications]


def events_of(ref: str) -> list[tuple[str, str, str]]:
    """(action, actor, note) of an item's timeline, read directly for assertions."""
    from console.models import Event

    return [(e.action, e.actor, e.note) for e in
            Event.select().where(Event.item_ref == ref).order_by(Event.id)]


async def select(pilot, ref: str) -> None:
    """Put the cursor of the visible queue on ``ref``."""
    screen = pilot.app.screen
    item_list = screen.pane().item_list
    for page, rows in sorted(item_list._pages.items()):
        for i, row in enumerate(rows):
            if row.ref == ref:
                item_list.cursor = page * 50 + i
                await settle(pilot)
                return
    raise AssertionError(f"{ref} not in the visible queue")


def plain(widget, width: int = 160) -> str:
    """A Static's content as plain text (as the terminal would show it)."""
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


# --------------------------------------------------------------------------- a real terminal


class Terminal:
    """The console in a real terminal (a detached tmux session on its own server socket).

    Pilot tests see widget state; this sees what a person sees: ``screen()`` is the
    pane's text, ``styled()`` keeps the SGR codes (to find the drawn cursor).
    """

    def __init__(self, argv: list[str], size: tuple[int, int], env: dict[str, str]) -> None:
        import shlex
        import uuid

        self.socket = "dutyroom-test-" + uuid.uuid4().hex[:8]
        width, height = size
        command = " ".join(shlex.quote(a) for a in argv) + "; sleep 600"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # COLUMNS/LINES (pytest sets them) would override the pane's size
        self._tmux("new-session", "-d", "-s", "s", "-x", str(width), "-y", str(height),
                   f"env -u COLUMNS -u LINES {exports} {command}")
        self._path = self._tmux("display", "-p", "-t", "s", "#{socket_path}").strip()

    def _tmux(self, *args: str) -> str:
        import subprocess

        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=20, check=True)
        return done.stdout

    def keys(self, *keys: str) -> None:
        """Keys by tmux name (Tab, Escape, Enter, ':'), one write each."""
        for key in keys:
            self._tmux("send-keys", "-t", "s", key)

    def write(self, text: str) -> None:
        """``text`` in one write to the pty, as a paste or a bunched SSH packet arrives."""
        self._tmux("send-keys", "-t", "s", "-l", text)

    def tab_to(self, row: int) -> None:
        """Tab until the focused input (the terminal's cursor) is on ``row``."""
        for _ in range(30):
            at = self.cursor()[1]
            if at == row:
                return
            self.keys("Tab")
            self.wait_for(lambda _s, at=at: self.cursor()[1] != at)
        raise AssertionError(f"Tab never reached row {row}")

    @staticmethod
    def settle() -> None:
        """A moment for the console to take a focus change (not an assertion on time)."""
        import time

        time.sleep(0.5)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "s")

    def styled(self) -> str:
        return self._tmux("capture-pane", "-p", "-e", "-t", "s")

    def cursor(self) -> tuple[int, int]:
        """Where the terminal's cursor is (Textual puts it at the focused input's cursor)."""
        x, y = self._tmux("display", "-p", "-t", "s", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def wait_for(self, predicate, seconds: float = 20.0) -> str:
        """The screen once ``predicate(screen)`` holds; fails with the last screen."""
        import time

        deadline = time.monotonic() + seconds
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError("the terminal never showed what was expected:\n" + text)
            time.sleep(0.1)

    def close(self) -> None:
        import subprocess

        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        if self._path:  # tmux leaves its socket file behind
            Path(self._path).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """A demo database (two days) for consoles started in a real terminal."""
    import shutil as sh
    import subprocess
    import sys

    if sh.which("tmux") is None:
        pytest.skip("tmux is not installed: the real-terminal checks need it")
    url = f"sqlite:///{tmp_path_factory.mktemp('term') / 'demo.db'}"
    dutyroom = [sys.executable, "-m", "console.cli"]
    subprocess.run([*dutyroom, "--db", url, "demo", "--days", "2"], check=True,
                   capture_output=True, timeout=120)
    return url


@pytest.fixture
def terminal(demo_db):
    """terminal(size, language) → a console on the demo database in a real terminal."""
    import sys

    opened: list[Terminal] = []

    def start(size: tuple[int, int], language: str) -> Terminal:
        argv = [sys.executable, "-m", "console.cli", "--db", demo_db, "--lang", language]
        term = Terminal(argv, size, {"TERM": "xterm-256color", "LANG": "C.UTF-8",
                                     "TEXTUAL_ANIMATIONS": "none"})
        opened.append(term)
        # ready: the queue's rows are painted (keys typed before that go astray)
        term.wait_for(lambda s: re.search(r"BG-\d{4}-\d{4}", s) is not None)
        return term

    yield start
    for term in opened:
        term.close()
