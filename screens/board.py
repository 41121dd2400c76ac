"""The wall board: a read-only, locked, full-screen view for the duty room's wall.

A large clock, the duty team, counters per queue, then views in turn (the most
urgent items with live countdowns, the overdue ones, the active plans with their
checklist progress); a flash and the bell for each new Ⅰ/Ⅱ report or missed
deadline.  Every read runs in a thread worker and fetches one small snapshot
(console/board_queries.py); the one-second tick only redraws from it.

Nothing on the keyboard leaves it: quit, Ctrl+C, Ctrl+Z, Ctrl+\\ and the palette
are inert; ``u`` asks for the admin PIN (kiosk.pin_hash), the only way out.
"""

from __future__ import annotations

import os
import signal
import time
from collections import deque
from typing import ClassVar, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Digits, Input, Static
from textual.worker import get_current_worker

from console import board_queries, kiosk
from console.board_queries import BoardRow, BoardSnapshot
from console.clock import to_local
from console.context import Actor, Context
from console.i18n import label, t
from console.textsafe import one_line
from screens import fmt
from screens.dbwork import in_db
from screens.liveness import TerminalWatch
from screens.widgets.bigdigits import BigDigits, scale_for
from screens.widgets.columns import severity_width

W = TypeVar("W", bound=Widget)

KINDS = ("report", "work_order", "supervision")
# every key that quits, suspends, or opens the palette in a Textual app
INERT_KEYS = ("ctrl+q", "ctrl+c", "ctrl+z", "ctrl+backslash", "ctrl+p", "ctrl+s", "ctrl+d",
              "f1", "ctrl+w")
FLASH_SECONDS = 5.0
RETRY_SECONDS = 5.0
MAX_TRIES, LOCKOUT_SECONDS = 5, 60.0
ROWS_CAP = 40  # rows read per list, however tall the terminal


