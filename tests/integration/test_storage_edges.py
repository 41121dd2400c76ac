"""Storage edges on both databases: far deadlines (BIGINT sort key), LIKE wildcards."""

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


def test_search_treats_wildcards_as_text(db, ctx):
    from console import queries

    actions.create_work_order(ctx, OFFICER, content="水费多收了50%", type="complaint")
    actions.create_work_order(ctx, OFFICER, content="水费多收了50元", type="complaint")
    f = queries.QueueFilter("work_order", search="50%")
    assert [r.title for r in queries.window(f, 0, 10)] == ["水费多收了50%"]
    assert queries.count(queries.QueueFilter("work_order", search="_")) == 0


def test_sensitive_report_ranks_with_serious_ones(db, ctx):
    """敏感信息 is reported as fast as a Ⅱ (reporting.sensitive_as) and so sorts with them."""
    from console import queries

    plain = actions.create_report(ctx, OFFICER, title="一般事件", category="security", level="IV")
    hot = actions.create_report(ctx, OFFICER, title="敏感事件", category="security", level="IV",
                                sensitive=True)
    refs = [r.ref for r in queries.window(queries.QueueFilter("report"), 0, 10)]
    assert refs.index(hot.ref) < refs.index(plain.ref)
    assert hot.deadline_at < plain.deadline_at
