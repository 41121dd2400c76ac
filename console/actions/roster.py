"""The roster and configuration rows (departments, people, plans, shifts): audited upserts,
one event each (交接班: shifts.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .. import fields, rules
from ..context import Actor, Context
from ..errors import DomainError, StaleVersion
from ..i18n import label, t
from ..models import Department, Person, Plan, Shift
from ..vocab import ROLES
from .plumbing import _jsonable, _require, _text, _transaction, append_event
from .units import unit_binding

_FK_FIELDS = ("leader", "primary", "secondary")


def _stored(row: Any, name: str) -> Any:
    """A row's stored value; a shift's people compare by id, as upserts pass them."""
    return getattr(row, f"{name}_id") if name in _FK_FIELDS else getattr(row, name)


def _upsert(ctx: Context, actor: Actor, model: type, kind: str, key: str,
            values: dict | Callable[[], dict],
            ref_of: Callable[[Any], str], expected_version: int | None = None,
            intent: str | None = None) -> Any:
    """Create or update a roster/plan/department/shift row, audited.

    ``expected_version``: None (import, demo) no check; 0 the row must not exist yet;
    N the row must still be at version N (someone else's save is not overwritten).
    """
    _require(actor, "admin")

    def body() -> Any:
        # a function when its values need look-ups: made inside the retried transaction
        row_values = values() if callable(values) else values
        row, action, before, after = _write_row(model, key, row_values, expected_version)
        if action is not None:
            append_event(ctx, actor, kind, row.id, ref_of(row), action, before, after, "",
                         row=row)
        return row

    return _transaction(ctx, body, intent=intent, replay=lambda e: model.get_by_id(e.item_id))


def _write_row(model: type, key: str, values: dict, expected_version: int | None = None
               ) -> tuple[Any, str | None, dict | None, dict | None]:
    """Insert or update one row by its key (the shared part of ``_upsert`` and import).

    Returns (row as stored, "create"/"update" or None when nothing changed, before, after).
    """
    row = model.get_or_none(getattr(model, key) == values[key])
    if expected_version == 0 and row is not None:
        raise DomainError(t("error.duplicate_ref", ref=values[key]), field=key)
    if model is Department:
        _name_free(values)
    if expected_version and (row is None or row.version != expected_version):
        raise StaleVersion(t("error.stale_plain", ref=values[key]))
    if row is None:
        row = model.create(**values)
        return row, "create", None, {k: _jsonable(v) for k, v in values.items()}
    changed = {k: v for k, v in values.items() if _stored(row, k) != v}
    if not changed:
        return row, None, None, None
    before = {k: _jsonable(_stored(row, k)) for k in changed}
    model.update(**changed, version=row.version + 1).where(model.id == row.id).execute()
    return model.get_by_id(row.id), "update", before, {k: _jsonable(v) for k, v in changed.items()}


def _name_free(values: dict) -> None:
    """Two departments cannot share a name (an order names its unit by either)."""
    taken = Department.select().where((Department.name == values["name"])
                                      & (Department.code != values["code"])).exists()
    if taken:
        raise fields.fail("name", t("ui.admin.name_taken", name=values["name"]))


def department_values(*, code: str, name: str, phone: str = "", active: bool = True) -> dict:
    """A department's row, every field checked (the form, ``act`` and import share it)."""
    return {"code": fields.code(code), "name": fields.text(name, "name", required=True),
            "phone": fields.phone(phone), "active": bool(active)}


def person_values(*, login: str, name: str, role: str = "officer", title: str = "",
                  phone: str = "", active: bool = True, department: str | None = None) -> dict:
    return {"login": fields.login(login), "name": fields.text(name, "name", required=True),
            "role": fields.choice(role, "role", ROLES), "title": fields.text(title, "title"),
            "phone": fields.phone(phone), "active": bool(active),
            **unit_binding(role, department)}  # role unit: its department (issue 11)


def upsert_department(ctx: Context, actor: Actor, *, code: str, name: str, phone: str = "",
                      active: bool = True, expected_version: int | None = None,
                      intent: str | None = None) -> Department:
    values = department_values(code=code, name=name, phone=phone, active=active)
    return _upsert(ctx, actor, Department, "department", "code", values, lambda r: r.code,
                   expected_version, intent)


def upsert_person(ctx: Context, actor: Actor, *, login: str, name: str, role: str = "officer",
                  title: str = "", phone: str = "", active: bool = True,
                  department: str | None = None,
                  expected_version: int | None = None, intent: str | None = None) -> Person:
    values = person_values(login=login, name=name, role=role, title=title, phone=phone,
                           active=active, department=department)
    return _upsert(ctx, actor, Person, "person", "login", values, lambda r: r.login,
                   expected_version, intent)


def upsert_plan(ctx: Context, actor: Actor, *, code: str, title: str, kind: str, category: str,
                subtype: str = "other", owner: str = "", summary: str = "",
                levels: dict | None = None, contacts: list | None = None,
                related: list | None = None, shelters: list | None = None,
                expected_version: int | None = None, intent: str | None = None) -> Plan:
    values = {"code": _text(code, "code", required=True),
              "title": _text(title, "title", required=True),
              "kind": kind, "category": category, "subtype": subtype or "other",
              "owner": owner or "", "summary": summary or "", "levels": levels or {},
              "contacts": contacts or [], "related": related or [], "shelters": shelters or []}
    return _upsert(ctx, actor, Plan, "plan", "code", values, lambda r: r.code,
                   expected_version, intent)


def upsert_shift(ctx: Context, actor: Actor, *, starts_at: dt.datetime, ends_at: dt.datetime,
                 leader: str | None = None, primary: str | None = None,
                 secondary: str | None = None, ref: str | None = None,
                 expected_version: int | None = None, intent: str | None = None) -> Shift:
    if ends_at <= starts_at:
        raise DomainError(t("error.shift_order"), field="ends_at")
    fields.distinct_people({"leader": leader, "primary": primary, "secondary": secondary})

    def person(login: str | None, field: str) -> int | None:
        if not login:
            return None
        p = Person.get_or_none(Person.login == login)
        if p is None:
            raise DomainError(t("error.unknown_person", login=login, field=label("field", field)),
                              field=field)
        return p.id

    def values() -> dict:
        return {"ref": ref or rules.shift_ref(starts_at, ctx.settings.tz),
                "starts_at": starts_at, "ends_at": ends_at, "leader": person(leader, "leader"),
                "primary": person(primary, "primary"),
                "secondary": person(secondary, "secondary")}

    return _upsert(ctx, actor, Shift, "shift", "ref", values, lambda r: r.ref,
                   expected_version, intent)
