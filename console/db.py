"""The database: opened from a URL, configured for durability, migrated by number.

SQLite (default): WAL so readers never block the writer, ``synchronous=FULL`` so
a committed report survives power loss, ``busy_timeout`` so several console
processes share the file, and ``BEGIN IMMEDIATE`` for every write transaction so
a read-then-write never fails with SQLITE_BUSY_SNAPSHOT.

PostgreSQL (``postgresql://…``, needs ``dutyroom[postgres]``): psycopg 3.  Every
write transaction first takes one advisory lock, so writes are serialised as in
SQLite: event ids commit in order (the change feed relies on it) and the event
hash chain never forks.  A duty room writes a few actions a second at most.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, unquote, urlparse

import peewee
from peewee import Database, SqliteDatabase

from . import models
from .errors import DutyError, StorageUnavailable
from .i18n import t
from .paths import default_database_file

T = TypeVar("T")
WRITE_LOCK_KEY = 0x64757479  # "duty": the advisory lock every PostgreSQL write takes
MIGRATIONS_LOCK_KEY = 0x6D696772


def default_url() -> str:
    return "sqlite:///" + str(default_database_file())


def describe(url: str) -> str:
    """The URL without a password, for messages and the header."""
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return url


def open_database(url: str = "", *, busy_timeout_ms: int = 5000, bind: bool = True) -> Database:
    """Open (lazily connect) the database at ``url`` and bind the models to it."""
    url = url or default_url()
    if url.startswith("sqlite:"):
        db = _open_sqlite(url, busy_timeout_ms)
    elif url.startswith(("postgresql:", "postgres:")):
        db = _open_postgres(url)
    else:
        raise DutyError(t("error.db_url", url=url))
    if bind:
        models.database.initialize(db)
    return db


class _SqliteDatabase(SqliteDatabase):
    """SqliteDatabase whose connection pragmas survive a race on a fresh file.

    ``PRAGMA journal_mode = wal`` on a new file needs an exclusive lock, and when
    another process is switching the same file at that moment SQLite answers
    "database is locked" at once, without waiting for the busy timeout (seen when
    two consoles or two ``dutyroom init`` start together on a new database).  The
    pragmas are idempotent: retry them, within the busy timeout.
    """

    def _set_pragmas(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + max(self._timeout or 0, 0.1)
        delay = 0.005
        while True:
            try:
                return super()._set_pragmas(conn)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(delay + random.random() * delay)
                delay = min(delay * 2, 0.1)


def _open_sqlite(url: str, busy_timeout_ms: int) -> SqliteDatabase:
    # sqlite:///relative.db, sqlite:////absolute/path.db (SQLAlchemy's convention)
    if not url.startswith("sqlite:///"):
        raise DutyError(t("error.db_url", url=url))
    path = unquote(url[len("sqlite:///"):])
    if path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        path = str(Path(path).expanduser())
    return _SqliteDatabase(
        path,
        pragmas={
            "journal_mode": "wal",
            "synchronous": 2,  # FULL: durability over speed for committed reports
            "foreign_keys": 1,
            "busy_timeout": busy_timeout_ms,
            "cache_size": -32000,
        },
        timeout=busy_timeout_ms / 1000,
        lock_type="IMMEDIATE",
        check_same_thread=False,
    )


def pg_conninfo(url: str) -> dict:
    """psycopg connection keywords from a postgresql:// URL (query options passed through)."""
    parsed = urlparse(url)
    options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    kwargs: dict = {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
        "connect_timeout": int(options.pop("connect_timeout", 5)),
        "application_name": "dutyroom",
        "dbname": unquote(parsed.path.lstrip("/")) or "dutyroom",
    }
    kwargs.update(options)
    return {k: v for k, v in kwargs.items() if v is not None}


def _open_postgres(url: str) -> Database:
    try:
        import psycopg  # noqa: F401
        from playhouse.postgres_ext import Psycopg3Database
    except ImportError:  # pragma: no cover - depends on the install
        raise DutyError(t("error.psycopg")) from None
    kwargs = pg_conninfo(url)
    name = kwargs.pop("dbname")
    return Psycopg3Database(name, **kwargs)


def is_postgres(db: Database | None = None) -> bool:
    db = db or models.database.obj
    return not isinstance(db, SqliteDatabase)


@contextlib.contextmanager
def write_transaction(db: Database | None = None) -> Iterator[None]:
    """One write transaction: IMMEDIATE on SQLite, the advisory write lock on PostgreSQL."""
    db = db or models.database.obj
    with db.atomic():
        if is_postgres(db):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        yield


# errors that mean "try again": busy/locked SQLite, a dropped PostgreSQL connection
def _transient(exc: BaseException) -> bool:
    text = str(exc).lower()
    if isinstance(exc, peewee.OperationalError | peewee.InterfaceError):
        return True
    return any(s in text for s in ("database is locked", "busy", "server closed", "terminating"))


def with_retries(fn: Callable[[], T], *, retries: int = 5, db: Database | None = None) -> T:
    """Run a whole transaction ``fn``, retrying busy or dropped connections.

    ``fn`` must be the complete transaction (it is re-run from the start).  Domain
    errors pass straight through.  When retries run out, a StorageUnavailable
    says so in one line — the action was not saved, and the officer is told.
    """
    db = db or models.database.obj
    if db.in_transaction():  # part of a larger transaction (an import): its caller retries
        return fn()
    delay = 0.05
    for attempt in range(retries + 1):
        try:
            return fn()
        except DutyError:
            raise
        except (peewee.OperationalError, peewee.InterfaceError, peewee.DatabaseError) as exc:
            if not _transient(exc):  # the database refused the data itself: not "try again"
                raise DutyError(t("error.not_saved", why=_first_line(exc))) from exc
            if attempt == retries:
                raise StorageUnavailable(t("error.unavailable", why=_first_line(exc))) from exc
            with contextlib.suppress(Exception):
                if db.in_transaction():
                    db.rollback()
            with contextlib.suppress(Exception):
                db.close()
            time.sleep(delay + random.random() * delay)
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def migrate(db: Database | None = None) -> list[str]:
    """Apply pending numbered migrations; safe when several processes start at once."""
    from playhouse.migrations import Runner

    db = db or models.database.obj
    directory = str(Path(__file__).parent / "migrations")
    with db.atomic():  # IMMEDIATE on SQLite: one migrator at a time
        if is_postgres(db):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATIONS_LOCK_KEY,))
        return Runner(db, directory).up()


def pending_migrations(db: Database | None = None) -> list[str]:
    from playhouse.migrations import Runner

    db = db or models.database.obj
    runner = Runner(db, str(Path(__file__).parent / "migrations"))
    return [m.name for m in runner.status() if not m.applied]
