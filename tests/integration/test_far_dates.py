"""Deadlines far ahead fit the queue's sort key on both databases (BIGINT since 0002)."""

from __future__ import annotations

import datetime as dt

from console import actions
from tests.conftest import OFFICER


def test_deadline_after_2038_is_stored_and_sorted(db, ctx):
    far = dt.datetime(2045, 1, 1)
    order = actions.create_work_order(ctx, OFFICER, content="长期建议", type="suggestion",
                                      due_at=far)
    report = actions.create_report(ctx, OFFICER, title="一般事件", category="natural", level="IV")
    report = actions.escalate(ctx, OFFICER, report.ref)
    report = actions.follow_up(ctx, OFFICER, report.ref, "续报：已处置")  # IV: no next deadline
    assert actions.find_item(order.ref).deadline_at == far
    assert actions.find_item(report.ref).deadline_at is None
    assert actions.find_item(order.ref).sort_key > 2**31  # past int4: needs the BIGINT
