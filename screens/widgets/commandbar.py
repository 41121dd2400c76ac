"""The `:` command line: an Input with Tab completion (look-ups in a thread worker)."""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input
from textual.worker import get_current_worker

from console import commands as commandline
from console.i18n import t
from screens.dbwork import in_db
from screens.keymap import localize_bindings

LOOKUPS = commandline.db_lookups()


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
        super().__init__(placeholder=t("ui.cmd.placeholder"), id="commandbar",
                         select_on_focus=False)
        localize_bindings(self)
        self._candidates: list[str] = []
        self._index = -1

    def open(self) -> None:
        self.value = ":"
        self.cursor_position = 1
        self.add_class("-open")
        self.focus()

    def action_close(self) -> None:
        self.remove_class("-open")
        self.value = ""
        self.screen.focus_main()

    def action_complete(self) -> None:
        if self._candidates and self.value in self._candidates:
            self._index = (self._index + 1) % len(self._candidates)
            self._apply(self._candidates[self._index])
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
        self._candidates, self._index = found, 0
        if not found:
            self.app.bell()
            return
        self._apply(found[0])
        if len(found) > 1:
            self.app.notify("  ".join(c.split(" ")[-1] or c.split(" ")[-2] for c in found[:8]),
                            title=t("ui.cmd.candidates", n=len(found)), timeout=4)

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
        self.value = ""
        self.screen.focus_main()
        self.post_message(self.Run(command))
