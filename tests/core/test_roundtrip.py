"""``dutyroom export`` → ``dutyroom import`` into an empty database restores everything
(issue: the export skipped scheduled reports, so the restored log named rows that were
not there and ``verify`` failed; the item links, the unit desk's columns, the handover
and the instructions' leader logins were dropped too).  SQLite and PostgreSQL, both ways."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from console import actions, export, intake, verify
from console import db as dbmod
from console.actions import scheduled
from console.models import (
    ALL_MODELS,
    ITEM_MODELS,
    Counter,
    Department,
    Event,
    Instruction,
    ItemLink,
    Person,
    ScheduledReport,
    Shift,
    WorkOrder,
)
from tests.conftest import ADMIN, LEADER, OFFICER, OFFICER2, T0, fresh_url

THREE = {"situation": "全市平稳", "problems": "BG-1 待续报", "tasks": "08:00 前报送续报"}
# what differs by design after a restore: ids, the import's own times and the queue order
# derived from them, and versions (they count the events, the import's own included)
_SKIP = {"id", "version", "created_at", "updated_at", "rank", "sort_key"}


def _build(ctx: Any) -> None:
    """One of every feature: scheduled reports received and missing, a merged pair and a
    related pair, an accepted order, a leader's instruction, a handover accepted."""
    for code, name in (("XCB", "市委宣传部"), ("XFJ", "市信访局")):
        actions.upsert_department(ctx, ADMIN, code=code, name=name)
    actions.upsert_person(ctx, ADMIN, login=LEADER.login, name=LEADER.name, role="leader",
                          title="副市长")
    actions.upsert_person(ctx, ADMIN, login="zjj1", name="住建联络员", role="unit",
                          department="ZJJ")
    a = actions.upsert_shift(ctx, ADMIN, starts_at=T0 - dt.timedelta(hours=2),
                             ends_at=T0 + dt.timedelta(hours=22), leader=LEADER.login,
                             primary=OFFICER.login)
    actions.upsert_shift(ctx, ADMIN, starts_at=T0 + dt.timedelta(hours=22),
                         ends_at=T0 + dt.timedelta(hours=46), primary=OFFICER2.login)
    report = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident",
                                   level="II")
    actions.instruct(ctx, OFFICER, report.ref, "全力救治", leader=LEADER.login)
    orders = [actions.create_work_order(ctx, OFFICER, content=f"暖气不热{i}", type="complaint",
                                        phone="13800000000", address="幸福路1号",
                                        department="ZJJ") for i in range(4)]
    actions.accept(ctx, OFFICER, orders[0].ref)
    actions.merge(ctx, OFFICER, orders[1].ref, orders[0].ref)
    actions.link_related(ctx, OFFICER, orders[2].ref, orders[3].ref)
    made = scheduled.create_expected(ctx, T0 - dt.timedelta(days=10), T0 + dt.timedelta(days=7))
    received = next(r for r in made if r.due_at > T0)
    actions.receive_scheduled(ctx, OFFICER, received.ref)
    actions.submit_handover(ctx, OFFICER, a.id, **THREE)
    ctx.clock.set(T0 + dt.timedelta(hours=22, minutes=5))
    scheduled.mark_missing(ctx, ctx.now())
    actions.accept_handover(ctx, OFFICER2, None, confirmed=tuple(THREE))


def _refs() -> dict[tuple[str, int], str]:
    out = {}
    for kind, model in ITEM_MODELS.items():
        out.update({(kind, i): ref for i, ref in model.select(model.id, model.ref).tuples()})
    return out


def _snapshot() -> dict[str, Any]:
    """Every table's rows as comparable values: ids replaced by what they name."""
    depts = dict(Department.select(Department.id, Department.code).tuples())
    people = dict(Person.select(Person.id, Person.login).tuples())
    refs = _refs()
    out: dict[str, Any] = {"counts": {m._meta.table_name: m.select().count()
                                      for m in ALL_MODELS if m not in (Event, Counter)}}
    for model in (*ITEM_MODELS.values(), Shift, Person, Department):
        rows = {}
        for row in model.select():
            values = {k: v for k, v in row.__data__.items() if k not in _SKIP}
            if "department" in values and model in ITEM_MODELS.values():
                values["department"] = depts.get(values["department"])
            if model is Shift:
                for post in ("leader", "primary", "secondary"):
                    values[post] = people.get(values[post])
                values["handed_items"] = [[k, ref] for k, _i, ref in values["handed_items"] or []]
            rows[row.ref if hasattr(row, "ref") else row.code if model is Department
                 else row.login] = values
        out[model._meta.table_name] = rows
    out["item_link"] = sorted(
        (x.kind, refs[(x.kind, x.item_id)], refs[(x.kind, x.other_id)], x.relation,
         str(x.at), x.actor, str(x.ended_at)) for x in ItemLink.select())
    out["instruction"] = sorted(
        (x.item_kind, refs[(x.item_kind, x.item_id)], x.text, x.leader, x.leader_login,
         x.leader_title, str(x.at), x.recorded_by) for x in Instruction.select())
    return out


