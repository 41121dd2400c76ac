"""An item in full: fields, stages, instructions, plans with checklists, links, timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from console import actions, queries, rules
from console.errors import DutyError
from console.i18n import label, t
from console.queries import Detail
from screens import fmt
from screens.dbwork import run_db
from screens.flows import ItemActions, Target
from screens.forms import ConfirmScreen
from screens.keymap import item_bindings, localize_bindings
from screens.widgets.alerts import AlertBanner
from screens.widgets.commandbar import CommandBar
from screens.widgets.footer import DutyFooter
from screens.widgets.header import DutyHeader

FIELDS = {
    "report": ("level", "category", "subtype", "status", "received_at", "occurred_at", "place",
               "source_unit", "reporter", "reporter_phone", "recorder", "summary", "dead",
               "injured", "missing", "area", "trend", "measures", "requests", "sensitive"),
    "work_order": ("urgency", "type", "status", "received_at", "channel", "caller", "phone",
                   "address", "category", "content", "department", "assisting", "assigned_at",
                   "extensions", "reply", "satisfaction"),
    "supervision": ("klass", "status", "registered_at", "source_ref", "department", "content",
                    "result"),
}
TIME_FIELDS = {"received_at", "occurred_at", "assigned_at", "registered_at"}


def _value(d: Detail, name: str, tz) -> str:
    item = d.item
    if name == "department":
        return d.department.name if d.department else "—"
    value: Any = getattr(item, name, None)
    if value is None or value == "" or value == []:
        return "—"
    if name in TIME_FIELDS:
        return fmt.local(value, tz, "%Y-%m-%d %H:%M")
    if name == "level":
        return label("level", value)
    if name == "category" and item.KIND == "report":
        return label("category", value)
    if name == "subtype":
        from screens.flows import subtype_label
        return subtype_label(value)
    if name == "status":
        return label(f"status.{item.KIND}", value)
    if name == "urgency":
        return label("urgency", value)
    if name == "type":
        return label("wo_type", value)
    if name == "klass":
        return label("klass", value)
    if name == "sensitive":
        return t("ui.yes") if value else t("ui.no")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _field_label(name: str) -> str:
    key = {"source_ref": "ui.detail.source", "sensitive": "ui.form.sensitive",
           "extensions": "ui.detail.extensions", "category": "field.category"}.get(name)
    return t(key) if key else t(f"field.{name}")


_HIDDEN = {"next_escalation_at", "acked_at", "updated_at", "activation", "chain", "title",
           "rank", "sort_key", "assigned_at"}


def _shown(kind: str, key: str, value: Any, chain: list, tz) -> str:
    """One value of an event's before/after, as the officer reads it."""
    if value is None or value == "":
        return "—"
    if key == "status":
        return label(f"status.{kind}", value)
    if key == "level":
        return label("level_short", value)
    if key == "step" and isinstance(value, int):
        return chain[value][0] if 0 <= value < len(chain) else str(value + 1)
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-" and value[10] == " ":
        try:
            return fmt.local(dt.datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    return str(value)


def _change_text(kind: str, before: dict | None, after: dict | None, chain: list, tz) -> str:
    """before→after, compactly: "status new→acknowledged; step 值班员→带班领导"."""
    if not after:
        return ""
    parts = []
    for key, new in after.items():
        if key in _HIDDEN:
            continue
        name = label("field", "due_at" if key == "deadline_at" else key)
        shown = _shown(kind, key, new, chain, tz)
        if before is not None and key in before:
            shown = f"{_shown(kind, key, before[key], chain, tz)}→{shown}"
        parts.append(f"{name} {shown}")
    return "; ".join(parts)


def render_detail(d: Detail, settings, now) -> list[RenderableType]:
    """The sections of the detail view (pure: everything is already loaded)."""
    tz = settings.tz
    item = d.item
    kind = item.KIND
    sections: list[RenderableType] = []

    # state line: step, deadline, ack
    state = Text()
    state.append(f"{t('ui.detail.step')}: ", style="dim")
    chain = item.chain or []
    for i, (name, _wait) in enumerate(chain):
        style = "bold reverse" if i == item.step else ("" if i > item.step else "dim")
        state.append(f" {name} ", style=style)
        if i < len(chain) - 1:
            state.append("›", style="dim")
    state.append("\n")
    if item.closed_at is None:
        state.append(f"{t('ui.detail.deadline')}: ", style="dim")
        if item.deadline_at is not None:
            band = rules.urgency_band(settings, kind,
                                      item.deadline_at, now)
            state.append(fmt.local(item.deadline_at, tz, "%m-%d %H:%M"))
            state.append(f" ({fmt.countdown(item.deadline_at, now)})", style=fmt.BAND_STYLE[band])
        else:
            state.append("—")
    else:
        state.append(f"{t('ui.detail.closed_at')}: {fmt.local(item.closed_at, tz)}", style="dim")
    state.append(f"   {t('ui.detail.acked')}: ", style="dim")
    if item.acked_at:
        state.append(f"{item.acked_by} {fmt.local(item.acked_at, tz, '%H:%M')}")
    else:
        state.append(t("ui.detail.not_acked"), style="bold #ffaf00")
    state.append(f"   {t('ui.detail.owner')}: {item.owner or '—'}", style="dim")
    sections.append(state)

    # every field
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(ratio=1)
    for name in FIELDS[kind]:
        table.add_row(_field_label(name), _value(d, name, tz))
    sections.append(_section(t("ui.detail.fields"), table))

    if kind == "report":
        stages = Table(box=None, show_header=False, pad_edge=False, expand=True)
        stages.add_column(no_wrap=True, style="bold")
        stages.add_column(no_wrap=True, style="dim")
        stages.add_column(ratio=1)
        for u in d.updates:
            name = t("stage.followup", n=u.seq) if u.stage == "followup" else t(f"stage.{u.stage}")
            figures = " ".join(f"{t('field.' + k)}{getattr(u, k)}" for k in
                               ("dead", "injured", "missing") if getattr(u, k) is not None)
            stages.add_row(name, f"{fmt.local(u.at, tz)} {u.author}",
                           u.text + (f"  [{figures}]" if figures else ""))
        sections.append(_section(t("ui.detail.stages"), stages if d.updates else
                                 Text(t("ui.detail.none"), style="dim")))

    if d.instructions:
        ins = Table(box=None, show_header=False, pad_edge=False, expand=True)
        ins.add_column(no_wrap=True, style="bold")
        ins.add_column(no_wrap=True, style="dim")
        ins.add_column(ratio=1)
        for i in d.instructions:
            ins.add_row(i.leader, f"{fmt.local(i.at, tz)} {i.recorded_by}", i.text)
        sections.append(_section(t("ui.detail.instructions"), ins))
    else:
        sections.append(_section(t("ui.detail.instructions"),
                                 Text(t("ui.detail.none"), style="dim")))

    if kind == "report":
        plans: list[RenderableType] = []
        for act, plan, measures in d.activations:
            head = Text()
            head.append_text(fmt.badge("report", act.level, 4))
            head.append(f" {plan.code} {plan.title}", style="bold")
            if act.deactivated_at:
                head.append("  " + t("ui.detail.plan_ended", at=fmt.local(act.deactivated_at, tz)),
                            style="dim")
            else:
                head.append("  " + t("ui.detail.plan_active", at=fmt.local(act.activated_at, tz),
                                     who=act.activated_by), style="#ffaf00")
            plans.append(head)
            done = sum(1 for m in measures if m.done_at)
            plans.append(Text(t("ui.detail.checklist", done=done, total=len(measures)),
                              style="dim"))
            for m in measures:
                line = Text("  ")
                line.append("[x] " if m.done_at else "[ ] ", style="bold green" if m.done_at else "")
                line.append(f"{m.idx + 1}. {m.text}")
                if m.done_at:
                    line.append(f"  {m.done_by} {fmt.local(m.done_at, tz, '%H:%M')}", style="dim")
                plans.append(line)
        sections.append(_section(t("ui.detail.plans"), Group(*plans) if plans else
                                 Text(t("ui.detail.no_plans"), style="dim")))

    links: list[RenderableType] = []
    for sv in d.supervision:
        links.append(Text(f"{sv.ref}  {label('klass', sv.klass)}  "
                          f"{label('status.supervision', sv.status)}  {sv.title}"))
    if d.source is not None:
        links.append(Text(f"{t('ui.detail.source')}: {d.source.ref}"))
    if links or kind != "supervision":
        sections.append(_section(t("ui.detail.links"), Group(*links) if links else
                                 Text(t("ui.detail.none"), style="dim")))

    timeline = Table(box=None, pad_edge=False, expand=True, show_header=True,
                     header_style="dim")
    timeline.add_column(t("ui.timeline.when"), no_wrap=True)
    timeline.add_column(t("ui.timeline.who"), no_wrap=True)
    timeline.add_column(t("ui.timeline.console"), no_wrap=True, style="dim", max_width=18)
    timeline.add_column(t("ui.timeline.what"), no_wrap=True, style="bold")
    timeline.add_column(t("ui.timeline.change"), ratio=1)
    for e in d.events:
        change = _change_text(kind, e.before, e.after, chain, tz)
        note = e.note or ""
        text = Text(change)
        if note:
            text.append(("  " if change else "") + note, style="italic")
        timeline.add_row(fmt.local(e.at, tz, "%m-%d %H:%M:%S"), e.actor_name or e.actor,
                         e.console, label("done", e.action), text)
    sections.append(_section(t("ui.detail.timeline", n=len(d.events)), timeline))
    return sections


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


class DetailScreen(ItemActions, Screen):
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
        localize_bindings(self)
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
            self.query_one("#detail-title", Static).update(t("ui.list.loading"))
            self.query_one("#detail-content", Static).update("")
            body = self.query_one("#detail-body")
            body.scroll_home(animate=False, immediate=True)
            body.focus()
            bar = self.query_one(CommandBar)
            if bar.has_class("-open"):
                bar.action_close()

    def on_screen_resume(self) -> None:
        # an installed screen misses the header/banner updates made while it was away
        for header in self.query(DutyHeader):
            self.app.apply_header_state(header)
        for banner in self.query(AlertBanner):
            banner.sync()
        if self._stale:
            self._stale = False
            self.reload()

    def focus_main(self) -> None:
        self.query_one("#detail-body").focus()

    def current_target(self) -> Target | None:
        return Target.from_item(self.detail.item) if self.detail else None

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.run_worker(self._load(), exclusive=True, group="detail", exit_on_error=False)

    async def _load(self) -> None:
        kind, item_id = self.kind, self.item_id
        try:
            d = await run_db(self, queries.detail, kind, item_id)
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
        title.append_text(fmt.badge(self.kind, Target.from_item(item).severity, 6))
        title.append(f" {item.ref} ", style="bold")
        title.append(label(f"status.{self.kind}", item.status), style="italic")
        title.append("  " + (Target.from_item(item).title or ""), style="bold")
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-content", Static).update(
            RenderedOnce(Group(*render_detail(d, app.ctx.settings, now))))

    def refresh_rows(self) -> None:
        pass  # the detail's countdown is refreshed with the item

    # ------------------------------------------------------------------ plans

    def _activations(self, running_only: bool = True) -> list:
        if self.detail is None:
            return []
        return [(a, p, m) for a, p, m in self.detail.activations
                if not running_only or a.deactivated_at is None]

    async def _choose_activation(self, title: str):
        acts = self._activations()
        if not acts:
            self.app.notify(t("ui.msg.no_active_plan"), severity="warning")
            return None
        if len(acts) == 1:
            return acts[0]
        from screens.forms import ActionPrompt

        res = await self.app.push_screen_wait(ActionPrompt(
            title, "", choices=[(str(a.id), f"{p.code} {p.title} ({label('level', a.level)})")
                                for a, p, _m in acts]))
        if res is None:
            return None
        return next(x for x in acts if str(x[0].id) == res.choice)

    def action_checklist(self) -> None:
        self.run_worker(self._checklist(), group="flow", exit_on_error=False)

    async def _checklist(self) -> None:
        chosen = await self._choose_activation(t("ui.key.checklist"))
        if chosen is not None:
            await self.app.push_screen_wait(ChecklistScreen(self, chosen[0].id))
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
        act, plan, _m = chosen
        if not await app.push_screen_wait(ConfirmScreen(t("ui.prompt.end_plan", plan=plan.code))):
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
        main = self.app.main_screen
        self.run_worker(main.run_command(event.command), group="flow", exit_on_error=False)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        self.app.push_screen(HelpScreen())


