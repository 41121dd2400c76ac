"""``dutyroom backup DEST`` / ``dutyroom restore SRC``: consistent online copies, verified.

A plain ``cp`` of a live SQLite file misses what is still in its WAL (seen:
4,503 of 4,538 events).  SQLite is copied through its backup API in one step:
one read transaction, so the copy is one consistent moment while the consoles
keep writing (WAL readers do not block the writer).  The copy is written 0600
under a temporary name, switched to a single self-contained file (journal mode
DELETE), verified (integrity check, schema, the event hash chain) and only then
renamed to DEST.  PostgreSQL is dumped with ``pg_dump`` from an exported
snapshot, and the chain is verified in that same snapshot.

Restore writes into an empty target only: a restore never merges into or
overwrites a database that holds records.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from peewee import Database, SqliteDatabase

from . import db as dbmod
from . import models
from .errors import DutyError
from .i18n import t


@dataclass(frozen=True)
class Summary:
    """What a verified copy holds."""

    path: str
    events: int
    head_id: int | None
    head_hash: str
    schema: str
    size: int


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    return Path(url[len("sqlite:///"):]).expanduser()


def stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@contextlib.contextmanager
def bound(database: Database) -> Iterator[Database]:
    """Bind the models to ``database`` for a while (verifying a copy), then rebind."""
    previous = models.database.obj
    models.database.initialize(database)
    try:
        yield database
    finally:
        database.close()
        if previous is not None:
            models.database.initialize(previous)


def chain_summary(path: str, size: int = 0) -> Summary:
    """Verify the bound database's chain; raise in one line when it is broken."""
    from . import schema
    from .verify import verify_chain

    database = models.database.obj
    st = schema.state(database)
    if st.unknown:
        raise DutyError(t("ops.copy_newer", path=path, db=st.version, app=schema.code_version()))
    if st.pending:
        # an older schema (the backup ``migrate`` takes first): this version's models do
        # not fit its tables, so count the events and take the head with plain SQL; the
        # chain is verified once the migrated database is
        n, head_id, head_hash = _plain_head(database)
        return Summary(path, n, head_id, head_hash, st.version, size)
    ok, n, bad_id, problem = verify_chain()
    if not ok:
        raise DutyError(t("ops.copy_bad_chain", path=path, id=bad_id, problem=problem))
    head = models.Event.select(models.Event.id, models.Event.hash).order_by(
        models.Event.id.desc()).first()
    return Summary(path, n, head.id if head else None, head.hash if head else "", st.version,
                   size)


def _plain_head(database: Database) -> tuple[int, int | None, str]:
    n = database.execute_sql('SELECT COUNT(*) FROM "event"').fetchone()[0]
    row = database.execute_sql('SELECT "id", "hash" FROM "event" ORDER BY "id" DESC LIMIT 1'
                               ).fetchone()
    return n, (row[0] if row else None), (row[1] if row else "")


def verify_sqlite_file(path: Path, shown: str | None = None) -> Summary:
    """Open a copy on its own (no WAL switch), check its pages and its chain."""
    shown = shown or str(path)
    with bound(SqliteDatabase(str(path), pragmas={"query_only": 1})) as copy:
        row = copy.execute_sql("PRAGMA quick_check").fetchone()
        if not row or row[0] != "ok":
            raise DutyError(t("ops.copy_corrupt", path=shown, problem=row[0] if row else "?"))
        return chain_summary(shown, path.stat().st_size)


