"""交接班: the handover report of the current shift, handing over, saving the report to a file.

``H`` on the main screen opens it.  The report (console.handover.handover_report)
and the shift, the next shift and the roster are read in a thread worker; the
handover itself is one ``actions.handover`` call with the version the screen
showed, so a shift someone else handed over in between is refused, not doubled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import WorkerFailed, get_current_worker

from console import actions, queries, rules
from console.context import Context
from console.errors import DutyError
from console.handover import handover_report
from console.i18n import label, t
from console.models import Person, Shift
from screens import fmt
from screens.dbwork import in_db, run_db
from screens.forms import ActionPrompt
from screens.keymap import localize_bindings
from screens.widgets.alerts import AlertBanner
from screens.widgets.footer import DutyFooter
from screens.widgets.header import DutyHeader

NOBODY = "__nobody__"  # the "not named" choice in the takeover list


@dataclass(frozen=True)
class ShiftInfo:
    """The current shift as the screen showed it (plain data, no ORM)."""

    id: int
    ref: str
    version: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    handed_over_at: dt.datetime | None
    handed_over_by: str | None
    taken_over_by: str | None
    note: str


@dataclass(frozen=True)
class HandoverData:
    report: str
    generated_at: dt.datetime
    shift: ShiftInfo | None
    next_ref: str | None
    next_primary: str | None  # login of the next shift's 主班
    roster: tuple[tuple[str, str, str], ...]  # (login, name, role) of active non-viewers
    names: dict[str, str]  # login → name, for the status line
    summary: str  # the one-line pre-filled handover note


def read_handover(ctx: Context) -> HandoverData:
    """Everything the screen shows (thread; one connection)."""
    now = ctx.now()
    report = handover_report(ctx, now)
    team = queries.duty_team(now)
    cur = team.shift
    shift = None
    if cur is not None:
        shift = ShiftInfo(cur.id, cur.ref, cur.version, cur.starts_at, cur.ends_at,
                          cur.handed_over_at, cur.handed_over_by, cur.taken_over_by,
                          cur.handover_note or "")
    after = cur.starts_at if cur is not None else now
    nxt = (Shift.select().where(Shift.starts_at > after).order_by(Shift.starts_at).first())
    next_primary = None
    if nxt is not None and nxt.primary_id:
        person = Person.get_or_none(Person.id == nxt.primary_id)
        next_primary = person.login if person is not None else None
    people = list(Person.select().where(Person.active == True)  # noqa: E712
                  .order_by(Person.login).limit(2000))
    roster = tuple((p.login, p.name, p.role) for p in people if p.role != "viewer")
    open_counts = {k: queries.count(queries.QueueFilter(k)) for k in queries.KINDS}
    overdue = sum(queries.count(queries.QueueFilter(k, overdue_only=True, now=now))
                  for k in queries.KINDS)
    plans = len(queries.active_activations())
    summary = t("ui.handover.summary", reports=open_counts["report"],
                orders=open_counts["work_order"], items=open_counts["supervision"],
                overdue=overdue, plans=plans)
    return HandoverData(report, now, shift, nxt.ref if nxt is not None else None, next_primary,
                        roster, {p.login: p.name for p in people}, summary)


def file_name(data: HandoverData, tz) -> str:
    if data.shift is not None:
        return f"handover-{data.shift.ref}.txt"
    return f"handover-{fmt.local(data.generated_at, tz, '%Y%m%d-%H%M')}.txt"


class HandoverScreen(Screen):
    """The report, scrollable; h hands over, w writes it to a file, Ctrl+R regenerates."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "ui.key.back", id="handover.back"),
        Binding("h", "hand_over", "ui.handover.key_hand_over", id="handover.hand_over"),
        Binding("w", "write_file", "ui.handover.key_write", id="handover.write"),
        Binding("ctrl+r", "reload", "ui.key.reload", id="handover.reload"),
    ]

    DEFAULT_CSS = """
    #handover-status { height: auto; padding: 0 1; background: $surface; }
    #handover-body { height: 1fr; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="handover")
        localize_bindings(self)
        self.data: HandoverData | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield DutyHeader()
        yield AlertBanner()
        yield Static(t("ui.list.loading"), id="handover-status")
        with VerticalScroll(id="handover-body"):
            yield Static("", id="handover-text")
        yield DutyFooter()

    def on_mount(self) -> None:
        self.query_one("#handover-body").focus()
        self.load(self.app)

    # ------------------------------------------------------------------ data

    @work(thread=True, exclusive=True, group="handover")
    def load(self, app) -> None:
        try:
            data = in_db(read_handover, app.ctx)
        except Exception as exc:  # noqa: BLE001 - a busy or unreachable database: say so
            app.call_from_thread(self._failed, exc)
            return
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self._loaded, data)

    def _failed(self, exc: Exception) -> None:
        self.query_one("#handover-status", Static).update(
            Text(t("ui.error.unexpected", error=str(exc) or type(exc).__name__), style="red"))

    def _loaded(self, data: HandoverData) -> None:
        self.data = data
        self.query_one("#handover-text", Static).update(Text(data.report))
        self.query_one("#handover-status", Static).update(self.status_text())

    def _when(self, at: dt.datetime | None) -> str:
        return fmt.local(at, self.app.ctx.settings.tz, "%Y-%m-%d %H:%M") if at else "—"

    def _who(self, login: str | None) -> str:
        if not login:
            return t("ui.handover.nobody")
        assert self.data is not None
        name = self.data.names.get(login)
        return f"{name} ({login})" if name else login

    def status_text(self) -> Text:
        data = self.data
        if data is None:
            return Text(t("ui.list.loading"))
        s = data.shift
        if s is None:
            return Text(t("ui.handover.no_shift"), style="dim")
        line = Text(t("ui.handover.shift", ref=s.ref, start=self._when(s.starts_at),
                      end=self._when(s.ends_at)), style="bold")
        line.append("  ")
        if s.handed_over_at is None:
            line.append(t("ui.handover.open"), style="#ffaf00")
        else:
            line.append(self.recorded_line(), style="bold green")
            if s.note:
                line.append("\n" + t("ui.handover.note_line", note=s.note), style="dim")
        return line

    def recorded_line(self) -> str:
        assert self.data is not None and self.data.shift is not None
        s = self.data.shift
        return t("ui.handover.recorded", at=self._when(s.handed_over_at),
                 by=self._who(s.handed_over_by), to=self._who(s.taken_over_by))

    def action_reload(self) -> None:
        self.load(self.app)

    # ------------------------------------------------------------------ hand over

    def action_hand_over(self) -> None:
        if not self.busy:
            self.run_worker(self._hand_over(), group="flow", exit_on_error=False)

    async def _hand_over(self) -> None:
        app = self.app
        data = self.data
        if app.is_readonly or app.actor.role == "viewer":
            app.notify(t("error.readonly", who=app.actor.name), severity="warning")
            return
        if not rules.role_allows(app.actor.role, "handover"):
            app.notify(t("error.role", who=app.actor.name, role=label("role", app.actor.role),
                         action=label("action", "handover")), severity="error")
            return
        if data is None:
            return
        shift = data.shift
        if shift is None:
            app.notify(t("ui.handover.nothing"), severity="warning")
            return
        if shift.handed_over_at is not None:
            app.notify(t("error.handed_over", ref=shift.ref) + " — " + self.recorded_line(),
                       severity="error")
            return
        choices = [(NOBODY, t("ui.handover.nobody"))]
        choices += [(login, f"{name}  ({login}, {label('role', role)})")
                    for login, name, role in data.roster if login != app.actor.login]
        known = {c[0] for c in choices}
        default = data.next_primary if data.next_primary in known else NOBODY
        hint = (t("ui.handover.next_hint", ref=data.next_ref) if data.next_ref
                else t("ui.handover.no_next"))
        self.busy = True
        try:
            res = await app.push_screen_wait(ActionPrompt(
                t("ui.handover.title", ref=shift.ref), hint, choices=choices,
                choice_default=default, filterable=True, text_label=t("ui.handover.note_label"),
                text_default=data.summary))
            if res is None:
                return
            to_login = "" if res.choice in (None, NOBODY) else res.choice
            ctx, actor = app.ctx, app.actor
            try:
                done = await run_db(self, actions.handover, ctx, actor, shift.id, res.text,
                                    to_login=to_login, expected_version=shift.version)
            except DutyError as exc:
                app.notify(str(exc), markup=False, severity="error", timeout=8)
                self.load(app)
                return
            except Exception as exc:  # noqa: BLE001 - a line for the officer, not a traceback
                app.notify(t("ui.error.unexpected", error=str(exc) or type(exc).__name__),
                           severity="error", timeout=8)
                return
            app.notify(t("ui.handover.done", ref=done.ref, at=self._when(done.handed_over_at),
                         to=self._who(to_login)), timeout=8)
            self.load(app)
            if hasattr(app, "refresh_team"):
                app.refresh_team()
        finally:
            self.busy = False

    # ------------------------------------------------------------------ save to a file

    def file_text(self) -> str:
        assert self.data is not None
        text = self.data.report
        s = self.data.shift
        if s is not None and s.handed_over_at is not None:
            text += "\n\n" + self.recorded_line()
            if s.note:
                text += "\n" + t("ui.handover.note_line", note=s.note)
        return text + "\n"

    async def action_write_file(self) -> None:
        if self.data is None:
            return
        path = Path.cwd() / file_name(self.data, self.app.ctx.settings.tz)
        text = self.file_text()
        worker = self.run_worker(lambda: path.write_text(text, encoding="utf-8"), thread=True,
                                 group="handover-file", exit_on_error=False)
        try:
            await worker.wait()
        except WorkerFailed as failed:
            self.app.notify(t("ui.handover.write_failed", path=str(path),
                              error=str(failed.error)), severity="error", timeout=8)
            return
        self.app.notify(t("ui.handover.written", path=str(path)), timeout=8)
