"""The console asks its terminal whether anyone is there (``console.session.TerminalProbe``).

A mixin for the console and the wall board: ``watch_terminal(seconds)`` from
``on_mount`` writes a cursor-position request every ``seconds``; the answer comes
back through Textual's input parser as an ``events.CursorPosition``.  Only on a real
terminal: not under ``run_test`` and not in the browser (textual-serve's pipe), where a
hidden tab may be throttled for a minute and would look gone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from textual import events

from console import logs, session


def _a_terminal() -> bool:
    try:
        return os.isatty(sys.__stdin__.fileno()) and os.isatty(sys.__stdout__.fileno())
    except (AttributeError, OSError, ValueError):
        return False


class TerminalWatch:
    """Mixed into an ``App``: ``watch_terminal`` starts it, ``on_cursor_position`` feeds it."""

    _terminal_probe: session.TerminalProbe | None = None
    set_interval: Callable[..., Any]  # the App's (an annotation only: no attribute here)

    def watch_terminal(self, seconds: float) -> None:
        if seconds <= 0 or not _a_terminal():
            return
        self._terminal_probe = session.TerminalProbe()
        self.set_interval(seconds, self._ask_terminal)

    def _ask_terminal(self) -> None:
        probe, driver = self._terminal_probe, getattr(self, "_driver", None)
        if probe is None or driver is None:
            return
        what = probe.tick()
        if what == "ask":
            driver.write(session.CURSOR_REQUEST)
            driver.flush()
        elif what == "gone":
            logs.get("session").warning("the terminal stopped answering: ending the console")
            session.hang_up()

    def on_cursor_position(self, event: events.CursorPosition) -> None:
        event.stop()
        if self._terminal_probe is not None:
            self._terminal_probe.answered()
