"""并单 and related items (issue 11) on SQLite and PostgreSQL (the ``db`` fixture):
merge → act on the duplicate's reference → unmerge, both items' events, verify."""

from __future__ import annotations

import datetime as dt

import pytest

from console import actions, commands, merge_queries, verify
from console.errors import DomainError
from console.models import Event, ItemLink, Report, ReportUpdate, WorkOrder
from tests.conftest import OFFICER, T0, VIEWER

pytestmark = pytest.mark.usefixtures("roster")


def order(ctx, caller: str, phone: str, **kw) -> WorkOrder:
    kw.setdefault("content", f"{caller}: no heating at home")
    return actions.create_work_order(ctx, OFFICER, type="complaint", caller=caller,
                                     phone=phone, department="ZJJ", **kw)


def fresh(item):
    return type(item).get_by_id(item.id)


def events_of(item) -> list[str]:
    return [a for (a,) in Event.select(Event.action).where(
        (Event.item_kind == item.KIND) & (Event.item_id == item.id)).order_by(Event.id).tuples()]


def test_merge_act_on_the_duplicate_unmerge_round_trip(ctx, db):
    master = order(ctx, "张三", "13800000001", address="幸福路1号")
    dup = order(ctx, "李四", "13900000002", address="幸福路1号")
    dup_status, dup_due = dup.status, dup.deadline_at

    line = commands.run_command(ctx, OFFICER, f"merge {dup.ref} {master.ref}")
    d, m = fresh(dup), fresh(master)
    assert d.status == "closed" and d.closed_at is not None and d.deadline_at is None
    assert events_of(d)[-1] == "merge" and events_of(m)[-1] == "merge_in"
    assert d.version == len(events_of(d)) and m.version == len(events_of(m))
    assert master.ref in line

    # the duplicate's reference acts on the master, with a notice
    assert merge_queries.resolve(dup.ref) == (master.ref, merge_queries.resolve(dup.ref)[1])
    out = commands.run_command(ctx, OFFICER, f"reply {dup.ref} fixed the boiler")
    assert out.splitlines()[0].startswith(dup.ref) and master.ref in out.splitlines()[0]
    m = fresh(master)
    assert m.status == "replied" and fresh(dup).status == "closed"
    # the reply reaches every merged caller: its event names both
    reply = Event.select().where((Event.item_id == m.id) & (Event.action == "reply")).get()
    assert "张三" in reply.note and "李四" in reply.note and "13900000002" in reply.note
    assert [c[1] for c in merge_queries.merged_callers(m)] == ["张三", "李四"]

    # unmerge: the duplicate is open again where it was, the link ended, one event each
    commands.run_command(ctx, OFFICER, f"unmerge {dup.ref} different flat after all")
    d, m = fresh(dup), fresh(master)
    assert d.status == dup_status and d.closed_at is None and d.deadline_at == dup_due
    assert events_of(d)[-1] == "unmerge" and events_of(m)[-1] == "unmerge_out"
    assert merge_queries.resolve(dup.ref) == (dup.ref, "")
    assert ItemLink.get(ItemLink.item_id == d.id).ended_at is not None
    assert [c[1] for c in merge_queries.merged_callers(m)] == ["张三"]
    n, problems = verify.verify_all()
    assert problems == [] and n > 0


def test_merge_refusals_change_nothing(ctx, db):
    a, b = order(ctx, "甲", "1"), order(ctx, "乙", "2")
    report = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident")
    before = Event.select().count()
    for _target, master, text in ((a, a, "into itself"), (a, report, "only a work order"),
                                 (a, "NOPE-1", "NOPE-1")):
        with pytest.raises(DomainError, match=text):
            actions.merge(ctx, OFFICER, a, master)
    with pytest.raises(DomainError):
        actions.merge(ctx, VIEWER, a, b)
    with pytest.raises(DomainError, match="not merged"):
        actions.unmerge(ctx, OFFICER, a, "why")
    actions.merge(ctx, OFFICER, a, b)
    with pytest.raises(DomainError, match="already merged"):
        actions.merge(ctx, OFFICER, a, b)
    with pytest.raises(DomainError, match="already merged"):  # into a merged duplicate
        actions.merge(ctx, OFFICER, order(ctx, "丙", "3"), a)
    with pytest.raises(DomainError, match="has items merged into it"):  # one level only
        actions.merge(ctx, OFFICER, b, order(ctx, "丁", "4"))
    assert Event.select().count() == before + 4  # 2 for the merge, 2 orders taken in
    assert ItemLink.select().where(ItemLink.relation == "merged").count() == 1


