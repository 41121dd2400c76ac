"""The ? screen: every key, from the verb table the bindings are built from."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from console import verbs
from console.i18n import t
from screens.keymap import DutyModalScreen, key_of

GENERAL = (
    ("1 2 3 4", "ui.key.tabs"), ("↑ ↓ j k", "ui.key.move"), ("PgUp PgDn Home End", "ui.key.pages"),
    ("Enter", "ui.key.open"), ("Esc", "ui.key.back"), ("/", "ui.key.search"),
    ("F", "ui.key.filters"), ("m", "ui.key.mine"), ("!", "ui.key.overdue_only"),
    ("z", "ui.key.scope"), ("N, Ctrl+N", "ui.key.new"), (":", "ui.key.command"),
    ("A", "ui.key.ack_alerts"), ("H", "ui.key.handover"), ("M", "ui.key.admin"),
    ("G", "ui.key.figures"),
    ("Ctrl+R", "ui.key.reload"),
    ("Ctrl+P", "ui.key.palette"), ("?", "ui.key.help"), ("Ctrl+Q", "ui.key.quit"),
)
DETAIL = (("k", "ui.key.checklist"), ("P", "ui.key.end_plan"))


def _table(rows) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True, min_width=10)
    table.add_column()
    for key, text in rows:
        table.add_row(key, text)
    return table


def help_renderable(app: Any = None) -> Group:
    """The keys and commands, from the verb table (with the site's rebound keys)."""
    item_rows = [(key_of(app, v.binding_id, v.key), t(v.help_key) + _kinds(v.kinds))
                 for v in verbs.with_key()]
    commands = [v.usage for v in verbs.with_command()]
    return Group(
        Text(t("ui.help.items"), style="bold underline"), _table(item_rows), Text(""),
        Text(t("ui.help.general"), style="bold underline"),
        _table([(k, t(d)) for k, d in GENERAL]), Text(""),
        Text(t("ui.help.detail"), style="bold underline"),
        _table([(k, t(d)) for k, d in DETAIL]), Text(""),
        Text(t("ui.help.commands"), style="bold underline"),
        Text(t("ui.help.commands_hint"), style="dim"),
        Text("\n".join(commands)),
    )


def _kinds(kinds: tuple[str, ...]) -> str:
    if set(kinds) >= set(verbs.KINDS):
        return ""
    return "  (" + ", ".join(t(f"ui.queue.{k}") for k in kinds) + ")"


class HelpScreen(DutyModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "ui.key.close", id="help.close")]

    def __init__(self) -> None:
        super().__init__()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label(t("ui.help.title"), classes="dialog-title")
            with VerticalScroll():
                yield Static(help_renderable(self.app))
            yield Label(t("ui.help.hint"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
