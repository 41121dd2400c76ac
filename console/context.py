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


def _optional_name(settings: Settings, section: str, key: str) -> str | None:
    """A user or group name setting: empty/null means none; anything else is refused."""
    value = (settings.raw.get(section) or {}).get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        from .errors import ConfigError

        raise ConfigError("config", f"{section}.{key}", f"expected an account name, got {value!r}")
    return value


def service_account(settings: Settings) -> str | None:
    """operators.service_account: the account consoles run as through sudo (else none)."""
    return _optional_name(settings, "operators", "service_account")


def storage_group(settings: Settings) -> str | None:
    """database.group: the group SQLite files and directories are created for (else none)."""
    return _optional_name(settings, "database", "group")
