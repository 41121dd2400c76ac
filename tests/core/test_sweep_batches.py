"""The catch-up sweep in bounded batches (issue 14): a backlog is swept batch by batch,
each batch finding its triggers under the write lock, so a console's tick stops at its
budget and any number of sweepers escalate each trigger exactly once."""

from __future__ import annotations

import collections
import datetime as dt
import json

import pytest

from console import actions, intake, sweep, verify
from console.models import Event, WorkOrder
from tests.conftest import ADMIN, T0
from tests.core import _procs

pytestmark = pytest.mark.usefixtures("roster")


def _backlog(ctx, tmp_path, n: int) -> set[str]:
    """``n`` unacknowledged orders long past their deadlines (as after an outage)."""
    path = tmp_path / "backlog.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            at = T0 - dt.timedelta(days=20, minutes=i)
            fh.write(json.dumps({"kind": "work_order", "ticket": f"BL{i:06d}",
                                 "received_at": at.isoformat() + "Z", "type": "help",
                                 "content": f"积压 {i}", "department": "ZJJ"}) + "\n")
    actions.import_records(ctx, ADMIN, intake.file_source(path, ctx.settings),
                           source=path.name)
    return {f"BL{i:06d}" for i in range(n)}


def _count_batches(monkeypatch) -> list[int]:
    found: list[int] = []
    real = sweep.sweep_due

    def counting(ctx, find):
        n, done = real(ctx, find)
        found.append(n)
        return n, done

    monkeypatch.setattr(sweep, "sweep_due", counting)
    return found


def _escalations() -> collections.Counter:
    q = Event.select().where(Event.actor == "system")
    return collections.Counter((e.item_ref, e.action) for e in q)


def test_a_backlog_is_swept_in_batches_each_item_once(ctx, tmp_path, monkeypatch):
    refs = _backlog(ctx, tmp_path, 230)
    found = _count_batches(monkeypatch)
    result = sweep.auto_escalate(ctx, batch=50, budget=None)
    assert result.complete and len(result) == 230
    # one transaction per batch, none larger; the last finds nothing left (an order both
    # overdue and unacknowledged is listed twice, fired once)
    assert found[:4] == [50] * 4 and max(found) == 50 and found[-1] == 0 and len(found) == 6
    assert _escalations() == collections.Counter({(r, "overdue"): 1 for r in refs})
    assert sweep.due_triggers(ctx.now()) == []
    assert sweep.auto_escalate(ctx, batch=50, budget=None).escalated == []
    assert verify.verify_all()[1] == []  # rows, versions and the chain as one by one


def test_a_console_tick_stops_at_its_budget_and_the_next_goes_on(ctx, tmp_path, monkeypatch):
    refs = _backlog(ctx, tmp_path, 120)
    found = _count_batches(monkeypatch)
    first = sweep.auto_escalate(ctx, batch=40, budget=0)  # the budget is spent at once
    assert not first.complete and len(first) == 40 and found == [40]
    rest = sweep.auto_escalate(ctx, batch=40)  # the next tick (default budget)
    assert rest.complete and len(rest) == 80
    done = [ref for _k, ref, _r in first.escalated + rest.escalated]
    assert sorted(done) == sorted(refs)  # nothing twice, nothing left
    assert WorkOrder.select().where(WorkOrder.step != 1).count() == 0


def test_the_default_batch_is_read_at_call_time(ctx, tmp_path, monkeypatch):
    _backlog(ctx, tmp_path, 30)
    found = _count_batches(monkeypatch)
    monkeypatch.setattr(sweep, "BATCH", 7)
    assert len(sweep.auto_escalate(ctx, budget=None)) == 30
    assert found[:4] == [7] * 4 and max(found) == 7 and found[-1] < 7


@pytest.mark.multiprocess
@pytest.mark.parametrize("n_procs", [2, 4])
def test_several_sweepers_share_a_backlog_exactly_once(ctx, db, db_url, tmp_path, n_procs):
    refs = _backlog(ctx, tmp_path, 300)
    n_before = Event.select().count()
    db.close()
    results = _procs.run_all(_procs.sweep_worker,
                             [(f"proc{i}", db_url, T0, 10) for i in range(n_procs)])
    errors = [err for _name, _esc, err in results if err]
    assert not errors, errors[0]
    done = [ref for _name, esc, _err in results for _k, ref, _r in esc]
    assert len(done) == len(set(done))  # none escalated by two processes
    # a console's sweep stops at its time budget: what is left is the next tick's
    db.connect(reuse_if_open=True)
    done += [ref for _k, ref, _r in sweep.auto_escalate(ctx, budget=None).escalated]
    assert sorted(done) == sorted(refs)  # each exactly once
    assert _escalations() == collections.Counter({(r, "overdue"): 1 for r in refs})
    assert Event.select().count() == n_before + len(refs)
