"""An item in full: fields, stages, instructions, plans with checklists, links, timeline."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from console import actions, merge_queries, queries, rules
from console.errors import DutyError, PermissionDenied
from console.i18n import label, t
from console.queries import ActivationView, Detail
from screens import fmt
from screens.dbwork import run_db, unreachable_now
from screens.eventtext import SYSTEM_NOTES, change_text, names_for
from screens.flows import ItemScreen, Target
from screens.forms import ConfirmScreen
from screens.keymap import DutyModalScreen, item_bindings
from screens.merge_view import with_merge
from screens.widgets.alerts import AlertBanner
from screens.widgets.commandbar import CommandBar
from screens.widgets.footer import DutyFooter, offers_item_key
from screens.widgets.header import DutyHeader

FIELDS = {
    "report": ("level", "category", "subtype", "status", "received_at", "occurred_at", "place",
               "source_unit", "reporter", "reporter_phone", "recorder", "summary", "dead",
               "injured", "missing", "area", "trend", "measures", "requests", "sensitive"),
    "work_order": ("urgency", "type", "status", "received_at", "channel", "caller", "phone",
                   "address", "category", "content", "department", "assisting", "assigned_at",
                   "extensions", "reply", "satisfaction",
                   "accept_due_at", "accepted_at", "returns", "redo_count", "problem_ref"),
    "supervision": ("klass", "status", "registered_at", "source_ref", "department", "content",
                    "result"),
    "scheduled": ("cadence", "topic", "period", "status", "department", "due_at", "grace",
                  "received_at", "received_by", "file_path", "file_sha256"),
}
TIME_FIELDS = {"received_at", "occurred_at", "assigned_at", "registered_at", "due_at",
               "accept_due_at", "accepted_at"}


# a field's stored code → the label group that names it
_LABEL_GROUPS = {"level": "level", "urgency": "urgency", "type": "wo_type", "klass": "klass",
                 "channel": "channel", "cadence": "schedule.cadence", "topic": "schedule.topic"}


def _value(d: Detail, name: str, tz, names: dict[str, str] | None = None) -> str:
    names = names or {}
    item = d.item
    if name == "department":
        return d.department or "—"
    if name in item.damaged:
        return t("health.damaged")
    value: Any = getattr(item, name, None)
    if value is None or value == "" or value == []:
        return "—"
    if name in TIME_FIELDS:
        return fmt.local(value, tz, "%Y-%m-%d %H:%M")
    if name == "category" and item.KIND == "report":
        return label("category", value)
    if name == "subtype":
        from screens.flows import subtype_label
        return subtype_label(value)
    if name == "status":
        return label(f"status.{item.KIND}", value)
    if name in _LABEL_GROUPS:  # a stored code shown by its name in the language
        return label(_LABEL_GROUPS[name], value)
    if name == "sensitive":
        return t("ui.yes") if value else t("ui.no")
    if isinstance(value, list):
        return "、".join(names.get(str(v), str(v)) for v in value)
    return str(value)


def _field_label(name: str) -> str:
    key = {"source_ref": "ui.detail.source", "sensitive": "ui.form.sensitive",
           "extensions": "ui.detail.extensions", "category": "field.category"}.get(name)
    return t(key) if key else t(f"field.{name}")


def render_detail(d: Detail, settings, now,
                  names: dict[str, str] | None = None) -> list[RenderableType]:
    """The sections of the detail view (pure: everything is already loaded).

    Text from the data goes into ``Text`` objects, never into a str cell: a str cell
    would be read as Rich markup, and "[red]…" in a summary must show as typed.
    """
    tz = settings.tz
    item = d.item
    sections: list[RenderableType] = []
    if item.damaged:
        sections.append(Text(t("health.damaged_detail", field=", ".join(item.damaged),
                               ref=item.ref), style="bold red"))
    sections.append(_state(item, settings, now, names or {}))
    table = _table(("dim", True))
    for name in FIELDS[item.KIND]:
        table.add_row(_field_label(name), Text(_value(d, name, tz, names)))
    sections.append(_section(t("ui.detail.fields"), table))
    if item.KIND == "report":
        sections.append(_stages(d, tz, names or {}))
    sections.append(_instructions(d, tz, names or {}))
    if item.KIND == "report":
        sections.append(_plans(d, tz, names or {}))
    links: list[RenderableType] = [
        Text(f"{sv.ref}  {label('klass', sv.severity)}  "
             f"{label('status.supervision', sv.status)}  {sv.title}") for sv in d.supervision]
    if d.source is not None:
        links.append(Text(f"{t('ui.detail.source')}: {d.source.ref}"))
    if links or item.KIND != "supervision":
        sections.append(_section(t("ui.detail.links"), Group(*links) if links else
                                 Text(t("ui.detail.none"), style="dim")))
    sections.append(_timeline(d, tz, names))
    return sections


def _table(*columns: tuple[str, bool]) -> Table:
    """A borderless table: the given (style, no_wrap) columns, then one that takes the
    rest and folds (a CJK run has no space to wrap at, and would be cut with …)."""
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    for style, no_wrap in columns:
        table.add_column(style=style, no_wrap=no_wrap)
    table.add_column(ratio=1, overflow="fold")
    return table


def _state(item, settings, now, names: dict[str, str]) -> Text:
    """Step chain, next deadline (or closing time), acknowledgement and owner."""
    tz = settings.tz
    state = Text()
    state.append(f"{t('ui.detail.step')}: ", style="dim")
    chain = item.chain or []
    for i, (name, _wait) in enumerate(chain):
        style = "bold reverse" if i == item.step else ("" if i > item.step else "dim")
        state.append(f" {name} ", style=style)
        if i < len(chain) - 1:
            state.append("›", style="dim")
    state.append("\n")
    if item.closed_at is not None:
        state.append(f"{t('ui.detail.closed_at')}: {fmt.local(item.closed_at, tz)}", style="dim")
    else:
        state.append(f"{t('ui.detail.deadline')}: ", style="dim")
        if item.deadline_at is not None:
            band = rules.urgency_band(settings, item.KIND, item.deadline_at, now)
            state.append(fmt.local(item.deadline_at, tz, "%m-%d %H:%M"))
            state.append(f" ({fmt.countdown(item.deadline_at, now)})", style=fmt.BAND_STYLE[band])
        else:
            state.append("—")
    state.append(f"   {t('ui.detail.acked')}: ", style="dim")
    if item.acked_at:
        who = names.get(item.acked_by, item.acked_by)
        state.append(f"{who} {fmt.local(item.acked_at, tz, '%H:%M')}")
        if getattr(item, "ack_expires_at", None):  # the acknowledgement lapses (issue 11)
            left = fmt.countdown(item.ack_expires_at, now)
            state.append(f" ({t('unitdesk.ack_expires', left=left)})", style="#ffaf00")
    else:
        state.append(t("ui.detail.not_acked"), style="bold #ffaf00")
    owner = names.get(item.owner, item.owner) if item.owner else "—"
    state.append(f"   {t('ui.detail.owner')}: {owner}", style="dim")
    return state


def _stages(d: Detail, tz, names: dict[str, str]) -> RenderableType:
    stages = _table(("bold", True), ("dim", True))
    for u in d.updates:
        name = t("stage.followup", n=u.seq) if u.stage == "followup" else t(f"stage.{u.stage}")
        figures = " ".join(f"{t('field.' + k)}{getattr(u, k)}" for k in
                           ("dead", "injured", "missing") if getattr(u, k) is not None)
        stages.add_row(name, Text(f"{fmt.local(u.at, tz)} {names.get(u.author, u.author)}"),
                       Text(u.text + (f"  [{figures}]" if figures else "")))
    return _section(t("ui.detail.stages"), stages if d.updates else
                    Text(t("ui.detail.none"), style="dim"))


def _instructions(d: Detail, tz, names: dict[str, str]) -> RenderableType:
    if not d.instructions:
        return _section(t("ui.detail.instructions"), Text(t("ui.detail.none"), style="dim"))
    ins = _table(("bold", True), ("dim", True))
    for i in d.instructions:
        ins.add_row(Text(i.leader), Text(f"{fmt.local(i.at, tz)} {names.get(i.recorded_by, i.recorded_by)}"), Text(i.text))
    return _section(t("ui.detail.instructions"), ins)


def _plans(d: Detail, tz, names: dict[str, str]) -> RenderableType:
    plans: list[RenderableType] = []
    for act in d.activations:
        head = Text()
        head.append_text(fmt.badge("report", act.level, 4))
        head.append(f" {act.plan_code} {act.plan_title}", style="bold")
        if act.deactivated_at:
            head.append("  " + t("ui.detail.plan_ended", at=fmt.local(act.deactivated_at, tz)),
                        style="dim")
        else:
            head.append("  " + t("ui.detail.plan_active", at=fmt.local(act.activated_at, tz),
                                 who=names.get(act.activated_by, act.activated_by)), style="#ffaf00")
        plans.append(head)
        done = sum(1 for m in act.measures if m.done_at)
        plans.append(Text(t("ui.detail.checklist", done=done, total=len(act.measures)),
                          style="dim"))
        for m in act.measures:
            line = Text("  ")
            line.append("[x] " if m.done_at else "[ ] ", style="bold green" if m.done_at else "")
            line.append(f"{m.idx + 1}. {m.text}")
            if m.done_at:
                line.append(f"  {names.get(m.done_by, m.done_by)} {fmt.local(m.done_at, tz, '%H:%M')}",
                            style="dim")
            plans.append(line)
    return _section(t("ui.detail.plans"), Group(*plans) if plans else
                    Text(t("ui.detail.no_plans"), style="dim"))


def _timeline(d: Detail, tz, names: dict[str, str] | None = None) -> RenderableType:
    kind, chain = d.item.KIND, d.item.chain or []
    timeline = Table(box=None, pad_edge=False, expand=True, show_header=True,
                     header_style="dim")
    timeline.add_column(t("ui.timeline.when"), no_wrap=True)
    timeline.add_column(t("ui.timeline.who"), no_wrap=True)
    timeline.add_column(t("ui.timeline.console"), no_wrap=True, style="dim", max_width=18)
    timeline.add_column(t("ui.timeline.what"), no_wrap=True, style="bold")
    timeline.add_column(t("ui.timeline.change"), ratio=1, overflow="fold")
    for e in d.events:
        change = t("health.damaged") if e.damaged else change_text(kind, e.before, e.after,
                                                                      chain, tz, names)
        text = Text(change)
        system = e.actor == "system"
        # the sweep's reason in the interface language, whatever language it was stored in
        note = t(SYSTEM_NOTES[e.action]) if system and e.action in SYSTEM_NOTES else e.note
        if note:
            text.append(("  " if change else "") + note, style="italic")
        who = t("ui.timeline.system") if system else e.actor_name or e.actor
        timeline.add_row(fmt.local(e.at, tz, "%m-%d %H:%M:%S"), Text(who),
                         Text(e.console), label("done", e.action), text)
    return _section(t("ui.detail.timeline", n=len(d.events)), timeline)


def _read_detail(kind: str, item_id: int, unit: Any) -> tuple[Any, dict, Any]:
    """The detail's reads — the item, the names its events mention, its merge block
    (issue 11) — in one worker on one connection.  Three workers one after the other cost
    Enter three thread hops and, on PostgreSQL, three connections (3.8 ms each, measured:
    issue 14's parity rows)."""
    d = queries.detail(kind, item_id, unit=unit)
    if d is None:
        return None, {}, None
    return d, names_for(d), merge_queries.detail_block(kind, item_id)


class RenderedOnce:
    """A Rich renderable whose segments are computed once per width.

    Textual lays a Static out by rendering its Rich content to count the lines,
    then renders it again to paint: twice through Rich's Table layout for the
    detail body, most of "open detail" on the event loop (docs/benchmarks.md).
    This wrapper keeps the last render, so the paint reuses the count's work.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._key: tuple | None = None
        self._segments: list = []

    def __rich_console__(self, console, options):
        key = (options.max_width, options.min_width, options.justify, options.overflow,
               options.no_wrap, options.highlight, options.markup, options.encoding,
               options.legacy_windows, options.ascii_only, options.size)
        if key != self._key:
            self._segments = list(console.render(self.renderable, options))
            self._key = key
        yield from self._segments

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement.get(console, options, self.renderable)


def _section(title: str, body: RenderableType) -> RenderableType:
    return Group(Text(""), Text(f"── {title} ", style="bold"), body)


class DetailScreen(ItemScreen):
    """Enter on a row opens it; the same item keys apply, plus the plan keys."""

    BINDINGS = [
        Binding("escape", "back", "ui.key.back", id="detail.back"),
        Binding("k", "checklist", "ui.key.checklist", id="detail.checklist"),
        Binding("P", "end_plan", "ui.key.end_plan", show=False, id="detail.end_plan"),
        Binding("colon", "command", "ui.key.command", show=False, id="app.command"),
        Binding("question_mark", "help", "ui.key.help", show=False, id="app.help"),
        Binding("A", "app.ack_alerts", "ui.key.ack_alerts", show=False, id="app.ack_alerts"),
        Binding("ctrl+r", "reload", "ui.key.reload", show=False, id="app.reload"),
        *item_bindings(),
    ]

    def __init__(self, kind: str, item_id: int) -> None:
        super().__init__()
        self.kind, self.item_id = kind, item_id
        self.detail: Detail | None = None
        self._stale = True  # read the item when the screen (next) resumes

    def compose(self) -> ComposeResult:
        yield DutyHeader()
        yield AlertBanner()
        yield Static(t("ui.list.loading"), id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static("", id="detail-content")
        yield CommandBar()
        yield DutyFooter()

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        self.app.published.subscribe(self, self._published)

    def _published(self, published) -> None:
        """A change to this item: re-read it now if shown, else when the screen resumes."""
        if not published.touches(self.kind, self.item_id):
            return
        if self.app.screen is not self:
            self._stale = True
            return
        change = self.app.others_change(published, self.kind, self.item_id)
        if change is not None:
            self.app.notify(t("ui.msg.changed_by", ref=change.ref,
                              action=label("done", change.action),
                              who=change.actor_name or change.actor), markup=False)
        self.reload()

    def show(self, kind: str, item_id: int) -> None:
        """Point this (reused) screen at another item; it is read when the screen resumes.

        The app keeps one DetailScreen installed and re-targets it on each Enter:
        composing the screen afresh (header, footer keys, body) cost more on the
        event loop than reading the item (docs/benchmarks.md).
        """
        self.kind, self.item_id = kind, item_id
        self.detail = None
        self._stale = True
        if self.is_mounted:
            self.refresh_bindings()  # the footer's keys depend on the kind
            self.query_one("#detail-title", Static).update(t("ui.list.loading"))
            self.query_one("#detail-content", Static).update("")
            body = self.query_one("#detail-body")
            body.scroll_home(animate=False, immediate=True)
            body.focus()
            bar = self.query_one(CommandBar)
            if bar.has_class("-open"):
                bar.action_close()

    def on_screen_resume(self) -> None:
        # an installed screen misses the banner updates made while it was away
        for banner in self.query(AlertBanner):
            banner.sync()
        if self._stale:
            self._stale = False
            self.reload()

    def focus_main(self) -> None:
        self.query_one("#detail-body").focus()

    def action_item(self, verb: str) -> None:
        if not unreachable_now(self.app):
            super().action_item(verb)

    def offers(self, action: str) -> bool:
        """The footer shows the keys that apply to this item (plans only on a report)."""
        if action in ("checklist", "end_plan") and self.kind != "report":
            return False
        return offers_item_key(self.app, self.kind, action)

    def current_target(self) -> Target | None:
        return Target.from_item(self.detail.item) if self.detail else None

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.run_worker(self._load, exclusive=True, group="detail", exit_on_error=False)

    async def _load(self) -> None:
        kind, item_id = self.kind, self.item_id
        try:
            d, names, merged = await run_db(self, _read_detail, kind, item_id, self.app.unit)
        except PermissionDenied as exc:  # a unit liaison's typed :open of another's item
            self.app.notify(str(exc), markup=False, severity="error")
            if self.is_current:
                self.app.pop_screen()
            return
        except DutyError as exc:
            self.app.notify(str(exc), markup=False, severity="error")
            return
        if (kind, item_id) != (self.kind, self.item_id):
            return  # re-targeted meanwhile: that item's own load follows
        if d is None:
            self.query_one("#detail-title", Static).update(t("error.not_found", ref=self.item_id))
            return
        self.detail = d
        app = self.app
        now = app.ctx.now()
        item = d.item
        title = Text()
        severity = Target.from_item(item).severity
        shown = cell_len(fmt.severity_label(self.kind, severity)) + 2
        title.append_text(fmt.badge(self.kind, severity, max(6, shown)))
        title.append(f" {item.ref} ", style="bold")
        title.append(label(f"status.{self.kind}", item.status), style="italic")
        title.append("  " + (Target.from_item(item).title or ""), style="bold")
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-content", Static).update(
            RenderedOnce(Group(*with_merge(render_detail(d, app.ctx.settings, now, names),
                                           merged, kind))))

    # ------------------------------------------------------------------ plans

    def activations(self, running_only: bool = True) -> list[ActivationView]:
        """The item's plan activations as last read (running ones only by default)."""
        if self.detail is None:
            return []
        return [a for a in self.detail.activations
                if not running_only or a.deactivated_at is None]

    async def _choose_activation(self, title: str):
        acts = self.activations()
        if not acts:
            self.app.notify(t("ui.msg.no_active_plan"), severity="warning")
            return None
        if len(acts) == 1:
            return acts[0]
        from screens.forms import ActionPrompt

        res = await self.app.push_screen_wait(ActionPrompt(
            title, "", choices=[(str(a.id), f"{a.plan_code} {a.plan_title} "
                                 f"({label('level', a.level)})") for a in acts]))
        if res is None:
            return None
        return next(a for a in acts if str(a.id) == res.choice)

    def action_checklist(self) -> None:
        self.run_worker(self._checklist(), group="flow", exit_on_error=False)

    async def _checklist(self) -> None:
        chosen = await self._choose_activation(t("ui.key.checklist"))
        if chosen is not None:
            await self.app.push_screen_wait(ChecklistScreen(chosen, self.current_target()))
            self.reload()

    def action_end_plan(self) -> None:
        self.run_worker(self._end_plan(), group="flow", exit_on_error=False)

    async def _end_plan(self) -> None:
        app = self.app
        if app.is_readonly:
            app.notify(t("error.readonly", who=app.actor.name), severity="warning")
            return
        chosen = await self._choose_activation(t("ui.key.end_plan"))
        if chosen is None:
            return
        act = chosen
        if not await app.push_screen_wait(ConfirmScreen(t("ui.prompt.end_plan",
                                                            plan=act.plan_code))):
            return
        target = self.current_target()
        await self.commit(lambda: actions.deactivate_plan(app.ctx, app.actor, act.id,
                                                          expected_version=act.version),
                          target, "end_plan")

    # ------------------------------------------------------------------ command line

    def action_command(self) -> None:
        self.query_one(CommandBar).open()

    @on(CommandBar.Run)
    def _run_command(self, event: CommandBar.Run) -> None:
        from screens.queues import run_typed

        def shown(ref: str) -> Target | None:
            target = self.current_target()
            return target if target is not None and target.ref == ref else None

        self.run_worker(run_typed(self, event.command, shown), group="flow", exit_on_error=False)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        self.app.push_screen(HelpScreen())


class ChecklistScreen(DutyModalScreen[None]):
    """An activated plan's measures: Enter/Space ticks or unticks one (each an event).

    It keeps its own copy of the activation and re-reads it after each tick; the
    detail screen behind re-reads itself when the app publishes the change.
    """

    BINDINGS = [
        Binding("escape", "close", "ui.key.close", id="checklist.close"),
        Binding("space", "toggle", "ui.key.tick", id="checklist.tick"),
    ]

    def __init__(self, activation: ActivationView, target: Target | None) -> None:
        super().__init__()
        self.activation, self.target = activation, target
        self.activation_id = activation.id

    @property
    def measures(self) -> list:
        return self.activation.measures

    @property
    def version(self) -> int:
        return self.activation.version

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog checklist"):
            yield Label("", id="checklist-title", classes="dialog-title")
            yield OptionList(id="measures")
            yield Label(t("ui.checklist.hint"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#measures").focus()
        self._show()

    def _show(self, keep: int | None = None) -> None:
        act = self.activation
        self.query_one("#checklist-title", Label).update(
            Text(f"{act.plan_code} {act.plan_title} — {label('level', act.level)}"))
        options = self.query_one("#measures", OptionList)
        options.clear_options()
        for m in act.measures:
            mark = "[x]" if m.done_at else "[ ]"
            options.add_option(Option(Text(f"{mark} {m.idx + 1}. {m.text}"), id=str(m.idx)))
        if act.measures:
            options.highlighted = min(keep or 0, len(act.measures) - 1)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_toggle()

    def action_toggle(self) -> None:
        self.run_worker(self._toggle(), exclusive=True, group="tick", exit_on_error=False)

    async def _toggle(self) -> None:
        app = self.app
        if app.is_readonly:
            app.notify(t("error.readonly", who=app.actor.name), severity="warning")
            return
        options = self.query_one("#measures", OptionList)
        index = options.highlighted
        if index is None or index >= len(self.measures):
            return
        m = self.measures[index]
        done = m.done_at is None
        try:
            await run_db(self, actions.tick_measure, app.ctx, app.actor, self.activation_id,
                         m.idx, done=done, expected_version=self.version)
        except DutyError as exc:
            app.notify(str(exc), markup=False, severity="error")
        if self.target is None:
            return
        app.data_changed(self.target.kind, self.target.id)
        try:
            d = await run_db(self, queries.detail, self.target.kind, self.target.id,
                             unit=app.unit)
        except DutyError as exc:
            app.notify(str(exc), markup=False, severity="error")
            return
        fresh = [a for a in (d.activations if d else []) if a.id == self.activation_id]
        if fresh:
            self.activation = fresh[0]
        self._show(keep=index)

    def action_close(self) -> None:
        self.dismiss(None)
