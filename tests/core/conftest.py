"""tests/core: the shared ``db_url`` fixture, made cheap enough to run ~200 times.

Same contract as tests/conftest.py — every test gets a clean, migrated database
on SQLite and on PostgreSQL — but instead of creating and migrating a new one
each time, a migrated SQLite file is copied and one migrated PostgreSQL schema is
emptied (rows deleted, sequences restarted).  That saves ~0.3 s a test, most of
the suite's time.  test_migrations.py asks for genuinely empty databases through
its own fixture.
"""

from __future__ import annotations

import shutil

import pytest

from console import db as dbmod
from tests.conftest import drop_pg_schema, make_pg_schema, pg_available

# children before parents, so plain DELETEs never trip a foreign key
_TABLES = ("item_link",  # merge and repeats (0008)
           "activation_measure", "plan_activation", "report_update", "instruction", "event",
           "counter", "shift", "work_order", "supervision_item", "report", "plan", "person",
           "scheduled_report", "department")


def _migrated(url: str) -> None:
    database = dbmod.open_database(url, bind=False)
    try:
        dbmod.migrate(database)
    finally:
        database.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "duty.db"
    _migrated(f"sqlite:///{path}")  # closing the last connection folds the WAL back in
    return path


@pytest.fixture(scope="session")
def _pg_template():
    schema, url = make_pg_schema()
    _migrated(url)
    yield url
    drop_pg_schema(schema)


def _empty_pg(url: str) -> None:
    import psycopg

    from tests.conftest import PG_URL

    schema = url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(PG_URL) as conn:  # one transaction
        conn.execute("SET lock_timeout = '20s'")
        for table in _TABLES:
            conn.execute(f'DELETE FROM {schema}."{table}"')
        for (seq,) in conn.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = %s",
                                   (schema,)).fetchall():
            conn.execute(f'ALTER SEQUENCE {schema}."{seq}" RESTART')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """A clean, migrated database (the root ``db`` fixture's migrate is then a no-op)."""
    if request.param == "sqlite":
        path = tmp_path / "duty.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    reason = pg_available()
    if reason:
        pytest.skip(reason)
    url = request.getfixturevalue("_pg_template")
    _empty_pg(url)
    yield url
