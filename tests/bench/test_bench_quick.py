"""The benchmark suite in its quick mode cannot rot: it runs, prints its table, and every
row has a value.  Never asserts on times (the bench reports; targets are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_quick_prints_a_full_table(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "measure" in proc.stdout and "baseline" in proc.stdout and "met?" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert not result["failures"]
    rows = result["rows"]
    sections = {r["section"].split(" ")[0] for r in rows}
    assert {"0", "1", "2", "2b", "3", "4", "5", "6", "7", "8"} <= sections
    for row in rows:
        if "PostgreSQL not reachable" in row["note"]:
            continue  # a machine without the server: the row says so instead of a value
        assert row["value"] is not None, row
        assert row["measure"] in proc.stdout
