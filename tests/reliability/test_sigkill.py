"""SIGKILL during a stream of actions (issue 9 §8), on SQLite and PostgreSQL.

A real writer process acts as fast as it can and prints each action it was told is
committed; it is killed with SIGKILL at a random moment, again and again.  After each
trial: every action reported committed has its event (found by its intent key), and
``verify`` passes — the chain, and each item's version equal to its event count and its
row equal to what its events lead to (nothing half-applied).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console import actions, verify
from console.models import Event
from tests.conftest import OFFICER
from tests.reliability import figure, size

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
TRIALS = size(10, 200, "kills")


def _trial(db_url: str, seed: int, refs: list[str], rng: random.Random) -> list[str]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    proc = subprocess.Popen([sys.executable, str(HERE / "kill_writer.py"), db_url, str(seed),
                             ",".join(refs)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=str(ROOT))
    first = proc.stdout.readline()
    assert first == "ready\n", (first, proc.stderr.read()[-2000:])
    # once the stream runs (its first commit: slow on a loaded machine), a random moment
    # in it — often inside a transaction, sometimes between two
    head = proc.stdout.readline()
    time.sleep(rng.uniform(0.0, 0.4))
    os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    # a line cut short by the kill was never reported: only whole lines count
    lines = (head + out).split("\n")[:-1]
    return [line[3:] for line in lines if line.startswith("ok ")]


@pytest.mark.multiprocess
def test_sigkill_during_a_stream_of_actions(db, db_url, roster, ctx):
    rng = random.Random(20261201)
    refs = [actions.create_report(ctx, OFFICER, title=f"事件{i}", category="accident",
                                  level="III").ref for i in range(3)]
    refs += [actions.create_work_order(ctx, OFFICER, content=f"诉求{i}", type="help").ref
             for i in range(3)]
    reported = lost = 0
    every = max(1, TRIALS // 20)  # verify walks the whole log: not after every full-mode trial
    checked = 0
    for trial in range(TRIALS):
        keys = _trial(db_url, trial, refs, rng)
        db.close()  # a fresh connection sees what the dead process left
        found = {k for (k,) in Event.select(Event.intent).where(Event.intent.in_(keys)).tuples()}
        missing = [k for k in keys if k not in found]
        reported += len(keys)
        lost += len(missing)
        assert missing == [], f"trial {trial}: reported committed, not in the log: {missing}"
        if trial % every == 0 or trial == TRIALS - 1:
            n, problems = verify.verify_all()
            checked += 1
            assert problems == [], f"trial {trial}: " + "; ".join(map(str, problems[:5]))
    assert reported > 0, "no action committed before the kills: the test tested nothing"
    kind = "postgres" if db_url.startswith("postgres") else "sqlite"
    figure(f"sigkill[{kind}]", trials=TRIALS, reported_committed=reported, lost=lost,
           verify_runs=checked, verify_problems=0, events=n)
