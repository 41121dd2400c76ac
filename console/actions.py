"""Every state change, one function each: validate → version-checked update → event → commit.

The UI, the CLI, import, the sweep and the tests all call these.  Each public
function is one transaction (retried whole on a busy or dropped database) that
writes exactly one ``Event``.  An illegal transition, a missing reason, a role
that may not act, or a stale ``expected_version`` raises a DomainError whose
message is one line for the officer, and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from peewee import fn

from . import rules
from .clock import to_local
from .context import Actor, Context
from .db import is_postgres, with_retries, write_transaction
from .errors import DomainError, NotFound, PermissionDenied, StaleVersion
from .i18n import label, t
from .models import (
    ITEM_MODELS,
    ActivationMeasure,
    Counter,
    Department,
    Event,
    Instruction,
    Item,
    JSONText,
    Person,
    Plan,
    PlanActivation,
    Report,
    ReportUpdate,
    Shift,
    SupervisionItem,
    WorkOrder,
    database,
)
from .settings import ROLES, SV_CLASSES, URGENCIES, WO_TYPES

T = TypeVar("T")
GENESIS = "0" * 64
MAX_TEXT = 20000

# --------------------------------------------------------------------------- plumbing


def _transaction(ctx: Context, body: Callable[[], T]) -> T:
    def run() -> T:
        with write_transaction():
            return body()

    return with_retries(run, retries=ctx.settings.retries)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Department):
        return value.code
    return value


def event_digest(prev_hash: str, e: dict[str, Any]) -> str:
    """The hash chain: every event commits to the one before it (``dutyroom verify``).

    The item is identified by kind and reference, not by its row id, so an archive
    restored into another database (where ids differ) still verifies.
    """
    body = json.dumps(
        [prev_hash, _jsonable(e["at"]), e["actor"], e["console"], e["item_kind"],
         e["item_ref"], e["action"], e["before"], e["after"], e["note"]],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append_event(ctx: Context, actor: Actor, kind: str, item_id: int, ref: str, action: str,
                 before: dict | None, after: dict | None, note: str = "") -> Event:
    """Append one event (inside the caller's write transaction)."""
    prev = Event.select(Event.hash).order_by(Event.id.desc()).limit(1).scalar() or GENESIS
    row = {
        "at": ctx.now(), "actor": actor.login, "actor_name": actor.name, "console": ctx.console,
        "item_kind": kind, "item_id": item_id, "item_ref": ref, "action": action,
        "before": before, "after": after, "note": note or "",
    }
    row["hash"] = event_digest(prev, row)
    event = Event.create(prev_hash=prev, **row)
    _notify(event.id)
    return event


def _notify(event_id: int) -> None:
    """PostgreSQL: wake the consoles' change feeds (delivered when this transaction commits)."""
    if is_postgres():
        database.execute_sql("SELECT pg_notify(%s, %s)", ("dutyroom_events", str(event_id)))


def _require(actor: Actor, action: str) -> None:
    if not rules.role_allows(actor.role, action):
        raise PermissionDenied(t("error.role", who=actor.name, role=label("role", actor.role),
                                 action=label("action", action)))


def _text(value: Any, field: str, *, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise DomainError(t("error.required", field=label("field", field)))
    if len(text) > MAX_TEXT:
        raise DomainError(t("error.too_long", field=label("field", field), max=MAX_TEXT))
    return text


def find_item(target: Item | str | tuple[str, int]) -> Item:
    """An item by instance, by reference (BG-…, SV-…, ticket) or by (kind, id)."""
    if isinstance(target, Item):
        return type(target).get_by_id(target.id)
    if isinstance(target, tuple):
        kind, item_id = target
        model = ITEM_MODELS[kind]
        item = model.get_or_none(model.id == item_id)
        if item is None:
            raise NotFound(t("error.not_found", ref=f"{kind}#{item_id}"))
        return item
    ref = str(target).strip()
    for model in ITEM_MODELS.values():
        item = model.get_or_none(model.ref == ref)
        if item is not None:
            return item
    raise NotFound(t("error.not_found", ref=ref))


def _stale(ctx: Context, item: Item) -> StaleVersion:
    last = (Event.select().where((Event.item_kind == item.KIND) & (Event.item_id == item.id))
            .order_by(Event.id.desc()).first())
    if last is None:
        return StaleVersion(t("error.stale_plain", ref=item.ref))
    return StaleVersion(t("error.stale", ref=item.ref, action=label("done", last.action),
                          who=last.actor_name or last.actor,
                          time=to_local(last.at, ctx.settings.tz).strftime("%H:%M")))


def _position(ctx: Context, item: Item, values: dict[str, Any]) -> dict[str, Any]:
    """rank/sort_key for the queue index, from the item as it will be after ``values``."""
    def get(name: str) -> Any:
        return values[name] if name in values else getattr(item, name)

    severity = rules.severity_of(item.KIND, _severity_value(ctx, item, values))
    rank, key = rules.queue_position(severity, closed_at=get("closed_at"),
                                     deadline_at=get("deadline_at"), created_at=get("created_at"))
    return {"rank": rank, "sort_key": key}


def _severity_value(ctx: Context, item: Item, values: dict[str, Any]) -> str:
    name = {"report": "level", "work_order": "urgency", "supervision": "klass"}[item.KIND]
    value = values.get(name, getattr(item, name, ""))
    if item.KIND == "report":  # sensitive information ranks as it is reported: at least as Ⅱ
        value = rules.effective_level(ctx.settings, value,
                                      values.get("sensitive", getattr(item, "sensitive", False)))
    return value


def _change(ctx: Context, actor: Actor, target: Any, action: str,
            apply: Callable[[Item, dt.datetime], dict[str, Any]], *,
            expected_version: int | None, note: str = "", role_action: str | None = None,
            event_action: str | None = None) -> Item:
    """The one path of a change to an item (see module docstring)."""
    _require(actor, role_action or action)

    def body() -> Item:
        item = find_item(target)
        if expected_version is not None and item.version != expected_version:
            raise _stale(ctx, item)
        if not rules.is_legal(action, item.KIND, item.status):
            raise DomainError(t("error.illegal", ref=item.ref, action=label("action", action),
                                status=label(f"status.{item.KIND}", item.status)))
        now = ctx.now()
        values = apply(item, now)
        if "deadline_at" in values and values["deadline_at"] != item.deadline_at:
            values.setdefault("overdue_at", None)
        values.update(_position(ctx, item, values))
        changed = {k: v for k, v in values.items() if getattr(item, k) != v}
        before = {k: _jsonable(getattr(item, k)) for k in changed
                  if k not in ("rank", "sort_key", "updated_at")}
        after = {k: _jsonable(v) for k, v in changed.items()
                 if k not in ("rank", "sort_key", "updated_at")}
        model = type(item)
        n = (model.update(**changed, updated_at=now, version=item.version + 1)
             .where((model.id == item.id) & (model.version == item.version)).execute())
        if n != 1:  # only possible without the write lock; kept as the last guard
            raise _stale(ctx, item)
        append_event(ctx, actor, item.KIND, item.id, item.ref, event_action or action,
                     before, after, note)
        # the row as committed, without reading it back (a wide SELECT per action)
        for name, value in changed.items():
            setattr(item, name, value)
        item.updated_at, item.version = now, item.version + 1
        return item

    return _transaction(ctx, body)


def _next_ref(ctx: Context, kind: str, at: dt.datetime) -> str:
    year = at.replace(tzinfo=dt.UTC).astimezone(ctx.settings.tz).year
    name = f"{kind}:{year}"
    updated = Counter.update(value=Counter.value + 1).where(Counter.name == name).execute()
    if not updated:
        Counter.create(name=name, value=1)
    seq = Counter.get_by_id(name).value
    return ctx.settings.references[kind].format(year=year, seq=seq)


def _escalation_values(item: Item, to_step: int, now: dt.datetime) -> dict[str, Any]:
    return {"step": to_step, "acked_by": None, "acked_at": None,
            "next_escalation_at": rules.next_escalation(item.chain, to_step, now)}


def _report_deadline(ctx: Context, report: Report, values: dict[str, Any],
                     last_update_at: dt.datetime | None = None) -> dict[str, Any]:
    def get(name: str) -> Any:
        return values[name] if name in values else getattr(report, name)

    if get("closed_at") is not None:
        return {"deadline_at": None}
    if last_update_at is None and get("followups"):
        last_update_at = (ReportUpdate.select(fn.MAX(ReportUpdate.at))
                          .where((ReportUpdate.report == report.id)
                                 & (ReportUpdate.stage == "followup")).scalar())
    clock = rules.ReportClock(level=get("level"), sensitive=get("sensitive"),
                              received_at=get("received_at"), reported_at=get("reported_at"),
                              followups=get("followups"), last_update_at=last_update_at)
    _what, due = rules.report_deadline(ctx.settings, clock)
    return {"deadline_at": due}


def _department(value: Any, field: str = "department") -> Department:
    if isinstance(value, Department):
        return value
    text = _text(value, field, required=True)
    dept = Department.get_or_none((Department.code == text) | (Department.name == text))
    if dept is None:
        raise DomainError(t("error.unknown_department", name=text))
    return dept


# --------------------------------------------------------------------------- item actions


def acknowledge(ctx: Context, actor: Actor, target: Any, *, expected_version: int | None = None,
                note: str = "") -> Item:
    """确认: the current step has seen the item; its escalation clock stops."""
    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        if item.acked_at is not None:
            raise DomainError(t("error.already_acked", ref=item.ref, who=item.acked_by))
        values: dict[str, Any] = {"acked_by": actor.login, "acked_at": now,
                                  "next_escalation_at": None}
        if item.owner is None:
            values["owner"] = actor.login  # 首办责任制: the first to take it owns it
        if isinstance(item, Report) and item.status == "new":
            values["status"] = "acknowledged"
        elif isinstance(item, WorkOrder) and item.status == "assigned" or isinstance(item, SupervisionItem) and item.status == "registered":
            values["status"] = "in_progress"
        return values

    return _change(ctx, actor, target, "acknowledge", apply, expected_version=expected_version,
                   note=_text(note, "note"))


def escalate(ctx: Context, actor: Actor, target: Any, *, to_step: str | int | None = None,
             expected_version: int | None = None, note: str = "") -> Item:
    """上报/升级: move the item to the next step of its chain, or to a chosen one.

    Officers move forward only; leaders may choose any step.  For a report, the
    first escalation is its report up (电话报告): the deadline moves on to the
    written report.
    """
    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        chain = item.chain
        if to_step is None:
            target_step = item.step + 1
            if target_step >= len(chain):
                raise DomainError(t("error.last_step", ref=item.ref, step=item.step_name))
        else:
            found = rules.find_step(chain, to_step)
            if found is None:
                raise DomainError(t("error.unknown_step", step=to_step,
                                    steps=" / ".join(s[0] for s in chain)))
            target_step = found
            if target_step == item.step:
                raise DomainError(t("error.same_step", ref=item.ref, step=item.step_name))
            if target_step < item.step:  # back down the chain: leaders only
                _require(actor, "escalate_any")
        values = _escalation_values(item, target_step, now)
        if isinstance(item, Report):
            if item.reported_at is None:
                values["reported_at"] = now
            if item.status in ("new", "acknowledged"):
                values["status"] = "active"
            values.update(_report_deadline(ctx, item, values))
        return values

    return _change(ctx, actor, target, "escalate", apply, expected_version=expected_version,
                   note=_text(note, "note"))


def assign(ctx: Context, actor: Actor, target: Any, department: Any, *,
           assisting: Iterable[Any] = (), expected_version: int | None = None,
           note: str = "") -> Item:
    """交办/派单: hand the item to a lead department (and assisting ones); 改派 re-dispatches."""
    dept = _department(department)
    helpers = [_department(d, "assisting").code for d in assisting]

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        if isinstance(item, WorkOrder):
            if item.department_id == dept.id and item.status not in ("received", "returned"):
                raise DomainError(t("error.already_assigned", ref=item.ref, dept=dept.name))
            # the Department itself, not its id: the event's before/after then both show
            # the code (an id read "ZJJ→2" on the timeline), and _change compares rows
            # from received/returned a dispatch (派单), from a working status a re-dispatch
            # (改派): the unit changes, the order's deadline does not
            return {"department": dept, "assigned_at": now, "assisting": helpers,
                    "status": "assigned"}
        if isinstance(item, SupervisionItem):
            return {"department": dept}  # the row, as above
        # a report is relayed (传) to a unit: recorded on the timeline, status moves on
        return {"status": "active"} if item.status in ("new", "acknowledged") else {}

    return _change(ctx, actor, target, "assign", apply, expected_version=expected_version,
                   note=_text(note, "note") or dept.name)


def urge(ctx: Context, actor: Actor, target: Any, *, expected_version: int | None = None,
         note: str = "") -> Item:
    """催办: chase the handling unit; recorded on the timeline."""
    return _change(ctx, actor, target, "urge", lambda item, now: {},
                   expected_version=expected_version, note=_text(note, "note"))


def extend(ctx: Context, actor: Actor, target: Any, reason: str, *,
           until: dt.datetime | None = None, expected_version: int | None = None) -> Item:
    """延期: asked before the deadline, with a reason; at most ``hotline.max_extensions``."""
    reason = _text(reason, "reason", required=True)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        if item.deadline_at is not None and now > item.deadline_at:
            raise DomainError(t("error.extend_late", ref=item.ref))
        if isinstance(item, WorkOrder):
            if item.extensions >= ctx.settings.max_extensions:
                raise DomainError(t("error.extend_max", ref=item.ref,
                                    max=ctx.settings.max_extensions))
            new_due = until or rules.extension_due(ctx.settings, item.deadline_at or now, item.type)
            values: dict[str, Any] = {"deadline_at": new_due, "extensions": item.extensions + 1,
                                      "status": "extended"}
        else:
            base = item.deadline_at or now
            new_due = until or rules.supervision_due(ctx.settings, base, item.klass)
            values = {"deadline_at": new_due}
        if item.deadline_at is not None and new_due <= item.deadline_at:
            raise DomainError(t("error.extend_earlier", ref=item.ref))
        return values

    return _change(ctx, actor, target, "extend", apply, expected_version=expected_version,
                   note=reason)


def return_order(ctx: Context, actor: Actor, target: Any, reason: str, *,
                 expected_version: int | None = None) -> Item:
    """退单: the handling unit returns an order, with a reason, within the allowed working days."""
    reason = _text(reason, "reason", required=True)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        assert isinstance(item, WorkOrder)
        if item.assigned_at is not None:
            limit = rules.return_allowed_until(ctx.settings, item.assigned_at)
            if now > limit:
                raise DomainError(t("error.return_late", ref=item.ref,
                                    days=ctx.settings.return_working_days))
        return {"status": "returned", "department": None, "assisting": []}

    return _change(ctx, actor, target, "return", apply, expected_version=expected_version,
                   note=reason)


def follow_up(ctx: Context, actor: Actor, target: Any, text: str, *,
              dead: int | None = None, injured: int | None = None, missing: int | None = None,
              expected_version: int | None = None) -> Item:
    """续报: a numbered follow-up with only what is new; casualty figures update the report."""
    text = _text(text, "text", required=True)
    figures = _casualties(dead=dead, injured=injured, missing=missing)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        assert isinstance(item, Report)
        seq = item.followups + 1
        ReportUpdate.create(report=item.id, stage="followup", seq=seq, at=now, text=text,
                            author=actor.login, **figures)
        values: dict[str, Any] = {"followups": seq, **figures}
        if item.status in ("new", "acknowledged"):
            values["status"] = "active"
        values.update(_report_deadline(ctx, item, values, last_update_at=now))
        return values

    return _change(ctx, actor, target, "follow_up", apply, expected_version=expected_version,
                   note=text)


def _casualties(**figures: int | None) -> dict[str, int]:
    out = {}
    for name, value in figures.items():
        if value is None or value == "":
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise DomainError(t("error.number", field=label("field", name), value=value)) from None
        if number < 0:
            raise DomainError(t("error.number", field=label("field", name), value=value))
        out[name] = number
    return out


def instruct(ctx: Context, actor: Actor, target: Any, text: str, *, leader: str = "",
             expected_version: int | None = None) -> Item:
    """批示: a leader's instruction recorded against the item."""
    text = _text(text, "text", required=True)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        Instruction.create(item_kind=item.KIND, item_id=item.id, leader=leader or actor.name,
                           text=text, at=now, recorded_by=actor.login)
        return {}

    return _change(ctx, actor, target, "instruct", apply, expected_version=expected_version,
                   note=text)


def reply(ctx: Context, actor: Actor, target: Any, text: str, *,
          expected_version: int | None = None) -> Item:
    """答复: the handling unit's reply to the citizen."""
    text = _text(text, "text", required=True)
    return _change(ctx, actor, target, "reply",
                   lambda item, now: {"status": "replied", "reply": text},
                   expected_version=expected_version, note=text)


def visit(ctx: Context, actor: Actor, target: Any, satisfaction: int, *, note: str = "",
          expected_version: int | None = None) -> Item:
    """回访 and 评价: the follow-up call and the citizen's satisfaction 1–5."""
    score = _satisfaction(satisfaction)
    return _change(ctx, actor, target, "visit",
                   lambda item, now: {"status": "visited", "satisfaction": score},
                   expected_version=expected_version, note=_text(note, "note"))


def _satisfaction(value: Any) -> int:
    try:
        score = int(value)
    except (TypeError, ValueError):
        raise DomainError(t("error.satisfaction", value=value)) from None
    if not 1 <= score <= 5:
        raise DomainError(t("error.satisfaction", value=value))
    return score


def close(ctx: Context, actor: Actor, target: Any, text: str = "", *,
          satisfaction: int | None = None, expected_version: int | None = None) -> Item:
    """办结 / 销号 / 终报.  A report closes with its final report; Ⅰ/Ⅱ need a leader."""
    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"status": "closed", "closed_at": now, "deadline_at": None,
                                  "next_escalation_at": None,
                                  # closed late: keep the fact for the on-time statistics
                                  "overdue_at": item.overdue_at or (
                                      now if item.deadline_at and now > item.deadline_at
                                      else None)}
        if isinstance(item, Report):
            final = _text(text, "final", required=True)
            if item.level in ctx.settings.leader_closes:
                _require(actor, "close_major")
            ReportUpdate.create(report=item.id, stage="final", seq=item.followups + 1, at=now,
                                text=final, author=actor.login)
        elif isinstance(item, SupervisionItem):
            values["result"] = _text(text, "result", required=True)
        elif isinstance(item, WorkOrder) and satisfaction is not None:
            values["satisfaction"] = _satisfaction(satisfaction)
        return values

    return _change(ctx, actor, target, "close", apply, expected_version=expected_version,
                   note=_text(text, "note"))


def reopen(ctx: Context, actor: Actor, target: Any, reason: str, *,
           expected_version: int | None = None) -> Item:
    """重新打开, with a reason: the item is open again with a fresh deadline and clock."""
    reason = _text(reason, "reason", required=True)

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"closed_at": None, **_escalation_values(item, item.step, now)}
        if isinstance(item, Report):
            values["status"] = "active"
            values.update(_report_deadline(ctx, item, values, last_update_at=now))
        elif isinstance(item, WorkOrder):
            values["status"] = "in_progress"
            values["deadline_at"] = rules.work_order_due(ctx.settings, now, item.type,
                                                         item.urgency)
        else:
            values["status"] = "in_progress"
            values["deadline_at"] = rules.supervision_due(ctx.settings, now, item.klass)
        return values

    return _change(ctx, actor, target, "reopen", apply, expected_version=expected_version,
                   note=reason)


