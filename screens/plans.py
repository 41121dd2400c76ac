"""The plan library (应急预案): browse, search, and read a plan's graded response."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from console import queries
from console.i18n import label, t
from console.models import Plan
from console.textsafe import one_line
from screens import fmt
from screens.dbwork import guarded
from screens.keymap import DutyScreen
from screens.widgets.alerts import AlertBanner
from screens.widgets.footer import DutyFooter
from screens.widgets.header import DutyHeader

LEVEL_ORDER = ("I", "II", "III", "IV")


def _hanging(lead: str, text: str) -> Table:
    """``lead`` then ``text`` wrapped under itself (a CJK line breaks anywhere, so a bare
    Text put ``1.`` or ``启动条件:`` alone on its line at 80 columns)."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    grid.add_row(lead, text)
    return grid


def render_plan(plan: Plan, activations: list | None = None, tz=None,
                names: dict[str, str] | None = None) -> RenderableType:
    """Everything a plan says: levels Ⅰ–Ⅳ with criteria, who declares, measures; contacts.
    ``names``: department codes and logins → names (the owner, who activated)."""
    names = names or {}
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"{plan.code}  ", style="bold")
    head.append(plan.title, style="bold underline")
    owner = names.get(plan.owner or "", plan.owner or "—")
    head.append(f"\n{label('plan_kind', plan.kind)} · {label('category', plan.category)}"
                f" · {t('ui.plan.owner')} {owner}", style="dim")
    parts.append(head)
    if plan.summary:
        parts.append(Text(plan.summary))
    if activations:
        for act in activations:
            line = Text(t("ui.plan.active_for", level=label("level", act.level),
                          at=fmt.local(act.activated_at, tz),
                          who=names.get(act.activated_by, act.activated_by)),
                        style="bold #ffaf00")
            parts.append(line)
    for level in LEVEL_ORDER:
        spec = (plan.levels or {}).get(level)
        if not spec:
            continue
        title = Text()
        title.append(f" {label('level', level)} ",  # the label holds the numeral: no badge
                     style=fmt.SEVERITY_STYLE["report"].get(level, "") + " bold")
        title.append(f"   {t('field.declared_by')}: {spec.get('declared_by', '—')}", style="dim")
        parts.append(Text(""))
        parts.append(title)
        if spec.get("criteria"):
            parts.append(_hanging(f"{t('ui.plan.criteria')}:", spec["criteria"]))
        for i, measure in enumerate(spec.get("measures", []), 1):
            parts.append(_hanging(f"  {i:>2}.", str(measure)))
    if plan.contacts:
        parts.append(Text(""))
        parts.append(Text(t("ui.plan.contacts"), style="bold"))
        table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 2))
        for c in plan.contacts:
            table.add_row(c.get("name", ""), c.get("post", ""), c.get("phone", ""))
        parts.append(table)
    if plan.shelters:
        parts.append(Text(""))
        parts.append(Text(t("ui.plan.shelters"), style="bold"))
        for s in plan.shelters:
            if isinstance(s, dict):
                parts.append(Text("  " + " · ".join(str(v) for v in s.values() if v)))
            else:
                parts.append(Text(f"  {s}"))
    if plan.related:
        parts.append(Text(""))
        parts.append(Text(f"{t('ui.plan.related')}: {', '.join(plan.related)}", style="dim"))
    return Group(*parts)


def plan_names(activations=()) -> dict[str, str]:
    """Department names by code, and the names of who activated (run in a thread)."""
    names = {d.code: d.name for d in queries.departments("", 1000)}
    for act in activations:
        person = queries.person_by_login(act.activated_by)
        if person is not None:
            names[act.activated_by] = person.name
    return names


class PlansPane(Vertical):
    """Tab 4: a search line, the list of plans, and (on wide screens) the plan beside it."""

    BINDINGS = [Binding("enter", "open", "ui.key.open_plan", id="plans.open")]

    def __init__(self) -> None:
        super().__init__(id="pane-plans")
        self.plans: dict[str, Plan] = {}
        self.names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder=t("ui.plan.search"), id="plan-search")
        with Horizontal():
            yield OptionList(id="plan-list")
            with VerticalScroll(id="plan-preview-box"):
                yield Static("", id="plan-preview")

    def on_mount(self) -> None:
        self.load("", self.app)

    def focus_list(self) -> None:
        self.query_one("#plan-list").focus()

    def focus_search(self) -> None:
        self.query_one("#plan-search").focus()

    @on(Input.Changed, "#plan-search")
    def _search(self, event: Input.Changed) -> None:
        self.load(event.value, self.app)

    @on(Input.Submitted, "#plan-search")
    def _search_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_list()

    @work(thread=True, exclusive=True, group="plans")
    def load(self, search: str, app) -> None:
        got = guarded(app, "plans", lambda: (queries.plans(search, 500), plan_names()))
        if got is not None and not get_current_worker().is_cancelled:
            app.call_from_thread(self._loaded, *got)

    def _loaded(self, plans: list[Plan], names: dict[str, str]) -> None:
        self.plans, self.names = {p.code: p for p in plans}, names
        options = self.query_one("#plan-list", OptionList)
        options.clear_options()
        options.add_options([Option(_hanging(f"{p.code:<10}", one_line(p.title)), id=p.code)
                             for p in plans])
        if plans:
            options.highlighted = 0

    @on(OptionList.OptionHighlighted, "#plan-list")
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        plan = self.plans.get(event.option.id or "")
        if plan is not None:
            self.query_one("#plan-preview", Static).update(render_plan(plan, names=self.names))

    @on(OptionList.OptionSelected, "#plan-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        options = self.query_one("#plan-list", OptionList)
        if options.highlighted is None:
            return
        code = options.get_option_at_index(options.highlighted).id
        self.app.push_screen(PlanScreen(code))


class PlanScreen(DutyScreen):
    """One plan in full; Esc goes back."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "ui.key.back", id="plan.back")]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def compose(self) -> ComposeResult:
        yield DutyHeader()
        yield AlertBanner()
        with VerticalScroll(id="plan-body"):
            yield Static(t("ui.list.loading"), id="plan-full")
        yield DutyFooter()

    def on_mount(self) -> None:
        self.query_one("#plan-body").focus()
        self.load(self.app)

    @work(thread=True, exclusive=True, group="plan")
    def load(self, app) -> None:
        def read():
            plan = queries.plan_by_code(self.code)
            acts = [a for a, p in queries.active_activations(200) if p.code == self.code]
            return plan, acts, plan_names(acts)

        got = guarded(app, "plan", read)
        if got is not None:
            app.call_from_thread(self._loaded, *got)

    def _loaded(self, plan: Plan | None, acts: list, names: dict[str, str]) -> None:
        body = self.query_one("#plan-full", Static)
        if plan is None:
            body.update(t("error.not_found", ref=self.code))
            return
        body.update(render_plan(plan, acts, self.app.ctx.settings.tz, names))
