"""The console's terminal: refuse to start without one, and leave when it goes away.

``ssh host`` without ``-t`` (or a pipe) gives no terminal: the console would
draw into a pipe and, once the client left, spin on (seen at 37 % CPU).  It is
refused in one line instead.  When the terminal is hung up (the SSH client
dropped, sshd's keep-alive gave up, the window closed) the process ends at
once: every action is its own committed transaction, so an action in flight is
rolled back whole by the database, as after a power cut.

A *frozen* client (a suspended laptop, an SSH client stopped with ^Z) hangs up
nothing and answers nothing, and sshd's keep-alive cannot tell: OpenSSH probes
only after ``ClientAliveInterval`` seconds with no traffic at all, and the
console's clock writes every second, so the probe never came (serverloop.c,
OpenSSH 9.2 to 10.x).  The console asks the terminal itself instead
(``TerminalProbe``): a cursor-position request every few seconds, which every
VT100-style terminal answers; a terminal that answered once and then leaves
``MISSES`` requests in a row unanswered is gone, and the console ends.
"""

from __future__ import annotations

import os
import signal
import sys
import termios
import threading
import time

from .errors import NoTerminal
from .i18n import t

HANGUP_EXIT = 129  # 128 + SIGHUP, as the shell reports a hung-up job


def require_terminal() -> None:
    """Raise NoTerminal unless standard input and output are both a terminal."""
    try:
        ok = os.isatty(sys.stdin.fileno()) and os.isatty(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # closed or replaced streams
        ok = False
    if not ok:
        raise NoTerminal(t("access.no_terminal"))


def hang_up() -> None:
    """End the process now, as a hung-up terminal does (no cleanup: see ``_hang_up``)."""
    _hang_up()


def _hang_up(*_args: object) -> None:
    os._exit(HANGUP_EXIT)  # no cleanup on a dead terminal: it could only block on writes


def _terminal_gone(fd: int, parent: int) -> bool:
    if os.getppid() != parent:  # sshd, sudo or the shell that started us has gone
        return True
    try:
        termios.tcgetattr(fd)  # a hung-up terminal answers EIO
    except termios.error:
        return True
    return False


def exit_when_terminal_goes(poll_seconds: float = 1.0) -> None:
    """SIGHUP ends the process (even if it was ignored), and so does a vanished terminal.

    The watch also covers a SIGHUP that never comes (a parent that ignores or
    does not relay it).
    """
    signal.signal(signal.SIGHUP, _hang_up)
    fd, parent = sys.stdin.fileno(), os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if _terminal_gone(fd, parent):
                _hang_up()

    threading.Thread(target=watch, name="terminal-watch", daemon=True).start()


CURSOR_REQUEST = "\x1b[6n"  # DSR 6: the terminal answers ESC [ row ; col R


class TerminalProbe:
    """Is anyone at the other end of the terminal?  Pure counting, one call per interval.

    ``tick()`` says what to do now: "ask" (write ``CURSOR_REQUEST``), "gone" (end the
    console) or "" (nothing).  ``answered()`` is called for every answer.  Only a
    terminal that has answered once can be declared gone: one that never answers (a
    dumb terminal) is asked ``MISSES`` times and then left alone.
    """

    MISSES = 3

    def __init__(self) -> None:
        self.armed = False  # it has answered at least once
        self.unanswered = 0  # requests since the last answer
        self.silent = False  # never answered: stop asking

    def tick(self) -> str:
        if self.silent:
            return ""
        if self.unanswered >= self.MISSES:
            if self.armed:
                return "gone"
            self.silent = True
            return ""
        self.unanswered += 1
        return "ask"

    def answered(self) -> None:
        self.armed, self.unanswered, self.silent = True, 0, False
