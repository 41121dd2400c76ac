"""The database: opened from a URL, configured for durability, migrated by number.

SQLite (default): WAL so readers never block the writer, ``synchronous=FULL`` so
a committed report survives power loss, ``busy_timeout`` so several console
processes share the file, and ``BEGIN IMMEDIATE`` for every write transaction so
a read-then-write never fails with SQLITE_BUSY_SNAPSHOT.

PostgreSQL (``postgresql://…``, needs ``dutyroom[postgres]``): psycopg 3.  Every
write transaction first takes one advisory lock, so writes are serialised as in
SQLite: event ids commit in order (the change feed relies on it) and the event
hash chain never forks.  A duty room writes a few actions a second at most.  The lock
is keyed by the schema too (``LOCK_SQL``): two duty rooms kept in two schemas of one
database have two event logs, and neither waits for the other's writes.
"""

from __future__ import annotations

import contextlib
import grp
import os
import random
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, quote, unquote, urlparse

import peewee
from peewee import Database, SqliteDatabase

from . import models
from .errors import DiskFull, DutyError, ReadOnlyStorage, StorageUnavailable
from .i18n import t
from .paths import default_database_file, make_private_dirs

T = TypeVar("T")
WRITE_LOCK_KEY = 0x64757479  # "duty": the advisory lock every PostgreSQL write takes
MIGRATIONS_LOCK_KEY = 0x6D696772
# advisory locks belong to the whole database: the schema in use is the lock's second half
LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))"


def default_url() -> str:
    return "sqlite:///" + str(default_database_file())


# query options that carry a secret (libpq's names)
_SECRET_OPTIONS = ("password", "passwd", "sslpassword", "passfile")
MASK = "***"


def _secrets(url: str) -> list[str]:
    """The secret values written in ``url`` (userinfo password, ?password=…), raw and decoded."""
    found: list[str] = []
    with contextlib.suppress(ValueError):
        parsed = urlparse(url)
        if parsed.password:
            found.append(parsed.password)
        for part in parsed.query.split("&"):
            key, sep, value = part.partition("=")
            if sep and value and unquote(key).lower() in _SECRET_OPTIONS:
                found.append(value)
    out = set(found) | {unquote(v) for v in found} | {quote(unquote(v), safe="") for v in found}
    return sorted((v for v in out if v), key=len, reverse=True)  # longest first


def mask_secrets(text: str, url: str) -> str:
    """``text`` with every secret of ``url`` replaced by ***: for errors, logs and screens."""
    for secret in _secrets(url):
        text = text.replace(secret, MASK)
    return text


def describe(url: str) -> str:
    """The URL without its secrets, for messages, logs and the header."""
    try:
        parsed = urlparse(url)
    except ValueError:  # not even a URL: mask whatever looks like a secret
        return mask_secrets(url, url)
    out = url
    if parsed.password is not None:  # user:secret@host → user:***@host
        userinfo, _, host = parsed.netloc.rpartition("@")
        out = out.replace(parsed.netloc, f"{userinfo.split(':', 1)[0]}:{MASK}@{host}", 1)
    if parsed.query:
        query = "&".join(_mask_option(part) for part in parsed.query.split("&"))
        out = out.replace("?" + parsed.query, "?" + query, 1)
    return out


def _mask_option(part: str) -> str:
    key, sep, value = part.partition("=")
    return f"{key}={MASK}" if sep and value and unquote(key).lower() in _SECRET_OPTIONS else part


def open_database(url: str = "", *, busy_timeout_ms: int = 5000, bind: bool = True,
                  group: str | None = None) -> Database:
    """Open (lazily connect) the database at ``url`` and bind the models to it.

    ``group`` (database.group): SQLite files are created 0660 and directories
    2770 for that group; without it 0600 and 0700 (citizens' phone numbers).
    """
    url = url or default_url()
    if url.startswith("sqlite:"):
        db = _open_sqlite(url, busy_timeout_ms, group)
    elif url.startswith(("postgresql:", "postgres:")):
        db = _open_postgres(url)
    else:
        raise DutyError(t("error.db_url", url=describe(url)))
    if bind:
        models.database.initialize(db)
    return db


