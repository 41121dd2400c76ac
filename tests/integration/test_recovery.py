"""A PostgreSQL connection dropped mid-session (backend terminated) and recovered:
the next action reconnects and commits once; the change feed notices, reconnects
and catches up on what it missed while away."""

from __future__ import annotations

import psycopg
import pytest

from console import actions
from console import db as dbmod
from console.feed import ChangeFeed
from console.models import Event
from tests.conftest import OFFICER, PG_URL, drop_pg_schema, make_pg_schema, pg_available


@pytest.fixture
def pg(ctx):
    reason = pg_available()
    if reason:
        pytest.skip(reason)
    schema, url = make_pg_schema()
    database = dbmod.open_database(url)
    dbmod.migrate(database)
    yield database, url
    database.close()
    drop_pg_schema(schema)


def _terminate(pid: int) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_action_after_backend_terminated(pg, ctx):
    database, _url = pg
    report = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="II")
    _terminate(database.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
    acked = actions.acknowledge(ctx, OFFICER, report.ref, expected_version=report.version)
    assert acked.status == "acknowledged"
    assert Event.select().where(Event.item_ref == report.ref).count() == 2  # create + ack, once


def test_feed_reconnects_and_catches_up(pg, ctx):
    _database, url = pg
    feed = ChangeFeed(url)
    assert feed.poll(0.05) == [] and feed.connected
    pid = feed._conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    _terminate(pid)
    # a change made while the feed's connection is dead: its NOTIFY is lost
    report = actions.create_report(ctx, OFFICER, title="断线期间", category="natural")
    seen = []
    for _ in range(20):
        seen += feed.poll(0.1)
        if any(e.item_ref == report.ref for e in seen):
            break
    assert any(e.item_ref == report.ref and e.action == "create" for e in seen)
    assert feed.connected
    feed.close()


def test_sqlite_feed_sees_other_connections(sqlite_db, ctx, tmp_path):
    url = f"sqlite:///{tmp_path / 'duty.db'}"
    feed = ChangeFeed(url)
    assert feed.poll(0.01) == []
    report = actions.create_report(ctx, OFFICER, title="火情", category="accident")
    events = []
    for _ in range(10):
        events += feed.poll(0.1)
        if events:
            break
    assert [(e.item_ref, e.action) for e in events] == [(report.ref, "create")]
    feed.close()
