"""Export streams in flat memory (issue 14): the peak stays bounded on 200,000 rows.

Work done, not time: tracemalloc's peak while exporting a generated table far larger
than any page, with a generous bound (a whole-table read of these rows is ~10× it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from console import actions, models
from console.models import WorkOrder
from tests.conftest import ADMIN, OFFICER

N = 200_000


def _generate(n: int) -> None:
    """``n`` work orders copied from one (one INSERT … SELECT; the search index's triggers
    are dropped first: this test is about the export, and they would cost a minute)."""
    for (name,) in models.database.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        models.database.execute_sql(f'DROP TRIGGER "{name}"')
    fields = [f for f in WorkOrder._meta.sorted_fields if f.name != "id"]
    cols = ", ".join(f.column_name for f in fields)
    values = ", ".join("'GEN-' || n.i" if f.name == "ref" else
                       "w.content || ' #' || n.i" if f.name == "content" else
                       f"w.{f.column_name}" for f in fields)
    with models.database.atomic():
        models.database.execute_sql(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
            f"INSERT INTO work_order ({cols}) SELECT {values} FROM n, "
            "(SELECT * FROM work_order ORDER BY id LIMIT 1) AS w")


CHILD = """
import resource, sys
from console import db, export
db.open_database("sqlite:///" + sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
counts = export.export_to(sys.argv[2], "jsonl", events=False)
print(counts["items"], counts["other"], before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_export_of_200k_rows_stays_in_flat_memory(ctx, sqlite_db, tmp_path):
    """The export runs in a fresh process, whose peak resident memory is its cost
    (tracemalloc made the same run several minutes long on this machine)."""
    actions.upsert_person(ctx, ADMIN, login=OFFICER.login, name=OFFICER.name, role=OFFICER.role)
    actions.create_work_order(ctx, OFFICER, content="小区暖气不热，要求尽快维修" * 4,
                              caller="张先生", phone="13800000000", address="建设路 12 号")
    _generate(N)
    sqlite_db.close()
    target = tmp_path / "all.jsonl"
    proc = subprocess.run([sys.executable, "-c", CHILD, sqlite_db.database, str(target)],
                          capture_output=True, text=True, timeout=900,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    items, other, before_kb, peak_kb = map(int, proc.stdout.split())
    assert items == N + 1
    with open(target, encoding="utf-8") as fh:
        first = json.loads(next(fh))
        lines = 1 + sum(1 for _ in fh)
    assert lines == items + other and first["kind"] in ("department", "person")
    # a page of 5,000 rows as dicts is ~15 MB; the whole table would be ~600 MB more
    assert peak_kb - before_kb < 150 * 1024, (before_kb, peak_kb)
