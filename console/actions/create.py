"""Intake: 接报, 受理 and 挂号 — three forms of one insert (``_insert_item``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .. import repeats, rules
from ..context import Actor, Context
from ..errors import DomainError, NotFound
from ..i18n import label, t
from ..models import Instruction, Item, Report, ReportUpdate, SupervisionItem, WorkOrder
from ..vocab import REPORT_CATEGORIES, SV_CLASSES, URGENCIES, WO_TYPES
from .items import acknowledge
from .plumbing import (
    _casualties,
    _department,
    _jsonable,
    _next_ref,
    _position,
    _replay_item,
    _report_deadline,
    _require,
    _text,
    _transaction,
    _when,
    add_child,
    append_event,
    find_item,
    intent_key,
)
from .units import dispatch_values

ItemT = TypeVar("ItemT", bound=Item)


def _insert_item(ctx: Context, actor: Actor, item: ItemT, after: dict[str, Any], note: str, *,
                 children: Callable[[ItemT], None] | None = None) -> ItemT:
    """Insert a new item (its reference must be free) and its "create" event.

    ``after`` is what the event shows; the deadline is added here.  ``children``
    writes the rows that belong to the item (a report's 首报) before the event.
    """
    model = type(item)
    if model.select().where(model.ref == item.ref).exists():
        raise DomainError(t("error.duplicate_ref", ref=item.ref))
    item.rank, item.sort_key = _position(ctx, item, {}).values()
    item.save(force_insert=True)
    if children is not None:
        children(item)
    append_event(ctx, actor, item.KIND, item.id, item.ref, "create", None,
                 {**after, "deadline_at": _jsonable(item.deadline_at)}, note, row=item)
    return item


def create_report(ctx: Context, actor: Actor, *, title: str, category: str,
                  level: str = "unknown", received_at: dt.datetime | None = None,
                  occurred_at: dt.datetime | None = None, subtype: str = "other",
                  place: str = "", summary: str = "", dead: int = 0, injured: int = 0,
                  missing: int = 0, area: str = "", trend: str = "", measures: str = "",
                  requests: str = "", source_unit: str = "", reporter: str = "",
                  reporter_phone: str = "", recorder: str = "", sensitive: bool = False,
                  ref: str | None = None, acknowledge_now: bool = False,
                  intent: str | None = None) -> Report:
    """接报: take in an emergency report (its phone log is the 首报)."""
    _require(actor, "create")
    title = _text(title, "title", required=True)
    if category not in REPORT_CATEGORIES:
        raise DomainError(t("error.choice", field=label("field", "category"), value=category,
                            choices="/".join(REPORT_CATEGORIES)))
    try:
        level = rules.level_of(level)
    except ValueError:
        raise DomainError(t("error.level", value=level)) from None
    figures = _casualties(dead=dead, injured=injured, missing=missing)

    def body() -> Report:
        now = ctx.now()
        received = _when(received_at, "received_at", now)
        if received > now + dt.timedelta(minutes=5):
            raise DomainError(t("error.future", field=label("field", "received_at")))
        chain = rules.chain_snapshot(ctx.settings, "report", level)
        report = Report(
            ref=_text(ref, "ref") or _next_ref(ctx, "report", received), status="new",
            created_at=now, updated_at=now, received_at=received,
            occurred_at=_when(occurred_at, "occurred_at"), place=_text(place, "place"),
            category=category, subtype=_text(subtype, "subtype") or "other", level=level,
            sensitive=bool(sensitive), title=title, summary=_text(summary, "summary"),
            area=_text(area, "area"), trend=_text(trend, "trend"),
            measures=_text(measures, "measures"), requests=_text(requests, "requests"),
            source_unit=_text(source_unit, "source_unit"), reporter=_text(reporter, "reporter"),
            reporter_phone=_text(reporter_phone, "reporter_phone"),
            recorder=_text(recorder, "recorder") or actor.name, chain=chain, step=0,
            next_escalation_at=rules.next_escalation(chain, 0, received),
            owner=actor.login if actor.login != "system" else None, **figures,
        )
        report.deadline_at = _report_deadline(ctx, report, {})["deadline_at"]

        def first_report(r: Report) -> None:  # 首报: the phone log as taken
            add_child(ReportUpdate.create(report=r.id, stage="initial", seq=0, at=received,
                                          text=r.summary or r.title, author=actor.login,
                                          **figures))

        return _insert_item(ctx, actor, report, {"level": level, "title": title},
                            report.summary, children=first_report)

    key = intent_key(intent)
    report = _transaction(ctx, body, intent=key, replay=_replay_item)
    if acknowledge_now:  # a second transaction: its own key, derived from this intent's
        return acknowledge(ctx, actor, report, expected_version=report.version,
                           intent=key + ":acknowledge")
    return report


def create_work_order(ctx: Context, actor: Actor, *, content: str, type: str = "enquiry",
                      urgency: str = "normal", received_at: dt.datetime | None = None,
                      ticket: str | None = None, channel: str = "phone", caller: str = "",
                      phone: str = "", address: str = "", category: str = "",
                      department: Any = None, assisting: Iterable[Any] = (),
                      due_at: dt.datetime | None = None,
                      intent: str | None = None) -> WorkOrder:
    """受理: take in a 12345 work order (five elements: caller, time, address, cause, course)."""
    _require(actor, "create")
    content = _text(content, "content", required=True)
    if type not in WO_TYPES:
        raise DomainError(t("error.choice", field=label("field", "type"), value=type,
                            choices="/".join(WO_TYPES)))
    if urgency not in URGENCIES:
        raise DomainError(t("error.choice", field=label("field", "urgency"), value=urgency,
                            choices="/".join(URGENCIES)))
    wanted = list(assisting)

    def body() -> WorkOrder:
        dept = _department(department) if department not in (None, "") else None
        helpers = [_department(d, "assisting").code for d in wanted]
        now = ctx.now()
        received = _when(received_at, "received_at", now)
        chain = rules.chain_snapshot(ctx.settings, "work_order", urgency)
        order = WorkOrder(
            ref=_text(ticket, "ticket") or _next_ref(ctx, "work_order", received),
            status="assigned" if dept else "received", created_at=now, updated_at=now,
            received_at=received, channel=_text(channel, "channel") or "phone",
            caller=_text(caller, "caller"), phone=_text(phone, "phone"),
            address=_text(address, "address"), type=type, category=_text(category, "category"),
            content=content, urgency=urgency, department=dept.id if dept else None,
            assisting=helpers, assigned_at=now if dept else None, chain=chain, step=0,
            next_escalation_at=rules.next_escalation(chain, 0, received),
            deadline_at=due_at or rules.work_order_due(ctx.settings, received, type, urgency),
            owner=actor.login if actor.login != "system" else None,
        )
        if dept:  # 交办 at intake: the unit's 签收 is due (issue 11)
            for name, value in dispatch_values(ctx, order, dept, now).items():
                setattr(order, name, value)
        item = _insert_item(ctx, actor, order,
                            {"type": type, "urgency": urgency,
                             "department": dept.code if dept else None}, content[:200])
        repeats.flag(ctx.settings, item, now, actor.login)  # 重复投诉 (issue 11)
        return item

    return _transaction(ctx, body, intent=intent, replay=_replay_item)


def register_supervision(ctx: Context, actor: Actor, *, title: str, klass: str = "normal",
                         content: str = "", source: Any = None, department: Any = None,
                         registered_at: dt.datetime | None = None, ref: str | None = None,
                         instruction_id: int | None = None,
                         intent: str | None = None) -> SupervisionItem:
    """挂号: register a supervision item (督办件), due by the 3715 rule.

    Its source is a report or work order (``source``), or a leader's instruction
    (``instruction_id``: the item it was given on becomes the source reference).
    """
    _require(actor, "create")
    title = _text(title, "title", required=True)
    if klass not in SV_CLASSES:
        raise DomainError(t("error.choice", field=label("field", "klass"), value=klass,
                            choices="/".join(SV_CLASSES)))
    def body() -> SupervisionItem:
        dept = _department(department) if department not in (None, "") else None
        now = ctx.now()
        registered = _when(registered_at, "registered_at", now)
        source_kind, source_ref = "", ""
        if source not in (None, ""):
            origin = find_item(source)
            source_kind, source_ref = origin.KIND, origin.ref
        if instruction_id is not None:
            ins = Instruction.get_or_none(Instruction.id == instruction_id)
            if ins is None:
                raise NotFound(t("error.not_found", ref=f"#{instruction_id}"))
            origin = find_item((ins.item_kind, ins.item_id))
            source_kind, source_ref = "instruction", origin.ref
        chain = rules.chain_snapshot(ctx.settings, "supervision", "default")
        item = SupervisionItem(
            ref=_text(ref, "ref") or _next_ref(ctx, "supervision", registered),
            status="registered", created_at=now, updated_at=now, registered_at=registered,
            title=title, content=_text(content, "content"), klass=klass,
            source_kind=source_kind, source_ref=source_ref,
            department=dept.id if dept else None, chain=chain, step=0,
            next_escalation_at=rules.next_escalation(chain, 0, registered),
            deadline_at=rules.supervision_due(ctx.settings, registered, klass),
            owner=actor.login if actor.login != "system" else None,
        )
        return _insert_item(ctx, actor, item, {"klass": klass, "source": source_ref}, title)

    return _transaction(ctx, body, intent=intent, replay=_replay_item)
