"""Several real processes on one database (SQLite file and PostgreSQL).

Every accepted action has exactly one event, no update is lost (an item's
version equals the number of events it has), no lock error reaches an officer,
and N sweepers escalate each due item once.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from console import actions
from console.models import Event, Report, WorkOrder
from tests.conftest import OFFICER, T0

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def _spawn(script: str, *args: str) -> subprocess.Popen:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.Popen([sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))


def _collect(procs: list[subprocess.Popen]) -> list[dict]:
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _items(ctx, n: int) -> list[str]:
    refs = []
    for i in range(n):
        refs.append(actions.create_report(ctx, OFFICER, title=f"事件{i}", category="accident",
                                          level="III").ref)
        refs.append(actions.create_work_order(ctx, OFFICER, content=f"诉求{i}", type="help",
                                              ticket=f"12345-T{i:04d}").ref)
    return refs


@pytest.mark.multiprocess
@pytest.mark.parametrize("workers", [2, 8])
def test_workers_on_shared_items_lose_nothing(db, db_url, ctx, workers):
    refs = _items(ctx, 4)
    before = Event.select().count()
    per_worker = 40 if workers == 2 else 20
    procs = [_spawn("worker.py", db_url, f"officer{w}", str(w), str(per_worker), ",".join(refs))
             for w in range(workers)]
    results = _collect(procs)
    errors = [e for r in results for e in r["errors"]]
    assert errors == [], errors
    accepted = sum(r["accepted"] for r in results)
    assert accepted + sum(r["stale"] + r["refused"] for r in results) == workers * per_worker
    assert accepted > 0
    db.close()  # our own connection must see the workers' commits
    assert Event.select().count() - before == accepted
    for model in (Report, WorkOrder):
        for item in model.select():
            n_events = Event.select().where((Event.item_kind == item.KIND)
                                            & (Event.item_id == item.id)).count()
            assert item.version == n_events, (item.ref, item.version, n_events)


@pytest.mark.multiprocess
def test_eight_sweepers_escalate_each_item_once(db, db_url, ctx, clock):
    refs = _items(ctx, 10)
    at = T0 + dt.timedelta(hours=30)  # every item unacknowledged well past its step's wait
    procs = [_spawn("sweeper.py", db_url, at.isoformat()) for _ in range(8)]
    results = _collect(procs)
    assert [e for r in results for e in r["errors"]] == []
    db.close()
    escalations = (Event.select().where(Event.action.in_(["auto_escalate", "overdue"])).count())
    assert sum(r["escalated"] for r in results) == escalations
    # each item escalated exactly once per trigger: one step up, once
    for ref in refs:
        item = actions.find_item(ref)
        n = Event.select().where((Event.item_ref == ref)
                                 & Event.action.in_(["auto_escalate", "overdue"])).count()
        assert item.step == 1, (ref, item.step)
        assert n == 1, (ref, n)