def note(ctx: Context, actor: Actor, target: Any, text: str, *,
         expected_version: int | None = None) -> Item:
    """备注: a line on the timeline (the duty log kept minute by minute)."""
    text = _text(text, "note", required=True)
    return _change(ctx, actor, target, "note", lambda item, now: {},
                   expected_version=expected_version, note=text)


def change_level(ctx: Context, actor: Actor, target: Any, level: str, *, note: str = "",
                 expected_version: int | None = None) -> Item:
    """核定等级: set a report's level (e.g. 待核 → Ⅲ).  The chain is re-taken for the new level."""
    try:
        new_level = rules.level_of(level)
    except ValueError:
        raise DomainError(t("error.level", value=level)) from None

    def apply(item: Item, now: dt.datetime) -> dict[str, Any]:
        assert isinstance(item, Report)
        if new_level == item.level:
            raise DomainError(t("error.same_level", ref=item.ref))
        chain = rules.chain_snapshot(ctx.settings, "report", new_level)
        step = min(item.step, len(chain) - 1)
        values: dict[str, Any] = {"level": new_level, "chain": chain, "step": step}
        if item.acked_at is None:
            values["next_escalation_at"] = rules.next_escalation(chain, step, now)
        values.update(_report_deadline(ctx, item, values))
        return values

    return _change(ctx, actor, target, "change_level", apply, expected_version=expected_version,
                   note=_text(note, "note"))


