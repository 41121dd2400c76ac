"""Field rules in the core (issue 8 §6): the patterns for login, code and phone, the same
person twice in one shift and a department name already taken were checked only by the
admin screen, so ``dutyroom import``, ``act`` and the demo bypassed them.  The roster
actions check them now, raising a DomainError whose ``field`` names the field; import
reports them as file:line: field: reason, and nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest

from console import actions
from console.errors import DomainError, ImportRejected
from console.intake import Record
from console.models import Department, Event, Person, Shift
from tests.conftest import ADMIN, LEADER, OFFICER, OFFICER2, T0

pytestmark = pytest.mark.usefixtures("roster")


def _refused(field: str, fn, *args, **kwargs) -> DomainError:
    events = Event.select().count()
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    assert info.value.field == field, str(info.value)
    assert Event.select().count() == events
    return info.value


def test_person_login_and_phone_patterns(ctx):
    _refused("login", actions.upsert_person, ctx, ADMIN, login="li ming", name="李明")
    _refused("phone", actions.upsert_person, ctx, ADMIN, login="zhou", name="周", phone="abc123")
    _refused("role", actions.upsert_person, ctx, ADMIN, login="zhou", name="周", role="boss")
    _refused("name", actions.upsert_person, ctx, ADMIN, login="zhou", name=" ")
    assert not Person.select().where(Person.login == "zhou").exists()
    assert actions.upsert_person(ctx, ADMIN, login="zhou", name="周", phone="+86 (10) 1234").id


def test_department_code_and_taken_name(ctx):
    _refused("code", actions.upsert_department, ctx, ADMIN, code="市 局", name="某局")
    err = _refused("name", actions.upsert_department, ctx, ADMIN, code="ZJJ2", name="市住建局")
    assert "市住建局" in str(err)
    assert Department.select().count() == 2
    # the same department keeps its own name
    assert actions.upsert_department(ctx, ADMIN, code="ZJJ", name="市住建局", phone="12345").phone


def test_same_person_twice_in_one_shift(ctx):
    start = T0 + dt.timedelta(hours=1)
    _refused("secondary", actions.upsert_shift, ctx, ADMIN, starts_at=start,
             ends_at=start + dt.timedelta(hours=24), leader=LEADER.login, primary=OFFICER.login,
             secondary=OFFICER.login)
    _refused("ends_at", actions.upsert_shift, ctx, ADMIN, starts_at=start, ends_at=start)
    assert Shift.select().count() == 0
    assert actions.upsert_shift(ctx, ADMIN, starts_at=start, ends_at=start + dt.timedelta(hours=24),
                                leader=LEADER.login, primary=OFFICER.login,
                                secondary=OFFICER2.login).ref


@pytest.mark.parametrize(("record", "field"), [
    (Record("person", 3, {"login": "bad login", "name": "x", "role": "officer", "title": "",
                          "phone": ""}), "login"),
    (Record("person", 3, {"login": "ok", "name": "x", "role": "officer", "title": "",
                          "phone": "call me"}), "phone"),
    (Record("department", 3, {"code": "A B", "name": "某局", "phone": ""}), "code"),
    (Record("department", 3, {"code": "NEW", "name": "市住建局", "phone": ""}), "name"),
])
def test_import_gets_the_same_checks(ctx, record, field):
    people, depts = Person.select().count(), Department.select().count()
    with pytest.raises(ImportRejected) as info:
        actions.import_records(ctx, ADMIN, [record], source="roster.jsonl")
    assert str(info.value).startswith(f"roster.jsonl:3: {field}: ")
    assert (Person.select().count(), Department.select().count()) == (people, depts)
