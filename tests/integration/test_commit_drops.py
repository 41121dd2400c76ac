"""PostgreSQL: this test's own backend connection is terminated again and again while a
stream of actions runs (issue 9 §2).  Every action reported committed is in the log
exactly once; none is written twice; the chain verifies.

Only this test's backends are terminated: they carry an application_name of their own
(passed in the URL), and pg_terminate_backend is filtered by it and by this schema.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import threading
import time
import uuid

import psycopg
import pytest

from console import actions, verify
from console import db as dbmod
from console.errors import StorageUnavailable
from console.models import Event
from tests.conftest import ADMIN, OFFICER, PG_URL, drop_pg_schema, make_pg_schema, pg_available

ACTIONS = 150


@pytest.fixture
def pg_own(ctx):
    reason = pg_available()
    if reason:
        pytest.skip(reason)
    schema, url = make_pg_schema()
    app = "dr_drop_" + uuid.uuid4().hex[:10]
    database = dbmod.open_database(f"{url}&application_name={app}")
    dbmod.migrate(database)
    yield database, schema, app
    database.close()
    drop_pg_schema(schema)


def _killer(schema: str, app: str, stop: threading.Event, kills: list[int]) -> None:
    rng = random.Random(7)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        while not stop.is_set():
            time.sleep(rng.uniform(0.03, 0.15))
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid() "
                "AND datname = current_database()", (app,)).fetchall()
            kills.append(sum(1 for (ok,) in rows if ok))
    assert schema  # the schema is this test's own (named in the URL's search_path)


def test_backend_terminated_during_a_stream_of_actions(pg_own, ctx):
    database, schema, app = pg_own
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, retries=12))
    actions.upsert_person(ctx, ADMIN, login=OFFICER.login, name=OFFICER.name, role="officer")
    report = actions.create_report(ctx, OFFICER, title="连续断线", category="accident",
                                   level="IV")
    stop, kills = threading.Event(), []
    thread = threading.Thread(target=_killer, args=(schema, app, stop, kills), daemon=True)
    thread.start()
    committed, failed = [], []
    try:
        for i in range(ACTIONS):
            text = f"note-{i}"
            try:
                actions.note(ctx, OFFICER, report.ref, text)
                committed.append(text)
            except StorageUnavailable:
                failed.append(text)  # told "not saved, try again": may or may not be in
    finally:
        stop.set()
        thread.join(10)
    with contextlib.suppress(Exception):  # the last kill may have hit the idle connection
        database.close()
    notes: dict[str, int] = {}
    for (note,) in Event.select(Event.note).where(Event.action == "note").tuples():
        notes[note] = notes.get(note, 0) + 1
    assert sum(kills) > 0, "no backend was terminated: the test did not test anything"
    doubled = [n for n, c in notes.items() if c > 1]
    lost = [n for n in committed if notes.get(n, 0) != 1]
    assert doubled == [] and lost == []
    assert len(committed) + len(failed) == ACTIONS
    assert set(notes) <= set(committed) | set(failed)
    print(f"{len(committed)} committed, {len(failed)} refused, {sum(kills)} backends terminated")
    ok, _n, bad, problem = verify.verify_chain()
    assert ok, (bad, problem)