# --------------------------------------------------------------------------- automatic


def sweep_batch(ctx: Context,
                triggers: Iterable[tuple[str, int, str]]) -> list[tuple[Item, str]]:
    """Automatic escalations (the sweep), one transaction for the batch.

    Each trigger is (kind, id, reason) with reason "unacknowledged" or "overdue".
    The trigger is re-checked inside the write transaction, so however many
    consoles sweep at once each one fires once: a second sweeper finds it already
    handled and skips it.  Returns (item, reason) for each escalation made.
    """
    triggers = list(triggers)

    def body() -> list[tuple[Item, str]]:
        done = []
        for kind, item_id, reason in triggers:
            item = _sweep_one(ctx, kind, item_id, reason)
            if item is not None:
                done.append((item, reason))
        return done

    return _transaction(ctx, body) if triggers else []


def _sweep_one(ctx: Context, kind: str, item_id: int, reason: str) -> Item | None:
    model = ITEM_MODELS[kind]
    item = model.get_or_none(model.id == item_id)
    now = ctx.now()
    if item is None or item.closed_at is not None:
        return None
    values: dict[str, Any] = {}
    if reason == "overdue":
        if item.deadline_at is None or item.deadline_at > now or item.overdue_at is not None:
            return None
        values["overdue_at"] = now
    elif item.next_escalation_at is None or item.next_escalation_at > now:
        return None
    if item.step + 1 < len(item.chain):
        values.update(_escalation_values(item, item.step + 1, now))
    else:
        values["next_escalation_at"] = None  # already at the top: marked, and stays there
    values.update(_position(ctx, item, values))
    before = {k: _jsonable(getattr(item, k)) for k in values if k not in ("rank", "sort_key")}
    after = {k: _jsonable(v) for k, v in values.items() if k not in ("rank", "sort_key")}
    n = (model.update(**values, updated_at=now, version=item.version + 1)
         .where((model.id == item.id) & (model.version == item.version)).execute())
    if n != 1:
        return None
    append_event(ctx, Actor.system(), kind, item.id, item.ref,
                 "overdue" if reason == "overdue" else "auto_escalate", before, after,
                 t("event.auto_" + reason))
    for name, value in values.items():  # as committed, without reading the row back
        setattr(item, name, value)
    item.updated_at, item.version = now, item.version + 1
    return item


