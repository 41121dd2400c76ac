"""Schema migrations: from an empty database, idempotent, safe when started twice at once."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from console import db as dbmod
from console import models
from tests.conftest import fresh_url
from tests.core import _procs

MIGRATIONS = sorted(p.stem for p in (Path(dbmod.__file__).parent / "migrations").glob("0*.py"))


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    """A database nothing has touched (tests/core's db_url copies a migrated one)."""
    with fresh_url(request.param, tmp_path, "empty.db") as url:
        yield url


@pytest.fixture
def empty(empty_url):
    database = dbmod.open_database(empty_url)
    yield database
    database.close()


def test_there_are_numbered_migrations():
    assert MIGRATIONS and MIGRATIONS[0] == "0001_initial"


def test_migrate_empty_database_creates_every_table(empty):
    assert dbmod.pending_migrations(empty) == MIGRATIONS
    applied = dbmod.migrate(empty)
    assert applied == MIGRATIONS
    tables = set(empty.get_tables())
    for model in models.ALL_MODELS:
        assert model._meta.table_name in tables, model.__name__


def test_migrated_schema_matches_the_models(empty):
    dbmod.migrate(empty)
    for model in models.ALL_MODELS:
        table = model._meta.table_name
        columns = {c.name for c in empty.get_columns(table)}
        expected = {f.column_name for f in model._meta.sorted_fields}
        assert columns == expected, f"{table}: migration and model differ"
    # the partial indexes the sweep and the header rely on
    for table in ("report", "work_order", "supervision_item"):
        names = {i.name for i in empty.get_indexes(table)}
        assert f"{table}_deadline_unmarked" in names
        assert f"{table}_open_rank" in names


def test_migrate_twice_applies_nothing_the_second_time(empty):
    assert dbmod.migrate(empty) == MIGRATIONS
    assert dbmod.migrate(empty) == []
    assert dbmod.pending_migrations(empty) == []


def test_models_work_after_migrate(empty):
    dbmod.migrate(empty)
    models.Counter.create(name="x", value=1)
    assert models.Counter.get_by_id("x").value == 1


def test_sqlite_pragmas(tmp_path):
    database = dbmod.open_database(f"sqlite:///{tmp_path / 'p.db'}", busy_timeout_ms=1234)
    try:
        database.connect()
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert database.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 1234
    finally:
        database.close()


def test_sqlite_url_creates_the_folder(tmp_path):
    path = tmp_path / "a" / "b" / "duty.db"
    database = dbmod.open_database(f"sqlite:///{path}")
    try:
        dbmod.migrate(database)
        assert path.is_file()
    finally:
        database.close()


def test_bad_url():
    from console.errors import DutyError

    with pytest.raises(DutyError, match="expected sqlite:///PATH or postgresql://"):
        dbmod.open_database("mysql://x/y", bind=False)
    assert dbmod.describe("postgresql://duty:secret@h/db") == "postgresql://duty:***@h/db"


def _migrate_together(urls: list[str], n_procs: int) -> None:
    results = _procs.run_all(_procs.migrate_worker,
                             [(f"m{i}", urls) for i in range(n_procs)])
    errors = [err for _n, _r, err in results if err]
    assert not errors, errors[0]
    for k, url in enumerate(urls):
        applied = [name for _n, rounds, _e in results for name in rounds[k][0]]
        assert sorted(applied) == MIGRATIONS, url  # each applied by exactly one process
        assert all(rounds[k][1] == [] for _n, rounds, _e in results)
        database = dbmod.open_database(url)
        try:
            assert dbmod.pending_migrations(database) == []
            assert {m._meta.table_name for m in models.ALL_MODELS} <= set(database.get_tables())
        finally:
            database.close()


@pytest.mark.multiprocess
def test_two_processes_migrating_a_fresh_sqlite_file_at_once(tmp_path):
    urls = [f"sqlite:///{tmp_path / f'fresh{k}.db'}" for k in range(4)]
    _migrate_together(urls, 2)


@pytest.mark.multiprocess
def test_processes_opening_a_fresh_sqlite_file_at_once(tmp_path):
    # Switching a new file to WAL needs an exclusive lock; SQLite answers "database
    # is locked" at once to the loser of that race unless the open retries it.
    urls = [f"sqlite:///{tmp_path / f'open{k}.db'}" for k in range(250)]
    results = _procs.run_all(_procs.connect_worker, [(f"c{i}", urls) for i in range(3)])
    errors = [err for _n, _r, err in results if err]
    assert not errors, errors[0]
    for url in urls[::25]:
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///"):])) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.multiprocess
@pytest.mark.parametrize("empty_url", ["postgres"], indirect=True)  # SQLite: the tests above
def test_processes_migrating_an_empty_postgres_schema_at_once(empty_url):
    _migrate_together([empty_url], 3)
