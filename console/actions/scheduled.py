"""Scheduled department reports (定期报送): receive one, and the sweep's part.

The sweep (one call from console/sweep.py) creates the rows the cadence rules
(console/schedule.py) expect for the coming days, and marks the ones past their
due time + grace missing: overdue, one step up the ``escalation.scheduled``
chain, exactly once however many consoles sweep (re-checked under the write
lock; the (department, topic, period) index is UNIQUE).  From then on a missing
report escalates like any item (acknowledge stops the clock).  Receiving it
(an intake action: the row's key, ``dutyroom receive DEPT TOPIC [--file F]``)
closes it as received, or late when it came after its due time; a file is
stored by absolute path and SHA-256, in the row and in the event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from typing import Any

from .. import rules, schedule
from ..clock import to_local
from ..context import Actor, Context
from ..errors import DomainError
from ..i18n import t
from ..models import Counter, Department, Item, ScheduledReport
from .create import _insert_item
from .plumbing import _change, _department, _escalation_values, _transaction, _versioned_update

KIND = "scheduled"
OPEN = ("due", "missing")
_log = logging.getLogger("dutyroom.scheduled")
_warned: set[str] = set()  # department codes already logged as unknown


# --------------------------------------------------------------------------- receive


def file_digest(path: str) -> tuple[str, str]:
    """(absolute path, SHA-256) of the file received with a report."""
    full = os.path.abspath(os.path.expanduser(str(path)))
    h = hashlib.sha256()
    try:
        with open(full, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise DomainError(t("schedule.error.file", path=full, error=exc.strerror or exc),
                          field="file") from None
    return full, h.hexdigest()


def receive_scheduled(ctx: Context, actor: Actor, target: Any, file: str | None = None, *,
                      note: str = "", expected_version: int | None = None,
                      intent: str | None = None) -> ScheduledReport:
    """接收: the department's report came in (with its file, when given)."""
    path, digest = file_digest(file) if file else ("", "")

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        assert isinstance(item, ScheduledReport)
        return {"status": schedule.status_when_received(item.due_at, now), "received_at": now,
                "received_by": actor.login, "closed_at": now, "deadline_at": None,
                "overdue_at": item.overdue_at, "next_escalation_at": None,
                "file_path": path, "file_sha256": digest,
                "owner": item.owner or (actor.login if actor.login != "system" else None)}

    item = _change(ctx, actor, target, "receive", apply, expected_version=expected_version,
                   note=note, intent=intent)
    assert isinstance(item, ScheduledReport)
    return item


def find_open(department: Any, topic: str, period: str | None = None) -> ScheduledReport:
    """The open expected report of a department on a topic: the oldest, or ``period``'s."""
    dept = _department(department)
    query = ScheduledReport.select().where((ScheduledReport.department == dept.id)
                                           & (ScheduledReport.topic == str(topic).strip()))
    if period:
        query = query.where(ScheduledReport.period == period)
    row = (query.where(ScheduledReport.status.in_(OPEN))
           .order_by(ScheduledReport.due_at, ScheduledReport.id).first())
    if row is None:
        raise DomainError(t("schedule.error.none_open", department=dept.name, topic=topic),
                          field="topic")
    return row


def receive(ctx: Context, actor: Actor, department: Any, topic: str, *,
            file: str | None = None, period: str | None = None, note: str = "",
            intent: str | None = None) -> ScheduledReport:
    """``dutyroom receive DEPT TOPIC``: receive the open one (re-checked in the transaction)."""
    row = find_open(department, topic, period)
    return receive_scheduled(ctx, actor, row, file, note=note, intent=intent)


# --------------------------------------------------------------------------- the sweep


def sweep(ctx: Context) -> list[tuple[Item, str]]:
    """Create the coming rows; mark the missing ones (overdue, one step up).  Returns the
    escalations made, as the sweep reports them: (item, "missing")."""
    cfg = getattr(ctx.settings, "scheduled", None)
    if cfg is None or not cfg.reports:
        return []
    now = ctx.now()
    create_expected(ctx, now - dt.timedelta(days=cfg.days_back),
                    now + dt.timedelta(days=cfg.days_ahead))
    return mark_missing(ctx, now)


