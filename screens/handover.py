"""交接班 to the 三清 standard: the handover screen (``H``).

It shows the shift being handed over and the next one, the three 清 (to fill in or
to confirm), the items handed over, the roster warnings and the report.  ``h`` hands
over (交班: a person on the shift), ``a`` accepts (接班: a person on the next shift,
confirming each 清), ``t`` takes over for an absent officer (接管, with a reason),
``w`` saves the report where the officer says (pre-filled with the archive path).
Reads and actions run in thread workers; each step is one ``console.actions`` call
with the version the screen showed, and the report is then archived.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import get_current_worker

from console import actions, logs, shiftwork
from console.context import Context
from console.errors import DutyError
from console.handover import archive, archive_path, handover_report, save_report
from console.handover_cli import result_line
from console.i18n import label, t
from console.textsafe import one_line, visible
from screens import fmt
from screens.dbwork import first_line, in_db, report_failure, run_db
from screens.forms import ActionPrompt, Field, FormScreen
from screens.keymap import DutyScreen
from screens.widgets.alerts import Alert, AlertBanner
from screens.widgets.footer import DutyFooter
from screens.widgets.header import DutyHeader

THREE = ("situation", "problems", "tasks")


@dataclass(frozen=True)
class HandoverView:
    """What the screen shows, read in one worker: plain values, text made safe."""

    report: str
    generated_at: dt.datetime
    shift_id: int | None
    shift_ref: str | None
    version: int
    submitted: bool
    done: bool  # accepted or taken over
    taken_over: bool  # … taken over (接管), with a reason
    incoming_ref: str | None
    three: dict[str, str]
    my_post: str | None
    my_next_post: str | None
    warnings: tuple[str, ...]
    summary: str  # pre-fills 情况清
    archive: str
    teams: tuple[str, str] = ("", "")  # the outgoing and the incoming team, by post and name


def read_handover(ctx: Context, actor: Any) -> HandoverView:
    now = ctx.now()
    st = shiftwork.state(ctx, actor.login, now)
    s = st.shift
    three = {name: visible(getattr(s, name) or "") for name in THREE} if s else {}
    counts = {"report": 0, "work_order": 0, "supervision": 0, "scheduled": 0}
    for kind, _id, _ref in st.items:
        counts[kind] = counts.get(kind, 0) + 1
    summary = t("ui.handover_three.summary", reports=fmt.count("report", counts["report"]),
                orders=fmt.count("work_order", counts["work_order"]),
                items=fmt.count("supervision", counts["supervision"]))
    if counts["scheduled"]:  # 定期报送 are handed over too: the figures add up to the list
        summary = t("ui.handover_three.summary_more", summary=summary,
                    more=fmt.count("scheduled", counts["scheduled"]))
    return HandoverView(visible(handover_report(ctx, now, actor)), now,
                        s.id if s else None, s.ref if s else None, s.version if s else 0,
                        bool(s and s.handed_over_at), bool(s and s.accepted_at),
                        bool(s and s.takeover_reason),
                        st.incoming.ref if st.incoming else None, three, st.my_post,
                        st.my_next_post, tuple(st.warnings), summary,
                        str(archive_path(ctx, s.ref if s else None, now)),
                        (st.team, st.incoming_team))


def roster_alerts(app: Any) -> None:
    """In the console's team refresh (thread): each roster warning once per console."""
    try:
        lines = in_db(shiftwork.warnings, app.ctx, app.ctx.now())
    except Exception:  # noqa: BLE001 - the header's own read reports an outage
        logs.get("handover").debug("roster warnings not read", exc_info=True)
        return
    seen = app.__dict__.setdefault("_roster_warned", set())
    new = [w for w in lines if w not in seen]
    if not new:
        return
    seen.update(new)
    at = fmt.local(app.ctx.now(), app.ctx.settings.tz, "%H:%M")

    def post() -> None:
        for w in new:
            app.alerts.append(Alert("shift", 0, "", w, at))
        app.publish(alerts=True)

    app.call_from_thread(post)


