"""Backup and restore on PostgreSQL: ``pg_dump`` / ``pg_restore`` of dutyroom's schema.

The dump is taken from a snapshot exported by our own REPEATABLE READ
transaction, and the event chain is verified inside that same transaction:
the chain checked is exactly the one in the archive.  ``pg_restore --list``
then proves the archive is readable and holds the event table.  When pg_dump is
not installed the exact command is printed and the backup fails (exit 1).
The password never appears on a command line (PGPASSWORD in the environment).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import db as dbmod
from . import models
from .backup import Summary, _destination, _finish, _tmp_for, chain_summary, has_records
from .errors import DutyError
from .i18n import t


def _conninfo(url: str) -> tuple[str, dict[str, str]]:
    """(libpq conninfo without the password, environment with PGPASSWORD)."""
    from psycopg.conninfo import make_conninfo

    kwargs = dbmod.pg_conninfo(url)
    password = kwargs.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    return make_conninfo(**{k: str(v) for k, v in kwargs.items()}), env


def _tool(name: str, argv: list[str]) -> str:
    found = shutil.which(name)
    if not found:
        raise DutyError(t("ops.pg_tool_missing", tool=name, command=shlex.join([name, *argv])))
    return found


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise DutyError(t("ops.pg_tool_failed", tool=Path(argv[0]).name,
                          why=lines[0] if lines else f"exit {done.returncode}"))
    return done.stdout


def backup_postgres(url: str, dest: str) -> Summary:
    path = _destination(dest, ".pgdump")
    tmp = _tmp_for(path)
    conninfo, env = _conninfo(url)
    database = dbmod.open_database(url, bind=False)
    with contextlib.ExitStack() as stack:
        stack.callback(database.close)
        stack.enter_context(_bound_keep(database))
        schema = database.execute_sql("SELECT current_schema()").fetchone()[0]
        argv = ["--format=custom", "--no-owner", f"--schema={schema}", f"--file={path}",
                f"--dbname={conninfo}"]
        pg_dump = _tool("pg_dump", argv)
        try:
            with database.atomic():
                database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                snapshot = database.execute_sql("SELECT pg_export_snapshot()").fetchone()[0]
                fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                os.close(fd)
                _run([pg_dump, *argv[:-2], f"--file={tmp}", f"--snapshot={snapshot}",
                      argv[-1]], env)
                summary = chain_summary(str(path), 0)  # the same snapshot as the dump
            listing = _run([_tool("pg_restore", ["--list", str(tmp)]), "--list", str(tmp)], env)
            if f"TABLE DATA {schema} event " not in listing:
                raise DutyError(t("ops.copy_corrupt", path=str(path), problem="no event table"))
            _finish(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    return Summary(summary.path, summary.events, summary.head_id, summary.head_hash,
                   summary.schema, path.stat().st_size)


@contextlib.contextmanager
def _bound_keep(database):
    """Bind the models to ``database`` for a while, without closing it afterwards."""
    previous = models.database.obj
    models.database.initialize(database)
    try:
        yield database
    finally:
        if previous is not None:
            models.database.initialize(previous)


def restore_postgres(url: str, source: Path) -> Summary:
    """pg_restore into the target's current schema, which must exist and hold no records."""
    if source.read_bytes()[:5] != b"PGDMP":
        raise DutyError(t("ops.restore_kind", path=str(source), url=dbmod.describe(url)))
    conninfo, env = _conninfo(url)
    database = dbmod.open_database(url, bind=False)
    try:
        with _bound_keep(database):
            if has_records(database):
                raise DutyError(t("ops.restore_not_empty", url=dbmod.describe(url)))
            if "event" in database.get_tables():  # migrated, unused: pg_restore needs no tables
                raise DutyError(t("ops.restore_pg_tables", url=dbmod.describe(url)))
            schema = database.execute_sql("SELECT current_schema()").fetchone()[0]
            if schema is not None:
                _search_extension(database)
            database.close()
            _restore_archive(source, schema, conninfo, env)
            return chain_summary(dbmod.describe(url), source.stat().st_size)
    finally:
        database.close()


def _search_extension(database) -> None:
    """pg_dump --schema leaves extensions out, and the search indexes name pg_trgm's
    operator class: a new database needs the extension first (as migration 0006 makes it;
    where it is refused, pg_restore's error says so)."""
    import importlib

    importlib.import_module(".migrations.0006_search_index", __package__)._pg_trgm_schema(
        database)


def _restore_archive(source: Path, schema: str, conninfo: str, env: dict[str, str]) -> None:
    pg_restore = _tool("pg_restore", ["--no-owner", "--single-transaction", "--exit-on-error",
                                      f"--dbname={conninfo}", str(source)])
    listing = _run([pg_restore, "--list", str(source)], env)
    entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
    schemas = {line.split()[4] for line in entries if len(line.split()) > 5
               and line.split()[3] == "TABLE" and line.split()[4] != "DATA"}
    if schema is None:  # the search_path names no schema that exists
        raise DutyError(t("ops.restore_no_schema", archive=", ".join(sorted(schemas)) or "public"))
    if schemas and schemas != {schema}:
        raise DutyError(t("ops.restore_schema", archive=", ".join(sorted(schemas)), target=schema))
    # the target schema exists already: restore everything but its CREATE SCHEMA
    keep = [line for line in entries if " SCHEMA - " not in line]
    with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as list_file:
        list_file.write("\n".join(keep) + "\n")
        list_file.flush()
        _run([pg_restore, "--no-owner", "--single-transaction", "--exit-on-error",
              f"--use-list={list_file.name}", f"--dbname={conninfo}", str(source)], env)
