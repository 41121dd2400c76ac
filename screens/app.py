"""DutyApp: themes, the palette, alerts, and the timers (clock, change feed, sweep).

``run_console(ctx, actor)`` is what ``dutyroom`` calls once the database is
open and migrated.  All database work happens in thread workers; the event
loop only draws.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import get_current_worker

from console import queries, sweep
from console.context import Actor, Context
from console.i18n import label, t
from screens import fmt
from screens.dbwork import in_db
from screens.detail import DetailScreen
from screens.keymap import ITEM_KEYS
from screens.queues import MainScreen
from screens.widgets.alerts import Alert, AlertBanner
from screens.widgets.header import DutyHeader, clock_text

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


class DutyCommands(Provider):
    """Every action in the command palette (Ctrl+P), acting on the current item."""

    def _commands(self) -> Iterable[tuple[str, str, Any]]:
        screen = self.screen
        app = self.app
        if hasattr(screen, "start_flow"):
            for k in ITEM_KEYS:
                yield (f"{t('ui.verb.' + k.verb)}  · {k.key}", t("ui.palette.item"),
                       partial(screen.action_item, k.verb))
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
                                         ("admin", "ui.key.admin", "M")):
                yield (f"{t(key)}  · {keyname}", "", partial(screen.run_action, action))
        if isinstance(screen, DetailScreen):
            yield (f"{t('ui.key.checklist')}  · k", "", screen.action_checklist)
            yield (f"{t('ui.key.end_plan')}  · P", "", screen.action_end_plan)
        yield (f"{t('ui.key.ack_alerts')}  · A", "", app.ack_alerts)
        yield (t("ui.palette.contrast"), "", app.toggle_contrast)
        yield (f"{t('ui.key.help')}  · ?", "", partial(app.push_help))

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text or None)


class DutyApp(App):
    """The duty console."""

    CSS_PATH = ["app.tcss", "queues.tcss", "forms.tcss", "detail.tcss"]
    COMMANDS = App.COMMANDS | {DutyCommands}
    TITLE = "dutyroom"
    BINDINGS = [Binding("ctrl+q", "quit", "ui.key.quit", show=False, priority=True,
                        id="app.quit")]

    def __init__(self, ctx: Context, actor: Actor, *, readonly: bool = False,
                 live: bool = True) -> None:
        super().__init__()
        self.ctx, self.actor = ctx, actor
        self.readonly = readonly
        self.live = live  # False in tests: no feed polling or sweep timers (called directly)
        self.alerts: list[Alert] = []
        self.alert_ids: dict[str, set[int]] = {}
        self.last_event_id: int | None = None
        self.flashing: dict[tuple[str, int], float] = {}  # (kind, id) → until (monotonic)
        for theme in THEMES:
            self.register_theme(theme)
        wanted = ctx.settings.theme
        self.theme = wanted if wanted in self.available_themes else "dutyroom-dark"

    @property
    def is_readonly(self) -> bool:
        return self.readonly or self.actor.role == "viewer"

    def get_default_screen(self) -> Screen:
        return MainScreen()

    @property
    def main_screen(self) -> MainScreen:
        return next(s for s in self.screen_stack if isinstance(s, MainScreen))

    def on_mount(self) -> None:
        self.title = self.ctx.settings.site_name
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

    # ------------------------------------------------------------------ timers

    def _headers(self) -> list[DutyHeader]:
        return [h for s in self.screen_stack for h in s.query(DutyHeader)]

    def tick(self) -> None:
        """Every second: the clock, and the countdowns on screen (no database work)."""
        text = clock_text(self)
        for header in self._headers():
            header.clock = text
        refresh = getattr(self.screen, "refresh_rows", None)
        if refresh is not None:
            refresh()

    @work(thread=True, exclusive=True, group="team")
    def refresh_team(self) -> None:
        team = in_db(queries.duty_team, self.ctx.now())
        self.call_from_thread(self._set_header, "team", team)

    @work(thread=True, exclusive=True, group="counters")
    def refresh_counters(self) -> None:
        now = self.ctx.now()
        counts = in_db(lambda: {k: queries.counters(k, now, cap=HEADER_CAP)
                                for k in ("report", "work_order", "supervision")})
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._set_header, "counters", counts)

    def _set_header(self, name: str, value: Any) -> None:
        self._header_state = getattr(self, "_header_state", {})
        self._header_state[name] = value
        for header in self._headers():
            setattr(header, name, value)

    def apply_header_state(self, header: DutyHeader) -> None:
        for name, value in getattr(self, "_header_state", {}).items():
            setattr(header, name, value)
        header.clock = clock_text(self)

    @work(thread=True, exclusive=True, group="sweep")
    def sweep_now(self) -> None:
        """The auto-escalation sweep (idempotent across consoles); the feed shows its events."""
        try:
            in_db(sweep.auto_escalate, self.ctx)
        except Exception:  # noqa: BLE001 - a busy database: the next sweep tries again
            return
        if not self.live:
            self.call_from_thread(self.poll_changes)

    # ------------------------------------------------------------------ change feed

    def changes_since(self, last_id: int) -> list[Change]:
        """The one place that asks "what changed?" (thread).  console/feed.py can replace it."""
        return [Change(e.id, e.item_kind, e.item_id, e.item_ref, e.action, e.actor,
                       e.actor_name, e.console, e.after, e.note)
                for e in queries.events_after(last_id, 500)]

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
        was = None
        try:
            while not worker.is_cancelled:
                events = feed.poll(timeout)
                state = "" if feed.connected else (feed.error or "?")
                if state != was:
                    was = state
                    self.call_from_thread(self._set_header, "unreachable", state)
                if feed.connected and self.last_event_id is None:
                    self.call_from_thread(self._changed, feed.last_id or 0, [])
                if events:
                    changes = [Change(e.id, e.item_kind, e.item_id, e.item_ref, e.action,
                                      e.actor, e.actor_name, e.console, e.after, "")
                               for e in events]
                    self.call_from_thread(self._changed, changes[-1].id, changes)
        finally:
            feed.close()

    @work(thread=True, exclusive=True, group="feed")
    def poll_changes(self) -> None:
        def read() -> tuple[int, list[Change]]:
            if self.last_event_id is None:
                return queries.last_event_id(), []
            changes = self.changes_since(self.last_event_id)
            return (changes[-1].id if changes else self.last_event_id), changes

        try:
            last, changes = in_db(read)
        except Exception:  # noqa: BLE001 - unreachable database: keep polling
            return
        self.call_from_thread(self._changed, last, changes)

    def _changed(self, last: int, changes: list[Change]) -> None:
        if self.last_event_id is not None and last <= self.last_event_id and not changes:
            return
        self.last_event_id = last
        if not changes:
            return
        touched = {(c.kind, c.item_id) for c in changes}
        until = time.monotonic() + FLASH_SECONDS
        for c in changes:
            self._maybe_alert(c)
            if c.console != self.ctx.console:  # others' changes flash where they show
                self.flashing[(c.kind, c.item_id)] = until
        for kind in {k for k, _i in touched}:
            self._reload_kind(kind)
        for screen in self.screen_stack:
            if isinstance(screen, DetailScreen) and (screen.kind, screen.item_id) in touched:
                others = [c for c in changes if (c.kind, c.item_id) == (screen.kind,
                          screen.item_id) and c.console != self.ctx.console]
                if others and screen is self.screen:
                    c = others[-1]
                    self.notify(t("ui.msg.changed_by", ref=c.ref, action=label("done", c.action),
                                  who=c.actor_name or c.actor))
                screen.reload()
        self.refresh_counters()

    def _maybe_alert(self, c: Change) -> None:
        message = None
        if c.action == "create" and c.kind == "report" and (c.after or {}).get("level") in (
                "I", "II") and not (c.console == self.ctx.console and c.actor == self.actor.login):
            message = t("ui.alert.new_major", ref=c.ref, level=label("level", c.after["level"]),
                        title=(c.after or {}).get("title", ""))
        elif c.action == "auto_escalate":
            message = t("ui.alert.missed_ack", ref=c.ref, step=_step_after(c))
        elif c.action == "overdue":
            message = t("ui.alert.overdue", ref=c.ref)
        if message is None:
            return
        at = fmt.local(self.ctx.now(), self.ctx.settings.tz, "%H:%M")
        self.alerts.append(Alert(c.kind, c.item_id, c.ref, message, at))
        self.alert_ids.setdefault(c.kind, set()).add(c.item_id)
        if self.ctx.settings.bell:
            self.bell()
        self._sync_banners()

    def is_flashing(self, kind: str, item_id: int) -> bool:
        until = self.flashing.get((kind, item_id))
        if until is None:
            return False
        if until < time.monotonic():
            del self.flashing[(kind, item_id)]
            return False
        return True

    def ack_alerts(self) -> None:
        if not self.alerts:
            self.notify(t("ui.alert.none"))
            return
        self.alerts.clear()
        self.alert_ids.clear()
        self._sync_banners()
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                for item_list in screen.lists():
                    item_list.refresh()

    def _sync_banners(self) -> None:
        for screen in self.screen_stack:
            for banner in screen.query(AlertBanner):
                banner.sync()

    # ------------------------------------------------------------------ after an action

    def _reload_kind(self, kind: str) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.reload(kind)

    def data_changed(self, kind: str, item_id: int) -> None:
        """This console changed something: re-read what shows it (the feed also will)."""
        self._reload_kind(kind)
        for screen in self.screen_stack:
            if isinstance(screen, DetailScreen) and (screen.kind, screen.item_id) == (kind,
                                                                                    item_id):
                screen.reload()
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

    def push_help(self) -> None:
        from screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def toggle_contrast(self) -> None:
        self.theme = "dutyroom-dark" if self.theme == "dutyroom-contrast" else "dutyroom-contrast"


def _step_after(c: Change) -> str:
    step = (c.after or {}).get("step")
    return str(step + 1) if isinstance(step, int) else "—"


def run_console(ctx: Context, actor: Actor, *, readonly: bool = False) -> None:
    """Open the console full screen (the database is open and migrated)."""
    DutyApp(ctx, actor, readonly=readonly).run()
