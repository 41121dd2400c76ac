"""Tampering is visible (issue 9 §5): one test per kind of edit ``verify`` missed.

Each edit is made straight in the database, as someone with write access to the file
would: deleting the last 50 events or the whole log, editing an event's actor_name or
item_id, changing item rows, person.role, report_update and instruction rows without
an event.  Every problem is one line naming the table, the row and the field.
"""

from __future__ import annotations

import pytest

from console import actions, verify
from console.models import Event, Instruction, Person, Report, ReportUpdate, WorkOrder
from tests.conftest import LEADER, OFFICER

pytestmark = pytest.mark.usefixtures("roster")


@pytest.fixture
def log(ctx, clock):
    """A duty log with reports, an order, follow-ups, an instruction and 60 notes."""
    r = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="II",
                              summary="首报")
    actions.acknowledge(ctx, OFFICER, r.ref)
    clock.advance(minutes=5)
    actions.escalate(ctx, OFFICER, r.ref)
    actions.follow_up(ctx, OFFICER, r.ref, "续报一", dead=1)
    actions.instruct(ctx, LEADER, r.ref, "全力救治")
    wo = actions.create_work_order(ctx, OFFICER, content="路灯不亮", type="help")
    actions.assign(ctx, OFFICER, wo.ref, "ZJJ")
    other = actions.create_report(ctx, OFFICER, title="积水", category="natural", level="IV")
    for i in range(60):
        actions.note(ctx, OFFICER, other.ref if i % 2 else wo.ref, f"记录 {i}")
    n, problems = verify.verify_all()
    assert problems == [] and n == Event.select().count()
    return {"report": Report.get_by_id(r.id), "order": WorkOrder.get_by_id(wo.id),
            "other": Report.get_by_id(other.id)}


def problems(anchor: str | None = None) -> list[str]:
    return [str(p) for p in verify.verify_all(anchor)[1]]


def test_a_clean_log_verifies_and_has_a_head(log):
    head_id, head_hash = verify.chain_head()
    assert head_id == Event.select().order_by(Event.id.desc()).first().id
    assert problems(verify.format_head()) == [] and problems(head_hash) == []


def test_deleting_the_last_50_events(log):
    anchor = verify.format_head()
    last = [e.id for e in Event.select(Event.id).order_by(Event.id.desc()).limit(50)]
    Event.delete().where(Event.id.in_(last)).execute()
    assert verify.verify_chain()[0]  # the chain alone still links: this was the gap
    found = problems()
    assert any(p.startswith("report#") and " version: " in p for p in found), found
    assert any(p.startswith("work_order#") and " version: " in p for p in found), found
    assert any("anchor" in p for p in problems(anchor))


def test_deleting_the_whole_log(log):
    anchor = verify.format_head()
    Event.delete().execute()
    found = problems()
    assert f"report#{log['report'].id} version: no event accounts for this row" in found
    assert any(p.startswith("person#") for p in found)
    assert any(p.startswith("report_update#") for p in found)
    assert any("anchor" in p for p in problems(anchor))


def test_editing_an_events_actor_name(log):
    e = Event.select().where(Event.action == "instruct").get()
    Event.update(actor_name="秘书长").where(Event.id == e.id).execute()
    assert f"event#{e.id} hash: content does not match its hash (altered)" in problems()


def test_editing_an_events_item_id(log):
    e = Event.select().where(Event.action == "follow_up").get()
    Event.update(item_id=log["other"].id).where(Event.id == e.id).execute()
    found = problems()
    assert any(p.startswith("event#") and " item_id: " in p for p in found), found


def test_changing_an_item_row_without_an_event(log):
    r = log["report"]
    Report.update(status="closed").where(Report.id == r.id).execute()
    assert any(p.startswith(f"report#{r.id} status: ") for p in problems())


def test_changing_an_item_column_no_event_mentions(log):
    r = log["report"]
    Report.update(place="别处").where(Report.id == r.id).execute()
    assert f"report#{r.id} row: differs from what its last event recorded " \
           "(changed without an event)" in problems()


def test_changing_level_and_owner_without_an_event(log):
    wo = log["order"]
    WorkOrder.update(owner="someone", urgency="urgent").where(WorkOrder.id == wo.id).execute()
    found = problems()
    assert any(p.startswith(f"work_order#{wo.id} owner: ") for p in found), found
    assert any(p.startswith(f"work_order#{wo.id} urgency: ") for p in found), found


def test_changing_a_persons_role(log):
    p = Person.get(Person.login == OFFICER.login)
    Person.update(role="admin").where(Person.id == p.id).execute()
    assert any(x.startswith(f"person#{p.id} role: ") for x in problems())


def test_editing_or_deleting_a_report_update(log):
    u = ReportUpdate.get(ReportUpdate.stage == "followup")
    ReportUpdate.update(text="改过的续报").where(ReportUpdate.id == u.id).execute()
    found = problems()
    assert any(p.startswith(f"report_update#{u.id} row: ") for p in found), found
    ReportUpdate.delete().where(ReportUpdate.id == u.id).execute()
    assert any(p.startswith("report_update#report:") for p in problems())


def test_editing_or_adding_an_instruction(log):
    ins = Instruction.get()
    Instruction.update(leader="别人").where(Instruction.id == ins.id).execute()
    assert any(p.startswith(f"instruction#{ins.id} row: ") for p in problems())
    extra = Instruction.create(item_kind="report", item_id=log["other"].id, leader="某领导",
                               text="伪造的批示", at=ins.at, recorded_by="x")
    assert any(p.startswith(f"instruction#{extra.id} row: ") for p in problems())


def test_a_value_that_cannot_be_decoded_is_a_finding_not_a_crash(log):
    """A chain or an event's ``after`` stored as ``{broken`` (issue 9 §1: a row that
    cannot be decoded shows as damaged): verify names the row and field, and goes on."""
    from peewee import SQL

    r = log["report"]
    Report.update({Report.chain: SQL("'{broken'")}).where(Report.id == r.id).execute()
    last = Event.select(Event.id).order_by(Event.id.desc()).first().id
    Event.update({Event.after: SQL("'{broken'")}).where(Event.id == last).execute()
    found = problems()
    assert f"report#{r.id} chain: stored value cannot be decoded (damaged)" in found
    assert f"event#{last} after: stored value cannot be decoded (damaged)" in found
    assert f"event#{last} hash: content does not match its hash (altered)" in found
    assert not verify.verify_chain()[0]
