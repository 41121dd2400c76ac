"""The change feed: tells a console that something changed, and what.

SQLite: a connection of its own polls ``PRAGMA data_version`` (≈3 µs); when it
moves, the events after the last one seen are read.  PostgreSQL: a dedicated
autocommit connection LISTENs on ``dutyroom_events``; every event sends a NOTIFY
that is delivered at commit.  Notifications are lost while disconnected, so
after any (re)connect the feed reads everything after the last event it saw.
Writes are serialised (see console/db.py), so event ids commit in order and
"after the last id" never skips one.

``poll()`` blocks for at most ``timeout`` seconds: run it in a thread worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import select
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

log = logging.getLogger("dutyroom.feed")
CHANNEL = "dutyroom_events"
_COLUMNS = "id, at, actor, actor_name, console, item_kind, item_id, item_ref, action, after"


@dataclass(frozen=True)
class FeedEvent:
    id: int
    at: dt.datetime
    actor: str
    actor_name: str
    console: str
    item_kind: str
    item_id: int
    item_ref: str
    action: str
    after: dict | None


def _event(row: tuple) -> FeedEvent:
    id_, at, actor, name, console, kind, item_id, ref, action, after = row
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    if isinstance(after, str):
        with contextlib.suppress(ValueError):
            after = json.loads(after)
    return FeedEvent(id_, at, actor, name or actor, console, kind, item_id, ref, action, after)


class ChangeFeed:
    """One per console.  ``connected`` is False while the database cannot be reached."""

    def __init__(self, url: str, last_id: int | None = None, limit: int = 500) -> None:
        self.url = url
        self.limit = limit
        self.last_id = last_id
        self.connected = False
        self.error = ""
        self.polls = 0
        self._conn: Any = None
        self._version: int | None = None
        self._pg = url.startswith(("postgresql:", "postgres:"))

    # -------------------------------------------------------------- connection

    def _connect(self) -> None:
        if self._pg:
            import psycopg

            from .db import pg_conninfo

            conn = psycopg.connect(**pg_conninfo(self.url), autocommit=True)
            conn.execute(f"LISTEN {CHANNEL}")
        else:
            path = unquote(self.url[len("sqlite:///"):])
            if not Path(path).exists():
                raise FileNotFoundError(path)
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 2000")
            self._version = None
        self._conn = conn
        if self.last_id is None:
            self.last_id = self._max_id()
        self.connected, self.error = True, ""

    def _max_id(self) -> int:
        row = self._conn.execute("SELECT MAX(id) FROM event").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None
        self.connected = False

    # -------------------------------------------------------------- reading

    def _read_new(self) -> list[FeedEvent]:
        ph = "%s" if self._pg else "?"
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM event WHERE id > {ph} ORDER BY id LIMIT {ph}",
            (self.last_id, self.limit)).fetchall()
        events = [_event(r) for r in rows]
        if events:
            self.last_id = events[-1].id
        return events

    def poll(self, timeout: float = 0.25) -> list[FeedEvent]:
        """New events since the last call ([] if none within ``timeout``)."""
        self.polls += 1
        try:
            if self._conn is None:
                self._connect()
                return self._read_new()  # catch up on whatever happened while away
            if self._pg:
                return self._poll_pg(timeout)
            return self._poll_sqlite(timeout)
        except Exception as exc:  # noqa: BLE001 - unreachable is a state, not a crash
            self.close()
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if error != self.error:  # the traceback once per new failure, not every poll
                log.warning("change feed: %s", error, exc_info=True)
            self.error = error
            time.sleep(min(timeout, 1.0))
            return []

    def _poll_sqlite(self, timeout: float) -> list[FeedEvent]:
        deadline = time.monotonic() + timeout
        while True:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version:
                self._version = version
                events = self._read_new()
                if events:
                    return events
            if time.monotonic() >= deadline:
                return []
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _poll_pg(self, timeout: float) -> list[FeedEvent]:
        conn = self._conn
        got = False
        for _n in conn.notifies(timeout=timeout, stop_after=1):
            got = True
        if not got:
            # a cheap liveness check, so a dead server is noticed even when idle
            ready, _, _ = select.select([conn.fileno()], [], [], 0)
            if ready:
                conn.execute("SELECT 1")
            return []
        return self._read_new()
