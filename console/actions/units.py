"""The 12345 unit desk (issue 11): 签收 by the handling unit, a return after acceptance
that needs an officer's approval, and redo (发回重办) after a dissatisfied 回访.

A person with role ``unit`` is bound to one department (``Person.department``);
``unit_scope`` — called by every item action in ``plumbing._change`` — refuses it
anything but its own department's work orders.  The role itself may do only
``vocab.UNIT_ACTIONS`` (``rules.role_allows``).

Returns after acceptance take two steps: the unit (or an officer on its word)
asks (``ask_return``: the order keeps its status and carries ``return_asked_at``),
then an officer approves (``approve_return``: the order is returned) or refuses
(``refuse_return``: the request is cleared).  The 2-working-day window is counted
from assignment and checked when the return is asked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import fields, rules
from ..clock import to_local, to_utc_naive
from ..context import Actor, Context
from ..errors import DomainError, PermissionDenied
from ..i18n import label, t
from ..models import Department, Item, Person, WorkOrder
from ..settings import Settings
from .plumbing import _change, _satisfaction, _text

# --------------------------------------------------------------------------- working hours


def add_working_hours(settings: Settings, start: dt.datetime, hours: float) -> dt.datetime:
    """``start`` (naive UTC) plus ``hours`` working hours.

    A working hour is time inside one of ``hotline.acceptance.working_hours`` (local
    periods, 09:00–12:00 and 13:30–17:30 by default) on a working day of the calendar
    (weekends, holidays and 调休 make-up days as configured).  Time outside them does
    not count: 2 hours from Friday 17:00 end on Monday 10:30.
    """
    cal, periods = settings.calendar, settings.unitdesk.working_hours
    left = dt.timedelta(hours=hours)
    local = to_local(start, cal.tz).replace(tzinfo=None)
    day, minute = local.date(), local.hour * 60 + local.minute + local.second / 60
    for _ in range(3660):  # ten years of days: a calendar with no working day never ends
        if cal.is_workday(day):
            for a, b in periods:
                begin = max(a, minute)
                if begin >= b:
                    continue
                span = dt.timedelta(minutes=b - begin)
                if left <= span:
                    at = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=begin) + left
                    return to_utc_naive(at, cal.tz)
                left -= span
        day, minute = day + dt.timedelta(days=1), 0
    raise DomainError(t("unitdesk.error.no_working_hours"))


def dispatch_values(ctx: Context, order: WorkOrder, dept: Department,
                    now: dt.datetime) -> dict[str, Any]:
    """交办 (and 改派): the unit's 签收 is due again; the department joins the trail."""
    trail = [*(order.dept_trail or []), dept.code]
    return {"accept_due_at": add_working_hours(ctx.settings, now, ctx.settings.unitdesk.accept_hours),
            "accepted_at": None, "accepted_by": None, "accept_overdue_at": None,
            "return_asked_at": None, "dept_trail": trail, "dept_count": len(set(trail))}


def return_values(order: WorkOrder) -> dict[str, Any]:
    """What every 退单 also sets: counted (问题工单), no unit to accept it any more."""
    return {"returns": order.returns + 1, "accept_due_at": None, "accepted_at": None,
            "accepted_by": None, "return_asked_at": None}


def check_direct_return(ctx: Context, actor: Actor, order: WorkOrder) -> None:
    """A return after 签收 needs an officer's approval: ask for it instead."""
    if order.accepted_at is not None:
        raise DomainError(t("unitdesk.error.return_needs_approval", ref=order.ref))


# --------------------------------------------------------------------------- the unit role


def unit_binding(role: str, department: Any) -> dict[str, Any]:
    """A person's department: required for role unit and a department that exists
    (its code or name; the code is stored), none for every other role."""
    if role != "unit":
        if department not in (None, ""):
            raise fields.fail("department", t("unitdesk.error.department_only_unit"))
        return {"department": None}
    if department in (None, ""):
        raise fields.fail("department", t("unitdesk.error.unit_needs_department"))
    text = _text(department, "department")
    dept = Department.get_or_none((Department.code == text) | (Department.name == text))
    if dept is None:
        raise fields.fail("department", t("error.unknown_department", name=text))
    return {"department": dept.code}


def unit_department(actor: Actor) -> str | None:
    """The department code a unit liaison is bound to, read from the roster (not trusted
    from the caller): None for any other role."""
    if actor.role != "unit":
        return None
    person = Person.get_or_none(Person.login == actor.login)
    return (person.department or "") if person is not None else ""