# --------------------------------------------------------------------------- intake


def _when(value: Any, field: str, default: dt.datetime | None = None) -> dt.datetime | None:
    if value in (None, ""):
        return default
    if isinstance(value, dt.datetime):
        return value
    raise DomainError(t("error.datetime", field=label("field", field), value=value))


def create_report(ctx: Context, actor: Actor, *, title: str, category: str,
                  level: str = "unknown", received_at: dt.datetime | None = None,
                  occurred_at: dt.datetime | None = None, subtype: str = "other",
                  place: str = "", summary: str = "", dead: int = 0, injured: int = 0,
                  missing: int = 0, area: str = "", trend: str = "", measures: str = "",
                  requests: str = "", source_unit: str = "", reporter: str = "",
                  reporter_phone: str = "", recorder: str = "", sensitive: bool = False,
                  ref: str | None = None, acknowledge_now: bool = False) -> Report:
    """接报: take in an emergency report (its phone log is the 首报)."""
    _require(actor, "create")
    title = _text(title, "title", required=True)
    if category not in ("natural", "accident", "health", "security"):
        raise DomainError(t("error.choice", field=label("field", "category"), value=category,
                            choices="natural/accident/health/security"))
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
        if Report.select().where(Report.ref == report.ref).exists():
            raise DomainError(t("error.duplicate_ref", ref=report.ref))
        report.deadline_at = _report_deadline(ctx, report, {})["deadline_at"]
        report.rank, report.sort_key = _position(ctx, report, {}).values()
        report.save(force_insert=True)
        ReportUpdate.create(report=report.id, stage="initial", seq=0, at=received,
                            text=report.summary or report.title, author=actor.login, **figures)
        append_event(ctx, actor, "report", report.id, report.ref, "create", None,
                     {"level": level, "title": title, "deadline_at": _jsonable(report.deadline_at)},
                     report.summary)
        return report

    report = _transaction(ctx, body)
    if acknowledge_now:
        return acknowledge(ctx, actor, report, expected_version=report.version)
    return report


def create_work_order(ctx: Context, actor: Actor, *, content: str, type: str = "enquiry",
                      urgency: str = "normal", received_at: dt.datetime | None = None,
                      ticket: str | None = None, channel: str = "phone", caller: str = "",
                      phone: str = "", address: str = "", category: str = "",
                      department: Any = None, assisting: Iterable[Any] = (),
                      due_at: dt.datetime | None = None) -> WorkOrder:
    """受理: take in a 12345 work order (five elements: caller, time, address, cause, course)."""
    _require(actor, "create")
    content = _text(content, "content", required=True)
    if type not in WO_TYPES:
        raise DomainError(t("error.choice", field=label("field", "type"), value=type,
                            choices="/".join(WO_TYPES)))
    if urgency not in URGENCIES:
        raise DomainError(t("error.choice", field=label("field", "urgency"), value=urgency,
                            choices="/".join(URGENCIES)))
    dept = _department(department) if department not in (None, "") else None
    helpers = [_department(d, "assisting").code for d in assisting]

    def body() -> WorkOrder:
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
        if WorkOrder.select().where(WorkOrder.ref == order.ref).exists():
            raise DomainError(t("error.duplicate_ref", ref=order.ref))
        order.rank, order.sort_key = _position(ctx, order, {}).values()
        order.save(force_insert=True)
        append_event(ctx, actor, "work_order", order.id, order.ref, "create", None,
                     {"type": type, "urgency": urgency, "department": dept.code if dept else None,
                      "deadline_at": _jsonable(order.deadline_at)}, content[:200])
        return order

    return _transaction(ctx, body)