class UnlockScreen(ModalScreen[str]):
    """The admin PIN prompt; dismisses with what was typed ("" on Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", show=False)]

    def compose(self) -> ComposeResult:
        with Vertical(id="unlock-box"):
            yield Static(t("board.unlock.title"), id="unlock-title")
            yield Input(password=True, id="pin", max_length=64)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss("")


class CounterBox(Vertical):
    """One queue: its name and open count, unacknowledged and overdue as large digits."""

    def __init__(self, kind: str) -> None:
        super().__init__(id=f"count-{kind}", classes="counter")
        self.kind = kind

    def compose(self) -> ComposeResult:
        yield Static(t(f"ui.queue.{self.kind}"), classes="counter-title")
        with Horizontal(classes="counter-figures"):
            for name in ("unacked", "overdue"):
                with Vertical(classes="figure"):
                    yield BigDigits("…", classes=name)
                    yield Static(t(f"board.counter.{name}"), classes="counter-caption")

    def show(self, c) -> None:
        short = "_short" if self.app.size.width < 110 else ""  # 80 columns: the number must fit
        title = f"{t(f'ui.queue.{self.kind}{short}')}  {t('board.counter.open', n=c.shown('open'))}"
        self.query_one(".counter-title", Static).update(title)
        unacked, overdue = self.query_one(".unacked", Digits), self.query_one(".overdue", Digits)
        unacked.update(c.shown("unacked"))
        overdue.update(c.shown("overdue"))
        unacked.set_class(c.unacked > 0, "-alarm")
        overdue.set_class(c.overdue > 0, "-alarm")


class BoardApp(TerminalWatch, App):
    """The wall board (read-only: it holds no action and no way to one)."""

    CSS_PATH = "board.tcss"
    TITLE = "dutyroom board"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(k, "inert", show=False, priority=True, system=True) for k in INERT_KEYS),
        Binding("u", "unlock", show=False),
        Binding("r", "retry", show=False),
    ]

    def __init__(self, ctx: Context, actor: Actor, *, live: bool = True) -> None:
        super().__init__()
        self.ctx, self.actor, self.live = ctx, actor, live
        self.settings = ctx.settings.board
        self.snapshot: BoardSnapshot | None = None
        self.db_error = ""
        self.alerts: deque[str] = deque(maxlen=3)
        self.view_index = 0
        self.view_started = time.monotonic()
        self.flash_until = 0.0
        self.unlocked = False
        self.failures: deque[float] = deque(maxlen=MAX_TRIES)
        self.refreshes = 0
        self._retry_timer = None
        self._shown: dict[str, Text | str] = {}  # what each text part shows now (see _put)
        self.probe_seconds = 0.0  # run_board sets it on a real terminal (screens/liveness)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield BigDigits("", id="clock")
            yield Static("", id="info")
        yield Static("", id="dberror")
        yield Static("", id="alerts")
        with Horizontal(id="counters"):
            for kind in KINDS:
                yield CounterBox(kind)
        yield Static("", id="view-title")
        yield Static(t("board.loading"), id="view")
        yield Static("", id="status")

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.title = self.ctx.settings.site_name
        self.tick()
        self.refresh_data()
        self.set_interval(1, self.tick)
        self.set_interval(self.settings.cycle_seconds, self.next_view)
        self.set_interval(self.settings.refresh_seconds, self.refresh_data)
        if self.live and self.ctx.db_url:
            self.follow_feed()
        self.watch_terminal(self.probe_seconds)

    @property
    def board_screen(self):
        """The board itself, under the PIN prompt when that is open."""
        return self.screen_stack[0]

    def on_resize(self) -> None:
        width, height = self.size
        scale = scale_for(width, height)  # a 4K wall: the figures grow with it
        self.board_screen.set_class(width >= 140 and height >= 40, "-large")
        self.board_screen.set_class(scale > 0, "-huge")
        for digits in self.board_screen.query(BigDigits):
            digits.set_scale(scale)
        self.render_view()

    # ------------------------------------------------------------------ inert keys

    def action_inert(self) -> None:
        """Quit, suspend, palette: nothing, on the wall."""

    # the same actions reached any other way (the palette's entries, a binding) do nothing
    async def action_quit(self) -> None:
        return

    def action_help_quit(self) -> None:
        return

    def action_suspend_process(self) -> None:
        return

    def action_command_palette(self) -> None:
        return

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        return

    def action_change_theme(self) -> None:
        return

    # ------------------------------------------------------------------ unlock

    def action_unlock(self) -> None:
        if not self.settings.pin_hash:
            self.notify(t("board.unlock.no_pin"), severity="warning")
            return
        wait = self._lockout_left()
        if wait:
            self.notify(t("board.unlock.locked", seconds=wait), severity="error")
            return
        if not isinstance(self.screen, UnlockScreen):
            self.push_screen(UnlockScreen(), self._check_pin)

    def _lockout_left(self) -> int:
        if len(self.failures) < MAX_TRIES:
            return 0
        left = self.failures[0] + LOCKOUT_SECONDS - time.monotonic()
        return max(0, int(left + 0.999))

    def _check_pin(self, pin: str | None) -> None:
        if pin:
            self.check_pin(pin)

    @work(thread=True, exit_on_error=False, group="pin")
    def check_pin(self, pin: str) -> None:
        """scrypt takes tens of milliseconds: off the event loop."""
        ok = kiosk.check_secret(pin, self.settings.pin_hash)
        self.call_from_thread(self._pin_checked, ok)

    def _pin_checked(self, ok: bool) -> None:
        if ok:
            self.unlocked = True
            self.exit(0)
            return
        self.failures.append(time.monotonic())
        self.notify(t("board.unlock.wrong"), severity="error")

    # ------------------------------------------------------------------ data

    def action_retry(self) -> None:
        self.refresh_data()

    @work(thread=True, exit_on_error=False, exclusive=True, group="board")
    def refresh_data(self) -> None:
        """One snapshot of what the board shows; a failure becomes the banner."""
        rows = min(ROWS_CAP, max(4, self.size.height))
        try:
            snap = in_db(board_queries.snapshot, self.ctx.now(), rows)
        except Exception as exc:  # noqa: BLE001 - an outage is a state of the board
            text = str(exc).strip().splitlines()
            self.call_from_thread(self._failed, one_line(text[0] if text else type(exc).__name__))
            return
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show, snap)

    def _failed(self, error: str) -> None:
        self.db_error = error
        self._sync_error()
        if self._retry_timer is None:  # retries by itself until the database answers
            self._retry_timer = self.set_interval(RETRY_SECONDS, self.refresh_data)

    def _show(self, snap: BoardSnapshot) -> None:
        self.refreshes += 1
        self.snapshot = snap
        self.db_error = ""
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        self._sync_error()
        boxes = self.board_screen.query(CounterBox) if self.screen_stack else []
        for box in boxes:
            counters = snap.counters.get(box.kind)
            if counters is not None:
                box.show(counters)
        self.render_info()
        self.render_view()

    def _sync_error(self) -> None:
        banner = self._part("#dberror", Static)
        if banner is None:
            return
        banner.display = bool(self.db_error)
        if self.db_error:
            banner.update(t("board.db_error", error=self.db_error, seconds=int(RETRY_SECONDS)))

    # ------------------------------------------------------------------ change feed

    @work(thread=True, exit_on_error=False, exclusive=True, group="livefeed")
    def follow_feed(self) -> None:
        """Wake on every committed change (console/feed.py), for the board's life."""
        from console.feed import ChangeFeed

        worker = get_current_worker()
        feed = ChangeFeed(self.ctx.db_url)
        timeout = self.ctx.settings.feed_ms / 1000
        was = ""
        try:
            while not worker.is_cancelled:
                events = feed.poll(timeout)
                state = "" if feed.connected else (feed.error or "?")
                if state != was:
                    was = state
                    if state:
                        self.call_from_thread(self._failed, one_line(state))
                    else:
                        self.call_from_thread(self.refresh_data)
                if events:
                    self.call_from_thread(self.feed_woke, events)
        finally:
            feed.close()

    def feed_woke(self, events: list) -> None:
        """Something changed: alert on what the room must see, then re-read."""
        found = [m for m in (self._alert_of(e) for e in events) if m]
        if found:
            self.alerts.extend(found)
            self.flash()
        self.refresh_data()

    def _alert_of(self, e) -> str | None:
        at = fmt.local(self.ctx.now(), self.ctx.settings.tz, "%H:%M")
        after = e.after if isinstance(e.after, dict) else {}
        if e.action == "create" and e.item_kind == "report" and after.get("level") in ("I", "II"):
            return t("board.alert.new_major", at=at, ref=one_line(e.item_ref),
                     level=label("level", after["level"]), title=one_line(after.get("title", "")))
        if e.action == "overdue":
            return t("board.alert.overdue", at=at, ref=one_line(e.item_ref))
        return None

    def flash(self) -> None:
        self.flash_until = time.monotonic() + FLASH_SECONDS
        if self.screen_stack:
            self.board_screen.add_class("-flash")
        if self.ctx.settings.bell:
            self.bell()
        alerts = self._part("#alerts", Static)
        if alerts is None:
            return
        alerts.update(Text("\n".join(self.alerts), style="bold"))
        alerts.display = True

    # ------------------------------------------------------------------ drawing

    def _part(self, selector: str, kind: type[W]) -> W | None:
        """One of the board's own widgets, or None while it is being built or torn down
        (a timer or a worker's result can land then)."""
        try:
            return self.board_screen.query_one(selector, kind)
        except (NoMatches, IndexError):
            return None

    def tick(self) -> None:
        """Every second: clock and countdowns, from the snapshot in hand (no database)."""
        clock = self._part("#clock", Digits)
        if clock is None:
            return
        clock.update(fmt.local(self.ctx.now(), self.ctx.settings.tz, "%H:%M:%S"))
        if self.flash_until and time.monotonic() >= self.flash_until:
            self.flash_until = 0.0
            self.board_screen.remove_class("-flash")  # the clock was found: the board is up
        self.render_info()
        self.render_view()

    def next_view(self) -> None:
        self.view_index = (self.view_index + 1) % len(self.settings.views)
        self.view_started = time.monotonic()
        self.render_view()

    @property
    def view(self) -> str:
        return self.settings.views[self.view_index % len(self.settings.views)]

    def render_info(self) -> None:
        now = self.ctx.now()
        lines = [Text(one_line(self.ctx.settings.site_name), style="bold"),
                 Text(fmt.local(now, self.ctx.settings.tz, "%Y-%m-%d ") + t(
                     f"board.weekday.{to_local(now, self.ctx.settings.tz).weekday()}"))]
        team = self.snapshot.team if self.snapshot else None
        if team is None:
            lines.append(Text(t("board.no_shift"), style="dim"))
        else:
            names = [one_line(n) or "—" for n in team]
            lines.append(Text(t("board.team", leader=names[0], primary=names[1],
                                secondary=names[2])))
        info = self._part("#info", Static)
        if info is not None:
            self._put(info, Text("\n").join(lines))

    def render_view(self) -> None:
        if not self.is_mounted:
            return
        title, status = self._part("#view-title", Static), self._part("#status", Static)
        pane = self._part("#view", Static)
        if title is None or status is None or pane is None:
            return
        view = self.view
        left = max(0, int(self.settings.cycle_seconds - (time.monotonic() - self.view_started)))
        self._put(title, Text(t(f"board.view.{view}"), style="bold"))
        self._put(status, t("board.status", view=t(f"board.view.{view}"), i=self.view_index + 1,
                        n=len(self.settings.views), seconds=left))
        if self.snapshot is None:
            return
        height = max(1, pane.size.height or 10)
        width = max(20, pane.size.width or 78)
        self._put(pane, self._view_text(view, width, height))

    def _put(self, part: Static, content: Text | str) -> None:
        """Update a part only when its text changed: the one-second tick then repaints the
        clock and the seconds left, not every row of the view (slow links, the web page)."""
        if self._shown.get(part.id or "") == content:
            return
        self._shown[part.id or ""] = content
        part.update(content, layout=False)  # each part's size is set in board.tcss

    def _view_text(self, view: str, width: int, height: int) -> Text:
        snap = self.snapshot
        assert snap is not None
        if view == "plans":
            lines = [self._plan_line(a, width) for a in snap.activations[:height]]
        else:
            rows = {"urgent": snap.urgent, "overdue": snap.overdue}.get(view, snap.missing)
            lines = [self._row_line(r, width) for r in rows[:height]]
        if not lines:
            return Text(t(f"board.none.{view}"), style="dim")
        return Text("\n").join(lines)

    def _row_line(self, r: BoardRow, width: int) -> Text:
        now = self.ctx.now()
        line = Text(no_wrap=True, overflow="ellipsis")
        # the widest label of any queue, whole ("very urgent" in English), so rows align
        line.append_text(fmt.badge(r.kind, r.severity, max(map(severity_width, (*KINDS, "scheduled")))))
        line.append(" ")
        line.append_text(fmt.fit(one_line(r.ref), 16))
        left = fmt.countdown(r.deadline_at, now)
        band = "overdue" if r.deadline_at is not None and r.deadline_at <= now else (
            "near" if r.deadline_at is not None and (r.deadline_at - now).total_seconds()
            <= self.ctx.settings.warn_minutes * 60 else "ok")
        line.append_text(fmt.fit(left, 9, right=True))
        line.stylize(fmt.BAND_STYLE[band].replace(" blink", ""), line.cell_len - 9)
        line.append("  ")
        extra = 30 if width >= 120 else 0
        rest = width - line.cell_len - extra
        line.append_text(fmt.fit(one_line(r.title), max(4, rest)))
        if extra:
            step = one_line(r.step_name) + ("" if r.acked else " !")
            tail = " · ".join(part for part in (one_line(r.where), step) if part)
            line.append_text(fmt.fit(f" {tail}", extra))
        return line

    def _plan_line(self, a, width: int) -> Text:
        since = fmt.local(a.activated_at, self.ctx.settings.tz, "%m-%d %H:%M")
        text = t("board.plan_line", code=one_line(a.plan_code), title=one_line(a.plan_title),
                 level=one_line(a.level), since=since, done=a.done, total=a.total)
        line = fmt.fit(text, width)
        if a.total and a.done < a.total:
            line.stylize("bold #ffaf00")
        return line


def run_board(ctx: Context, actor: Actor, *, mouse: bool = True) -> int:
    """Run the board full screen until an admin unlocks it with the PIN."""
    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)  # Textual then leaves ISIG off: no ^C/^Z/^\
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    app = BoardApp(ctx, actor)
    app.probe_seconds = ctx.settings.terminal_probe_seconds
    app.run(mouse=mouse)
    return 0
