"""PostgreSQL: this test's own backend is terminated again and again during a stream of
actions — many of the drops land in a COMMIT (issue 9 §2, §8).  Reuses the helpers of
tests/integration/test_commit_drops.py (which terminates only backends carrying its own
application_name, in this database); runs until the mode's number of drops happened.
Every action reported committed is in the log exactly once: 0 doubled, 0 lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading

import pytest

from console import actions, verify
from console.errors import StorageUnavailable
from console.models import Event
from tests.conftest import ADMIN, OFFICER
from tests.integration.test_commit_drops import _killer, pg_own  # noqa: F401 - the fixture
from tests.reliability import figure, size

DROPS = size(20, 100, "drops")


def _stream(ctx, ref: str, kills: list[int]) -> tuple[list[str], list[str]]:
    """Notes until DROPS backends were terminated (bounded, in case none ever is)."""
    committed, failed = [], []
    i = 0
    while sum(kills) < DROPS and i < DROPS * 60:
        text = f"note-{i}"
        i += 1
        try:
            actions.note(ctx, OFFICER, ref, text)
            committed.append(text)
        except StorageUnavailable:
            failed.append(text)  # told "not saved, try again": may or may not be in
    return committed, failed


@pytest.mark.multiprocess
def test_connection_drops_during_commits(pg_own, ctx):  # noqa: F811 - the imported fixture
    database, schema, app = pg_own
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, retries=12))
    actions.upsert_person(ctx, ADMIN, login=OFFICER.login, name=OFFICER.name, role="officer")
    report = actions.create_report(ctx, OFFICER, title="反复断线", category="accident",
                                   level="IV")
    stop, kills = threading.Event(), []
    thread = threading.Thread(target=_killer, args=(schema, app, stop, kills), daemon=True)
    thread.start()
    try:
        committed, failed = _stream(ctx, report.ref, kills)
    finally:
        stop.set()
        thread.join(10)
    with contextlib.suppress(Exception):  # the last kill may have hit the idle connection
        database.close()
    notes: dict[str, int] = {}
    for (note,) in Event.select(Event.note).where(Event.action == "note").tuples():
        notes[note] = notes.get(note, 0) + 1
    doubled = [n for n, c in notes.items() if c > 1]
    lost = [n for n in committed if notes.get(n, 0) != 1]
    assert sum(kills) >= DROPS, f"only {sum(kills)} backends terminated"
    assert doubled == [] and lost == []
    assert set(notes) <= set(committed) | set(failed)
    n, problems = verify.verify_all()
    assert problems == [], "; ".join(map(str, problems[:5]))
    figure("commit_drops[postgres]", drops=sum(kills), committed=len(committed),
           refused_not_saved=len(failed), doubled=len(doubled), lost=len(lost), events=n)
