"""The alert list (A): every pending alert on one screen, handled together in a storm.

Each row: mark, ref, severity, when, what happened.  Enter opens the item; Space
marks; a / d / n / c acknowledge, assign, note or close the marked rows — or,
with none marked, every row listed — with one note and one confirmation
(screens/flows.bulk_flow: each item still its own action and event).

The list is the app's alerts (newest first), then the open unacknowledged items
escalated or overdue before this console started (the queues' indexed
unacknowledged filter), at most console.bulk_max; each item is read in a thread
worker for its version and state: one acknowledged or closed meanwhile is no
longer pending and leaves the list.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label

from console import queries
from console.actions.bulk import BULK_VERBS
from console.i18n import label, t
from console.queries import QueueFilter, QueueRow
from screens import fmt
from screens.bulkflow import bulk_flow
from screens.dbwork import guarded
from screens.flows import ItemScreen, Target
from screens.widgets.alerts import Alert
from screens.widgets.footer import DutyFooter
from screens.widgets.header import DutyHeader

COLUMNS = ("mark", "ref", "sev", "when", "what")
KINDS = ("report", "work_order", "supervision")


def pending_alerts(alerts: list[Alert], most: int) -> list[Alert]:
    """The newest alert of each item, newest first, at most ``most``."""
    seen: set[tuple[str, int]] = set()
    out = []
    for alert in reversed(alerts):
        key = (alert.kind, alert.item_id)
        if key not in seen:
            seen.add(key)
            out.append(alert)
        if len(out) >= most:
            break
    return out


def alerting(row: QueueRow) -> bool:
    """An unacknowledged open item the sweep alerts about: escalated, overdue, or a
    new Ⅰ/Ⅱ report."""
    return row.closed_at is None and not row.acked and (
        row.step > 0 or row.overdue_at is not None
        or row.kind == "report" and row.severity in ("I", "II"))


def alert_of(row: QueueRow, tz: Any) -> Alert:
    """The alert an item read from the database stands for (no feed event seen here)."""
    if row.overdue_at is not None:
        message = t("ui.alert.overdue", ref=row.ref)
    elif row.step > 0:
        # by the sweep or by hand: the row does not say, and "自动" was wrong for a hand's
        message = t("ui.alert.escalated_unacked", ref=row.ref, step=row.step + 1)
    else:
        message = t("ui.alert.new_major", ref=row.ref, level=label("level", row.severity),
                    title=row.title or "")
    # when it went overdue, not the row's last change (a take-over touches every item)
    at = row.overdue_at if row.overdue_at is not None else row.updated_at
    return Alert(row.kind, row.id, row.ref, message, fmt.local(at, tz, "%H:%M"))


def _what(alert: Alert, row: QueueRow) -> str:
    """What happened, without the ref the row already shows in its own column."""
    message = alert.message
    if not message.startswith(row.ref):
        return message
    return message.removeprefix(row.ref).lstrip(" :：").lstrip()


class AlertsScreen(ItemScreen):
    """Pending alerts: open one, or handle the marked (else all listed) at once."""

    DEFAULT_CSS = """
    AlertsScreen #alerts-title { height: 1; padding: 0 1; text-style: bold; }
    AlertsScreen #alerts-table { height: 1fr; }
    AlertsScreen #alerts-hint { height: auto; width: 1fr; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "back", "ui.key.alerts_back", id="alerts.back"),
        Binding("space", "mark", "ui.key.mark", id="alerts.mark"),
        Binding("a", "item('acknowledge')", "ui.verb.acknowledge", id="alerts.acknowledge"),
        Binding("d", "item('assign')", "ui.verb.assign", id="alerts.assign"),
        Binding("n", "item('note')", "ui.verb.note", id="alerts.note"),
        Binding("c", "item('close')", "ui.verb.close", id="alerts.close"),
    ]

    def __init__(self) -> None:
        super().__init__(id="alerts")
        self.rows: list[tuple[Alert, QueueRow]] = []
        self.marks: set[tuple[str, int]] = set()
        self.read_done = False

    def compose(self) -> ComposeResult:
        yield DutyHeader()
        yield Label("", id="alerts-title", markup=False)
        table: DataTable = DataTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Label(t("ui.alerts.hint"), id="alerts-hint", markup=False)
        yield DutyFooter()

    def on_mount(self) -> None:
        self.app.published.subscribe(self, self._published)
        self.reread()

    def _published(self, published: Any) -> None:
        if published.alerts or published.kinds or published.reconnected:
            self.reread()

    # ------------------------------------------------------------------ data

    def reread(self) -> None:
        app: Any = self.app
        self._read(app, pending_alerts(app.alerts, app.ctx.settings.bulk_max))

    @work(thread=True, exclusive=True, group="alerts")
    def _read(self, app: Any, alerts: list[Alert]) -> None:
        most, tz = app.ctx.settings.bulk_max, app.ctx.settings.tz

        unit = getattr(app, "unit", None)  # a unit liaison: its own department's items

        def read() -> list[tuple[Alert, QueueRow | None]]:
            mine = [a for a in alerts if unit is None
                    or queries.in_view(QueueFilter(a.kind, unit=unit), a.item_id)]
            got = [(a, queries.row_by_id(a.kind, a.item_id)) for a in mine]
            known = {(a.kind, a.item_id) for a in alerts}
            # and what was escalated or went overdue before this console started
            for kind in KINDS:
                for row in queries.window(QueueFilter(kind, unacked_only=True, unit=unit),
                                          0, most):
                    if len(got) < most and (kind, row.id) not in known and alerting(row):
                        got.append((alert_of(row, tz), row))
            return got

        got = guarded(app, "alerts", read)
        if got is not None:
            app.call_from_thread(self._show, got)

    def _show(self, got: list[tuple[Alert, QueueRow | None]]) -> None:
        gone = {(a.kind, a.item_id) for a, row in got
                if row is None or row.closed_at is not None or row.acked}
        self.rows = [(a, row) for a, row in got if row is not None
                     and (a.kind, a.item_id) not in gone]
        self.marks &= {(a.kind, a.item_id) for a, _ in self.rows}
        self.read_done = True
        if gone:
            self.app.drop_alerts(gone)  # handled meanwhile (here or elsewhere): not pending
        self._draw()

    def _draw(self) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        width = max(40, self.size.width - 2)
        longest = max((cell_len(row.ref) for _a, row in self.rows), default=12)
        sev = max((cell_len(fmt.severity_label(row.kind, row.severity))
                   for _a, row in self.rows), default=0)
        widths = {"mark": 1, "ref": longest, "when": 5,
                  "sev": max(6, sev, cell_len(t("ui.alerts.col.sev")))}
        widths["what"] = max(10, width - sum(widths.values()) - 2 * len(COLUMNS))
        for name in COLUMNS:
            heading = "" if name == "mark" else t(f"ui.alerts.col.{name}")
            table.add_column(heading, key=name, width=widths[name])
        for alert, row in self.rows:
            key = (alert.kind, alert.item_id)
            mark = Text("✓", style="bold green") if key in self.marks else Text(" ")
            table.add_row(mark, fmt.fit(row.ref, widths["ref"]),
                          fmt.badge(row.kind, row.severity, widths["sev"]),
                          Text(alert.at), fmt.fit(_what(alert, row), widths["what"]),
                          key=f"{alert.kind}:{alert.item_id}")
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        title = (t("ui.alerts.title", n=len(self.rows)) if self.rows
                 else t("ui.alerts.empty"))
        if self.marks:
            title += " · " + t("ui.storm.marked", n=len(self.marks))
        self.query_one("#alerts-title", Label).update(title)

    # ------------------------------------------------------------------ keys

    def current_row(self) -> tuple[Alert, QueueRow] | None:
        if not self.rows:
            return None
        index = self.query_one(DataTable).cursor_row
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def current_target(self) -> Target | None:
        current = self.current_row()
        return Target.from_row(current[1]) if current else None

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_mark(self) -> None:
        current = self.current_row()
        if current is None:
            return
        key = (current[0].kind, current[0].item_id)
        self.marks.symmetric_difference_update({key})
        table = self.query_one(DataTable)
        row = table.cursor_row
        self._draw()
        table.move_cursor(row=min(row + 1, len(self.rows) - 1))

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        current = self.current_row()
        if current is not None:
            self.app.open_detail(current[1].kind, current[1].id)

    def targets(self, verb: str) -> list[Target]:
        """The marked rows, else every row listed (acknowledge: those still unacknowledged)."""
        rows = [row for a, row in self.rows if not self.marks or (a.kind, a.item_id) in self.marks]
        if verb == "acknowledge":
            rows = [r for r in rows if not r.acked]
        return [Target.from_row(r) for r in rows]

    def action_item(self, verb: str) -> None:
        if verb not in BULK_VERBS:  # escalate and the rest: the row under the cursor
            super().action_item(verb)
            return
        self.run_worker(self._bulk(verb), group="flow", exit_on_error=False)

    async def _bulk(self, verb: str) -> None:
        targets = self.targets(verb)
        result = await bulk_flow(self, verb, targets)
        if result is None:
            return
        self.marks.clear()
        if verb in ("acknowledge", "close"):
            self.app.drop_alerts(result.kinds)
        self.reread()
