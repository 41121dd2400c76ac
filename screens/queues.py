"""The main screen: the three queues and the plan library, switched with 1–4."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Input, Static, TabbedContent, TabPane

from console import actions, queries, rules, search
from console.commands import Command, resolved
from console.errors import DutyError
from console.i18n import label, t
from console.queries import QueueFilter
from screens import fmt
from screens.bulkflow import bulk_flow
from screens.dbwork import run_db, unreachable_now
from screens.filters import FilterChoice, FilterScreen, category_label, shown_days
from screens.flows import ItemScreen, Target, report_form, supervision_form, work_order_form
from screens.keymap import item_bindings
from screens.plans import PlansPane
from screens.widgets.alerts import AlertBanner
from screens.widgets.columns import heading
from screens.widgets.commandbar import CommandBar
from screens.widgets.footer import DutyFooter, offers_item_key
from screens.widgets.header import DutyHeader
from screens.widgets.itemlist import ItemList

KINDS = ("report", "work_order", "supervision", "scheduled")
TABS = ("report", "work_order", "supervision", "plans", "scheduled")
FIRST_TAB = "report"


async def run_typed(screen, command: Command,
                    shown: Callable[[str], Target | None]) -> None:
    """A typed command acts on the item as ``screen`` shows it (``shown``), else as stored.
    A refusal (the database away, …) is one line: the worker must not swallow it."""
    try:
        command, notice = await run_db(screen, resolved, command)  # 并单: DUP → its master
    except DutyError as exc:
        screen.app.notify(str(exc), markup=False, severity="error")
        return
    if notice:
        screen.app.notify(notice, markup=False)
    target = shown(command.ref)
    if target is None:
        try:
            item = await run_db(screen, actions.find_item, command.ref)
        except DutyError as exc:
            screen.app.notify(str(exc), markup=False, severity="error")
            return
        target = Target.from_item(item)
    if command.action == "open":
        screen.app.open_detail(target.kind, target.id)
        return
    verb = command.action
    if verb == "escalate" and command.arg:
        verb = "escalate_to"
    await screen.flow(verb, target, command.arg)


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
        unit = getattr(self.app, "unit", None)  # a unit liaison: its department only
        yield ItemList(QueueFilter(self.kind, unit=unit), id=f"list-{self.kind}",
                       autoload=self.autoload)

    @property
    def item_list(self) -> ItemList:
        return self.query_one(ItemList)

    def on_resize(self) -> None:
        self.update_heading()

    def update_heading(self) -> None:
        lists, headings = self.query(ItemList), self.query(".list-heading")
        if not lists or not headings:  # resized while still composing
            return
        width = lists.first(ItemList).content_width or self.size.width
        headings.first(Static).update(heading(self.kind, width))

    def describe(self) -> None:
        lst = self.item_list
        f = lst.filter
        # the list's own count: None from the moment the question changed ("counting…",
        # never the previous answer); a search's is capped like the header's ("999+")
        n = lst.counted
        shown = (t("ui.list.counting") if n is None else
                 fmt.count("items", f"{search.CAP}+") if lst.capped else fmt.count("items", n))
        parts = [shown, t(f"ui.scope.{f.scope}")]
        if f.status:
            parts.append(label(f"status.{self.kind}", f.status))
        if f.severity:
            parts.append(fmt.severity_label(self.kind, f.severity))
        if f.unit is not None:
            parts.append(t("unitdesk.view", unit=f.unit or "-"))
        if f.department:
            parts.append(f.department)
        if f.category:
            parts.append(category_label(self.kind, f.category))
        if f.received_from or f.received_before:
            since, until = shown_days(f, self.app.ctx.settings.tz)
            parts.append(t("ui.filter.days", since=since or "…", until=until or "…"))
        if f.mine:
            parts.append(t("ui.filter.mine"))
        if f.overdue_only:
            parts.append(t("ui.filter.overdue"))
        if f.unacked_only:
            parts.append(t("ui.filter.unacked"))
        if f.repeats_only:
            parts.append(t("merge.filter.repeats"))
        if f.search:
            parts.append(t("ui.filter.search", text=f.search))
            if n is not None and lst.partial:
                parts.append(t("ui.list.partial", n=f"{search.SHORT_SCAN:,}"))
        if self.item_list.marks:
            parts.append(t("ui.storm.marked", n=len(self.item_list.marks)))
        line = Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")
        line.append("   " + t("ui.filter.hint"), style="dim")
        self.query_one(".filter-line", Static).update(line)

    @on(ItemList.Counted)
    def _counted(self, event: ItemList.Counted) -> None:
        self.total = event.total
        self.describe()
        self.update_heading()
        self.call_after_refresh(self.update_heading)  # a scrollbar may have come or gone


class MainScreen(ItemScreen):
    """Queues 1–3 and plans 4; the item keys act on the highlighted row."""

    BINDINGS = [
        Binding("1", "show('report')", "ui.key.tab_report", show=False, id="tab.report"),
        Binding("2", "show('work_order')", "ui.key.tab_work_order", show=False,
                id="tab.work_order"),
        Binding("3", "show('supervision')", "ui.key.tab_supervision", show=False,
                id="tab.supervision"),
        Binding("4", "show('plans')", "ui.key.tab_plans", show=False, id="tab.plans"),
        Binding("5", "show('scheduled')", "schedule.key.tab", show=False, id="tab.scheduled"),
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
        Binding("G", "figures", "ui.key.figures", show=False, id="app.figures"),
        Binding("ctrl+r", "reload", "ui.key.reload", show=False, id="app.reload"),
        Binding("escape", "escape", "ui.key.cancel", show=False, id="queue.escape"),
        # marks (storms): Space, * (all shown under the filter); Esc clears them
        Binding("space", "mark", "ui.key.mark", show=False, id="queue.mark"),
        Binding("asterisk", "mark_all", "ui.key.mark_all", show=False, id="queue.mark_all"),
        *item_bindings(),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")

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

    def offers(self, action: str) -> bool:
        """The footer shows only the keys that apply to this queue's items (and none that
        write on a read-only console)."""
        return offers_item_key(self.app, self.active_kind, action)

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
            self.set_timer(0.05, pane.update_heading)  # laid out while hidden: stale width
        # the first activation can land after a quick `:` on a slow start: keep that focus
        self.call_after_refresh(lambda: isinstance(self.focused, CommandBar) or self.focus_main())
        self.refresh_bindings()  # the footer's keys depend on the queue

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

    def action_reload(self) -> None:
        for item_list in self.lists():
            item_list.reload()
        self.app.refresh_counters()

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
        elif pane.item_list.clear_marks():
            self.app.notify(t("ui.storm.cleared"))
            pane.describe()

    async def action_filters(self) -> None:
        pane = self.pane()
        if pane is None:
            return
        try:
            depts = await run_db(self, lambda: [(d.code, d.name)
                                                for d in queries.departments("", 500)])
        except DutyError as exc:  # unreachable, or an unexpected error already logged
            self.app.notify(str(exc), markup=False, severity="error")
            return

        tz = self.app.ctx.settings.tz

        def apply(choice: FilterChoice | None) -> None:
            if choice is None:
                return
            since, before = queries.day_bounds(tz, choice.since, choice.until)
            flt = pane.item_list.filter.with_(
                scope=choice.scope, status=choice.status, severity=choice.severity,
                department=choice.department, mine=self.app.actor.login if choice.mine else None,
                overdue_only=choice.overdue_only, unacked_only=choice.unacked_only,
                repeats_only=choice.repeats_only, category=choice.category,
                received_from=since, received_before=before)
            pane.item_list.set_filter(flt)
            pane.describe()

        self.app.push_screen(FilterScreen(pane.item_list.filter, depts, tz), apply)

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
        if kind in ("plans", "scheduled"):  # scheduled reports come from the cadence rules
            app.notify(t("ui.msg.new_in_queue"), severity="warning")
            return
        if app.is_readonly:
            app.notify(t("error.readonly", who=app.actor.name), severity="warning")
            return
        if not rules.role_allows(app.actor.role, "create"):
            app.notify(t("error.role", who=app.actor.name, role=label("role", app.actor.role),
                         action=label("action", "create")), severity="error")
            return
        try:
            form = await self._new_form(kind)
        except DutyError as exc:  # unreachable, or an unexpected error already logged
            app.notify(str(exc), markup=False, severity="error")
            return
        result = await app.push_screen_wait(form)
        if result is not None:
            app.notify(t("ui.msg.created", ref=result.ref))
            app.data_changed(result.kind, result.id)

    async def _new_form(self, kind: str):
        ctx, actor = self.app.ctx, self.app.actor
        if kind == "report":
            plans = await run_db(self, queries.plans, "", 500)
            subtypes = sorted({f"{p.category}/{p.subtype}" for p in plans} | {"other"})
            return report_form(ctx, actor, subtypes)
        depts = await run_db(self, queries.departments, "", 500)
        return (work_order_form(ctx, actor, depts) if kind == "work_order"
                else supervision_form(ctx, actor, None, depts))

    # ------------------------------------------------------------------ command line, alerts

    def action_command(self) -> None:
        self.query_one(CommandBar).open()

    @on(CommandBar.Run)
    def _run_command(self, event: CommandBar.Run) -> None:
        self.run_worker(self.run_command(event.command), group="flow", exit_on_error=False)

    async def run_command(self, command: Command) -> None:
        await run_typed(self, command, self.shown_target)

    def action_item(self, verb: str) -> None:
        if unreachable_now(self.app):
            return
        pane = self.pane()
        if pane is not None and pane.item_list.marks:  # marked rows: the verb acts on them all
            marked = [Target.from_row(r) for r in pane.item_list.marked_rows()]
            self.run_worker(self._bulk(pane, verb, marked), group="flow", exit_on_error=False)
            return
        super().action_item(verb)

    async def _bulk(self, pane: QueuePane, verb: str, targets: list[Target]) -> None:
        if await bulk_flow(self, verb, targets) is not None:
            pane.item_list.clear_marks()
            pane.describe()

    # ------------------------------------------------------------------ marks (storms)

    def action_mark(self) -> None:
        pane = self.pane()
        if pane is not None and pane.item_list.toggle_mark() is not None:
            pane.describe()

    def action_mark_all(self) -> None:
        self.run_worker(self._mark_all(), group="flow", exit_on_error=False)

    async def _mark_all(self) -> None:
        """Mark every item the queue shows under its filter — bounded by console.bulk_max."""
        pane = self.pane()
        if pane is None:
            return
        flt, most = pane.item_list.filter, self.app.ctx.settings.bulk_max
        if flt.overdue_only:
            flt = flt.with_(now=self.app.ctx.now())

        def read() -> tuple[int, list]:
            total = queries.count(flt)
            return total, queries.window(flt, 0, total) if 0 < total <= most else []

        try:
            total, rows = await run_db(self, read)
        except DutyError as exc:
            self.app.notify(str(exc), markup=False, severity="error")
            return
        if total > most:
            self.app.notify(t("bulk.too_many", n=total, max=most), severity="warning")
            return
        if not rows:
            self.app.notify(t("ui.storm.nothing_shown"), severity="warning")
            return
        pane.item_list.set_marks(rows)
        pane.describe()
        self.app.notify(t("ui.storm.mark_all", n=len(rows)))

    def shown_target(self, ref: str) -> Target | None:
        """The item ``ref`` as one of this screen's queues shows it, if one does."""
        for item_list in self.lists():
            row = item_list.find_loaded(ref)
            if row is not None:
                return Target.from_row(row)
        return None

    def action_help(self) -> None:
        from screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_ack_alerts(self) -> None:
        self.app.ack_alerts()  # opens the alert list (screens/alerts.py)

    def action_handover(self) -> None:
        try:
            module = importlib.import_module("screens.handover")
        except ImportError:
            self.app.notify(t("ui.msg.handover_pending"), severity="warning")
            return
        self.app.push_screen(module.HandoverScreen())

    def action_figures(self) -> None:
        from screens.figures import FiguresScreen

        self.app.push_screen(FiguresScreen())

    def action_admin(self) -> None:
        from screens.admin import open_admin

        open_admin(self.app)
