"""DutyApp: themes, the palette, alerts, the timers (clock, change feed, sweep), health.

``run_console(ctx, actor)`` is what ``dutyroom`` calls once the database is
open and migrated.  All database work happens in thread workers; the event
loop only draws.

How a change reaches the screens: the app learns of it (the feed, or its own
action via ``data_changed``) and publishes one ``Published`` on the
``app.published`` signal.  The header, the alert banner, every ``ItemList`` and
the detail screen subscribe and decide for themselves what to re-read or
repaint; the app never walks the screen stack or writes into a widget.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import Theme
from textual.worker import WorkerFailed, get_current_worker

from console import logs, queries, sweep, verbs
from console.actions.units import unit_department
from console.context import Actor, Context
from console.i18n import label, t
from console.models import database
from console.textsafe import one_line, visible
from screens import fmt
from screens.dbwork import guarded, report_failure
from screens.detail import DetailScreen
from screens.flows import ItemScreen
from screens.keymap import key_of, site_keymap
from screens.liveness import TerminalWatch
from screens.queues import MainScreen
from screens.widgets.alerts import Alert
from screens.widgets.errordialog import ErrorDialog
from screens.widgets.header import HeaderState, clock_text

THEMES = (
    Theme(name="dutyroom-dark", primary="#5b9bd5", secondary="#3a6ea5", accent="#ffaf00",
          warning="#ffaf00", error="#d70000", success="#3fa34d", foreground="#dde4ec",
          background="#0f141a", surface="#161d26", panel="#1f2a36", dark=True),
    # High contrast: pure black and white, saturated signal colours, bold cursor.
    Theme(name="dutyroom-contrast", primary="#ffff00", secondary="#00ffff", accent="#ffff00",
          warning="#ffff00", error="#ff0000", success="#00ff00", foreground="#ffffff",
          background="#000000", surface="#000000", panel="#202020", dark=True,
          variables={"block-cursor-background": "#ffff00", "block-cursor-foreground": "#000000",
                     "block-cursor-text-style": "bold", "footer-key-foreground": "#ffff00",
                     "input-selection-background": "#ffff00 50%", "border": "#ffffff",
                     "border-blurred": "#bbbbbb"}),
)


FLASH_SECONDS = 4.0
HEADER_CAP = 999  # header counts stop at "999+" (see queries.counters)
RETRY_FIRST, RETRY_MAX = 1.0, 15.0  # seconds between probes of an unreachable database
CRASHED = 70  # exit status of a console that crashed (EX_SOFTWARE), never 0
# the unit desk's events _maybe_alert turns into an alert (issue 11), and every alerting
# event about an item that can have a handling unit (a liaison sees its own unit's only)
UNIT_DESK_ALERTS = ("ack_expired", "accept_overdue", "problem_order")
UNIT_ALERTS = frozenset({"auto_escalate", "overdue", *UNIT_DESK_ALERTS})


@dataclass(frozen=True)
class Change:
    """One event, as the feed reports it to the screens (plain data, no ORM)."""

    id: int
    kind: str
    item_id: int
    ref: str
    action: str
    actor: str
    actor_name: str
    console: str
    after: dict | None
    note: str


@dataclass(frozen=True)
class Published:
    """What changed, as the app publishes it to every subscriber (plain data).

    ``kinds``: queues whose rows may have changed; ``items``: (kind, id) of changed
    items; ``changes``: the events themselves; ``header``: the header state moved;
    ``alerts``: the alert list moved; ``tick``: a second passed (countdowns);
    ``reconnected``: the database answers again (re-read everything).
    """

    kinds: frozenset[str] = frozenset()
    items: frozenset[tuple[str, int]] = frozenset()
    changes: tuple[Change, ...] = ()
    header: bool = False
    alerts: bool = False
    tick: bool = False
    reconnected: bool = False

    def touches(self, kind: str, item_id: int | None = None) -> bool:
        if self.reconnected:
            return True
        if item_id is None:
            return kind in self.kinds
        return (kind, item_id) in self.items


def _change(e: Any, note: str = "") -> Change:
    """An event (ORM row or feed event) as plain, terminal-safe data."""
    after = e.after if isinstance(e.after, dict) else None
    if after is not None:
        after = {k: one_line(v) if isinstance(v, str) else v for k, v in after.items()}
    return Change(e.id, e.item_kind, e.item_id, one_line(e.item_ref), e.action,
                  one_line(e.actor), one_line(e.actor_name), one_line(e.console), after,
                  one_line(note))


class DutyCommands(Provider):
    """Every action in the command palette (Ctrl+P), in the interface language.

    The item verbs come from the verb table (console/verbs.py); Textual's own
    system commands (theme, keys, quit) are offered here translated, in place
    of its English SystemCommandsProvider, so searching 退出 finds Quit.
    """

    def _commands(self) -> Iterable[tuple[str, str, Any]]:
        screen = self.screen
        app: Any = self.app
        if isinstance(screen, ItemScreen) and not app.is_readonly:
            for v in verbs.with_key():
                key = key_of(app, v.binding_id, v.key)
                yield (f"{t(v.help_key)}  · {key}", t("ui.palette.item"),
                       partial(screen.action_item, v.name))
        if isinstance(screen, MainScreen):
            for i, kind in enumerate(("report", "work_order", "supervision", "plans"), 1):
                yield (f"{t('ui.queue.' + kind)}  · {i}", t("ui.palette.queue"),
                       partial(screen.action_show, kind))
            for action, key, keyname in (("new", "ui.key.new", "N"),
                                         ("search", "ui.key.search", "/"),
                                         ("filters", "ui.key.filters", "F"),
                                         ("command", "ui.key.command", ":"),
                                         ("cycle_scope", "ui.key.scope", "z"),
                                         ("handover", "ui.key.handover", "H"),
                                         ("admin", "ui.key.admin", "M"),
                                         ("figures", "ui.key.figures", "G")):
                yield (f"{t(key)}  · {keyname}", "", partial(screen.run_action, action))
        if isinstance(screen, DetailScreen):
            yield (f"{t('ui.key.checklist')}  · k", "", screen.action_checklist)
            yield (f"{t('ui.key.end_plan')}  · P", "", screen.action_end_plan)
        yield (f"{t('ui.key.ack_alerts')}  · A", "", app.ack_alerts)
        yield (t("ui.palette.contrast"), "", app.toggle_contrast)
        yield (f"{t('ui.key.help')}  · ?", "", partial(app.push_help))
        yield (t("ui.palette.theme"), t("ui.palette.theme_help"), app.action_change_theme)
        yield (t("ui.palette.keys"), t("ui.palette.keys_help"), app.action_show_help_panel)
        yield (f"{t('ui.palette.quit')}  · ^q", t("ui.palette.quit_help"), app.action_quit)

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        found = False
        for name, help_text, callback in self._commands():
            score = matcher.match(f"{name} {help_text}")
            if score > 0:
                found = True
                yield Hit(score, matcher.highlight(name), callback, help=help_text or None)
        if not found and query.strip():  # in place of Textual's English "No matches found"
            yield Hit(0.01, t("ui.palette.no_matches"), lambda: None)


class DutyApp(TerminalWatch, App):
    """The duty console."""

    CSS_PATH = ["app.tcss", "queues.tcss", "forms.tcss", "detail.tcss"]
    COMMANDS = {DutyCommands}  # translated, with the system commands (see DutyCommands)
    TITLE = "dutyroom"
    BINDINGS = [Binding("ctrl+q", "quit", "ui.key.quit", show=False, priority=True,
                        id="app.quit")]

    def __init__(self, ctx: Context, actor: Actor, *, readonly: bool = False,
                 live: bool = True) -> None:
        super().__init__()
        self.ctx, self.actor = ctx, actor
        self.readonly = readonly
        # a unit liaison sees its own department's items only (QueueFilter.unit); the one
        # read happens here, before the app runs, never on its event loop
        self.unit = unit_department(actor) if actor.role == "unit" else None
        self.live = live  # False in tests: no feed polling or sweep timers (called directly)
        self.alerts: list[Alert] = []
        self.alert_ids: dict[str, set[int]] = {}
        self.last_event_id: int | None = None
        self.flashing: dict[tuple[str, int], float] = {}  # (kind, id) → until (monotonic)
        self.published: Signal[Published] = Signal(self, "published")
        self.header_state = HeaderState()
        self.db_error = ""  # why the database cannot be reached; "" while it answers
        self.feed_error = ""  # the same for the change feed's own connection
        self.errors: list[str] = []  # log references of the unexpected errors shown
        self.crash_line = ""  # the one line printed after a crash (no traceback)
        self._retry_delay = RETRY_FIRST
        self._probe_timer: Any = None
        self.probe_seconds = 0.0  # run_console sets it on a real terminal (screens/liveness)
        for theme in THEMES:
            self.register_theme(theme)
        wanted = ctx.settings.theme
        self.theme = wanted if wanted in self.available_themes else "dutyroom-dark"
        self.site_keys = site_keymap(ctx.settings)  # a wrong binding id: one config error

    @property
    def is_readonly(self) -> bool:
        return self.readonly or self.actor.role == "viewer"

    def get_default_screen(self) -> Screen:
        return MainScreen()

    def on_mount(self) -> None:
        self.title = self.ctx.settings.site_name
        if self.site_keys:
            self.set_keymap(self.site_keys)
        self.tick()
        self.refresh_team()
        # the first refresh_counters comes from MainScreen once its queue has painted
        self.set_interval(1, self.tick)
        self.set_interval(60, self.refresh_team)
        self.set_interval(15, self.refresh_counters)  # overdue counts move with time
        if self.live:
            if self.ctx.db_url:
                self.follow_feed()
            else:
                self.set_interval(self.ctx.settings.feed_ms / 1000, self.poll_changes)
            if not self.readonly:
                self.set_interval(self.ctx.settings.sweep_seconds, self.sweep_now)
        self.watch_terminal(self.probe_seconds)

    def publish(self, **what: Any) -> None:
        self.published.publish(Published(**what))

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification is made terminal-safe here, and shown without Rich markup:
        messages quote the data (a stale version names who acted, a title is quoted), and no
        locale string uses markup."""
        del markup  # always literal
        super().notify(visible(message), title=visible(title), severity=severity,
                       timeout=timeout, markup=False)

    # ------------------------------------------------------------------ timers

    def tick(self) -> None:
        """Every second: the clock, and the countdowns on screen (no database work)."""
        self.header_state = self.header_state.with_(clock=clock_text(self))
        self.publish(header=True, tick=True)

    @work(thread=True, exclusive=True, group="team")
    def refresh_team(self) -> None:
        team = guarded(self, "refresh_team", queries.header_team, self.ctx.now())
        if team is not None:
            self.call_from_thread(self._set_header, team=team)
            from screens.handover import roster_alerts  # a shift without leader/officer

            roster_alerts(self)

    @work(thread=True, exclusive=True, group="counters")
    def refresh_counters(self) -> None:
        now = self.ctx.now()
        counts = guarded(self, "refresh_counters",
                         lambda: {k: queries.counters(k, now, cap=HEADER_CAP, unit=self.unit)
                                  for k in ("report", "work_order", "supervision")})
        if counts is not None and not get_current_worker().is_cancelled:
            self.call_from_thread(self._set_header, counters=counts)

    def _set_header(self, **state: Any) -> None:
        self.header_state = self.header_state.with_(**state)
        self.publish(header=True)

    @work(thread=True, exclusive=True, group="sweep")
    def sweep_now(self) -> None:
        """The auto-escalation sweep (idempotent across consoles); the feed shows its events."""
        if self.db_error:
            return  # the probe brings the database back; the next sweep then runs
        guarded(self, "sweep", sweep.auto_escalate, self.ctx)
        if not self.live:
            self.call_from_thread(self.poll_changes)

    # ------------------------------------------------------------------ health

    def db_answered(self) -> None:
        """A read or an action went through: if we were waiting for the database, it is back."""
        if self.db_error:
            self.db_recovered()

    def db_failed(self, why: str) -> None:
        """The database cannot be reached: banner on, probe with backoff until it answers."""
        if not self.db_error:
            logs.get("app").warning("database unreachable: %s", why)
            self._retry_delay = RETRY_FIRST
        self.db_error = why or "?"
        self._set_header(unreachable=self.db_error)
        if self._probe_timer is None:
            self._probe_timer = self.set_timer(self._retry_delay, self._probe)

    def _probe(self) -> None:
        self._probe_timer = None
        self._run_probe()

    @work(thread=True, exclusive=True, group="probe")
    def _run_probe(self) -> None:
        try:
            with database.connection_context():
                database.execute_sql("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - still down (or worse): report, retry later
            report_failure(self, exc, "probe")
            self.call_from_thread(self._backoff)
            return
        self.call_from_thread(self.db_recovered)

    def _feed_state(self, why: str) -> None:
        if why:
            logs.get("app").warning("change feed cannot reach the database: %s", why)
        self.feed_error = why
        self._set_header(unreachable=self.db_error or why)

    def _backoff(self) -> None:
        self._retry_delay = min(self._retry_delay * 2, RETRY_MAX)

    def db_recovered(self) -> None:
        if not self.db_error:
            return
        logs.get("app").warning("database answers again")
        self.db_error = ""
        self._retry_delay = RETRY_FIRST
        if self._probe_timer is not None:
            self._probe_timer.stop()
            self._probe_timer = None
        self.header_state = self.header_state.with_(unreachable=self.feed_error)
        self.publish(header=True, reconnected=True)
        self.refresh_counters()
        self.refresh_team()
        if not self.live:
            self.poll_changes()

    def unexpected(self, ref: str, error: str) -> None:
        """An unexpected error (already logged under ``ref``): say so; keep running."""
        self.errors.append(ref)
        if not isinstance(self.screen, ErrorDialog):
            self.push_screen(ErrorDialog(ref, error))

    def _handle_exception(self, error: Exception) -> None:
        """Textual's last resort.  A failed worker: a logged dialog, the console runs on.
        Anything else left a widget dead: log it, leave with CRASHED and one line (never
        the traceback Textual would print on the officer's terminal)."""
        if isinstance(error, WorkerFailed):
            try:
                raise error.error
            except Exception as inner:  # noqa: BLE001 - re-raised only to log its traceback
                ref = logs.report("worker failed", logger=logs.get("app"))
                self.unexpected(ref, str(inner) or type(inner).__name__)
            return
        try:
            raise error
        except Exception:  # noqa: BLE001 - re-raised only to log its traceback
            ref = logs.report("console crashed", logger=logs.get("app"))
        self.crash_line = t("health.crashed", error=type(error).__name__, ref=ref,
                            log=logs.log_path())
        self._return_code = CRASHED
        if self._exception is None:  # Pilot re-raises it in tests
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()

    # ------------------------------------------------------------------ change feed

    def changes_since(self, last_id: int) -> list[Change]:
        """The one place that asks "what changed?" (thread).  console/feed.py can replace it."""
        return [_change(e, e.note) for e in queries.events_after(last_id, 500)]

    @work(thread=True, exclusive=True, group="livefeed")
    def follow_feed(self) -> None:
        """The change feed on its own connection (data_version / LISTEN), for the app's life.

        While the database cannot be reached the header says so; the feed keeps
        retrying and, once back, catches up on every event it missed.
        """
        from console.feed import ChangeFeed

        worker = get_current_worker()
        feed = ChangeFeed(self.ctx.db_url)
        timeout = self.ctx.settings.feed_ms / 1000
        was: bool | None = None
        try:
            while not worker.is_cancelled:
                try:
                    was = self._feed_round(feed, timeout, was)
                except Exception as exc:  # noqa: BLE001 - reported; the feed goes on
                    report_failure(self, exc, "feed")
                    feed.close()
                    time.sleep(min(timeout, 1.0))
        finally:
            feed.close()

    def _feed_round(self, feed: Any, timeout: float, was: bool | None) -> bool:
        events = feed.poll(timeout)
        if feed.connected != was:  # the feed's own connection: its own retry (feed.poll)
            self.call_from_thread(self._feed_state, "" if feed.connected else feed.error or "?")
        if feed.connected and self.last_event_id is None:
            self.call_from_thread(self._changed, feed.last_id or 0, [])
        if events:
            changes = [_change(e) for e in events]
            self.call_from_thread(self._changed, changes[-1].id, self.unit_scoped(changes))
        return feed.connected

    def unit_scoped(self, changes: list[Change]) -> list[Change]:
        """A unit liaison's console drops the alerting events of other units' items (thread:
        one indexed probe per such event), so its banner names its own unit's items only."""
        if self.unit is None:
            return changes
        from console.queue_filter import QueueFilter

        return [c for c in changes if c.action not in UNIT_ALERTS
                or c.kind not in queries.UNIT_KINDS
                or queries.in_view(QueueFilter(c.kind, unit=self.unit), c.item_id)]

    @work(thread=True, exclusive=True, group="feed")
    def poll_changes(self) -> None:
        def read() -> tuple[int, list[Change]]:
            if self.last_event_id is None:
                return queries.last_event_id(), []
            changes = self.changes_since(self.last_event_id)
            return ((changes[-1].id if changes else self.last_event_id),
                    self.unit_scoped(changes))

        got = guarded(self, "poll_changes", read)
        if got is not None:
            self.call_from_thread(self._changed, *got)

    def _changed(self, last: int, changes: list[Change]) -> None:
        if self.last_event_id is not None and last <= self.last_event_id and not changes:
            return
        self.last_event_id = last
        if not changes:
            return
        until = time.monotonic() + FLASH_SECONDS
        for c in changes:
            self._maybe_alert(c)
            if c.console != self.ctx.console:  # others' changes flash where they show
                self.flashing[(c.kind, c.item_id)] = until
        self.publish(kinds=frozenset(c.kind for c in changes),
                     items=frozenset((c.kind, c.item_id) for c in changes),
                     changes=tuple(changes))
        self.refresh_counters()

    def others_change(self, published: Published, kind: str, item_id: int) -> Change | None:
        """The last change to an item made on another console, if ``published`` has one."""
        others = [c for c in published.changes if (c.kind, c.item_id) == (kind, item_id)
                  and c.console != self.ctx.console]
        return others[-1] if others else None

    def _maybe_alert(self, c: Change) -> None:
        if c.action in ("acknowledge", "close"):  # handled, here or on another console
            self.drop_alerts({(c.kind, c.item_id)})
            return
        if self.unit is not None and c.kind not in queries.UNIT_KINDS:
            return  # a unit liaison is not alerted about the room's reports (its own: _read)
        message = None
        if c.action == "create" and c.kind == "report" and (c.after or {}).get("level") in (
                "I", "II") and not (c.console == self.ctx.console and c.actor == self.actor.login):
            message = t("ui.alert.new_major", ref=c.ref, level=label("level", c.after["level"]),
                        title=(c.after or {}).get("title", ""))
        elif c.action == "auto_escalate":
            message = t("ui.alert.missed_ack", ref=c.ref, step=_step_after(c))
        elif c.action == "overdue":
            message = t("ui.alert.overdue", ref=c.ref)
        elif c.action in UNIT_DESK_ALERTS:
            message = t(f"unitdesk.alert.{c.action}", ref=c.ref)
        if message is None:
            return
        at = fmt.local(self.ctx.now(), self.ctx.settings.tz, "%H:%M")
        self.alerts.append(Alert(c.kind, c.item_id, c.ref, message, at))
        self.alert_ids.setdefault(c.kind, set()).add(c.item_id)
        if self.ctx.settings.bell:
            self.bell()
        self.publish(alerts=True)

    def is_flashing(self, kind: str, item_id: int) -> bool:
        until = self.flashing.get((kind, item_id))
        if until is None:
            return False
        if until < time.monotonic():
            del self.flashing[(kind, item_id)]
            return False
        return True

    def ack_alerts(self) -> None:
        """A: the alert list (screens/alerts.py); acknowledging there clears the alerts."""
        from screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):  # it also lists what the DB holds
            self.push_screen(AlertsScreen())

    def drop_alerts(self, keys: Iterable[tuple[str, int]]) -> None:
        """The items ``keys`` were handled (acknowledged, closed): their alerts go."""
        gone = set(keys)
        if not any(i in self.alert_ids.get(k, ()) for k, i in gone):
            return
        self.alerts = [a for a in self.alerts if (a.kind, a.item_id) not in gone]
        self.alert_ids = {}
        for a in self.alerts:
            self.alert_ids.setdefault(a.kind, set()).add(a.item_id)
        self.publish(alerts=True)

    # ------------------------------------------------------------------ after an action

    def data_changed(self, kind: str, item_id: int) -> None:
        """This console changed something: re-read what shows it (the feed also will)."""
        self.publish(kinds=frozenset({kind}), items=frozenset({(kind, item_id)}))
        self.refresh_counters()

    def open_detail(self, kind: str, item_id: int) -> None:
        """Show an item: one installed DetailScreen is re-targeted (composed once per app)."""
        screen = getattr(self, "_detail_screen", None)
        if screen is None or screen in self.screen_stack:
            if screen is None:
                screen = self._detail_screen = DetailScreen(kind, item_id)
                self.install_screen(screen, name="detail")
            else:  # already showing (opened again from the detail): a fresh one on top
                screen = DetailScreen(kind, item_id)
        screen.show(kind, item_id)
        self.push_screen(screen)

    def action_command_palette(self) -> None:
        """Textual's palette with its search line in the interface language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette",
                                            placeholder=t("ui.palette.placeholder")))

    def push_help(self) -> None:
        from screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def toggle_contrast(self) -> None:
        self.theme = "dutyroom-dark" if self.theme == "dutyroom-contrast" else "dutyroom-contrast"


def _step_after(c: Change) -> str:
    step = (c.after or {}).get("step")
    return str(step + 1) if isinstance(step, int) else "—"


def run_console(ctx: Context, actor: Actor, *, readonly: bool = False,
                headless: bool = False, mouse: bool = True) -> int:
    """Open the console full screen (the database is open and migrated); its exit status.

    A crash is logged and leaves one line on the terminal (``DutyApp.crash_line``).
    """
    app = DutyApp(ctx, actor, readonly=readonly)
    if not headless:
        app.probe_seconds = ctx.settings.terminal_probe_seconds
    app.run(headless=headless, mouse=mouse)  # --no-mouse: no mouse reports on a slow link
    if app.crash_line:
        print(f"dutyroom: {app.crash_line}", file=sys.stderr)
    return app.return_code or 0
