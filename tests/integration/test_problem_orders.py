"""Eight real sweeper processes on one database (SQLite file and PostgreSQL): every
problem order (问题工单) is registered as a supervision item exactly once, every order
not accepted in time escalates once, every lapsed acknowledgement re-alerts once."""

from __future__ import annotations

import collections
import datetime as dt

import pytest

from console import actions, verify
from console.models import Event, SupervisionItem, WorkOrder
from tests.conftest import ADMIN, OFFICER, T0
from tests.integration.test_concurrency import _collect, _spawn


def _desk(ctx) -> dict[str, str]:
    for code, name in (("ZJJ", "市住建局"), ("GRB", "市供热办"), ("SWJ", "市水务局")):
        actions.upsert_department(ctx, ADMIN, code=code, name=name)
    expected: dict[str, str] = {}
    for i in range(6):  # returned three times
        wo = actions.create_work_order(ctx, OFFICER, content=f"反复退单{i}", type="complaint",
                                       department="ZJJ")
        for n, dept in enumerate(("ZJJ", "GRB", "ZJJ")):
            if n:
                actions.assign(ctx, OFFICER, wo.ref, dept)
            actions.return_order(ctx, OFFICER, wo.ref, f"退单{n}")
        expected[wo.ref] = "problem_order"
    for i in range(6):  # passed through three departments, still at the third, accepted
        wo = actions.create_work_order(ctx, OFFICER, content=f"多部门{i}", type="help",
                                       department="ZJJ")
        actions.assign(ctx, OFFICER, wo.ref, "GRB")
        actions.assign(ctx, OFFICER, wo.ref, "SWJ")
        actions.accept(ctx, OFFICER, wo.ref)
        expected[wo.ref] = "problem_order"
    for i in range(6):  # never accepted
        wo = actions.create_work_order(ctx, OFFICER, content=f"未签收{i}", type="help",
                                       department="GRB")
        actions.acknowledge(ctx, OFFICER, wo.ref)
        expected[wo.ref] = "accept_overdue"
    return expected


@pytest.mark.multiprocess
def test_eight_sweepers_register_each_problem_order_once(db, db_url, ctx):
    expected = _desk(ctx)
    at = T0 + dt.timedelta(hours=3)  # past the 2 working hours of 签收
    db.close()
    procs = [_spawn("sweeper.py", db_url, at.isoformat()) for _ in range(8)]
    results = _collect(procs)
    assert [e for r in results for e in r["errors"]] == []
    desk_actions = ("problem_order", "accept_overdue")
    done = Event.select().where(Event.action.in_(desk_actions))
    assert collections.Counter((e.item_ref, e.action) for e in done) == \
        collections.Counter(expected.items())
    problems = [ref for ref, what in expected.items() if what == "problem_order"]
    registered = list(SupervisionItem.select().where(SupervisionItem.source_ref.in_(problems)))
    assert sorted(sv.source_ref for sv in registered) == sorted(problems)  # one each
    assert SupervisionItem.select().count() == len(problems)
    for sv in registered:
        assert WorkOrder.get(WorkOrder.ref == sv.source_ref).problem_ref == sv.ref
    n, found = verify.verify_all()
    assert found == [] and n == Event.select().count()
