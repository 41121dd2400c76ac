"""12345 figures against a small hand-computed dataset (issue 12).

The year's on-time rate printed 100.0 % where the truth was 83.9 %: an imported closed
order keeps no due time, so nothing marked it late.  On time = closed with
closed_at ≤ due_at, ÷ closed, over the orders received in the period; per department too.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from console import actions, intake
from console.clock import to_utc_naive
from console.stats import work_order_stats
from tests.conftest import ADMIN, OFFICER

pytestmark = pytest.mark.usefixtures("roster")

# ticket, department, due_at, closed_at (site time); None: still open
ORDERS = [
    ("A-1", "ZJJ", "2026-03-10T17:00", "2026-03-09T10:00"),  # on time
    ("A-2", "ZJJ", "2026-03-10T17:00", "2026-03-12T10:00"),  # late
    ("A-3", "ZJJ", "2026-03-10T17:00", "2026-03-10T17:00"),  # at the due minute: on time
    ("A-4", "ZJJ", "2026-03-10T17:00", None),                # open
    ("B-1", "GRB", "2026-06-01T09:00", "2026-06-03T09:00"),  # late
    ("B-2", "GRB", "2026-06-01T09:00", "2026-05-30T09:00"),  # on time
    ("Z-1", "GRB", "2025-12-20T09:00", "2025-12-30T09:00"),  # received in 2025: not counted
]


def _import(ctx, tmp_path) -> None:
    lines = []
    for ticket, dept, due, closed in ORDERS:
        received = "2025-12-10T09:00" if ticket.startswith("Z") else due[:8] + "01T09:00"
        record = {"kind": "work_order", "ticket": ticket, "received_at": received,
                  "type": "complaint", "content": "供暖不热", "department": dept,
                  "due_at": due}
        if closed:
            record.update(status="closed", closed_at=closed)
        lines.append(json.dumps(record, ensure_ascii=False))
    path = tmp_path / "year.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    actions.import_records(ctx, ADMIN, intake.load_file(path, ctx.settings), source=path.name)


def _year(ctx, year=2026):
    tz = ctx.settings.tz
    return work_order_stats(to_utc_naive(dt.datetime(year, 1, 1), tz),
                            to_utc_naive(dt.datetime(year + 1, 1, 1), tz), tz=tz)


def test_on_time_rate_of_imported_orders_is_hand_computed(ctx, db, tmp_path):
    _import(ctx, tmp_path)
    s = _year(ctx)
    assert (s.total, s.closed, s.closed_on_time) == (6, 5, 3)
    assert s.on_time_rate == pytest.approx(3 / 5)  # 60.0 %, not 100.0 %
    assert s.closure_rate == pytest.approx(5 / 6)
    by_dept = {name: (n, closed, on_time) for name, n, closed, on_time in s.top_departments}
    assert by_dept == {"市住建局": (4, 3, 2), "市供热办": (2, 2, 1)}


def test_on_time_rate_of_orders_closed_in_the_console(ctx, db, clock):
    early = actions.create_work_order(ctx, OFFICER, content="路灯不亮", type="enquiry",
                                      department="ZJJ")
    late = actions.create_work_order(ctx, OFFICER, content="井盖丢失", type="enquiry",
                                     department="ZJJ")
    actions.close(ctx, OFFICER, actions.reply(ctx, OFFICER, early, "已修复"), "已修复")
    clock.set(late.deadline_at + dt.timedelta(hours=1))
    actions.close(ctx, OFFICER, actions.reply(ctx, OFFICER, late, "已补装"), "已补装")
    s = _year(ctx)
    assert (s.total, s.closed, s.closed_on_time) == (2, 2, 1)
    assert s.top_departments == [("市住建局", 2, 2, 1)]


def test_stats_command_prints_the_rates_per_department(ctx, db, tmp_path, capsys):
    from console import cli

    _import(ctx, tmp_path)
    assert cli._stats(ctx, 2026) == 0
    out = capsys.readouterr().out
    assert "closure rate 83.3% (5 closed), closed on time 60.0%" in out
    assert "  市住建局  4  75.0%  66.7%" in out
    assert "  市供热办  2  100.0%  50.0%" in out
