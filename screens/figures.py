"""统计: the figures of a period, grouped, with per-day and per-month charts.

``FiguresScreen(kind="work_order", period="this_month", by="department")`` — push it
on the app (``app.push_screen(FiguresScreen())``); it reads ``app.ctx``.  Every read
runs in a thread worker (console.figures_view.read_screen, grouped SQL only); the
screen shows at most one row per group (a year's days at most), never the items.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Sparkline, Static
from textual.worker import get_current_worker

from console.figures import GROUPS, KINDS
from console.figures_out import PERIODS, named_period
from console.figures_view import ScreenFigures, read_screen
from console.i18n import label, t
from console.intake import YEARS
from screens.dbwork import in_db
from screens.keymap import DutyScreen
from screens.widgets.footer import DutyFooter

NO_GROUP = "none"


class MonthBars(Widget):
    """Horizontal bars, one per month, scaled to the widget's width (Rich text)."""

    DEFAULT_CSS = "MonthBars { height: auto; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series: tuple[tuple[str, int], ...] = ()

    def show(self, series: tuple[tuple[str, int], ...]) -> None:
        self.series = series
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.series))

    def render(self) -> Text:
        if not self.series:
            return Text("")
        top = max(n for _m, n in self.series) or 1
        digits = len(str(top))
        room = max(4, self.size.width - 8 - digits - 2)
        out = Text()
        for i, (month, n) in enumerate(self.series):
            eighths = round(n / top * room * 8)
            bar = "█" * (eighths // 8) + (" ▏▎▍▌▋▊▉"[eighths % 8] if eighths % 8 else "")
            out.append(f"{month} ", style="dim")
            out.append(bar, style="bold cyan")
            out.append(f" {n}")
            if i < len(self.series) - 1:
                out.append("\n")
        return out


class FiguresScreen(DutyScreen):
    """Figures with a period chooser (this month, last month, this year, from/to), a kind,
    a group-by, the table and two charts.  Esc goes back, Ctrl+R reads again."""

    CSS_PATH = "figures.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "ui.key.back", id="figures.back"),
        Binding("ctrl+r", "reload", "ui.key.reload", id="figures.reload"),
    ]

    def __init__(self, kind: str = "work_order", period: str = "this_month",
                 by: str | None = "department") -> None:
        super().__init__(id="figures")
        self.kind = kind if kind in KINDS else "work_order"
        self.period = period if period in PERIODS else "this_month"
        self.by = by if by in GROUPS[self.kind] else None
        self.data: ScreenFigures | None = None

    def compose(self) -> ComposeResult:
        yield Static(t("record.screen.title"), id="figures-title")
        with Horizontal(id="figures-controls"):
            yield Select([(t(f"record.period.{p}"), p) for p in PERIODS], value=self.period,
                         allow_blank=False, id="figures-period", prompt=t("record.screen.period"))
            yield Input(placeholder="YYYY-MM-DD", id="figures-from")
            yield Input(placeholder="YYYY-MM-DD", id="figures-to")
            yield Select([(label("kind", k), k) for k in KINDS], value=self.kind,
                         allow_blank=False, id="figures-kind")
            yield Select(self._by_options(), value=self.by or NO_GROUP, allow_blank=False,
                         id="figures-by")
        yield Static(t("record.screen.loading"), id="figures-status")
        with VerticalScroll(id="figures-body"):
            yield DataTable(id="figures-table", zebra_stripes=True, cursor_type="row")
            yield Static(t("record.screen.per_day"), classes="figures-caption")
            yield Sparkline([], id="figures-days")
            yield Static("", id="figures-days-range", classes="figures-range")
            yield Static(t("record.screen.per_month"), classes="figures-caption")
            yield MonthBars(id="figures-months")
        yield DutyFooter()

    def _by_options(self) -> list[tuple[str, str]]:
        return [(t("record.screen.no_group"), NO_GROUP)] + [
            (t(f"record.by.{b}"), b) for b in GROUPS[self.kind]]

    def on_mount(self) -> None:
        # a custom period starts from this month's days: edit rather than type from nothing
        first, last = named_period("this_month", self.app.ctx.now(), self.app.ctx.settings.tz)
        self.query_one("#figures-from", Input).value = first.isoformat()
        self.query_one("#figures-to", Input).value = last.isoformat()
        self._custom_inputs()
        self.reload()

    # ------------------------------------------------------------------ choosers

    def _custom_inputs(self) -> None:
        custom = self.period == "custom"
        for name in ("#figures-from", "#figures-to"):
            self.query_one(name, Input).display = custom

    @on(Select.Changed, "#figures-period")
    def _period_changed(self, event: Select.Changed) -> None:
        self.period = str(event.value)
        self._custom_inputs()
        if self.period != "custom":
            self.reload()

    @on(Select.Changed, "#figures-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if str(event.value) == self.kind:
            return
        self.kind = str(event.value)
        if self.by not in GROUPS[self.kind]:
            self.by = None
        by = self.query_one("#figures-by", Select)
        with by.prevent(Select.Changed):
            by.set_options(self._by_options())
            by.value = self.by or NO_GROUP
        self.reload()

    @on(Select.Changed, "#figures-by")
    def _by_changed(self, event: Select.Changed) -> None:
        value = None if event.value == NO_GROUP else str(event.value)
        if value != self.by:
            self.by = value
            self.reload()

    @on(Input.Submitted)
    def _custom_submitted(self) -> None:
        self.reload()

    def _days(self) -> tuple[dt.date, dt.date] | None:
        if self.period != "custom":
            return named_period(self.period, self.app.ctx.now(), self.app.ctx.settings.tz)
        try:
            first = dt.date.fromisoformat(self.query_one("#figures-from", Input).value.strip())
            last = dt.date.fromisoformat(self.query_one("#figures-to", Input).value.strip())
        except ValueError:
            return None
        ok = first <= last and YEARS[0] <= first.year and last.year <= YEARS[1]  # noqa: SIM300
        return (first, last) if ok else None

    # ------------------------------------------------------------------ data

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        days = self._days()
        status = self.query_one("#figures-status", Static)
        if days is None:
            status.update(Text(t("record.screen.bad_custom"), style="red"))
            return
        status.update(t("record.screen.loading"))
        self.load(self.kind, self.by, *days)

    @work(thread=True, exclusive=True, group="figures", exit_on_error=False)
    def load(self, kind: str, by: str | None, first: dt.date, last: dt.date) -> None:
        app = self.app
        try:
            data = in_db(read_screen, app.ctx, kind, by, first, last)
        except Exception as exc:  # noqa: BLE001 - a busy or unreachable database: say so
            app.call_from_thread(self._failed, exc)
            return
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self._loaded, data)

    def _failed(self, exc: Exception) -> None:
        self.query_one("#figures-status", Static).update(
            Text(t("record.screen.failed", why=str(exc).splitlines()[0] if str(exc)
                   else type(exc).__name__), style="red"))

    def _loaded(self, data: ScreenFigures) -> None:
        self.data = data
        title = t("record.stats_title", kind=label("kind", data.kind),
                  first=data.first.isoformat(), last=data.last.isoformat(),
                  site=self.app.ctx.settings.site_name)
        self.query_one("#figures-status", Static).update(
            title if data.total else f"{title} — {t('record.screen.none')}")
        table = self.query_one("#figures-table", DataTable)
        table.clear(columns=True)
        table.add_columns(*data.head)
        for i, row in enumerate(data.rows):
            cells = [Text(c, justify="left" if j == 0 else "right") for j, c in enumerate(row)]
            if i == 0:
                for c in cells:
                    c.stylize("bold")
            table.add_row(*cells)
        self.query_one("#figures-days", Sparkline).data = [n for _d, n in data.per_day]
        days = data.per_day
        span = t("record.screen.days_range", first=days[0][0], last=days[-1][0],
                 top=max(n for _d, n in days)) if days else ""
        self.query_one("#figures-days-range", Static).update(span)
        self.query_one("#figures-months", MonthBars).show(data.per_month)
