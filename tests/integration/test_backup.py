"""``dutyroom backup`` while consoles write, ``dutyroom restore`` into an empty database.

*Found* (issue 13): there was no backup command, and a plain ``cp`` of the live
SQLite file missed what was still in the WAL (4,503 of 4,538 events).  Here 4
writer processes act on shared items while the backup runs; the copy must hold
every event committed before the backup started, verify, and restore into an
empty database where numbering continues (a new report gets a new reference).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console import actions, backup, models
from console import db as dbmod
from console.models import Event, Report
from console.verify import verify_chain
from tests.conftest import OFFICER, fresh_url

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def _env(**extra: str) -> dict[str, str]:
    return {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8", "DUTYROOM_USER": "admin", **extra}


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console.cli", "--lang", "en", *args],
                          capture_output=True, text=True, env=_env(**env), cwd=str(ROOT),
                          timeout=240)


def _items(ctx, n: int) -> list[str]:
    refs = []
    for i in range(n):
        refs.append(actions.create_report(ctx, OFFICER, title=f"事件{i}", category="accident",
                                          level="III").ref)
        refs.append(actions.create_work_order(ctx, OFFICER, content=f"诉求{i}", type="help",
                                              ticket=f"12345-T{i:04d}").ref)
    return refs


def _committed(database) -> dict[int, str]:
    database.close()  # a fresh read: see what the writers have committed
    return {e.id: e.hash for e in Event.select(Event.id, Event.hash).order_by(Event.id)}


def _wait_for_events(database, at_least: int, writers: list[subprocess.Popen]) -> None:
    for _ in range(600):
        if len(_committed(database)) >= at_least:
            return
        dead = [p for p in writers if p.poll() is not None]
        assert not dead, dead[0].communicate()[1][-2000:]
        time.sleep(0.05)
    raise AssertionError("the writers committed too few events")


def _events_of(url: str) -> dict[int, str]:
    database = dbmod.open_database(url, bind=False)
    with backup.bound(database):
        ok, n, bad, problem = verify_chain()
        assert ok, (bad, problem)
        return {e.id: e.hash for e in Event.select(Event.id, Event.hash)}


def _empty_again(url: str) -> None:
    """PostgreSQL: the database is lost; an empty schema of the same name is made again."""
    import psycopg

    database = dbmod.open_database(url, bind=False)
    schema = database.execute_sql("SELECT current_schema()").fetchone()[0]
    database.close()
    conninfo = dbmod.pg_conninfo(url)
    conninfo.pop("options", None)
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")


@pytest.mark.multiprocess
def _migrated(url: str) -> None:
    """A fresh PostgreSQL schema with dutyroom's tables (what `dutyroom init` makes)."""
    database = dbmod.open_database(url, bind=False)
    dbmod.migrate(database)
    database.close()


def _backed_up(url: str, tmp_path: Path) -> tuple[Path, str]:
    """A migrated schema backed up with `dutyroom backup`: (the dump, the schema's name)."""
    _migrated(url)
    dest = tmp_path / "b.pgdump"
    assert cli("--db", url, "backup", str(dest)).returncode == 0
    return dest, url.rsplit("%3D", 1)[1]


