"""The log file: what an officer never sees on the terminal, kept for the operator.

stdlib logging into a rotating file in the user state directory (platformdirs:
``~/.local/state/dutyroom/log/dutyroom.log`` on Linux, ``$XDG_STATE_HOME`` is
honoured), created 0600 in a 0700 directory: a traceback can quote citizens'
data.  Every broad ``except`` in console/ and screens/ logs its traceback here;
``report()`` also returns a short reference the officer can quote ("E2034-7f3a")
so a dialog on screen points at one entry in the file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import secrets
import time
from pathlib import Path

import platformdirs

LEVELS = ("debug", "info", "warning", "error")
MAX_BYTES = 2_000_000
BACKUPS = 5
_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("dutyroom")
_path: list[Path | None] = [None]


def log_dir() -> Path:
    """Where the log lives (``DUTYROOM_LOG_DIR`` overrides, for tests and services)."""
    override = os.environ.get("DUTYROOM_LOG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_state_dir("dutyroom", appauthor=False)) / "log"


def log_path() -> Path:
    return _path[0] or log_dir() / "dutyroom.log"


class _PrivateHandler(logging.handlers.RotatingFileHandler):
    """Every file it opens (the first and each rotation) is 0600."""

    def _open(self):  # noqa: ANN202 - stdlib signature
        old = os.umask(0o077)
        try:
            stream = super()._open()
        finally:
            os.umask(old)
        os.chmod(self.baseFilename, 0o600)
        return stream


def setup(level: str | None = None) -> Path | None:
    """Log to the file at ``level`` (default warning); returns its path, None if unwritable.

    Idempotent: a second call only changes the level.  A log that cannot be
    written (a read-only home) is not a reason to refuse the console.
    """
    lvl = getattr(logging, (level or os.environ.get("DUTYROOM_LOG_LEVEL") or "warning").upper(),
                  logging.WARNING)
    log.setLevel(lvl)
    if any(isinstance(h, _PrivateHandler) for h in log.handlers):
        return _path[0]
    path = log_dir() / "dutyroom.log"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = _PrivateHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                  encoding="utf-8", delay=False)
    except OSError:
        log.addHandler(logging.NullHandler())
        log.propagate = False  # not even logging's last resort may write to the terminal
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    log.addHandler(handler)
    log.propagate = False  # never onto the officer's terminal through the root logger
    _path[0] = path
    return path


def reference() -> str:
    """A short reference for one log entry: minute of the hour, seconds, random tail."""
    return f"E{time.strftime('%M%S')}-{secrets.token_hex(2)}"


def report(message: str, *args: object, logger: logging.Logger | None = None) -> str:
    """Log the exception being handled with its traceback; the reference to show."""
    ref = reference()
    (logger or log).error(f"[{ref}] {message}", *args, exc_info=True)
    return ref


def get(name: str) -> logging.Logger:
    """A child logger (``dutyroom.<name>``) that shares the file."""
    return log.getChild(name)