def register_supervision(ctx: Context, actor: Actor, *, title: str, klass: str = "normal",
                         content: str = "", source: Any = None, department: Any = None,
                         registered_at: dt.datetime | None = None, ref: str | None = None,
                         instruction_id: int | None = None) -> SupervisionItem:
    """挂号: register a supervision item (督办件), due by the 3715 rule.

    Its source is a report or work order (``source``), or a leader's instruction
    (``instruction_id``: the item it was given on becomes the source reference).
    """
    _require(actor, "create")
    title = _text(title, "title", required=True)
    if klass not in SV_CLASSES:
        raise DomainError(t("error.choice", field=label("field", "klass"), value=klass,
                            choices="/".join(SV_CLASSES)))
    dept = _department(department) if department not in (None, "") else None

    def body() -> SupervisionItem:
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
        if SupervisionItem.select().where(SupervisionItem.ref == item.ref).exists():
            raise DomainError(t("error.duplicate_ref", ref=item.ref))
        item.rank, item.sort_key = _position(ctx, item, {}).values()
        item.save(force_insert=True)
        append_event(ctx, actor, "supervision", item.id, item.ref, "create", None,
                     {"klass": klass, "source": source_ref,
                      "deadline_at": _jsonable(item.deadline_at)}, title)
        return item

    return _transaction(ctx, body)


# --------------------------------------------------------------------------- plans


def activate_plan(ctx: Context, actor: Actor, plan: Any, report: Any, level: str, *,
                  declared_by: str = "", note: str = "") -> PlanActivation:
    """启动预案: activate a plan for a report at a response level; its checklist is copied."""
    _require(actor, "activate_plan")
    try:
        level = rules.level_of(level)
    except ValueError:
        raise DomainError(t("error.level", value=level)) from None
    if level == "unknown":
        raise DomainError(t("error.level", value=level))

    def body() -> PlanActivation:
        p = plan if isinstance(plan, Plan) else Plan.get_or_none(Plan.code == str(plan).strip())
        if p is None:
            raise NotFound(t("error.not_found", ref=plan))
        r = find_item(report) if report not in (None, "") else None
        if r is not None and not isinstance(r, Report):
            raise DomainError(t("error.not_report", ref=r.ref))
        if r is not None and r.closed_at is not None:
            raise DomainError(t("error.closed", ref=r.ref))
        running = PlanActivation.select().where(
            (PlanActivation.plan == p.id) & (PlanActivation.deactivated_at.is_null())
            & ((PlanActivation.report == r.id) if r else PlanActivation.report.is_null()))
        if running.exists():
            raise DomainError(t("error.plan_active", plan=p.code))
        spec = (p.levels or {}).get(level) or {}
        now = ctx.now()
        activation = PlanActivation.create(
            plan=p.id, report=r.id if r else None, level=level,
            declared_by=_text(declared_by, "declared_by") or spec.get("declared_by", ""),
            activated_by=actor.login, activated_at=now)
        for i, measure in enumerate(spec.get("measures", [])):
            ActivationMeasure.create(activation=activation.id, idx=i, text=str(measure))
        kind, item_id, ref = ("report", r.id, r.ref) if r else ("plan", p.id, p.code)
        if r is not None:  # the report's version moves so every console re-reads it
            Report.update(version=Report.version + 1, updated_at=now).where(
                Report.id == r.id).execute()
        append_event(ctx, actor, kind, item_id, ref, "activate_plan", None,
                     {"plan": p.code, "level": level, "activation": activation.id},
                     _text(note, "note"))
        return activation

    return _transaction(ctx, body)


def tick_measure(ctx: Context, actor: Actor, activation_id: int, idx: int, *, done: bool = True,
                 expected_version: int | None = None, note: str = "") -> PlanActivation:
    """Tick (or untick) one measure of an activated plan's checklist."""
    _require(actor, "tick_measure")

    def body() -> PlanActivation:
        act = PlanActivation.get_or_none(PlanActivation.id == activation_id)
        if act is None:
            raise NotFound(t("error.not_found", ref=f"#{activation_id}"))
        if expected_version is not None and act.version != expected_version:
            raise StaleVersion(t("error.stale_plain", ref=f"#{activation_id}"))
        if act.deactivated_at is not None:
            raise DomainError(t("error.plan_ended"))
        m = ActivationMeasure.get_or_none((ActivationMeasure.activation == act.id)
                                          & (ActivationMeasure.idx == idx))
        if m is None:
            raise NotFound(t("error.not_found", ref=f"#{activation_id}.{idx + 1}"))
        if (m.done_at is not None) == done:
            raise DomainError(t("error.measure_same"))
        now = ctx.now()
        ActivationMeasure.update(done_at=now if done else None,
                                 done_by=actor.login if done else None).where(
            ActivationMeasure.id == m.id).execute()
        PlanActivation.update(version=act.version + 1).where(
            PlanActivation.id == act.id).execute()
        kind, item_id, ref = _activation_item(act)
        append_event(ctx, actor, kind, item_id, ref, "tick_measure" if done else "untick_measure",
                     None, {"activation": act.id, "measure": idx + 1, "text": m.text},
                     _text(note, "note"))
        return PlanActivation.get_by_id(act.id)

    return _transaction(ctx, body)


def _activation_item(act: PlanActivation) -> tuple[str, int, str]:
    if act.report_id:
        report = Report.get_by_id(act.report_id)
        Report.update(version=Report.version + 1).where(Report.id == report.id).execute()
        return "report", report.id, report.ref
    plan = Plan.get_by_id(act.plan_id)
    return "plan", plan.id, plan.code


def deactivate_plan(ctx: Context, actor: Actor, activation_id: int, *, note: str = "",
                    expected_version: int | None = None) -> PlanActivation:
    """响应结束: end the response under an activated plan."""
    _require(actor, "deactivate_plan")

    def body() -> PlanActivation:
        act = PlanActivation.get_or_none(PlanActivation.id == activation_id)
        if act is None:
            raise NotFound(t("error.not_found", ref=f"#{activation_id}"))
        if expected_version is not None and act.version != expected_version:
            raise StaleVersion(t("error.stale_plain", ref=f"#{activation_id}"))
        if act.deactivated_at is not None:
            raise DomainError(t("error.plan_ended"))
        now = ctx.now()
        PlanActivation.update(deactivated_at=now, deactivated_by=actor.login,
                              version=act.version + 1).where(
            PlanActivation.id == act.id).execute()
        kind, item_id, ref = _activation_item(act)
        plan = Plan.get_by_id(act.plan_id)
        append_event(ctx, actor, kind, item_id, ref, "deactivate_plan", None,
                     {"plan": plan.code, "activation": act.id}, _text(note, "note"))
        return PlanActivation.get_by_id(act.id)

    return _transaction(ctx, body)


# --------------------------------------------------------------------------- shifts


