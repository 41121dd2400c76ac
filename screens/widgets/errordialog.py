"""The dialog an unexpected error shows: what failed, and where in the log to look.

The console keeps running behind it (issue 9 §1); the traceback is only in the
log file, under the reference shown here.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from console import logs
from console.i18n import t
from console.textsafe import one_line


class ErrorDialog(ModalScreen[None]):
    DEFAULT_CSS = """
    ErrorDialog { align: center middle; }
    ErrorDialog > Vertical { width: 80%; max-width: 90; height: auto; padding: 0 1;
                             border: thick $error; background: $surface; }
    ErrorDialog Label { width: 100%; }
    """
    BINDINGS = [Binding("escape,enter,q", "close", show=False, id="error.close")]

    def __init__(self, ref: str, error: str) -> None:
        super().__init__()
        self.ref, self.error = ref, error

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("health.error_title"), classes="dialog-title")
            yield Label(t("health.error_body", error=one_line(self.error)), markup=False)
            yield Label(t("health.error_ref", ref=self.ref, log=logs.log_path()), markup=False,
                        id="error-ref")
            yield Label(t("health.error_close"), classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