def test_merged_report_becomes_a_followup_of_the_earlier(ctx, db):
    first = actions.create_report(ctx, OFFICER, title="幸福路燃气泄漏", category="accident",
                                  level="III")
    later = actions.create_report(ctx, OFFICER, title="幸福路闻到煤气味",
                                  category="accident", summary="居民报告", source_unit="派出所")
    master = actions.merge(ctx, OFFICER, later.ref, first.ref)
    assert master.id == first.id and fresh(first).followups == 1
    update = ReportUpdate.get((ReportUpdate.report == first.id)
                              & (ReportUpdate.stage == "followup"))
    assert later.ref in update.text and "派出所" in update.text
    assert fresh(later).status == "closed" and isinstance(fresh(later), Report)
    assert verify.verify_all()[1] == []


def test_link_related_closes_nothing(ctx, db):
    a, b = order(ctx, "甲", "1"), order(ctx, "乙", "2")
    actions.link_related(ctx, OFFICER, a.ref, b.ref)
    assert fresh(a).closed_at is None and fresh(b).closed_at is None
    assert events_of(a)[-1] == "link" == events_of(b)[-1]
    assert [r.relation for r in merge_queries.links(fresh(a))] == ["related"]
    assert [r.relation for r in merge_queries.links(fresh(b))] == ["related"]
    with pytest.raises(DomainError, match="already related"):
        actions.link_related(ctx, OFFICER, a.ref, b.ref)


def test_statistics_count_a_merged_order_once(ctx, db):
    a, b, c = order(ctx, "甲", "1"), order(ctx, "乙", "2"), order(ctx, "丙", "3")
    actions.merge(ctx, OFFICER, b, a)
    once = WorkOrder.select().where(actions.counted_once(WorkOrder, ctx.settings))
    assert {o.id for o in once} == {a.id, c.id}
    every = dataclass_replace(ctx.settings, False)
    assert WorkOrder.select().where(actions.counted_once(WorkOrder, every)).count() == 3


def test_the_figures_count_a_merged_order_once(ctx, db):
    """Found: the figures (the G screen, `dutyroom stats`, the year summary) counted a
    merged duplicate as an order of its own — never applied hotline.count_merged_once."""
    from console.figures import Period, figures
    from console.stats import work_order_stats

    a, b, _c = order(ctx, "甲", "1"), order(ctx, "乙", "2"), order(ctx, "丙", "3")
    period = Period(T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1))
    every = dataclass_replace(ctx.settings, False)

    def received(settings) -> tuple[int, int, int, int]:
        f = figures("work_order", period, "department", settings=settings, now=T0)
        year = work_order_stats(period.since, period.until, settings=settings)
        return (f["total"]["received"], f["groups"]["ZJJ"]["received"], year.total,
                f["total"]["closed"])

    assert received(ctx.settings) == (3, 3, 3, 0)
    actions.merge(ctx, OFFICER, b, a)
    assert received(ctx.settings) == (2, 2, 2, 0)  # the closed duplicate: not a closure
    assert received(every) == (3, 3, 3, 1)
    actions.unmerge(ctx, OFFICER, fresh(b), "not the same request")
    assert received(ctx.settings) == (3, 3, 3, 0)


def dataclass_replace(settings, once: bool):
    import dataclasses

    from console.repeats import rules_of

    return dataclasses.replace(settings, merge=dataclasses.replace(
        rules_of(settings), count_merged_once=once))


def test_merge_is_exactly_once_per_intent(ctx, db):
    a, b = order(ctx, "甲", "1"), order(ctx, "乙", "2")
    first = actions.merge(ctx, OFFICER, a, b, intent="k-merge")
    again = actions.merge(ctx, OFFICER, a, b, intent="k-merge")
    assert first.id == again.id == b.id
    assert ItemLink.select().where(ItemLink.relation == "merged").count() == 1
    assert T0 <= fresh(a).closed_at <= T0 + dt.timedelta(days=1)


def test_the_queue_search_finds_the_master_by_the_duplicates_ref(ctx, db):
    from console import queries

    a, b = order(ctx, "甲", "1"), order(ctx, "乙", "2")
    actions.merge(ctx, OFFICER, b, a)
    found = queries.window(queries.QueueFilter("work_order", search=b.ref), 0, 10)
    assert [r.ref for r in found] == [a.ref]  # the duplicate is closed; its master is open