def _create_private(path: Path) -> None:
    """An empty file only the owner can read: duty records are not for every local user."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_sqlite(source: sqlite3.Connection, tmp: Path) -> None:
    """The whole database in one backup step (one snapshot), as a self-contained file."""
    _create_private(tmp)
    target = sqlite3.connect(str(tmp))
    try:
        source.backup(target)  # pages=-1: everything in one step, one read transaction
        target.execute("PRAGMA journal_mode=DELETE")  # one file: no -wal to lose
        target.commit()
    finally:
        target.close()
    _fsync(tmp)


def _destination(dest: str, suffix: str) -> Path:
    path = Path(dest).expanduser()
    if path.is_dir():
        path = path / f"dutyroom-{stamp()}{suffix}"
    if path.exists():
        raise DutyError(t("ops.dest_exists", path=str(path)))
    if not path.parent.is_dir():
        raise DutyError(t("ops.dest_no_folder", path=str(path.parent)))
    return path


def _tmp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _finish(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        _fsync(path.parent)  # the rename itself survives a power cut


def backup(url: str, dest: str, *, busy_timeout_ms: int = 5000) -> Summary:
    """Back the database at ``url`` up to ``dest`` (a new file, or a folder) and verify it."""
    source = sqlite_path(url)
    if source is None:
        from .pgbackup import backup_postgres

        return backup_postgres(url, dest)
    if not source.is_file():
        raise DutyError(t("cli.no_database", url=url))
    path = _destination(dest, ".db")
    if path.resolve() == source.resolve():
        raise DutyError(t("ops.dest_exists", path=str(path)))
    return backup_sqlite_file(source, path, busy_timeout_ms=busy_timeout_ms)


def backup_sqlite_file(source: Path, path: Path, *, busy_timeout_ms: int = 5000) -> Summary:
    tmp = _tmp_for(path)
    conn = sqlite3.connect(str(source), timeout=busy_timeout_ms / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        copy_sqlite(conn, tmp)
        summary = verify_sqlite_file(tmp, str(path))
        _finish(tmp, path)
        return summary
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        conn.close()


def backup_before_migrate(database: Database, url: str) -> Summary | None:
    """The automatic backup ``migrate`` takes next to an SQLite database first."""
    source = sqlite_path(url)
    if source is None or not source.is_file():
        return None
    path = source.with_name(f"{source.name}.pre-migrate-{stamp()}.db")
    return backup_sqlite_file(source, path)


# --------------------------------------------------------------------------- restore

def has_records(database: Database) -> bool:
    """True when any dutyroom table holds a row (a migrated but unused database is empty:
    the counter row migration 0004 writes, where the new event digest starts, is not one)."""
    from .actions.plumbing import DIGEST_FROM

    tables = set(database.get_tables())
    for model in models.ALL_MODELS:
        name = model._meta.table_name
        skip = f" WHERE name <> {database.param}" if model is models.Counter else ""
        sql = f'SELECT 1 FROM "{name}"{skip} LIMIT 1'
        if name in tables and database.execute_sql(
                sql, (DIGEST_FROM,) if skip else ()).fetchone():
            return True
    return False


def restore(url: str, src: str, *, busy_timeout_ms: int = 5000) -> Summary:
    """Restore the backup ``src`` into the (empty) database at ``url`` and verify it."""
    source = Path(src).expanduser()
    if not source.is_file():
        raise DutyError(t("ops.no_backup", path=str(source)))
    target = sqlite_path(url)
    if target is None:
        from .pgbackup import restore_postgres

        return restore_postgres(url, source)
    if source.read_bytes()[:5] == b"PGDMP":
        raise DutyError(t("ops.restore_kind", path=str(source), url=dbmod.describe(url)))
    _refuse_non_empty(url, target, busy_timeout_ms)
    tmp = _tmp_for(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True)
    try:
        copy_sqlite(conn, tmp)
        summary = verify_sqlite_file(tmp, str(target))
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()  # an empty target's: they would be replayed over the copy
        _finish(tmp, target)
        return summary
    except sqlite3.DatabaseError as exc:
        raise DutyError(t("ops.copy_corrupt", path=str(source), problem=str(exc))) from None
    finally:
        conn.close()
        with contextlib.suppress(OSError):
            tmp.unlink()


def _refuse_non_empty(url: str, target: Path, busy_timeout_ms: int) -> None:
    if not target.exists():
        return
    database = dbmod.open_database(url, busy_timeout_ms=busy_timeout_ms, bind=False)
    try:
        if has_records(database):
            raise DutyError(t("ops.restore_not_empty", url=dbmod.describe(url)))
    finally:
        database.close()
