"""The queue's filter dialog (F): scope, status, level, unit, category, days received, flags.

What it returns (``FilterChoice``) the main screen applies onto the queue's
``QueueFilter``; the dates are checked by the core (``fields.day_range``: a bad date
or from-after-to is one line beside the fields, and nothing is applied).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import Checkbox, Input, Label, Select

from console import categories, fields, rules, vocab
from console.clock import to_local
from console.errors import DomainError
from console.i18n import label, t
from console.queries import RECEIVED, QueueFilter
from screens import fmt
from screens.forms import Tick
from screens.keymap import DutyModalScreen


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
    repeats_only: bool = False  # 重复投诉 (issue 11)
    category: str | None = None
    since: dt.date | None = None  # local days received, inclusive
    until: dt.date | None = None


def severities(kind: str) -> tuple[str, ...]:
    """The levels in the order a person scans them: the gravest first."""
    values = vocab.SEVERITY_VALUES[kind]
    return tuple(reversed(values)) if kind == "work_order" else values


def category_choices(kind: str) -> list[tuple[str, str]]:
    """(label, value): a report's four categories, the 12345 top and middle classes."""
    if kind == "report":
        return [(label("category", c), c) for c in vocab.REPORT_CATEGORIES]
    if kind == "work_order":
        return [(c.path, c.code) for c in categories.upper_classes()]
    return []


def category_label(kind: str, value: str) -> str:
    if kind == "report":
        return label("category", value)
    found = categories.find(value)
    return found.path if found is not None else value


def shown_days(f: QueueFilter, tz: dt.tzinfo) -> tuple[str, str]:
    """The filter's UTC bounds back as the local days typed ("" where open)."""
    since = to_local(f.received_from, tz).date().isoformat() if f.received_from else ""
    until = ((to_local(f.received_before, tz) - dt.timedelta(days=1)).date().isoformat()
             if f.received_before else "")
    return since, until


class FilterScreen(DutyModalScreen[FilterChoice | None]):
    BINDINGS = [
        Binding("ctrl+s", "apply", "ui.key.apply", id="filter.apply"),
        Binding("escape", "cancel", "ui.key.cancel", id="filter.cancel"),
        Binding("ctrl+r", "reset", "ui.key.reset", id="filter.reset"),
    ]

    def __init__(self, flt: QueueFilter, departments: list[tuple[str, str]],
                 tz: dt.tzinfo) -> None:
        super().__init__()
        self.flt, self.departments, self.tz = flt, departments, tz

    def _selects(self) -> list[tuple[str, list[tuple[str, str]], str | None, bool]]:
        f, kind = self.flt, self.flt.kind
        rows = [
            ("scope", [(t(f"ui.scope.{s}"), s) for s in ("open", "closed", "all")], f.scope,
             False),
            ("status", [(label(f"status.{kind}", s), s) for s in rules.STATUSES[kind]],
             f.status, True),
            ("severity", [(fmt.severity_label(kind, s), s) for s in severities(kind)],
             f.severity, True),
        ]
        if kind != "report":
            rows.append(("department", [(n, c) for c, n in self.departments], f.department,
                         True))
        if category_choices(kind):
            rows.append(("category", category_choices(kind), f.category, True))
        return rows

    def compose(self) -> ComposeResult:
        f, kind = self.flt, self.flt.kind
        with Vertical(classes="dialog form filter-dialog"):
            yield Label(t("ui.filter.title", queue=t(f"ui.queue.{kind}")), classes="dialog-title")
            for name, options, value, blank in self._selects():
                with Horizontal(classes="form-row"):
                    yield Label(t(f"ui.filter.{name}"), classes="field-label")
                    yield Select(options, value=value if value else Select.NULL,
                                 allow_blank=blank, id=f"flt-{name}", prompt=t("ui.filter.any"))
            if kind in RECEIVED:
                since, until = shown_days(f, self.tz)
                with Horizontal(classes="form-row"):
                    yield Label(t("ui.filter.received"), classes="field-label")
                    yield Input(since, placeholder="YYYY-MM-DD", id="flt-since",
                                classes="filter-day")
                    yield Label("–", classes="filter-dash")
                    yield Input(until, placeholder="YYYY-MM-DD", id="flt-until",
                                classes="filter-day")
                yield Label("", id="flt-error", classes="error field-error", markup=False)
            yield Tick(t("ui.filter.mine"), f.mine is not None, id="flt-mine")
            yield Tick(t("ui.filter.overdue"), f.overdue_only, id="flt-overdue")
            yield Tick(t("ui.filter.unacked"), f.unacked_only, id="flt-unacked")
            if kind == "work_order":
                yield Tick(t("merge.filter.repeats"), f.repeats_only, id="flt-repeats")
            yield Label(t("ui.filter.dialog_hint"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#flt-scope").focus()

    def _value(self, name: str) -> str | None:
        try:
            value = self.query_one(f"#flt-{name}", Select).value
        except NoMatches:  # a select the kind does not have
            return None
        return None if value is Select.NULL else str(value)

    def _days(self) -> tuple[dt.date | None, dt.date | None]:
        typed = [i.value for i in self.query(".filter-day").results(Input)]
        return fields.day_range(*typed) if typed else (None, None)

    def action_apply(self) -> None:
        try:
            since, until = self._days()
        except DomainError as exc:  # said beside the dates; nothing is applied
            self.query_one("#flt-error", Label).update(str(exc))
            self.query_one("#flt-error").add_class("-shown")
            self.query_one("#flt-since" if exc.field == "since" else "#flt-until").focus()
            return
        self.dismiss(FilterChoice(
            self._value("scope") or "open", self._value("status"), self._value("severity"),
            self._value("department"), self.query_one("#flt-mine", Checkbox).value,
            self.query_one("#flt-overdue", Checkbox).value,
            self.query_one("#flt-unacked", Checkbox).value,
            repeats_only=any(c.value for c in self.query("#flt-repeats").results(Checkbox)),
            category=self._value("category"), since=since, until=until))

    def action_reset(self) -> None:
        self.dismiss(FilterChoice("open", None, None, None, False, False, False))

    def action_cancel(self) -> None:
        self.dismiss(None)