def create_expected(ctx: Context, start: dt.datetime, end: dt.datetime) -> list[ScheduledReport]:
    """The rows the rules expect with a due time in [start, end] that do not exist yet."""
    cfg = ctx.settings.scheduled
    dues = schedule.expected(cfg, ctx.settings.calendar, start, end)
    if not dues:
        return []
    depts = {d.code: d for d in Department.select().where(
        Department.code.in_({x.department for x in dues}) & Department.active)}
    unknown = {x.department for x in dues} - set(depts) - _warned
    if unknown:  # once per process: the sweep runs every few seconds
        _warned.update(unknown)
        _log.warning("scheduled_reports: no active department %s", ", ".join(sorted(unknown)))
    todo = [x for x in dues if x.department in depts]
    if not todo or not _absent(todo, depts):
        return []

    def body() -> list[ScheduledReport]:
        made = []
        for due in _absent(todo, depts):  # again, under the write lock
            made.append(_create(ctx, depts[due.department], due))
        return made

    return _transaction(ctx, body)


def _absent(dues: list[schedule.Due], depts: dict[str, Department]) -> list[schedule.Due]:
    have = set(ScheduledReport.select(ScheduledReport.department, ScheduledReport.topic,
                                      ScheduledReport.period)
               .where(ScheduledReport.department.in_([d.id for d in depts.values()])
                      & ScheduledReport.topic.in_({x.topic for x in dues})
                      & ScheduledReport.period.in_({x.period for x in dues})).tuples())
    return [x for x in dues if (depts[x.department].id, x.topic, x.period) not in have]


def _next_ref(ctx: Context, at: dt.datetime) -> str:
    year = to_local(at, ctx.settings.tz).year
    name = f"{KIND}:{year}"
    if not Counter.update(value=Counter.value + 1).where(Counter.name == name).execute():
        Counter.create(name=name, value=1)
    return ctx.settings.scheduled.reference.format(year=year, seq=Counter.get_by_id(name).value)


def _create(ctx: Context, dept: Department, due: schedule.Due) -> ScheduledReport:
    now = ctx.now()
    item = ScheduledReport(
        ref=_next_ref(ctx, due.due_at), status="due", created_at=now, updated_at=now,
        chain=rules.chain_snapshot(ctx.settings, KIND, "default"), step=0,
        next_escalation_at=None,  # nobody acknowledges an expectation: it escalates once missing
        deadline_at=due.missing_at, department=dept.id, topic=due.topic, cadence=due.cadence,
        period=due.period, due_at=due.due_at, grace=due.grace)
    return _insert_item(ctx, Actor.system(), item,
                        {"department": dept.code, "topic": due.topic, "period": due.period,
                         "due_at": due.due_at.isoformat(sep=" ")}, "")


def mark_missing(ctx: Context, now: dt.datetime) -> list[tuple[Item, str]]:
    ids = [i for (i,) in ScheduledReport.select(ScheduledReport.id)
           .where((ScheduledReport.status == "due") & ScheduledReport.deadline_at.is_null(False)
                  & (ScheduledReport.deadline_at <= now)).tuples()]
    if not ids:
        return []

    def body() -> list[tuple[Item, str]]:
        done: list[tuple[Item, str]] = []
        for item_id in ids:
            item = ScheduledReport.get_or_none(ScheduledReport.id == item_id)
            if item is not None and _missing(ctx, item):
                done.append((item, "missing"))
        return done

    return _transaction(ctx, body)


def _missing(ctx: Context, item: ScheduledReport) -> bool:
    """Re-checked under the lock: still due and past due + grace → missing, one step up
    (unless the general overdue sweep already moved it up for this deadline)."""
    now = ctx.now()
    if item.status != "due" or item.deadline_at is None or item.deadline_at > now:
        return False
    values: dict[str, Any] = {"status": "missing"}
    if item.overdue_at is None:
        values["overdue_at"] = now
        if item.step + 1 < len(item.chain):
            values.update(_escalation_values(item, item.step + 1, now))
    # the event is the item's "overdue" (as for any item); its note and status say missing
    return _versioned_update(ctx, Actor.system(), item, values, "overdue",
                             t("schedule.event.missing"), now=now)


# --------------------------------------------------------------------------- demo


def demo_history(replay: Any, rng: Any, start: dt.datetime, now: dt.datetime,
                 on_duty: Any) -> None:
    """The demo's scheduled reports (console/demo.py's replay): each expected row created
    two days before it is due, most received around their due time (some late); the
    rest are left for the sweep to find missing."""
    ctx = replay.ctx
    for due in schedule.expected(ctx.settings.scheduled, ctx.settings.calendar, start, now):
        replay.at(max(start, due.due_at - dt.timedelta(days=2)),
                  lambda d=due: create_expected(ctx, d.due_at, d.due_at))
        if rng.random() < 0.8:
            at = due.due_at + dt.timedelta(minutes=rng.randint(-24 * 60, 90))
            replay.at(at, lambda d=due, at=at: receive(ctx, on_duty(at)[1], d.department,
                                                      d.topic, period=d.period))