@pytest.mark.parametrize("target", ["sqlite", "postgres"])
def test_export_import_restores_every_table(roster, db, tmp_path, target):
    """Found: scheduled_report#0 is missing (17 verify lines after a demo's round trip),
    and the merged/related links, the 签收 and the 接班 were lost."""
    ctx = roster
    _build(ctx)
    assert verify.verify_all()[1] == []
    source = _snapshot()
    assert ScheduledReport.select().where(ScheduledReport.status == "missing").exists()
    assert ScheduledReport.select().where(ScheduledReport.received_at.is_null(False)).exists()
    assert WorkOrder.select().where(WorkOrder.accepted_at.is_null(False)).exists()
    assert Shift.select().where(Shift.accepted_at.is_null(False)).exists()
    assert {x.relation for x in ItemLink.select()} >= {"merged", "related", "repeat"}
    dump = tmp_path / "backup.jsonl"
    export.export_to(dump)
    db.close()

    with fresh_url(target, tmp_path, "restored.db") as url:
        restored = dbmod.open_database(url)
        try:
            dbmod.migrate(restored)
            actions.import_records(ctx, ADMIN, intake.load_file(dump, ctx.settings),
                                   source=dump.name)
            assert verify.verify_all()[1] == []
            copy = _snapshot()
            assert copy["counts"] == source["counts"]
            for table, rows in source.items():
                assert copy[table] == rows, table
            # numbering continues after the restored scheduled reports
            top = max(ScheduledReport.select(ScheduledReport.ref).tuples())[0]
            name = f"scheduled:{top[3:7]}"
            assert Counter.get_by_id(name).value == int(top.rsplit("-", 1)[1])
        finally:
            restored.close()


def test_a_restored_handover_hands_over_the_restored_items(roster, db, tmp_path):
    """Found: a shift's handed items name ids, which differ in a restored copy (an archive
    of a database with gaps in its ids), so 接班 after a restore took over other items."""
    ctx = roster
    a = actions.upsert_shift(ctx, ADMIN, starts_at=T0 - dt.timedelta(hours=2),
                             ends_at=T0 + dt.timedelta(hours=22), primary=OFFICER.login)
    actions.upsert_shift(ctx, ADMIN, starts_at=T0 + dt.timedelta(hours=22),
                         ends_at=T0 + dt.timedelta(hours=46), primary=OFFICER2.login)
    open_items = [actions.create_report(ctx, OFFICER, title=f"积水{i}", category="natural",
                                        level="IV") for i in range(2)]
    actions.submit_handover(ctx, OFFICER, a.id, **THREE)
    dump = tmp_path / "backup.jsonl"
    export.export_to(dump)
    db.close()
    lines = []
    for line in dump.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["kind"] == "shift" and record.get("handed_items"):  # the source's ids
            record["handed_items"] = [[k, i + 100, ref] for k, i, ref in record["handed_items"]]
        lines.append(json.dumps(record, ensure_ascii=False))
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with fresh_url("sqlite", tmp_path, "restored.db") as url:
        restored = dbmod.open_database(url)
        try:
            dbmod.migrate(restored)
            actions.import_records(ctx, ADMIN, intake.load_file(dump, ctx.settings),
                                   source=dump.name)
            ctx.clock.set(T0 + dt.timedelta(hours=22, minutes=5))
            out = actions.accept_handover(ctx, OFFICER2, None, confirmed=tuple(THREE))
            assert sorted(out.owned) == sorted(r.ref for r in open_items) and out.stale == []
            assert verify.verify_all()[1] == []
        finally:
            restored.close()