class _NamedErrors:
    """Storage errors named for what they are, and never carrying the URL's secrets.

    A full disk makes SQLite roll the transaction back by itself, so peewee's
    own ROLLBACK then fails with "cannot rollback - no transaction is active"
    and hides the cause: that ROLLBACK is a no-op here, and the cause is raised
    as DiskFull.  A read-only file or directory becomes ReadOnlyStorage.  Both
    are DutyErrors, so they are one line and are not retried.
    """

    url = ""
    path = ""  # SQLite: the file, for the free-space and write-access checks

    def _named(self, exc: Exception) -> Exception:
        text = str(exc)
        low = text.lower()
        state = _sqlstate(exc)
        where = describe(self.url)
        if state == "53100" or "database or disk is full" in low or "no space left" in low \
                or ("disk i/o error" in low and self._disk_nearly_full()):
            return DiskFull(t("storage.disk_full", db=where))
        if state == "25006" or "readonly database" in low or "read-only" in low \
                or ("unable to open" in low and self._not_writable()):
            return ReadOnlyStorage(t("storage.read_only", db=where))
        masked = mask_secrets(text, self.url)
        if masked != text:
            return type(exc)(masked)
        return exc

    def _disk_nearly_full(self) -> bool:
        if not self.path:
            return False
        try:
            return shutil.disk_usage(Path(self.path).parent).free < 1 << 20
        except OSError:
            return False

    def _not_writable(self) -> bool:
        if not self.path:
            return False
        target = Path(self.path)
        if not target.exists():
            target = target.parent
        return target.exists() and not os.access(target, os.W_OK)

    def _guard(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except (peewee.DatabaseError, peewee.InterfaceError) as exc:
            named = self._named(exc)
            if named is exc:
                raise
            raise named from None  # the masked message only: no secret in the chain

    def connect(self, *args, **kwargs) -> bool:
        return self._guard(lambda: super(_NamedErrors, self).connect(*args, **kwargs))

    def execute_sql(self, sql, params=None, **kwargs):  # postgres_ext adds named_cursor
        return self._guard(lambda: super(_NamedErrors, self).execute_sql(sql, params, **kwargs))

    def begin(self, *args, **kwargs) -> None:
        return self._guard(lambda: super(_NamedErrors, self).begin(*args, **kwargs))

    def commit(self, *args, **kwargs) -> None:
        return self._guard(lambda: super(_NamedErrors, self).commit(*args, **kwargs))

    def rollback(self, *args, **kwargs) -> None:
        try:
            return super().rollback(*args, **kwargs)
        except peewee.OperationalError as exc:
            if "no transaction is active" in str(exc):  # SQLite rolled back already
                return None
            raise


def _sqlstate(exc: BaseException) -> str | None:
    # peewee keeps the driver's exception as .orig
    for candidate in (exc, getattr(exc, "orig", None), exc.__cause__, exc.__context__):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


class _SqliteDatabase(_NamedErrors, SqliteDatabase):
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


def _gid(group: str | None) -> int | None:
    if not group:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise DutyError(t("storage.no_group", group=group)) from None


def _create_private_file(path: Path, gid: int | None) -> None:
    """Create an empty database file 0600 (0660 with a group) before SQLite does (0644).

    SQLite gives the -wal and -shm files the mode and owner of the database file.
    """
    mode = 0o660 if gid is not None else 0o600
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:  # another process made it first
        return
    try:
        if gid is not None:
            os.fchown(fd, -1, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def check_sqlite_url(url: str) -> None:
    """An SQLite URL takes no ?options: sqlite:///x.db?mode=ro made a file "x.db?mode=ro"."""
    if url.startswith("sqlite:") and "?" in url:
        raise DutyError(t("error.db_url_options", url=describe(url)))


def _open_sqlite(url: str, busy_timeout_ms: int, group: str | None = None) -> SqliteDatabase:
    # sqlite:///relative.db, sqlite:////absolute/path.db (SQLAlchemy's convention)
    if not url.startswith("sqlite:///"):
        raise DutyError(t("error.db_url", url=describe(url)))
    check_sqlite_url(url)
    path = unquote(url[len("sqlite:///"):])
    if path != ":memory:":
        file = Path(path).expanduser()
        gid = _gid(group)
        try:
            make_private_dirs(file.parent, gid)
            if not file.exists():
                _create_private_file(file, gid)
        except PermissionError:
            raise ReadOnlyStorage(t("storage.read_only", db=describe(url))) from None
        except OSError as exc:
            raise DutyError(f"{describe(url)}: {exc.strerror or exc}") from None
        path = str(file)
    db = _SqliteDatabase(
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
    db.url, db.path = url, path if path != ":memory:" else ""
    return db


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
    class _Postgres(_NamedErrors, Psycopg3Database):
        pass

    kwargs = pg_conninfo(url)
    name = kwargs.pop("dbname")
    db = _Postgres(name, **kwargs)
    db.url = url
    return db


def is_postgres(db: Database | None = None) -> bool:
    db = db or models.database.obj
    return not isinstance(db, SqliteDatabase)


@contextlib.contextmanager
def write_transaction(db: Database | None = None) -> Iterator[None]:
    """One write transaction: IMMEDIATE on SQLite, the advisory write lock on PostgreSQL."""
    db = db or models.database.obj
    with db.atomic():
        if is_postgres(db):
            db.execute_sql(LOCK_SQL, (WRITE_LOCK_KEY,))
        yield


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The drivers' own base errors: a raw cursor (the importer's executemany) raises
    them unwrapped by peewee, and they must be handled like peewee's."""
    errors: list[type[BaseException]] = [sqlite3.Error]
    try:
        import psycopg

        errors.append(psycopg.Error)
    except ImportError:  # PostgreSQL support is an optional extra
        pass
    return tuple(errors)


_DRIVER_ERRORS = _driver_errors()


def _named_by(db: Database, exc: BaseException) -> DutyError | None:
    """The storage error ``exc`` named for what it is (disk full, read-only), if it is one."""
    named = getattr(db, "_named", None)
    if named is None or not isinstance(exc, Exception):
        return None
    result = named(exc)
    return result if isinstance(result, DutyError) else None


# errors that mean "try again": busy/locked SQLite, a dropped PostgreSQL connection
def _transient(exc: BaseException) -> bool:
    text = str(exc).lower()
    if isinstance(exc, peewee.OperationalError | peewee.InterfaceError):
        return True
    if type(exc).__name__ in ("OperationalError", "InterfaceError") \
            and isinstance(exc, _DRIVER_ERRORS):
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
        except (peewee.OperationalError, peewee.InterfaceError, peewee.DatabaseError,
                *_DRIVER_ERRORS) as exc:
            named = _named_by(db, exc)
            if named is not None:  # disk full, read-only: one line, never retried
                raise named from None
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


def migrate(db: Database | None = None, attempts: int = 5) -> list[str]:
    """Apply pending numbered migrations; safe when several processes start at once.

    One transaction; PostgreSQL may abort it as a deadlock with DDL in another schema of
    the same database (its catalogs are shared; seen in CI as 'deadlock detected'), so
    that transaction is run again from the start a few times before it is an error."""
    db = db or models.database.obj
    for attempt in range(attempts):
        try:
            return _migrate_once(db)
        except peewee.DatabaseError as exc:
            if not _deadlock(exc) or attempt == attempts - 1:
                raise
            with contextlib.suppress(Exception):
                db.rollback()
            time.sleep(0.1 * (attempt + 1) + random.random() * 0.2)
    raise AssertionError("unreachable")


def _deadlock(exc: BaseException) -> bool:
    code = getattr(getattr(exc, "orig", None) or exc, "sqlstate", None)
    return code == "40P01" or "deadlock detected" in str(exc)


def _migrate_once(db: Database) -> list[str]:
    from playhouse.migrations import Runner

    directory = str(Path(__file__).parent / "migrations")
    with db.atomic():  # IMMEDIATE on SQLite: one migrator at a time
        if is_postgres(db):
            db.execute_sql(LOCK_SQL, (MIGRATIONS_LOCK_KEY,))
        runner = Runner(db, directory)
        unknown = [m.name for m in runner.status() if m.applied and m.path is None]
        if unknown:  # a newer dutyroom migrated this database: never run older DDL on it
            raise DutyError(t("ops.migrate_newer", unknown=", ".join(unknown)))
        return runner.up()


def pending_migrations(db: Database | None = None) -> list[str]:
    """Shipped migrations the database has not applied (console/schema.py checks them at start)."""
    from playhouse.migrations import Runner

    db = db or models.database.obj
    runner = Runner(db, str(Path(__file__).parent / "migrations"))
    return [m.name for m in runner.status() if not m.applied]
