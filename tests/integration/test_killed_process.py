"""A console killed (SIGKILL) in the middle of a write transaction: what it committed before
stays, what it had not committed is gone without a trace, and the others carry on at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from console import actions
from console.models import Event, Report, WorkOrder
from console.verify import verify_chain
from tests.conftest import OFFICER

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def test_kill_mid_import_loses_nothing_committed(db, db_url, ctx, tmp_path):
    big = tmp_path / "big.jsonl"
    with open(big, "w", encoding="utf-8") as fh:
        for i in range(20000):
            fh.write(json.dumps({"kind": "work_order", "ticket": f"K-{i:06d}",
                                 "received_at": "2026-11-26T09:00:00", "type": "help",
                                 "content": "路灯不亮"}, ensure_ascii=False) + "\n")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    proc = subprocess.Popen([sys.executable, str(HERE / "killed.py"), db_url, str(big)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen = []
    for line in proc.stdout:
        seen.append(line.strip())
        if line.startswith("importing"):
            os.kill(proc.pid, signal.SIGKILL)  # the plug is pulled mid-transaction
            break
    proc.wait(timeout=60)
    assert "committed" in seen and "importing" in seen, (seen, proc.stderr.read()[-2000:])
    assert proc.returncode == -signal.SIGKILL

    db.close()
    assert Report.select().where(Report.title == "断电前已提交").count() == 1  # committed: kept
    assert WorkOrder.select().count() == 0  # the import: all or nothing
    ok, n, _bad, _problem = verify_chain()
    assert ok and n == Event.select().count()
    # nobody is left waiting on the dead process's lock
    report = actions.create_report(ctx, OFFICER, title="之后照常接报", category="natural")
    assert actions.acknowledge(ctx, OFFICER, report.ref).acked_by == OFFICER.login
