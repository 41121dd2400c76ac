"""The `:` command line: an Input with Tab completion (look-ups in a thread worker).

The line docks above the footer (both dock at the bottom, and docked widgets on one
edge overlap: the footer used to cover the line, so commands ran blind), and Tab's
candidates are listed in a strip above it, the current one marked.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from console import commands as commandline
from console.i18n import t
from console.textsafe import one_line
from screens.dbwork import in_db

LOOKUPS = commandline.db_lookups()
MAX_SHOWN = 40  # candidates listed; the strip wraps to at most 4 lines (app.tcss)


def _last_word(candidate: str) -> str:
    words = candidate.rstrip().split(" ")
    return words[-1] if words else candidate


class CommandCandidates(Static):
    """Tab's candidates, above the command line; hidden when there are none."""

    def show(self, candidates: list[str], current: int) -> None:
        if len(candidates) < 2:
            self.hide()
            return
        text = Text(t("ui.cmd.candidates", n=len(candidates)) + "  ", style="bold")
        for i, candidate in enumerate(candidates[:MAX_SHOWN]):
            text.append(one_line(_last_word(candidate)), style="reverse" if i == current else "")
            text.append("  ")
        if len(candidates) > MAX_SHOWN:
            text.append(t("ui.cmd.more", n=len(candidates) - MAX_SHOWN))
        text.append(t("ui.cmd.tab_next"), style="dim")
        self.update(text)
        self.add_class("-open")

    def hide(self) -> None:
        self.remove_class("-open")
        self.update("")


class CommandBar(Input):
    """Hidden until `:`; Enter runs the line, Tab completes, Esc closes."""

    BINDINGS = [
        Binding("tab", "complete", "ui.key.complete", priority=True, id="cmd.complete"),
        Binding("escape", "close", "ui.key.cancel", id="cmd.close"),
    ]

    class Run(Message):
        def __init__(self, command: commandline.Command) -> None:
            super().__init__()
            self.command = command

    def __init__(self) -> None:
        # no blink: a capture (or a tired eye) must find the cursor at any moment
        super().__init__(placeholder=t("ui.cmd.placeholder"), id="commandbar",
                         select_on_focus=False)
        self.cursor_blink = False
        self._candidates: list[str] = []
        self._index = -1
        self._strip = CommandCandidates(id="cmd-candidates")

    def on_mount(self) -> None:
        # a sibling (not a child: an Input draws one line); the screens yield only the bar
        self.parent.mount(self._strip, after=self)

    def open(self) -> None:
        self.value = ":"
        self.cursor_position = 1
        self.add_class("-open")
        self.focus()

    def action_close(self) -> None:
        self.remove_class("-open")
        self._forget()
        self.value = ""
        self.screen.focus_main()

    def _forget(self) -> None:
        self._candidates, self._index = [], -1
        self._strip.hide()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        """Typing (not Tab) makes the listed candidates stale."""
        if event.value not in self._candidates:
            self._forget()

    def action_complete(self) -> None:
        if self._candidates and self.value in self._candidates:
            self._index = (self._index + 1) % len(self._candidates)
            self._apply(self._candidates[self._index])
            self._strip.show(self._candidates, self._index)
            return
        self._complete(self.value, self.app)

    @work(thread=True, exclusive=True, group="complete")
    def _complete(self, text: str, app) -> None:
        found = in_db(commandline.complete, text, LOOKUPS)
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self._completed, text, found)

    def _completed(self, text: str, found: list[str]) -> None:
        if self.value != text:
            return
        if not found:
            self._forget()
            self.app.bell()
            return
        self._candidates, self._index = found, 0
        self._apply(found[0])
        self._strip.show(found, 0)

    def _apply(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)

    async def action_submit(self) -> None:
        text = self.value
        try:
            command = commandline.parse(text)
        except commandline.CommandError as exc:
            self.app.notify(t(exc.key, **exc.params), severity="error")
            return
        self.remove_class("-open")
        self._forget()
        self.value = ""
        self.screen.focus_main()
        self.post_message(self.Run(command))
