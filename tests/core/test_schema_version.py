"""The schema version, checked at every start (issue 13, "Upgrades and status").

*Found*: an older dutyroom ran against a newer schema with exit 0 and then failed
deep inside ``export`` with "no such column"; consoles migrated the shared
database at start.  Now a newer schema is refused in one line naming both
versions, and pending migrations are applied only by ``dutyroom migrate``
(after a backup), except on an empty database or with ``database.auto_migrate``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from console import cli, models
from console import db as dbmod
from console.errors import DutyError
from tests.conftest import fresh_url

MIGRATIONS = sorted(p.stem for p in (Path(dbmod.__file__).parent / "migrations").glob("0*.py"))
LATEST = f"{int(MIGRATIONS[-1][:4])} ({MIGRATIONS[-1]})"


def _applied(url: str) -> list[str]:
    database = dbmod.open_database(url, bind=False)
    try:
        return sorted(r[0] for r in database.execute_sql("SELECT name FROM schema_migration"))
    finally:
        database.close()


def _at_first_migration(url: str) -> None:
    """A database an older dutyroom made: only 0001 applied, with a record in it."""
    from playhouse.migrations import Runner

    database = dbmod.open_database(url, bind=False)
    try:
        with database.atomic():
            Runner(database, str(Path(dbmod.__file__).parent / "migrations")).up(
                target=MIGRATIONS[0])
        database.execute_sql("INSERT INTO counter (name, value) VALUES ('report:2026', 7)")
    finally:
        database.close()


def _from_newer_version(url: str) -> None:
    database = dbmod.open_database(url, bind=False)
    try:
        dbmod.migrate(database)
        database.execute_sql("INSERT INTO schema_migration (name, applied) VALUES "
                             "('0099_future_columns', '2027-01-01 00:00:00')")
    finally:
        database.close()


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    with fresh_url(request.param, tmp_path, "v.db") as u:
        yield u


def test_newer_schema_is_refused_in_one_line_naming_both_versions(url, tmp_path, capsys):
    _from_newer_version(url)
    out = tmp_path / "out.jsonl"
    assert cli.main(["--lang", "en", "--db", url, "export", "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "99 (0099_future_columns)" in err and LATEST in err and "newer" in err
    assert not out.exists()
    assert cli.main(["--lang", "en", "--db", url, "sweep"]) == 1
    assert cli.main(["--lang", "en", "--db", url, "migrate"]) == 1  # never older DDL on it
    assert "0099_future_columns" in _applied(url)


def test_migrate_refuses_a_newer_database_directly(url):
    _from_newer_version(url)
    database = dbmod.open_database(url)
    try:
        with pytest.raises(DutyError, match="0099_future_columns"):
            dbmod.migrate(database)
    finally:
        database.close()


def test_pending_migrations_are_named_not_applied_at_start(url, capsys):
    _at_first_migration(url)
    assert cli.main(["--lang", "en", "--db", url, "sweep"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "dutyroom --db" in err and " migrate`" in err and LATEST in err
    assert _applied(url) == MIGRATIONS[:1]  # the console did not run the DDL


def test_dutyroom_migrate_backs_up_then_applies(url, tmp_path, capsys):
    _at_first_migration(url)
    assert cli.main(["--lang", "en", "--db", url, "migrate"]) == 0
    out = capsys.readouterr().out
    assert f"schema now {LATEST}" in out
    assert _applied(url) == MIGRATIONS
    if url.startswith("sqlite"):
        (copy,) = tmp_path.glob("v.db.pre-migrate-*.db")
        with sqlite3.connect(copy) as conn:  # the backup is the database as it was
            names = [r[0] for r in conn.execute("SELECT name FROM schema_migration")]
            assert names == MIGRATIONS[:1]
            assert conn.execute("SELECT value FROM counter").fetchone() == (7,)
    assert cli.main(["--lang", "en", "--db", url, "sweep"]) == 0
    assert cli.main(["--lang", "en", "--db", url, "migrate"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_auto_migrate_setting_migrates_at_start(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    _at_first_migration(url)
    site = tmp_path / "site.yaml"
    site.write_text("database:\n  auto_migrate: true\n", encoding="utf-8")
    assert cli.main(["--lang", "en", "--config", str(site), "--db", url, "sweep"]) == 0
    assert _applied(url) == MIGRATIONS
    assert len(list(tmp_path.glob("v.db.pre-migrate-*.db"))) == 1


def test_bad_auto_migrate_value_is_one_line(tmp_path, capsys):
    site = tmp_path / "site.yaml"
    site.write_text("database:\n  auto_migrate: sometimes\n", encoding="utf-8")
    assert cli.main(["--config", str(site), "check-config"]) == 1
    assert "database.auto_migrate" in capsys.readouterr().err


def test_an_empty_database_is_created_at_once(url, capsys):
    assert cli.main(["--lang", "en", "--db", url, "init"]) == 0
    assert _applied(url) == MIGRATIONS


def test_version_prints_app_and_schema(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("dutyroom 0.") and f"schema {LATEST}" in out


def test_status_reports_schema_pending_head_and_sweep(tmp_path, capsys, cfg):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    _at_first_migration(url)
    assert cli.main(["--lang", "en", "--db", url, "status"]) == 0
    out = capsys.readouterr().out
    assert f"schema: 1 ({MIGRATIONS[0]}) (this dutyroom: {LATEST})" in out
    assert f"pending migrations: {', '.join(MIGRATIONS[1:])}" in out and "migrate`" in out
    assert "event chain head: no events yet" in out and "last sweep: never" in out
    assert "log file: " in out and "dutyroom.log" in out and " free in " in out


def test_status_masks_the_password(sqlite_db, cfg):
    from console.status import status_lines

    lines = status_lines(sqlite_db, "postgresql://duty:s3cret@db-host/dutyroom", cfg)
    text = "\n".join(lines)
    assert "s3cret" not in text and "duty:***@db-host" in text
    assert models.database.obj is sqlite_db


def test_status_in_chinese_names_the_last_sweep_and_the_schema_in_chinese(tmp_path, capsys):
    """Seen on the real screen: 'version: … schema 12', a raw 'accept_overdue' and ASCII colons."""
    import datetime as dt

    from console.context import Actor

    url = f"sqlite:///{tmp_path / 'z.db'}"
    database = dbmod.open_database(url)
    dbmod.migrate(database)
    models.Event.create(at=dt.datetime(2026, 12, 1, 2, 0), actor=Actor.system().login,
                        item_kind="work_order", item_id=1, item_ref="12345-2026000001",
                        action="accept_overdue", prev_hash="0" * 64, hash="1" * 64)
    database.close()
    assert cli.main(["--lang", "zh-CN", "--db", url, "status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("版本：dutyroom ") and f"结构版本 {LATEST}" in out.splitlines()[0]
    assert "schema" not in out.splitlines()[0] and "accept_overdue" not in out
    assert "最近一次巡检：2026-12-01 10:00:00 CST，超时未签收 12345-2026000001" in out
    assert all("：" in line and ": " not in line for line in out.splitlines())


def test_migrate_runs_again_after_a_deadlock_with_another_schemas_ddl(monkeypatch):
    """Found in CI: `dutyroom migrate` on PostgreSQL failed with 'deadlock detected' while
    another schema of the same database ran DDL; the aborted transaction is simply run
    again.  Anything else still fails at once."""
    import peewee

    from console import db as dbmod

    calls = []

    def flaky(db):
        calls.append(1)
        if len(calls) == 1:
            raise peewee.OperationalError("deadlock detected\nDETAIL: Process 1 waits …")
        return ["0002_x"]

    monkeypatch.setattr(dbmod, "_migrate_once", flaky)
    monkeypatch.setattr(dbmod.time, "sleep", lambda s: None)
    assert dbmod.migrate(object()) == ["0002_x"] and len(calls) == 2

    def broken(db):
        calls.append(1)
        raise peewee.OperationalError("no such table: x")

    monkeypatch.setattr(dbmod, "_migrate_once", broken)
    calls.clear()
    with pytest.raises(peewee.OperationalError):
        dbmod.migrate(object())
    assert len(calls) == 1