def handover(ctx: Context, actor: Actor, shift_id: int, note: str, *, to_login: str = "",
             expected_version: int | None = None) -> Shift:
    """交接班: hand the shift over, with the note listing what stays open."""
    _require(actor, "handover")
    note_text = _text(note, "note")

    def body() -> Shift:
        shift = Shift.get_or_none(Shift.id == shift_id)
        if shift is None:
            raise NotFound(t("error.not_found", ref=f"#{shift_id}"))
        if expected_version is not None and shift.version != expected_version:
            raise StaleVersion(t("error.stale_plain", ref=shift.ref))
        if shift.handed_over_at is not None:
            raise DomainError(t("error.handed_over", ref=shift.ref))
        now = ctx.now()
        Shift.update(handed_over_at=now, handed_over_by=actor.login, taken_over_by=to_login or None,
                     handover_note=note_text, version=shift.version + 1).where(
            Shift.id == shift.id).execute()
        append_event(ctx, actor, "shift", shift.id, shift.ref, "handover", None,
                     {"to": to_login}, note_text)
        return Shift.get_by_id(shift.id)

    return _transaction(ctx, body)


# --------------------------------------------------------------------------- roster and plans


_FK_FIELDS = ("leader", "primary", "secondary")


def _stored(row: Any, name: str) -> Any:
    """A row's stored value; a shift's people compare by id, as upserts pass them."""
    return getattr(row, f"{name}_id") if name in _FK_FIELDS else getattr(row, name)


def _upsert(ctx: Context, actor: Actor, model: type, kind: str, key: str, values: dict,
            ref_of: Callable[[Any], str], expected_version: int | None = None) -> Any:
    """Create or update a roster/plan/department/shift row, audited.

    ``expected_version``: None (import, demo) no check; 0 the row must not exist yet;
    N the row must still be at version N (someone else's save is not overwritten).
    """
    _require(actor, "admin")

    def body() -> Any:
        row = model.get_or_none(getattr(model, key) == values[key])
        if expected_version == 0 and row is not None:
            raise DomainError(t("error.duplicate_ref", ref=values[key]))
        if expected_version and (row is None or row.version != expected_version):
            raise StaleVersion(t("error.stale_plain", ref=values[key]))
        if row is None:
            row = model.create(**values)
            append_event(ctx, actor, kind, row.id, ref_of(row), "create", None,
                         {k: _jsonable(v) for k, v in values.items()}, "")
            return row
        changed = {k: v for k, v in values.items() if _stored(row, k) != v}
        if not changed:
            return row
        before = {k: _jsonable(_stored(row, k)) for k in changed}
        model.update(**changed, version=row.version + 1).where(model.id == row.id).execute()
        append_event(ctx, actor, kind, row.id, ref_of(row), "update", before,
                     {k: _jsonable(v) for k, v in changed.items()}, "")
        return model.get_by_id(row.id)

    return _transaction(ctx, body)


def upsert_department(ctx: Context, actor: Actor, *, code: str, name: str, phone: str = "",
                      active: bool = True, expected_version: int | None = None) -> Department:
    values = {"code": _text(code, "code", required=True), "name": _text(name, "name", required=True),
              "phone": _text(phone, "phone"), "active": bool(active)}
    return _upsert(ctx, actor, Department, "department", "code", values, lambda r: r.code,
                   expected_version)


def upsert_person(ctx: Context, actor: Actor, *, login: str, name: str, role: str = "officer",
                  title: str = "", phone: str = "", active: bool = True, expected_version: int | None = None) -> Person:
    if role not in ROLES:
        raise DomainError(t("error.choice", field=label("field", "role"), value=role,
                            choices="/".join(ROLES)))
    values = {"login": _text(login, "login", required=True), "name": _text(name, "name", required=True),
              "role": role, "title": _text(title, "title"), "phone": _text(phone, "phone"),
              "active": bool(active)}
    return _upsert(ctx, actor, Person, "person", "login", values, lambda r: r.login,
                   expected_version)


def upsert_plan(ctx: Context, actor: Actor, *, code: str, title: str, kind: str, category: str,
                subtype: str = "other", owner: str = "", summary: str = "",
                levels: dict | None = None, contacts: list | None = None,
                related: list | None = None, shelters: list | None = None, expected_version: int | None = None) -> Plan:
    values = {"code": _text(code, "code", required=True), "title": _text(title, "title", required=True),
              "kind": kind, "category": category, "subtype": subtype or "other",
              "owner": owner or "", "summary": summary or "", "levels": levels or {},
              "contacts": contacts or [], "related": related or [], "shelters": shelters or []}
    return _upsert(ctx, actor, Plan, "plan", "code", values, lambda r: r.code,
                   expected_version)


def upsert_shift(ctx: Context, actor: Actor, *, starts_at: dt.datetime, ends_at: dt.datetime,
                 leader: str | None = None, primary: str | None = None,
                 secondary: str | None = None, ref: str | None = None, expected_version: int | None = None) -> Shift:
    if ends_at <= starts_at:
        raise DomainError(t("error.shift_order"))

    def person(login: str | None, field: str) -> int | None:
        if not login:
            return None
        p = Person.get_or_none(Person.login == login)
        if p is None:
            raise DomainError(t("error.unknown_person", login=login, field=label("field", field)))
        return p.id

    def make_ref() -> str:
        local = starts_at.replace(tzinfo=dt.UTC).astimezone(ctx.settings.tz)
        return ref or local.strftime("ZB-%Y%m%d-%H")

    values = {"ref": make_ref(), "starts_at": starts_at, "ends_at": ends_at,
              "leader": person(leader, "leader"), "primary": person(primary, "primary"),
              "secondary": person(secondary, "secondary")}
    return _upsert(ctx, actor, Shift, "shift", "ref", values, lambda r: r.ref,
                   expected_version)


__all__ = [
    "acknowledge", "escalate", "assign", "urge", "extend", "return_order", "follow_up",
    "instruct", "reply", "visit", "close", "reopen", "note", "change_level", "sweep_batch",
    "create_report", "create_work_order", "register_supervision", "activate_plan",
    "tick_measure", "deactivate_plan", "handover", "upsert_department", "upsert_person",
    "upsert_plan", "upsert_shift", "append_event", "event_digest", "find_item", "database",
]


# --------------------------------------------------------------------------- import


class ImportResult(dict):
    """Counts per kind of what was created, plus "skipped" (already present)."""