def unit_scope(actor: Actor, item: Item, action: str) -> None:
    """A unit's liaison acts only on its own department's work orders."""
    code = unit_department(actor)
    if code is None:
        return
    dept = item.department if isinstance(item, WorkOrder) and item.department_id else None
    if not code or dept is None or dept.code != code:
        raise PermissionDenied(t("unitdesk.error.not_your_unit", who=actor.name, ref=item.ref,
                                 dept=code or "-", action=label("action", action)))


def _order(item: Item) -> WorkOrder:
    assert isinstance(item, WorkOrder)
    return item


# --------------------------------------------------------------------------- actions


def accept(ctx: Context, actor: Actor, target: Any, *, note: str = "",
           expected_version: int | None = None, intent: str | None = None) -> Item:
    """签收: the handling unit accepts the order (or an officer records its phoned word)."""
    text = _text(note, "note")
    if actor.role != "unit":  # recorded by the duty room on the unit's word
        text = t("unitdesk.phoned", note=text).strip()

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        order = _order(item)
        if order.department_id is None:
            raise DomainError(t("unitdesk.error.no_unit", ref=order.ref))
        if order.accepted_at is not None:
            raise DomainError(t("unitdesk.error.already_accepted", ref=order.ref,
                                who=order.accepted_by or ""))
        values: dict[str, Any] = {"accepted_at": now, "accepted_by": actor.login}
        if order.status == "assigned":
            values["status"] = "in_progress"
        if ctx.settings.unitdesk.clock_starts == "acceptance":
            values["deadline_at"] = rules.work_order_due(ctx.settings, now, order.type,
                                                         order.urgency)
        return values

    return _change(ctx, actor, target, "accept", apply, expected_version=expected_version,
                   intent=intent, note=text)


def ask_return(ctx: Context, actor: Actor, target: Any, reason: str, *,
               expected_version: int | None = None, intent: str | None = None) -> Item:
    """退单申请: after 签收 the unit asks to return the order; an officer decides."""
    reason = _text(reason, "reason", required=True)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        order = _order(item)
        if order.accepted_at is None:
            raise DomainError(t("unitdesk.error.return_directly", ref=order.ref))
        if order.return_asked_at is not None:
            raise DomainError(t("unitdesk.error.return_pending", ref=order.ref))
        if order.assigned_at is not None and now > rules.return_allowed_until(
                ctx.settings, order.assigned_at):  # counted from assignment, as before
            raise DomainError(t("error.return_late", ref=order.ref,
                                days=ctx.settings.return_working_days))
        return {"return_asked_at": now}

    return _change(ctx, actor, target, "ask_return", apply, expected_version=expected_version,
                   intent=intent, note=reason)


def _pending(item: Item) -> WorkOrder:
    order = _order(item)
    if order.return_asked_at is None:
        raise DomainError(t("unitdesk.error.no_return_pending", ref=order.ref))
    return order


def approve_return(ctx: Context, actor: Actor, target: Any, *, note: str = "",
                   expected_version: int | None = None, intent: str | None = None) -> Item:
    """批准退单: the asked return goes through (the order waits for 改派)."""
    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        order = _pending(item)
        return {"status": "returned", "department": None, "assisting": [],
                **return_values(order)}

    return _change(ctx, actor, target, "approve_return", apply,
                   expected_version=expected_version, intent=intent, note=_text(note, "note"))


def refuse_return(ctx: Context, actor: Actor, target: Any, reason: str, *,
                  expected_version: int | None = None, intent: str | None = None) -> Item:
    """驳回退单: the unit keeps the order; the request is cleared."""
    reason = _text(reason, "reason", required=True)
    return _change(ctx, actor, target, "refuse_return",
                   lambda item, now: {"return_asked_at": None} if _pending(item) else {},
                   expected_version=expected_version, intent=intent, note=reason)


def redo_values(ctx: Context, order: WorkOrder, score: int, now: dt.datetime) -> dict[str, Any]:
    """发回重办: a dissatisfied 回访 sends the order back to the same unit, with a new due date."""
    if score > ctx.settings.unitdesk.redo_max_satisfaction or order.department_id is None:
        return {}
    return {"status": "in_progress", "redo_count": order.redo_count + 1,
            "deadline_at": rules.work_order_due(ctx.settings, now, order.type, order.urgency)}


def visit_no_redo(ctx: Context, actor: Actor, target: Any, satisfaction: int, *,
                  note: str = "", expected_version: int | None = None,
                  intent: str | None = None) -> Item:
    """回访 without 发回重办: a dissatisfied rating recorded with the reason it is not redone."""
    score = _satisfaction(satisfaction)
    reason = _text(note, "reason", required=True)
    return _change(ctx, actor, target, "visit",
                   lambda item, now: {"status": "visited", "satisfaction": score},
                   expected_version=expected_version, intent=intent,
                   event_action="visit_no_redo", note=reason)