class ChecklistScreen(ModalScreen[None]):
    """An activated plan's measures: Enter/Space ticks or unticks one (each an event)."""

    BINDINGS = [
        Binding("escape", "close", "ui.key.close", id="checklist.close"),
        Binding("space", "toggle", "ui.key.tick", id="checklist.tick"),
    ]

    def __init__(self, owner: DetailScreen, activation_id: int) -> None:
        super().__init__()
        localize_bindings(self)
        self.owner, self.activation_id = owner, activation_id
        self.measures: list = []
        self.version = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog checklist"):
            yield Label("", id="checklist-title", classes="dialog-title")
            yield OptionList(id="measures")
            yield Label(t("ui.checklist.hint"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#measures").focus()
        self._show()

    def _show(self, keep: int | None = None) -> None:
        acts = {a.id: (a, p, m) for a, p, m in self.owner._activations(False)}
        if self.activation_id not in acts:
            return
        act, plan, measures = acts[self.activation_id]
        self.version, self.measures = act.version, measures
        self.query_one("#checklist-title", Label).update(
            f"{plan.code} {plan.title} — {label('level', act.level)}")
        options = self.query_one("#measures", OptionList)
        options.clear_options()
        for m in measures:
            mark = "[x]" if m.done_at else "[ ]"
            options.add_option(Option(Text(f"{mark} {m.idx + 1}. {m.text}"), id=str(m.idx)))
        if measures:
            options.highlighted = min(keep or 0, len(measures) - 1)

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
        target = self.owner.current_target()
        if target is not None:
            app.data_changed(target.kind, target.id)
        d = await run_db(self, queries.detail, self.owner.kind, self.owner.item_id)
        if d is not None:
            self.owner.detail = d
        self._show(keep=index)

    def action_close(self) -> None:
        self.dismiss(None)
