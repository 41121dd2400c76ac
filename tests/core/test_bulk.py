"""Bulk actions (storms, issue 10 §5) on SQLite and PostgreSQL (the ``db`` fixture).

Each item gets its own ordinary action and exactly one event of its own, with
the version the officer saw and its own intent key; a stale or illegal item is
skipped and named in the summary, never fatal to the others.
"""

from __future__ import annotations

import dataclasses

import pytest

from console import actions
from console.actions import BulkTarget
from console.errors import DomainError
from console.models import Event, Report, WorkOrder
from tests.conftest import OFFICER, OFFICER2

pytestmark = pytest.mark.usefixtures("roster")


def _reports(ctx, n: int) -> list[Report]:
    return [actions.create_report(ctx, OFFICER, title=f"暴雨积水 {i}", category="natural",
                                  level="IV") for i in range(n)]


def _seen(items) -> list[BulkTarget]:
    return [BulkTarget(i.KIND, i.id, i.ref, i.version) for i in items]


def test_bulk_acknowledge_one_event_per_item_with_one_note(ctx, db):
    items = _reports(ctx, 30)
    before = Event.select().count()
    result = actions.bulk(ctx, OFFICER2, "acknowledge", _seen(items), note="暴雨批量确认")
    assert len(result.done) == 30 and result.skipped == []
    events = list(Event.select().where(Event.id > 0).order_by(Event.id.desc()).limit(30))
    assert Event.select().count() == before + 30
    assert {e.item_id for e in events} == {i.id for i in items}
    assert {e.action for e in events} == {"acknowledge"}
    assert {e.note for e in events} == {"暴雨批量确认"}
    assert len({e.intent for e in events}) == 30  # each item its own intent
    rows = Report.select().where(Report.id.in_([i.id for i in items]))
    assert {(r.acked_by, r.status) for r in rows} == {("wangfang", "acknowledged")}


def test_stale_and_illegal_items_are_skipped_and_named(ctx, db):
    items = _reports(ctx, 5)
    seen = _seen(items)
    actions.acknowledge(ctx, OFFICER, items[1])  # someone else acted after the list was shown
    actions.close(ctx, OFFICER, items[3], "终报：已处置")
    result = actions.bulk(ctx, OFFICER2, "acknowledge", seen, note="批量")
    assert sorted(result.done) == sorted([items[0].ref, items[2].ref, items[4].ref])
    assert [ref for ref, _ in result.skipped] == [items[1].ref, items[3].ref]
    why = dict(result.skipped)[items[1].ref]
    assert items[1].ref in why and "李明" in why
    line = result.summary()
    assert line.startswith("3 done, 2 skipped") and "李明" in line
    # the stale item keeps what 李明 did; nothing was written for it by the bulk
    assert Report.get_by_id(items[1].id).acked_by == "liming"
    assert Event.select().where((Event.item_id == items[1].id)
                                & (Event.actor == "wangfang")).count() == 0


def test_repeating_the_same_intent_changes_nothing_twice(ctx, db):
    items = _reports(ctx, 4)
    seen = _seen(items)
    first = actions.bulk(ctx, OFFICER, "note", seen, note="统一备注", intent="storm-1")
    n = Event.select().count()
    # the same confirmation retried (answer lost): each item's key is found, replayed
    again = actions.bulk(ctx, OFFICER, "note", [dataclasses.replace(s, version=None)
                                                for s in seen],
                         note="统一备注", intent="storm-1")
    assert len(first.done) == len(again.done) == 4
    assert Event.select().count() == n


def test_bulk_assign_and_close_work_orders(ctx, db):
    orders = [actions.create_work_order(ctx, OFFICER, content=f"路灯不亮 {i}", type="report",
                                        urgency="normal") for i in range(3)]
    result = actions.bulk(ctx, OFFICER, "assign", _seen(orders), department="ZJJ",
                          note="统一派单")
    assert len(result.done) == 3
    assert {WorkOrder.get_by_id(o.id).status for o in orders} == {"assigned"}
    # close is illegal from "assigned": every one skipped, none fatal, nothing written
    n = Event.select().count()
    fresh = [WorkOrder.get_by_id(o.id) for o in orders]
    closed = actions.bulk(ctx, OFFICER, "close", _seen(fresh), note="")
    assert closed.done == [] and len(closed.skipped) == 3
    assert Event.select().count() == n


def test_bulk_is_bounded_and_checked_before_anything_is_written(ctx, db):
    items = _reports(ctx, 3)
    small = dataclasses.replace(ctx.settings, bulk_max=2)
    small_ctx = dataclasses.replace(ctx, settings=small)
    n = Event.select().count()
    with pytest.raises(DomainError, match="3"):
        actions.bulk(small_ctx, OFFICER, "acknowledge", _seen(items))
    with pytest.raises(DomainError):
        actions.bulk(ctx, OFFICER, "note", _seen(items), note="  ")
    with pytest.raises(DomainError):
        actions.bulk(ctx, OFFICER, "escalate_to", _seen(items))
    assert Event.select().count() == n