def import_records(ctx: Context, actor: Actor, records: list, *, source: str,
                   progress: Callable[[int], None] | None = None) -> ImportResult:
    """Write validated records (console.intake) all or nothing, one event per record.

    Items whose reference already exists are skipped (re-importing a file does
    not duplicate it).  Archived events (kind: event, from ``dutyroom export``)
    are restored verbatim, hash chain intact, only into an empty event log.
    """
    from .errors import ImportRejected

    _require(actor, "admin" if any(r.kind in ("person", "plan", "department", "shift")
                                   for r in records) else "create")

    def reject(record: Any, field: str, reason: str) -> ImportRejected:
        return ImportRejected(f"{source}:{record.line}: {field}: {reason}")

    def body() -> ImportResult:
        result = ImportResult(skipped=0)
        now = ctx.now()
        log_was_empty = not Event.select().exists()
        pending_events: list[dict] = []  # this import's own events, chained last
        by_kind: dict[str, list] = {}
        for r in records:
            by_kind.setdefault(r.kind, []).append(r)

        def log(kind: str, item_id: int, ref: str, action: str, after: dict | None) -> None:
            pending_events.append({"at": now, "actor": actor.login, "actor_name": actor.name,
                                   "console": ctx.console, "item_kind": kind, "item_id": item_id,
                                   "item_ref": ref, "action": action, "before": None,
                                   "after": after, "note": source})

        for r in by_kind.get("department", []):
            _import_upsert(Department, "code", r.data, "department", log, result)
        for r in by_kind.get("person", []):
            _import_upsert(Person, "login", r.data, "person", log, result)
        for r in by_kind.get("plan", []):
            _import_upsert(Plan, "code", r.data, "plan", log, result)
        depts = {}
        for d in Department.select(Department.id, Department.code, Department.name):
            depts[d.code] = d.id
            depts[d.name] = d.id
        dept_codes = {d.id: d.code for d in Department.select(Department.id, Department.code)}
        for r in by_kind.get("shift", []):
            values = dict(r.data)
            for role in ("leader", "primary", "secondary"):
                login = values[role]
                if login:
                    pid = Person.select(Person.id).where(Person.login == login).scalar()
                    if pid is None:
                        raise reject(r, role, t("import.no_person", login=login))
                    values[role] = pid
            local = values["starts_at"].replace(tzinfo=dt.UTC).astimezone(ctx.settings.tz)
            values["ref"] = values["ref"] or local.strftime("ZB-%Y%m%d-%H")
            _import_upsert(Shift, "ref", values, "shift", log, result)

        done = 0
        for kind in ("report", "work_order", "supervision"):
            model = ITEM_MODELS[kind]
            rows, extras = [], []
            batch = by_kind.get(kind, [])
            refs = [_record_ref(kind, r.data) for r in batch]
            existing = set(_ids_by_ref(model, [x for x in refs if x]))
            for r, ref in zip(batch, refs, strict=True):
                if ref and ref in existing:
                    result["skipped"] += 1
                    continue
                if not ref and kind == "report" and Report.select().where(
                        (Report.received_at == r.data["received_at"])
                        & (Report.title == r.data["title"])).exists():
                    result["skipped"] += 1  # no reference: the same title at the same time
                    continue
                row = _import_row(ctx, kind, r, ref, now, depts, reject)
                rows.append(row)
                extras.append(r)
            for start in range(0, len(rows), 2000):
                _insert_rows(model, rows[start:start + 2000])
                done += len(rows[start:start + 2000])
                if progress:
                    progress(done)
            if not rows:
                continue
            ids = _ids_by_ref(model, [row["ref"] for row in rows])
            for row, r in zip(rows, extras, strict=True):
                item_id = ids[row["ref"]]
                _import_children(kind, item_id, row, r, actor, reject)
                log(kind, item_id, row["ref"], "import",
                    {"status": row["status"],
                     "department": dept_codes.get(row.get("department"))
                     if row.get("department") else None})
            result[kind] = len(rows)

        archived = by_kind.get("event", [])
        if archived and log_was_empty:
            _restore_events(archived, reject)
            result["event"] = len(archived)
        elif archived:
            result["events_skipped"] = len(archived)
        _append_events(pending_events)
        return result

    return _transaction(ctx, body)