class HandoverScreen(DutyScreen):
    """The handover; h 交班, a 接班, t 接管, w save, Ctrl+R regenerate."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "ui.key.back", id="handover.back"),
        Binding("h", "submit", "ui.handover.key_hand_over", id="handover.hand_over"),
        Binding("a", "accept", "ui.handover_three.key_accept", id="handover.accept"),
        Binding("t", "take_over", "ui.handover_three.key_take_over", id="handover.take_over"),
        Binding("w", "write_file", "ui.handover.key_write", id="handover.write"),
        Binding("ctrl+r", "reload", "ui.key.reload", id="handover.reload"),
    ]

    DEFAULT_CSS = """
    #handover-status { height: auto; padding: 0 1; background: $surface; }
    #handover-body { height: 1fr; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="handover")
        self.data: HandoverView | None = None
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
            data = in_db(read_handover, app.ctx, app.actor)
        except Exception as exc:  # noqa: BLE001 - a busy or unreachable database: say so
            report_failure(app, exc, "handover")
            app.call_from_thread(self._failed, exc)
            return
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self._loaded, data)

    def _failed(self, exc: Exception) -> None:
        self.query_one("#handover-status", Static).update(
            Text(t("ui.error.unexpected", error=str(exc) or type(exc).__name__), style="red"))

    def _loaded(self, data: HandoverView) -> None:
        self.data = data
        self.query_one("#handover-text", Static).update(Text(data.report))
        self.query_one("#handover-status", Static).update(self.status_text())

    def status_text(self) -> Text:
        d = self.data
        if d is None:
            return Text(t("ui.list.loading"))
        if d.shift_ref is None:
            line = Text(t("ui.handover.no_shift"), style="dim")
        else:
            line = Text(t("ui.handover_three.shift", ref=d.shift_ref,
                          next=d.incoming_ref or "—"), style="bold")
            line.append("  ")
            state, style = self._state(d)
            line.append(state, style=style)
            line.append("\n" + self._you(d), style="dim")
        for w in d.warnings:
            line.append("\n⚠ " + w, style="#ffaf00")
        return line

    def _state(self, d: HandoverView) -> tuple[str, str]:
        if d.done:
            key = "state_taken" if d.taken_over else "state_done"
            return t(f"ui.handover_three.{key}"), "bold green"
        if d.submitted:
            return t("ui.handover_three.state_submitted"), "#ffaf00"
        return t("ui.handover_three.state_open"), "#ffaf00"

    def _you(self, d: HandoverView) -> str:
        if d.my_post:
            return t("ui.handover_three.you_out", post=label("field", d.my_post))
        if d.my_next_post:
            key = "you_in_done" if d.done else "you_in"
            return t(f"ui.handover_three.{key}", post=label("field", d.my_next_post))
        return t("ui.handover_three.you_none")

    def action_reload(self) -> None:
        self.load(self.app)

    # ------------------------------------------------------------------ the steps

    def _can_act(self) -> HandoverView | None:
        app: Any = self.app
        if self.busy or self.data is None:
            return None
        if app.is_readonly or app.actor.role == "viewer":
            app.notify(t("error.readonly", who=app.actor.name), severity="warning")
            return None
        if self.data.shift_id is None:
            app.notify(t("ui.handover.nothing"), severity="warning")
            return None
        return self.data

    def _on_shift(self, what: str) -> bool:
        """Before the form is typed: only the outgoing shift submits, only the incoming one
        accepts or takes over (actions/shifts.py checks again when it is saved)."""
        d = self._can_act()
        if d is None:
            return False
        post, ref, team = ((d.my_post, d.shift_ref, d.teams[0]) if what == "submit"
                           else (d.my_next_post, d.incoming_ref, d.teams[1]))
        if post is None:
            self.app.notify(shiftwork.not_on(what, self.app.actor.name, ref, team),
                            markup=False, severity="error")
        return post is not None

    def action_submit(self) -> None:
        if self._on_shift("submit"):
            self.run_worker(self._submit(), group="flow", exit_on_error=False)

    def action_accept(self) -> None:
        if self._on_shift("accept"):
            self.run_worker(self._accept(), group="flow", exit_on_error=False)

    def action_take_over(self) -> None:
        if self._on_shift("take_over"):
            self.run_worker(self._take_over(), group="flow", exit_on_error=False)

    async def _submit(self) -> None:
        app: Any = self.app
        d = self.data
        assert d is not None
        ctx, actor = app.ctx, app.actor
        fields = [Field("situation", label("field", "situation"), required=True,
                        default=d.three.get("situation") or d.summary),
                  Field("problems", label("field", "problems"), required=True,
                        default=d.three.get("problems", "")),
                  Field("tasks", label("field", "tasks"), required=True,
                        default=d.three.get("tasks", ""))]

        def submit(v: dict[str, Any]) -> Any:
            shift = actions.submit_handover(ctx, actor, d.shift_id, situation=v["situation"],
                                            problems=v["problems"], tasks=v["tasks"],
                                            expected_version=d.version)
            archive(ctx, actor, shift.ref)
            return SimpleNamespace(KIND="shift", id=shift.id, ref=shift.ref, shift=shift)

        await self._step(FormScreen(t("ui.handover_three.submit_title", ref=d.shift_ref),
                                    fields, submit,
                                    subtitle=t("ui.handover_three.submit_hint")),
                         lambda: t("ui.handover_three.submitted", ref=d.shift_ref))

    async def _accept(self) -> None:
        app: Any = self.app
        d = self.data
        assert d is not None
        ctx, actor = app.ctx, app.actor
        fields = [Field(name, t("ui.handover_three.confirm", what=label("field", name)),
                        "bool", required=True) for name in THREE]
        shown = "\n".join(t("handover.three_line", what=label("field", name),
                            text=one_line(d.three.get(name) or "—")[:200]) for name in THREE)
        fields.append(Field("note", t("field.note")))
        done: list[Any] = []

        def submit(v: dict[str, Any]) -> Any:
            result = actions.accept_handover(ctx, actor, d.shift_id, note=v["note"],
                                             confirmed=[n for n in THREE if v[n]],
                                             expected_version=d.version)
            archive(ctx, actor, result.shift.ref)
            done.append(result)
            return SimpleNamespace(KIND="shift", id=result.shift.id, ref=result.shift.ref)

        await self._step(FormScreen(t("ui.handover_three.accept_title", ref=d.shift_ref),
                                    fields, submit,
                                    subtitle=shown + "\n" + t("ui.handover_three.accept_hint")),
                         lambda: result_line(done[0], actor.name))

    async def _take_over(self) -> None:
        app: Any = self.app
        d = self.data
        assert d is not None
        res = await app.push_screen_wait(ActionPrompt(
            t("ui.handover_three.take_over_title", ref=d.shift_ref),
            t("ui.handover_three.take_over_hint"), text_required=True,
            text_label=t("field.reason")))
        if res is None:
            return
        ctx, actor = app.ctx, app.actor

        def call() -> str:
            result = actions.take_over_shift(ctx, actor, d.shift_id, reason=res.text,
                                             expected_version=d.version)
            archive(ctx, actor, result.shift.ref)
            return result_line(result, actor.name)

        self.busy = True
        try:
            line = await run_db(self, call)
        except DutyError as exc:
            app.notify(str(exc), markup=False, severity="error", timeout=10)
            return
        except Exception as exc:  # noqa: BLE001 - a line for the officer, not a traceback
            app.notify(t("ui.error.unexpected", error=first_line(exc)), severity="error")
            return
        finally:
            self.busy = False
            self.load(app)
        self._changed(line)

    async def _step(self, form: FormScreen, message: Any) -> None:
        app: Any = self.app
        self.busy = True
        try:
            res = await app.push_screen_wait(form)
        finally:
            self.busy = False
        self.load(app)
        if res is not None:
            self._changed(message())

    def _changed(self, line: str) -> None:
        app: Any = self.app
        app.notify(line, timeout=10)  # the lists refresh from the change feed
        if hasattr(app, "refresh_team"):
            app.refresh_team()

    # ------------------------------------------------------------------ save to a file

    def action_write_file(self) -> None:
        if self.data is not None and not self.busy:
            self.run_worker(self._write_file(), group="flow", exit_on_error=False)

    async def _write_file(self) -> None:
        app: Any = self.app
        assert self.data is not None
        self.busy = True
        try:
            res = await app.push_screen_wait(ActionPrompt(
                t("ui.handover_three.write_title"), t("ui.handover_three.write_hint"),
                text_label=t("ui.handover_three.write_label"), text_required=True,
                text_default=self.data.archive))
        finally:
            self.busy = False
        if res is None:
            return
        text, target = self.data.report, res.text.strip()
        ours = target == self.data.archive  # the archive folder is made when missing
        try:
            path = await run_db(self, save_report, target, text, make_dir=ours)
        except DutyError as exc:
            app.notify(str(exc), markup=False, severity="error", timeout=10)
            return
        app.notify(t("ui.handover.written", path=str(path)), timeout=8)