def test_backup_while_four_writers_run_then_restore_continues_numbering(db, db_url, ctx,
                                                                        tmp_path):
    refs = _items(ctx, 4)
    writers = [subprocess.Popen([sys.executable, str(HERE / "worker.py"), db_url, f"w{w}",
                                 str(w), "100000", ",".join(refs)], env=_env(),
                                cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for w in range(4)]
    try:
        _wait_for_events(db, 60, writers)
        before = _committed(db)  # every event committed before the backup starts
        dest = tmp_path / "backup.file"
        res = cli("--db", db_url, "backup", str(dest))
        running = [p.poll() is None for p in writers]
    finally:
        for p in writers:
            p.kill()
            p.wait(timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("backup: ") and "events verified" in res.stdout
    res_backup = res
    assert all(running), "a writer stopped before the backup finished"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    after = _committed(db)
    assert len(after) > len(before)  # the writers went on while the copy was taken

    if db_url.startswith("sqlite"):
        copy = _events_of(f"sqlite:///{dest}")
        target = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        copy = None
        db.close()
        _empty_again(db_url)
        target = db_url
    res = cli("--db", target, "restore", str(dest))
    assert res.returncode == 0, res.stderr
    restored = _events_of(target)
    copy = copy or restored
    assert restored == copy
    reported = int(res_backup.stdout.split()[1])  # "backup: N events verified …"
    assert reported == len(copy)  # the chain checked is the one in the copy (one snapshot)
    assert {i: copy[i] for i in before} == before  # nothing committed before it is missing
    assert all(after[i] == h for i, h in copy.items())  # and the copy is one moment of the log
    assert cli("--db", target, "verify").returncode == 0

    database = dbmod.open_database(target)
    try:
        refs_before = {r.ref for r in Report.select(Report.ref)}
        new = actions.create_report(ctx, OFFICER, title="恢复后新报", category="accident",
                                    level="IV")
        assert new.ref not in refs_before  # the reference counter came back with the data
        ok, n, _bad, _problem = verify_chain()
        assert ok and n == len(copy) + 1
    finally:
        database.close()


def test_restore_refuses_a_database_with_records(db, db_url, ctx, tmp_path):
    _items(ctx, 1)
    db.close()
    with fresh_url("sqlite", tmp_path, "src.db") as src_url:
        source = dbmod.open_database(src_url)
        dbmod.migrate(source)
        _items(ctx, 2)
        source.close()
        dest = tmp_path / ("b.db" if db_url.startswith("sqlite") else "b.pgdump")
        assert cli("--db", src_url if db_url.startswith("sqlite") else db_url, "backup",
                   str(dest)).returncode == 0
    dbmod.open_database(db_url)
    n_before = Event.select().count()
    db.close()
    res = cli("--db", db_url, "restore", str(dest))
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "already holds records" in res.stderr
    dbmod.open_database(db_url)
    assert Event.select().count() == n_before


def test_backup_refuses_an_existing_file_and_checks_the_copy(sqlite_db, ctx, tmp_path):
    _items(ctx, 1)
    url = f"sqlite:///{tmp_path / 'duty.db'}"
    taken = tmp_path / "taken.db"
    taken.write_text("keep me", encoding="utf-8")
    res = cli("--db", url, "backup", str(taken))
    assert res.returncode == 1 and "already exists" in res.stderr
    assert taken.read_text(encoding="utf-8") == "keep me"
    folder = tmp_path / "backups"
    folder.mkdir()
    assert cli("--db", url, "backup", str(folder)).returncode == 0
    (made,) = folder.iterdir()
    assert made.name.startswith("dutyroom-") and made.suffix == ".db"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp file left
    # a copy whose chain is broken is refused by restore, which changes nothing
    database = dbmod.open_database(f"sqlite:///{made}", bind=False)
    database.execute_sql("UPDATE event SET note = 'forged' WHERE id = 1")
    database.close()
    models.database.initialize(sqlite_db)
    target = tmp_path / "new.db"
    res = cli("--db", f"sqlite:///{target}", "restore", str(made))
    assert res.returncode == 1 and "failed verification at event #1" in res.stderr
    assert not target.exists()


def test_postgres_backup_without_pg_dump_prints_the_command(tmp_path):
    with fresh_url("postgres", tmp_path) as url:
        _migrated(url)
        res = cli("--db", url, "backup", str(tmp_path / "x.pgdump"), PATH="/nonexistent")
    assert res.returncode == 1
    assert "pg_dump is not installed" in res.stderr and "pg_dump --format=custom" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x.pgdump").exists()


def test_backup_holds_what_a_plain_copy_of_the_file_misses(sqlite_db, ctx, tmp_path):
    """The *Found* itself: committed events still in the WAL are not in the main file."""
    import shutil

    sqlite_db.execute_sql("PRAGMA wal_autocheckpoint = 0")  # as under a busy room: no checkpoint
    _items(ctx, 3)
    n = Event.select().count()
    live = tmp_path / "duty.db"
    shutil.copy(live, tmp_path / "cp.db")
    with sqlite3.connect(tmp_path / "cp.db") as conn:
        copied = conn.execute("SELECT count(*) FROM event").fetchone()[0] if conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'event'").fetchone() else 0
    assert copied < n  # what `cp` gave the customer
    summary = backup.backup(f"sqlite:///{live}", str(tmp_path / "b.db"))
    assert summary.events == n
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("SELECT count(*) FROM event").fetchone()[0] == n


def test_postgres_restore_into_a_schema_that_does_not_exist_says_which_to_create(tmp_path):
    """Tried by hand: 'the target's schema is None' when the search_path named no schema."""
    import uuid

    with fresh_url("postgres", tmp_path) as url:
        dest, source_schema = _backed_up(url, tmp_path)
        missing = url.rsplit("%3D", 1)[0] + "%3Dt_missing_" + uuid.uuid4().hex[:8]
        res = cli("--db", missing, "restore", str(dest))
    assert res.returncode == 1 and res.stderr.strip().count("\n") == 0
    assert f"CREATE SCHEMA {source_schema}" in res.stderr and "None" not in res.stderr


def test_restore_into_a_database_dutyroom_init_made(sqlite_db, ctx, tmp_path):
    """Tried by hand: `dutyroom init` then `dutyroom restore` said the new database 'already
    holds records' (the counter row migration 0004 writes)."""
    _items(ctx, 1)
    url = f"sqlite:///{tmp_path / 'duty.db'}"
    assert cli("--db", url, "backup", str(tmp_path / "b.db")).returncode == 0
    target = f"sqlite:///{tmp_path / 'new.db'}"
    assert cli("--db", target, "init").returncode == 0
    res = cli("--db", target, "restore", str(tmp_path / "b.db"))
    assert res.returncode == 0, res.stderr
    assert cli("--db", target, "verify").returncode == 0


def test_postgres_restore_into_a_new_database_and_into_migrated_tables(tmp_path):
    """Tried by hand: a new database lacked pg_trgm, which the archive's search indexes name
    (pg_restore failed); a schema `dutyroom init` made is refused in one line, unchanged."""
    import uuid

    import psycopg

    from tests.conftest import PG_URL

    name = "t_restore_" + uuid.uuid4().hex[:8]
    with fresh_url("postgres", tmp_path) as url:
        dest, schema = _backed_up(url, tmp_path)
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            base = PG_URL.rsplit("/", 1)[0] + f"/{name}"
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
                conn.execute("CREATE SCHEMA migrated")
            target = f"{base}?options=-csearch_path%3D{schema}"
            res = cli("--db", target, "restore", str(dest))
            assert res.returncode == 0, res.stderr
            migrated = f"{base}?options=-csearch_path%3Dmigrated"
            assert cli("--db", migrated, "init").returncode == 0
            res = cli("--db", migrated, "restore", str(dest))
            assert res.returncode == 1 and res.stderr.strip().count("\n") == 0
            assert "already has dutyroom's tables" in res.stderr
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
