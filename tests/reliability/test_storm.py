"""N real processes × T seconds of random actions with sweeps, on SQLite and PostgreSQL
(issue 9 §8).  Their clocks run fast, so items come due and every process sweeps while
the others act.  Accepted actions + swept escalations = new events; no item escalated
twice for one trigger; nothing on stderr but silence; throughput reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from console import actions, verify
from console.models import Event
from tests.conftest import OFFICER, T0
from tests.reliability import figure, size

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
PROCS = size(4, 8, "procs")
SECONDS = size(5, 120, "seconds")
SPEED = 600  # ten simulated minutes per second: escalation waits run out during the run


def _spawn(db_url: str, w: int, refs: list[str], wall0: float) -> subprocess.Popen:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    args = [db_url, f"storm{w}", str(w), str(SECONDS), ",".join(refs), T0.isoformat(),
            repr(wall0), str(SPEED)]
    return subprocess.Popen([sys.executable, str(HERE / "stormer.py"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=str(ROOT))


def _doubled_escalations() -> list[tuple]:
    """Two sweep events for one item from the same state: one trigger fired twice."""
    seen: Counter = Counter()
    q = (Event.select(Event.item_kind, Event.item_id, Event.action, Event.before)
         .where(Event.action.in_(["auto_escalate", "overdue"])).tuples())
    for kind, item_id, action, before in q:
        seen[(kind, item_id, action, json.dumps(before, sort_keys=True))] += 1
    return [k for k, c in seen.items() if c > 1]


@pytest.mark.multiprocess
def test_processes_acting_and_sweeping_together(db, db_url, roster, ctx):
    refs = [actions.create_report(ctx, OFFICER, title=f"事件{i}", category="accident",
                                  level="III").ref for i in range(4)]
    refs += [actions.create_work_order(ctx, OFFICER, content=f"诉求{i}", type="help").ref
             for i in range(4)]
    before = Event.select().count()
    db.close()
    wall0 = time.time() + 1.0  # the processes' clocks start at T0 together
    procs = [_spawn(db_url, w, refs, wall0) for w in range(PROCS)]
    results, stderr = [], []
    for p in procs:
        out, err = p.communicate(timeout=SECONDS + 240)
        assert p.returncode == 0, err[-2000:]
        stderr.append(err)
        results.append(json.loads(out.strip().splitlines()[-1]))
    errors = [e for r in results for e in r["errors"]]
    tracebacks = sum(err.count("Traceback") for err in stderr)
    assert errors == [] and tracebacks == 0, (errors[:5], [e[-1500:] for e in stderr if e])
    accepted = sum(r["accepted"] for r in results)
    swept = sum(r["swept"] for r in results)
    new_events = Event.select().count() - before
    assert accepted > 0 and swept > 0, "nothing acted or nothing came due: tested nothing"
    assert new_events == accepted + swept
    doubled = _doubled_escalations()
    assert doubled == [], doubled[:5]
    n, problems = verify.verify_all()
    assert problems == [], "; ".join(map(str, problems[:5]))
    kind = "postgres" if db_url.startswith("postgres") else "sqlite"
    figure(f"storm[{kind}]", processes=PROCS, seconds=SECONDS, accepted=accepted,
           swept_escalations=swept, events=new_events,
           stale=sum(r["stale"] for r in results), refused=sum(r["refused"] for r in results),
           doubled_escalations=0, tracebacks=0, errors=0,
           actions_per_s=round(accepted / SECONDS, 1))
