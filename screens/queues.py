"""The main screen: the three queues and the plan library, switched with 1–4."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Checkbox, Input, Label, Select, Static, TabbedContent, TabPane

from console import actions, queries, rules
from console.commands import Command
from console.errors import DutyError
from console.i18n import label, t
from console.queries import QueueFilter
from screens import fmt
from screens.dbwork import run_db
from screens.flows import ItemActions, Target, report_form, supervision_form, work_order_form
from screens.keymap import item_bindings, localize_bindings
from screens.plans import PlansPane
from screens.widgets.alerts import AlertBanner
from screens.widgets.commandbar import CommandBar
from screens.widgets.footer import DutyFooter
from screens.widgets.header import DutyHeader
from screens.widgets.itemlist import ItemList, heading

KINDS = ("report", "work_order", "supervision")
TABS = ("report", "work_order", "supervision", "plans")
FIRST_TAB = "report"
SEVERITIES = {"report": ("I", "II", "III", "IV", "unknown"),
              "work_order": ("very_urgent", "urgent", "normal"),
              "supervision": ("urgent", "normal", "complex")}


class QueuePane(Vertical):
    """One queue: a line saying what is shown, the search line, the heading, the list."""

    def __init__(self, kind: str, *, autoload: bool = True) -> None:
        super().__init__(id=f"pane-{kind}", classes="queue-pane")
        self.kind = kind
        self.autoload = autoload
        self.total: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="filter-line", id=f"filter-{self.kind}")
        yield Input(placeholder=t("ui.search.placeholder"), classes="search",
                    id=f"search-{self.kind}")
        yield Static("", classes="list-heading", id=f"heading-{self.kind}")
        yield ItemList(QueueFilter(self.kind), id=f"list-{self.kind}", autoload=self.autoload)

    @property
    def item_list(self) -> ItemList:
        return self.query_one(ItemList)

    def on_resize(self) -> None:
        self.update_heading()

    def update_heading(self) -> None:
        lists, headings = self.query(ItemList), self.query(".list-heading")
        if not lists or not headings:  # resized while still composing
            return
        width = lists.first().size.width or self.size.width
        headings.first(Static).update(heading(self.kind, width))

    def describe(self) -> None:
        f = self.item_list.filter
        parts = [t("ui.filter.count", n="…" if self.total is None else f"{self.total:,}"),
                 t(f"ui.scope.{f.scope}")]
        if f.status:
            parts.append(label(f"status.{self.kind}", f.status))
        if f.severity:
            parts.append(fmt.severity_label(self.kind, f.severity))
        if f.department:
            parts.append(f.department)
        if f.mine:
            parts.append(t("ui.filter.mine"))
        if f.overdue_only:
            parts.append(t("ui.filter.overdue"))
        if f.unacked_only:
            parts.append(t("ui.filter.unacked"))
        if f.search:
            parts.append(t("ui.filter.search", text=f.search))
        line = Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")
        line.append("   " + t("ui.filter.hint"), style="dim")
        self.query_one(".filter-line", Static).update(line)

    @on(ItemList.Counted)
    def _counted(self, event: ItemList.Counted) -> None:
        self.total = event.total
        self.describe()
        self.update_heading()


@dataclass(frozen=True)
class FilterChoice:
    """What the filter dialog returns (applied onto the queue's QueueFilter)."""

    scope: str
    status: str | None
    severity: str | None
    department: str | None
    mine: bool
    overdue_only: bool
    unacked_only: bool


class FilterScreen(ModalScreen[FilterChoice | None]):
    BINDINGS = [
        Binding("ctrl+s", "apply", "ui.key.apply", id="filter.apply"),
        Binding("escape", "cancel", "ui.key.cancel", id="filter.cancel"),
        Binding("ctrl+r", "reset", "ui.key.reset", id="filter.reset"),
    ]

    def __init__(self, flt: QueueFilter, departments: list[tuple[str, str]], me: str) -> None:
        super().__init__()
        localize_bindings(self)
        self.flt, self.departments, self.me = flt, departments, me

    def compose(self) -> ComposeResult:
        f, kind = self.flt, self.flt.kind
        with Vertical(classes="dialog form filter-dialog"):
            yield Label(t("ui.filter.title", queue=t(f"ui.queue.{kind}")), classes="dialog-title")
            rows = [
                ("scope", [(t(f"ui.scope.{s}"), s) for s in ("open", "closed", "all")], f.scope,
                 False),
                ("status", [(label(f"status.{kind}", s), s) for s in rules.STATUSES[kind]],
                 f.status, True),
                ("severity", [(fmt.severity_label(kind, s), s) for s in SEVERITIES[kind]],
                 f.severity, True),
            ]
            if kind != "report":
                rows.append(("department", [(n, c) for c, n in self.departments], f.department,
                             True))
            for name, options, value, blank in rows:
                with Horizontal(classes="form-row"):
                    yield Label(t(f"ui.filter.{name}"), classes="field-label")
                    yield Select(options, value=value if value else Select.NULL,
                                 allow_blank=blank, id=f"flt-{name}", prompt=t("ui.filter.any"))
            yield Checkbox(t("ui.filter.mine"), f.mine is not None, id="flt-mine")
            yield Checkbox(t("ui.filter.overdue"), f.overdue_only, id="flt-overdue")
            yield Checkbox(t("ui.filter.unacked"), f.unacked_only, id="flt-unacked")
            yield Label(t("ui.filter.dialog_hint"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#flt-scope").focus()

    def _value(self, name: str) -> str | None:
        try:
            value = self.query_one(f"#flt-{name}", Select).value
        except Exception:  # noqa: BLE001 - a select the kind does not have
            return None
        return None if value is Select.NULL else str(value)

    def action_apply(self) -> None:
        self.dismiss(FilterChoice(
            self._value("scope") or "open", self._value("status"), self._value("severity"),
            self._value("department"), self.query_one("#flt-mine", Checkbox).value,
            self.query_one("#flt-overdue", Checkbox).value,
            self.query_one("#flt-unacked", Checkbox).value))

    def action_reset(self) -> None:
        self.dismiss(FilterChoice("open", None, None, None, False, False, False))

    def action_cancel(self) -> None:
        self.dismiss(None)


class MainScreen(ItemActions, Screen):
    """Queues 1–3 and plans 4; the item keys act on the highlighted row."""

    BINDINGS = [
        Binding("1", "show('report')", "ui.key.tab_report", show=False, id="tab.report"),
        Binding("2", "show('work_order')", "ui.key.tab_work_order", show=False,
                id="tab.work_order"),
        Binding("3", "show('supervision')", "ui.key.tab_supervision", show=False,
                id="tab.supervision"),
        Binding("4", "show('plans')", "ui.key.tab_plans", show=False, id="tab.plans"),
        Binding("slash", "search", "ui.key.search", id="queue.search"),
        Binding("F", "filters", "ui.key.filters", show=False, id="queue.filters"),
        Binding("m", "toggle('mine')", "ui.key.mine", show=False, id="queue.mine"),
        Binding("exclamation_mark", "toggle('overdue')", "ui.key.overdue_only", show=False,
                id="queue.overdue"),
        Binding("z", "cycle_scope", "ui.key.scope", show=False, id="queue.scope"),
        Binding("N,ctrl+n", "new", "ui.key.new", id="item.new"),
        Binding("colon", "command", "ui.key.command", id="app.command"),
        Binding("question_mark", "help", "ui.key.help", id="app.help"),
        Binding("A", "ack_alerts", "ui.key.ack_alerts", show=False, id="app.ack_alerts"),
        Binding("H", "handover", "ui.key.handover", show=False, id="app.handover"),
        Binding("M", "admin", "ui.key.admin", show=False, id="app.admin"),
        Binding("ctrl+r", "reload", "ui.key.reload", show=False, id="app.reload"),
        Binding("escape", "escape", "ui.key.cancel", show=False, id="queue.escape"),
        *item_bindings(),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        localize_bindings(self)

    def compose(self) -> ComposeResult:
        yield DutyHeader()
        yield AlertBanner()
        with TabbedContent(initial=f"tab-{FIRST_TAB}", id="tabs"):
            for i, kind in enumerate(TABS, 1):
                with TabPane(f"{i} {t('ui.queue.' + kind)}", id=f"tab-{kind}"):
                    # only the queue on screen reads at once; the hidden ones, and the
                    # header counters, start when it has painted (see _first_counted)
                    yield PlansPane() if kind == "plans" else QueuePane(
                        kind, autoload=kind == FIRST_TAB)
        yield CommandBar()
        yield DutyFooter()

    def on_mount(self) -> None:
        self.focus_main()

    # ------------------------------------------------------------------ where we are

    @property
    def active_kind(self) -> str:
        try:
            return self.query_one("#tabs", TabbedContent).active.removeprefix("tab-") or "report"
        except NoMatches:  # not composed yet
            return ""

    def pane(self, kind: str | None = None) -> QueuePane | None:
        kind = kind or self.active_kind
        if kind not in KINDS:
            return None
        try:
            return self.query_one(f"#pane-{kind}", QueuePane)
        except NoMatches:
            return None

    def lists(self) -> list[ItemList]:
        return list(self.query(ItemList))

    def current_target(self) -> Target | None:
        pane = self.pane()
        if pane is None:
            return None
        row = pane.item_list.selected
        return Target.from_row(row) if row is not None else None

    def focus_main(self) -> None:
        pane = self.pane()
        if pane is not None:
            pane.item_list.focus()
        elif self.active_kind == "plans":
            self.query_one(PlansPane).focus_list()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        pane = self.pane()
        if pane is not None:
            pane.item_list.start()  # switched to before the deferred start: read it now
        self.call_after_refresh(self.focus_main)

    @on(ItemList.Counted)
    def _first_counted(self, event: ItemList.Counted) -> None:
        """Once the first queue is counted, read the hidden queues and the header counters.

        At start every reader competes for the event loop's thread (the GIL) with
        composing the screen; the visible queue's first page came after ≈ 300 ms
        of the others' reads (docs/benchmarks.md).
        """
        if getattr(self, "_all_started", False):
            return
        self._all_started = True
        for item_list in self.lists():
            item_list.start()
        self.app.refresh_counters()

    def action_show(self, kind: str) -> None:
        self.query_one("#tabs", TabbedContent).active = f"tab-{kind}"
        self.focus_main()

    # ------------------------------------------------------------------ data

    def reload(self, kind: str | None = None) -> None:
        for item_list in self.lists():
            if kind is None or item_list.kind == kind:
                item_list.reload()

    def action_reload(self) -> None:
        self.reload()
        self.app.refresh_counters()

    def refresh_rows(self) -> None:
        """Repaint (countdowns move on) without reading anything."""
        pane = self.pane()
        if pane is not None:  # the clock ticks while a pane is still composing: no list yet
            for item_list in pane.query(ItemList):
                item_list.refresh()

    @on(ItemList.Opened)
    def _opened(self, event: ItemList.Opened) -> None:
        self.app.open_detail(event.row.kind, event.row.id)

    # ------------------------------------------------------------------ search and filters

    def action_search(self) -> None:
        pane = self.pane()
        if pane is None:
            if self.active_kind == "plans":
                self.query_one(PlansPane).focus_search()
            return
        search = pane.query_one(Input)
        search.add_class("-open")
        search.focus()

    @on(Input.Changed, ".search")
    def _search_changed(self, event: Input.Changed) -> None:
        pane = self.pane()
        if pane is not None:
            # each keystroke re-counts in a worker; the exclusive worker drops the previous one
            pane.item_list.set_filter(pane.item_list.filter.with_(search=event.value.strip()))
            pane.describe()

    @on(Input.Submitted, ".search")
    def _search_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_main()

    def action_escape(self) -> None:
        pane = self.pane()
        if pane is None:
            return
        search = pane.query_one(Input)
        if search.has_focus or search.value:
            search.value = ""
            search.remove_class("-open")
            self.focus_main()

    async def action_filters(self) -> None:
        pane = self.pane()
        if pane is None:
            return
        depts = await run_db(self, lambda: [(d.code, d.name) for d in queries.departments("", 500)])

        def apply(choice: FilterChoice | None) -> None:
            if choice is None:
                return
            flt = pane.item_list.filter.with_(
                scope=choice.scope, status=choice.status, severity=choice.severity,
                department=choice.department, mine=self.app.actor.login if choice.mine else None,
                overdue_only=choice.overdue_only, unacked_only=choice.unacked_only)
            pane.item_list.set_filter(flt)
            pane.describe()

        self.app.push_screen(FilterScreen(pane.item_list.filter, depts, self.app.actor.login),
                             apply)

    def action_toggle(self, what: str) -> None:
        pane = self.pane()
        if pane is None:
            return
        f = pane.item_list.filter
        if what == "mine":
            f = f.with_(mine=None if f.mine else self.app.actor.login)
        else:
            f = f.with_(overdue_only=not f.overdue_only)
        pane.item_list.set_filter(f)
        pane.describe()

    def action_cycle_scope(self) -> None:
        pane = self.pane()
        if pane is None:
            return
        order = ("open", "closed", "all")
        f = pane.item_list.filter
        pane.item_list.set_filter(f.with_(scope=order[(order.index(f.scope) + 1) % 3]))
        pane.describe()

    # ------------------------------------------------------------------ new items

    def action_new(self) -> None:
        self.run_worker(self._new(), group="flow", exit_on_error=False)

    async def _new(self) -> None:
        app = self.app
        kind = self.active_kind
        if kind == "plans":
            app.notify(t("ui.msg.new_in_queue"), severity="warning")
            return
        if app.is_readonly:
            app.notify(t("error.readonly", who=app.actor.name), severity="warning")
            return
        if not rules.role_allows(app.actor.role, "create"):
            app.notify(t("error.role", who=app.actor.name, role=label("role", app.actor.role),
                         action=label("action", "create")), severity="error")
            return
        ctx, actor = app.ctx, app.actor
        if kind == "report":
            plans = await run_db(self, queries.plans, "", 500)
            subtypes = sorted({p.subtype for p in plans} | {"other"})
            form = report_form(ctx, actor, subtypes)
        else:
            depts = await run_db(self, queries.departments, "", 500)
            form = (work_order_form(ctx, actor, depts) if kind == "work_order"
                    else supervision_form(ctx, actor, None, depts))
        result = await app.push_screen_wait(form)
        if result is not None:
            app.notify(t("ui.msg.created", ref=result.ref))
            app.data_changed(result.kind, result.id)

    # ------------------------------------------------------------------ command line, alerts

    def action_command(self) -> None:
        self.query_one(CommandBar).open()

    @on(CommandBar.Run)
    def _run_command(self, event: CommandBar.Run) -> None:
        self.run_worker(self.run_command(event.command), group="flow", exit_on_error=False)

    async def run_command(self, command: Command) -> None:
        """A typed command acts on the item as this console shows it (if it is shown)."""
        target = None
        for item_list in self.lists():
            for row in list(item_list._pages.values()):
                for r in row:
                    if r.ref == command.ref:
                        target = Target.from_row(r)
        if target is None:
            try:
                item = await run_db(self, actions.find_item, command.ref)
            except DutyError as exc:
                self.app.notify(str(exc), markup=False, severity="error")
                return
            target = Target.from_item(item)
        if command.action == "open":
            self.app.open_detail(target.kind, target.id)
            return
        verb = command.action
        if verb == "escalate" and command.arg:
            verb = "escalate_to"
        await self.flow(verb, target, command.arg)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_ack_alerts(self) -> None:
        self.app.ack_alerts()

    def action_handover(self) -> None:
        try:
            module = importlib.import_module("screens.handover")
        except ImportError:
            self.app.notify(t("ui.msg.handover_pending"), severity="warning")
            return
        self.app.push_screen(module.HandoverScreen())

    def action_admin(self) -> None:
        from screens.admin import open_admin

        open_admin(self.app)