def _insert_rows(model: type, rows: list[dict]) -> None:
    """Bulk insert: one prepared statement, executemany over plain tuples.

    Peewee's insert_many builds the SQL value by value — most of an import's time at
    100,000 rows; the values still go through each field's db_value (JSON columns).
    """
    if not rows:
        return
    names = sorted({k for row in rows for k in row})
    fields = [model._meta.fields[n] for n in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join([database.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    # rows of one import share their chain lists: each object is encoded once (every
    # value is alive while ``rows`` is, so id() cannot be reused within this call)
    memo: dict[int, str | None] = {}
    encode = JSONText().db_value

    def as_json(value: Any) -> str | None:
        if value is None:
            return None
        key = id(value)
        if key not in memo:
            memo[key] = encode(value)
        return memo[key]

    json_cols = {i for i, f in enumerate(fields) if isinstance(f, JSONText)}
    values = [tuple(as_json(row.get(n)) if i in json_cols else row.get(n)
                    for i, n in enumerate(names)) for row in rows]
    database.cursor().executemany(sql, values)


def _ids_by_ref(model: type, refs: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    table = model._meta.table_name
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        marks = ", ".join([database.param] * len(chunk))
        cursor = database.execute_sql(
            f'SELECT "ref", "id" FROM "{table}" WHERE "ref" IN ({marks})', chunk)
        out.update(cursor.fetchall())
    return out


def _record_ref(kind: str, data: dict) -> str | None:
    return data.get("ticket") if kind == "work_order" else data.get("ref")


def _import_upsert(model: type, key: str, values: dict, kind: str, log: Callable,
                   result: ImportResult) -> None:
    row = model.get_or_none(getattr(model, key) == values[key])
    ref = values[key]
    if row is None:
        row = model.create(**values)
        log(kind, row.id, ref, "create", {k: _jsonable(v) for k, v in values.items()})
        result[kind] = result.get(kind, 0) + 1
        return
    changed = {k: v for k, v in values.items() if _stored(row, k) != v}
    if not changed:
        result["skipped"] += 1
        return
    model.update(**changed, version=row.version + 1).where(model.id == row.id).execute()
    log(kind, row.id, ref, "update", {k: _jsonable(v) for k, v in changed.items()})
    result[kind] = result.get(kind, 0) + 1


def _import_row(ctx: Context, kind: str, r: Any, ref: str | None, now: dt.datetime,
                depts: dict, reject: Callable) -> dict:
    d = r.data
    s = ctx.settings
    severity = {"report": d.get("level"), "work_order": d.get("urgency"),
                "supervision": d.get("klass") or "default"}[kind]
    chain = d.get("chain") or _chain(s, kind, severity)
    step = min(d.get("step") or 0, len(chain) - 1)
    closed_at = d.get("closed_at")
    start = d.get("received_at") or d.get("registered_at")
    row: dict[str, Any] = {
        "chain": chain, "step": step, "created_at": now, "updated_at": now,
        "closed_at": closed_at, "acked_by": d.get("acked_by"), "acked_at": d.get("acked_at"),
        "owner": d.get("owner"), "overdue_at": d.get("overdue_at"), "version": 1,
    }
    if kind == "report":
        fields = ("received_at", "occurred_at", "place", "category", "subtype", "level",
                  "sensitive", "title", "summary", "dead", "injured", "missing", "area", "trend",
                  "measures", "requests", "source_unit", "reporter", "reporter_phone", "recorder",
                  "reported_at")
        row.update({f: d[f] for f in fields})
        updates = [u for u in d.get("updates") or [] if u.get("stage") == "followup"]
        row["followups"] = len(updates)
        row["ref"] = ref or _next_ref(ctx, "report", d["received_at"])
        row["status"] = d.get("status") or ("active" if d.get("reported_at") else
                                            ("acknowledged" if d.get("acked_at") else "new"))
        if closed_at is None:
            last = max((_parse_dt(u.get("at")) for u in updates), default=None)
            _w, due = rules.report_deadline(s, rules.ReportClock(
                d["level"], d["sensitive"], d["received_at"], d.get("reported_at"),
                len(updates), last))
            row["deadline_at"] = due
    elif kind == "work_order":
        dept_id = None
        if d.get("department"):
            dept_id = depts.get(d["department"])
            if dept_id is None:
                raise reject(r, "department", t("import.no_department", name=d["department"]))
        for code in d.get("assisting") or []:
            if code not in depts:
                raise reject(r, "assisting", t("import.no_department", name=code))
        fields = ("received_at", "channel", "caller", "phone", "address", "type", "category",
                  "content", "urgency", "satisfaction", "reply", "extensions", "assisting")
        row.update({f: d[f] for f in fields})
        row["ref"] = ref
        row["department"] = dept_id
        row["assigned_at"] = d.get("assigned_at") or (d["received_at"] if dept_id else None)
        row["status"] = d.get("status") or ("assigned" if dept_id else "received")
        if closed_at is None:
            row["deadline_at"] = d.get("due_at") or rules.work_order_due(
                s, d["received_at"], d["type"], d["urgency"])
    else:
        dept_id = None
        if d.get("department"):
            dept_id = depts.get(d["department"])
            if dept_id is None:
                raise reject(r, "department", t("import.no_department", name=d["department"]))
        fields = ("title", "content", "klass", "source_ref", "source_kind", "registered_at",
                  "result")
        row.update({f: d[f] for f in fields})
        row["ref"] = ref or _next_ref(ctx, "supervision", d["registered_at"])
        row["department"] = dept_id
        row["status"] = d.get("status") or "registered"
        if closed_at is None:
            row["deadline_at"] = d.get("due_at") or rules.supervision_due(
                s, d["registered_at"], d["klass"])
    row.setdefault("deadline_at", None)
    if closed_at is None and row["acked_at"] is None:
        row["next_escalation_at"] = rules.next_escalation(chain, step, start)
    else:
        row["next_escalation_at"] = None
    if kind == "report":
        severity = rules.effective_level(s, severity, d.get("sensitive", False))
    sev = rules.severity_of(kind, severity)
    row["rank"], row["sort_key"] = rules.queue_position(
        sev, closed_at=closed_at, deadline_at=row["deadline_at"], created_at=start)
    return row


def _chain(settings: Any, kind: str, severity: str) -> list[list]:
    """The same list object for every row of one severity (its JSON is built once)."""
    key = (id(settings), kind, severity)
    if key not in _CHAINS:
        _CHAINS[key] = (settings, rules.chain_snapshot(settings, kind, severity))
    return _CHAINS[key][1]


_CHAINS: dict[tuple, tuple[Any, list[list]]] = {}  # keeps settings alive: its id stays its own


def _parse_dt(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is not None:  # exports write UTC with "Z"; storage is naive UTC
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _import_children(kind: str, item_id: int, row: dict, r: Any, actor: Actor,
                     reject: Callable) -> None:
    d = r.data
    for ins in d.get("instructions") or []:
        Instruction.create(item_kind=kind, item_id=item_id, leader=str(ins.get("leader", "")),
                           text=str(ins.get("text", "")),
                           at=_parse_dt(ins.get("at")) or row["created_at"],
                           recorded_by=str(ins.get("recorded_by") or actor.login))
    if kind != "report":
        return
    updates = d.get("updates") or [{"stage": "initial", "seq": 0, "at": row["received_at"],
                                    "text": row["summary"] or row["title"],
                                    "author": actor.login, "dead": row["dead"],
                                    "injured": row["injured"], "missing": row["missing"]}]
    for u in updates:
        if u.get("stage") not in ("initial", "followup", "final"):
            raise reject(r, "updates.stage", t("import.choice", choices="initial/followup/final",
                                             got=repr(u.get("stage"))))
        ReportUpdate.create(report=item_id, stage=u["stage"], seq=int(u.get("seq") or 0),
                            at=_parse_dt(u.get("at")) or row["received_at"],
                            text=str(u.get("text", "")), author=str(u.get("author", actor.login)),
                            dead=u.get("dead"), injured=u.get("injured"), missing=u.get("missing"))
    for a in d.get("activations") or []:
        plan_id = Plan.select(Plan.id).where(Plan.code == a.get("plan")).scalar()
        if plan_id is None:
            raise reject(r, "activations.plan", t("import.no_plan", plan=a.get("plan")))
        act = PlanActivation.create(
            plan=plan_id, report=item_id, level=a.get("level", "IV"),
            declared_by=a.get("declared_by", ""), activated_by=a.get("activated_by", actor.login),
            activated_at=_parse_dt(a.get("activated_at")) or row["created_at"],
            deactivated_by=a.get("deactivated_by"),
            deactivated_at=_parse_dt(a.get("deactivated_at")))
        for i, m in enumerate(a.get("measures") or []):
            ActivationMeasure.create(activation=act.id, idx=i, text=str(m.get("text", "")),
                                     done_at=_parse_dt(m.get("done_at")), done_by=m.get("done_by"))


def _restore_events(archived: list, reject: Callable) -> None:
    """Append archived events verbatim; their item ids are looked up by reference."""
    lookups: dict[str, Callable[[str], int | None]] = {
        kind: (lambda ref, m=model: m.select(m.id).where(m.ref == ref).scalar())
        for kind, model in ITEM_MODELS.items()}
    lookups["department"] = lambda ref: Department.select(Department.id).where(
        Department.code == ref).scalar()
    lookups["person"] = lambda ref: Person.select(Person.id).where(Person.login == ref).scalar()
    lookups["plan"] = lambda ref: Plan.select(Plan.id).where(Plan.code == ref).scalar()
    lookups["shift"] = lambda ref: Shift.select(Shift.id).where(Shift.ref == ref).scalar()
    cache: dict[tuple[str, str], int] = {}
    rows = []
    for r in archived:
        e = dict(r.data)
        key = (e["item_kind"], e["item_ref"])
        if key not in cache:
            finder = lookups.get(e["item_kind"])
            cache[key] = (finder(e["item_ref"]) if finder else None) or 0
        e["item_id"] = cache[key]
        rows.append(e)
    for start in range(0, len(rows), 2000):
        _insert_rows(Event, rows[start:start + 2000])


def _append_events(pending: list[dict]) -> None:
    prev = Event.select(Event.hash).order_by(Event.id.desc()).limit(1).scalar() or GENESIS
    for e in pending:
        e["prev_hash"] = prev
        e["hash"] = prev = event_digest(prev, e)
    for start in range(0, len(pending), 2000):
        _insert_rows(Event, pending[start:start + 2000])
    if pending:
        _notify(0)
