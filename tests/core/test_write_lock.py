"""PostgreSQL's write lock serialises one duty room's writes, not every schema's.

Found in the suite: a test's PostgreSQL setup waited 57 s, because the advisory write lock
was one key for the whole database, so an open write in one schema held every other
schema's writers (two duty rooms in one database would wait on each other the same way).
"""

from __future__ import annotations

import psycopg
import pytest

from console import db as dbmod
from tests.conftest import PG_URL, drop_pg_schema, make_pg_schema, pg_available


def _holder(url: str) -> psycopg.Connection:
    """A connection inside a write transaction that holds its schema's write lock."""
    schema = url.split("search_path%3D", 1)[1]
    conn = psycopg.connect(PG_URL, options=f"-csearch_path={schema}")
    conn.execute(dbmod.LOCK_SQL, (dbmod.WRITE_LOCK_KEY,))
    return conn


def _can_lock(url: str) -> bool:
    schema = url.split("search_path%3D", 1)[1]
    with psycopg.connect(PG_URL, options=f"-csearch_path={schema}") as conn:
        conn.execute("SET lock_timeout = '300ms'")
        try:
            conn.execute(dbmod.LOCK_SQL, (dbmod.WRITE_LOCK_KEY,))
        except psycopg.errors.LockNotAvailable:
            return False
        return True


def test_a_write_in_one_schema_does_not_hold_another_schemas_writers():
    if pg_available():
        pytest.skip(pg_available())
    (a, url_a), (b, url_b) = make_pg_schema(), make_pg_schema()
    try:
        holder = _holder(url_a)
        try:
            assert not _can_lock(url_a)  # the same duty room: serialised
            assert _can_lock(url_b)  # another schema: its own event log, its own lock
        finally:
            holder.close()
        assert _can_lock(url_a)
    finally:
        drop_pg_schema(a)
        drop_pg_schema(b)
