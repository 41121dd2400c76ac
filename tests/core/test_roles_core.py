"""Roles enforced in the core (issue 9 §4 and §1), whoever calls: console, CLI, import.

- An officer lowered a level Ⅱ report to Ⅳ and then closed it, getting round
  ``reporting.leader_closes``: lowering a level from Ⅰ/Ⅱ needs a leader.
- ``import_records`` wrote people (even admins) for any caller: it needs an admin of the
  roster (the system actor, for the demo and restores, still may).
- ``assign`` looked its department up outside the retry wrapper: a dropped connection
  escaped as a raw OperationalError instead of being retried.
"""

from __future__ import annotations

import peewee
import pytest

from console import actions
from console.context import Actor
from console.errors import PermissionDenied
from console.intake import Record
from console.models import Department, Event, Person, Report
from tests.conftest import ADMIN, LEADER, OFFICER, VIEWER

pytestmark = pytest.mark.usefixtures("roster")


def _report(ctx, level: str) -> Report:
    return actions.create_report(ctx, OFFICER, title="化工厂泄漏", category="accident", level=level)


def test_officer_may_not_lower_a_major_report(ctx):
    r = _report(ctx, "II")
    events = Event.select().count()
    with pytest.raises(PermissionDenied, match="may not"):
        actions.change_level(ctx, OFFICER, r.ref, "IV")
    assert Report.get_by_id(r.id).level == "II" and Event.select().count() == events
    with pytest.raises(PermissionDenied):
        actions.change_level(ctx, OFFICER, r.ref, "unknown")  # 待核 is lower than Ⅱ too
    out = actions.change_level(ctx, LEADER, r.ref, "IV")
    assert out.level == "IV"


def test_officer_may_raise_or_set_a_minor_level(ctx):
    r = _report(ctx, "IV")
    assert actions.change_level(ctx, OFFICER, r.ref, "II").level == "II"
    u = _report(ctx, "unknown")
    assert actions.change_level(ctx, OFFICER, u.ref, "III").level == "III"
    i = _report(ctx, "I")
    with pytest.raises(PermissionDenied):  # Ⅰ → Ⅱ lowers a major report as well
        actions.change_level(ctx, OFFICER, i.ref, "II")


def _person_record(login: str, role: str) -> Record:
    return Record(kind="person", line=1, data={"login": login, "name": login, "role": role,
                                               "title": "", "phone": "", "active": True})


@pytest.mark.parametrize("who", [VIEWER, OFFICER, LEADER,
                                 Actor("intruder", "intruder", "admin")])  # says admin, is not
def test_import_refused_to_anyone_but_an_admin_of_the_roster(ctx, who):
    before = Person.select().count()
    with pytest.raises(PermissionDenied):
        actions.import_records(ctx, who, [_person_record("wallboard2", "admin")], source="x.jsonl")
    assert Person.select().count() == before


@pytest.mark.parametrize("who", [ADMIN, Actor.system()])
def test_import_by_an_admin_or_the_system(ctx, who):
    result = actions.import_records(ctx, who, [_person_record("zhou", "officer")],
                                    source="x.jsonl")
    assert result["person"] == 1 and Person.get(Person.login == "zhou").role == "officer"


def test_assign_retries_a_dropped_connection_during_its_department_lookup(ctx, monkeypatch):
    wo = actions.create_work_order(ctx, OFFICER, content="路灯不亮", type="help")
    real = Department.get_or_none.__func__
    state = {"left": 1}

    def flaky(cls, *args, **kwargs):
        if state["left"]:
            state["left"] -= 1
            raise peewee.OperationalError("server closed the connection unexpectedly")
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(Department, "get_or_none", classmethod(flaky))
    out = actions.assign(ctx, OFFICER, wo.ref, "ZJJ")
    assert state["left"] == 0
    assert out.status == "assigned" and out.department_id == Department.get(code="ZJJ").id
