"""Who is acting, from where, and under which settings and clock."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from .clock import Clock
from .settings import Settings


def console_id() -> str:
    """host:tty (or host:pid) — which console an event came from."""
    host = socket.gethostname()
    try:
        tty = os.ttyname(0).replace("/dev/", "")
    except OSError:
        tty = f"pid{os.getpid()}"
    return f"{host}:{tty}"


@dataclass(frozen=True)
class Actor:
    """The operator: a roster login, their name and role (viewer/officer/leader/admin)."""

    login: str
    name: str
    role: str

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "system", "admin")


@dataclass
class Context:
    settings: Settings
    clock: Clock = field(default_factory=Clock)
    console: str = field(default_factory=console_id)
    db_url: str = ""  # for the change feed's own connection; "" = poll through the models

    def now(self):
        return self.clock.now()
