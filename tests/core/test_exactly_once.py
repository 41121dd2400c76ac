"""Exactly once (issue 9 §2): a transaction whose COMMIT succeeded but whose answer was
lost (the connection dropped during COMMIT) is not written again by the retry.

The fault is injected right after a real COMMIT: the database's ``commit`` commits and
then raises the OperationalError a dropped connection raises.  ``with_retries`` runs the
transaction again; the intent's key, stored with the first attempt's event, is found
and the committed result returned — one event, and the action reports success.
"""

from __future__ import annotations

import peewee
import pytest

from console import actions
from console.models import Event, Instruction, Report, ReportUpdate
from tests.conftest import ADMIN, LEADER, OFFICER

pytestmark = pytest.mark.usefixtures("roster")


@pytest.fixture
def lost_commit(db, monkeypatch):
    """The next COMMIT succeeds and then its answer is lost, once."""
    real = db.commit
    state = {"armed": False, "fired": 0}

    def commit_then_drop():
        real()
        if state["armed"]:
            state["armed"] = False
            state["fired"] += 1
            raise peewee.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(db, "commit", commit_then_drop)
    return state


def _events(action: str, kind: str = "report") -> int:
    return Event.select().where((Event.action == action) & (Event.item_kind == kind)).count()


def test_note_after_lost_commit_is_written_once(ctx, lost_commit):
    report = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="III")
    lost_commit["armed"] = True
    item = actions.note(ctx, OFFICER, report.ref, "现场已封控")
    assert lost_commit["fired"] == 1
    assert _events("note") == 1
    assert item.version == 2 and Report.get_by_id(report.id).version == 2


def test_close_after_lost_commit_succeeds_once(ctx, lost_commit):
    report = actions.create_report(ctx, OFFICER, title="积水", category="natural", level="IV")
    lost_commit["armed"] = True
    closed = actions.close(ctx, OFFICER, report.ref, "已处置完毕", expected_version=1)
    assert lost_commit["fired"] == 1
    assert closed.status == "closed"  # success, not "illegal from closed"
    assert _events("close") == 1
    assert ReportUpdate.select().where(ReportUpdate.stage == "final").count() == 1


def test_create_and_instruct_after_lost_commit(ctx, lost_commit):
    lost_commit["armed"] = True
    report = actions.create_report(ctx, OFFICER, title="山火", category="natural", level="II")
    assert Report.select().count() == 1 and _events("create") == 1
    assert report.ref == Report.get().ref
    lost_commit["armed"] = True
    actions.instruct(ctx, LEADER, report.ref, "全力扑救")
    assert Instruction.select().count() == 1 and _events("instruct") == 1


def test_upsert_after_lost_commit(ctx, lost_commit):
    lost_commit["armed"] = True
    person = actions.upsert_person(ctx, ADMIN, login="zhou", name="周", role="officer")
    assert person.login == "zhou"
    assert Event.select().where((Event.item_kind == "person")
                                & (Event.item_ref == "zhou")).count() == 1


def test_same_intent_twice_is_one_change(ctx):
    report = actions.create_report(ctx, OFFICER, title="停电", category="accident", level="IV")
    first = actions.note(ctx, OFFICER, report.ref, "已报电力", intent="key-1")
    again = actions.note(ctx, OFFICER, report.ref, "已报电力", intent="key-1")
    assert _events("note") == 1
    assert first.version == again.version == 2
    actions.note(ctx, OFFICER, report.ref, "已报电力", intent="key-2")
    assert _events("note") == 2
    assert Event.select().where(Event.intent == "key-1").count() == 1


def test_every_public_action_takes_an_intent():
    import inspect

    for name in ("acknowledge", "escalate", "assign", "urge", "extend", "return_order",
                 "follow_up", "instruct", "reply", "visit", "close", "reopen", "note",
                 "change_level", "create_report", "create_work_order", "register_supervision",
                 "activate_plan", "tick_measure", "deactivate_plan", "handover",
                 "upsert_department", "upsert_person", "upsert_plan", "upsert_shift",
                 "import_records"):
        param = inspect.signature(getattr(actions, name)).parameters.get("intent")
        assert param is not None and param.kind is param.KEYWORD_ONLY, name
        assert param.default is None, name


def test_import_after_lost_commit_is_written_once(ctx, lost_commit):
    from console.intake import Record

    record = Record("department", 1, {"code": "SWJ", "name": "市水务局", "phone": ""})
    lost_commit["armed"] = True
    result = actions.import_records(ctx, ADMIN, [record], source="depts.jsonl")
    assert lost_commit["fired"] == 1 and result["skipped"] == 1  # the retry found it done
    assert Event.select().where(Event.item_kind == "department",
                                Event.item_ref == "SWJ").count() == 1
