"""Write plumbing shared by every action: the transaction, the event log, the one
version-checked update of an item row, and the small value checks.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from peewee import BooleanField, ForeignKeyField, IntegerField, fn

from .. import fields, problems, rules
from ..clock import to_local
from ..context import Actor, Context
from ..db import is_postgres, with_retries, write_transaction
from ..errors import DomainError, NotFound, PermissionDenied, StaleVersion
from ..i18n import label, t
from ..models import (
    ITEM_MODELS,
    Counter,
    Department,
    Event,
    Item,
    Person,
    Plan,
    Report,
    ReportUpdate,
    Shift,
    database,
)

T = TypeVar("T")
# the rows events are about: kind → (model, the column an event's item_ref names)
LOGGED: dict[str, tuple[type, str]] = {
    **{kind: (model, "ref") for kind, model in ITEM_MODELS.items()},
    "department": (Department, "code"), "person": (Person, "login"), "plan": (Plan, "code"),
    "shift": (Shift, "ref"),
}
GENESIS = "0" * 64
MAX_TEXT = fields.MAX_TEXT
# queue-order columns: derived, kept out of an event's before/after
_DERIVED = ("rank", "sort_key", "updated_at")


_pending = threading.local()  # the intent key the transaction's first event carries


def intent_key(intent: str | None = None) -> str:
    """The idempotency key of one intent (a key press, a CLI call, an import).

    Made once per intent, before any retry; a caller that may repeat the same
    intent (a console retrying after "not saved") passes its own.  At most 64
    characters are stored: a longer key is stored as its SHA-256.
    """
    if intent is None:
        return uuid.uuid4().hex
    key = str(intent)
    return key if 0 < len(key) <= 64 else hashlib.sha256(key.encode("utf-8")).hexdigest()


def _transaction(ctx: Context, body: Callable[[], T], *, intent: str | None = None,
                 replay: Callable[[Event], T] | None = None) -> T:
    """Run ``body`` as one write transaction, retried whole on a busy or dropped database.

    Exactly once: with ``replay``, the intent's key is made here, once, before the
    retries, and stored with the transaction's first event (UNIQUE).  Each attempt
    first looks the key up: when COMMIT succeeded but its answer was lost (a
    connection dropped during COMMIT), the retry finds the event and returns
    ``replay(event)`` — what was committed — instead of writing it again.
    """
    key = intent_key(intent) if replay is not None else None

    def run() -> T:
        with write_transaction():
            if key is not None:
                done = Event.get_or_none(Event.intent == key)
                if done is not None:
                    return replay(done)
            _pending.key, _pending.children = key, []
            try:
                return body()
            finally:
                _pending.key, _pending.children = None, None

    return with_retries(run, retries=ctx.settings.retries)


def _replay_item(event: Event) -> Item:
    """What an item action committed: the item as it is now."""
    return find_item((event.item_kind, event.item_id))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Department):
        return value.code
    return value


# every stored field of an event but its row id, its item's row id (an archive restored
# elsewhere gets new ids: verify checks item_id against item_ref instead) and the hash
EVENT_FIELDS = ("at", "actor", "actor_name", "console", "item_kind", "item_ref", "action",
                "before", "after", "note", "intent", "state", "children")
DIGEST_FROM = "digest_v2_from"  # Counter: first event id hashed over EVENT_FIELDS (0004)


def event_digest(prev_hash: str, e: dict[str, Any]) -> str:
    """The hash chain: every event commits to the one before it and to all its fields."""
    body = json.dumps([prev_hash, *(_jsonable(e.get(k)) for k in EVENT_FIELDS)],
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def legacy_digest(prev_hash: str, e: dict[str, Any]) -> str:
    """The digest of events written before migration 0004 (fewer fields)."""
    body = json.dumps(
        [prev_hash, _jsonable(e["at"]), e["actor"], e["console"], e["item_kind"],
         e["item_ref"], e["action"], e["before"], e["after"], e["note"]],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _canon(field: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(field, BooleanField):
        return bool(value)
    if isinstance(field, IntegerField | ForeignKeyField) and not isinstance(value, bool):
        return int(value)
    return value


def row_values(row: Any, skip: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """A row's stored columns (foreign keys as ids), canonical for hashing."""
    return canonical_values(type(row), row.__data__, skip)


def canonical_values(model: type, data: dict[str, Any],
                     skip: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """``_canon`` of each stored column of ``model`` in ``data`` (field name → value: a
    model's ``__data__``, or the row an import writes, so its digest needs no read back),
    with each field's kind looked up once per model (every action and the sweep digest
    rows; the per-field look-ups were a tenth of a catch-up sweep)."""
    out: dict[str, Any] = {}
    for name, kind, if_set, late in _value_plan(model, skip):
        value = data.get(name)
        # a column added later counts once it is set (digest_if_set) or leaves its
        # default (models.late): rows hashed before the upgrade still verify
        if value is None:
            if not (if_set or late):
                out[name] = None
        elif late and value == 0:
            continue
        elif isinstance(value, dt.datetime):
            out[name] = value.isoformat(sep=" ")
        elif kind is bool:
            out[name] = bool(value)
        elif kind is int and not isinstance(value, bool):
            out[name] = int(value)
        else:
            out[name] = value
    return out


@functools.cache
def _value_plan(model: type, skip: tuple[str, ...]) -> tuple[tuple[str, Any, bool, bool], ...]:
    """(name, bool / int / None as ``_canon`` treats the field, digest_if_set, late)."""
    plan = []
    for f in model._meta.sorted_fields:
        if f.name in skip:
            continue
        kind = (bool if isinstance(f, BooleanField)
                else int if isinstance(f, IntegerField | ForeignKeyField) else None)
        plan.append((f.name, kind, bool(getattr(f, "digest_if_set", False)),
                     bool(getattr(f, "late", False))))
    return tuple(plan)


def _digest(values: dict[str, Any]) -> str:
    body = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def row_digest(row: Any) -> str:
    """The digest of a row as it stands, stored in the event that left it so
    (``dutyroom verify`` finds a row changed without an event)."""
    return _digest(row_values(row))


# a child row is digested without its ids (its parent's id differs in a restored archive)
CHILD_SKIP = ("id", "report", "item_id")


def child_digest(row: Any) -> str:
    return type(row)._meta.table_name + ":" + _digest(row_values(row, CHILD_SKIP))[:32]


def add_child(row: Any) -> Any:
    """Record a child row (report update, instruction) written by the running
    transaction; its next event lists the child's digest."""
    children = getattr(_pending, "children", None)
    if children is not None:
        children.append(child_digest(row))
    return row


def append_event(ctx: Context, actor: Actor, kind: str, item_id: int, ref: str, action: str,
                 before: dict | None, after: dict | None, note: str = "", *,
                 row: Any = None) -> Event:
    """Append one event (inside the caller's write transaction).

    ``row``: the row the event is about, as it stands after the change (its digest is
    stored); the child rows recorded with ``add_child`` since the last event are listed.
    """
    prev = Event.select(Event.hash).order_by(Event.id.desc()).limit(1).scalar() or GENESIS
    data = {
        "at": ctx.now(), "actor": actor.login, "actor_name": actor.name, "console": ctx.console,
        "item_kind": kind, "item_id": item_id, "item_ref": ref, "action": action,
        "before": before, "after": after, "note": note or "", "intent": take_intent(),
        "state": row_digest(row) if row is not None else None, "children": take_children(),
    }
    data["hash"] = event_digest(prev, data)
    event = Event.create(prev_hash=prev, **data)
    _notify(event.id)
    return event


def take_children() -> list[str] | None:
    children = getattr(_pending, "children", None) or None
    _pending.children = []
    return children


def take_intent() -> str | None:
    """The running transaction's intent key, for its first event only."""
    key = getattr(_pending, "key", None)
    _pending.key = None
    return key


def _notify(event_id: int) -> None:
    """PostgreSQL: wake the consoles' change feeds (delivered when this transaction commits)."""
    if is_postgres():
        database.execute_sql("SELECT pg_notify(%s, %s)", ("dutyroom_events", str(event_id)))


def _require(actor: Actor, action: str) -> None:
    if not rules.role_allows(actor.role, action):
        raise PermissionDenied(t("error.role", who=actor.name, role=label("role", actor.role),
                                 action=label("action", action)))


def find_item(target: Item | str | tuple[str, int]) -> Item:
    """An item by instance, by reference (BG-…, SV-…, ticket) or by (kind, id).  A row
    whose stored value cannot be decoded (a chain stored as ``{broken``) is refused in
    one line naming it, not an unexpected error."""
    try:
        return _find_item(target)
    except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
        ref = target.ref if isinstance(target, Item) else (
            "#".join(map(str, target)) if isinstance(target, tuple) else str(target).strip())
        raise DomainError(t("health.damaged_action", ref=ref)) from exc


def _find_item(target: Item | str | tuple[str, int]) -> Item:
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
    name = item.SEVERITY_FIELD
    value = values.get(name, getattr(item, name, ""))
    if item.KIND == "report":  # sensitive information ranks as it is reported: at least as Ⅱ
        value = rules.effective_level(ctx.settings, value,
                                      values.get("sensitive", getattr(item, "sensitive", False)))
    return value


def _versioned_update(ctx: Context, actor: Actor, item: Item, values: dict[str, Any],
                      action: str, note: str, *, now: dt.datetime) -> bool:
    """The one version-checked write of an item row: UPDATE … WHERE version = v, one event,
    and the in-memory row brought to what was committed (no wide SELECT to read it back).

    ``values`` are the columns to set (rank/sort_key are added here).  Returns False
    when the row moved on meanwhile (possible only without the write lock).
    """
    values = {**values, **_position(ctx, item, values)}
    before = {k: _jsonable(getattr(item, k))
              for k in values if k not in _DERIVED}
    after = {k: _jsonable(v) for k, v in values.items() if k not in _DERIVED}
    model = type(item)
    n = (model.update(**values, updated_at=now, version=item.version + 1)
         .where((model.id == item.id) & (model.version == item.version)).execute())
    if n != 1:
        return False
    for name, value in values.items():
        setattr(item, name, value)
    item.updated_at, item.version = now, item.version + 1
    append_event(ctx, actor, item.KIND, item.id, item.ref, action, before, after, note, row=item)
    return True


def _change(ctx: Context, actor: Actor, target: Any, action: str,
            apply: Callable[[Item, dt.datetime], dict[str, Any]], *,
            expected_version: int | None, note: str | Callable[[], str] = "",
            role_action: str | None = None, event_action: str | None = None,
            intent: str | None = None,
            then: Callable[[Item, dt.datetime], None] | None = None) -> Item:
    """The one path of a change to an item (see the package docstring).

    ``note`` may be a function, called after ``apply`` (when it depends on a look-up
    made inside the transaction).  ``then`` runs after the change, in the same
    transaction (further events of the same intent)."""
    _require(actor, role_action or action)

    def body() -> Item:
        item = find_item(target)
        from .units import unit_scope  # the unit role: its own department only (issue 11)
        unit_scope(actor, item, role_action or action)
        if expected_version is not None and item.version != expected_version:
            raise _stale(ctx, item)
        if not rules.is_legal(action, item.KIND, item.status):
            raise DomainError(t("error.illegal", ref=item.ref, action=label("action", action),
                                status=label(f"status.{item.KIND}", item.status)))
        now = ctx.now()
        values = apply(item, now)
        values.update(problems.ack_expiry_values(ctx.settings, item, values, now))
        if "deadline_at" in values and values["deadline_at"] != item.deadline_at:
            values.setdefault("overdue_at", None)
        changed = {k: v for k, v in values.items() if getattr(item, k) != v}
        text = note() if callable(note) else note
        if not _versioned_update(ctx, actor, item, changed, event_action or action, text,
                                 now=now):
            raise _stale(ctx, item)  # the last guard; the write lock makes it unreachable
        if then is not None:
            then(item, now)
        return item

    return _transaction(ctx, body, intent=intent, replay=_replay_item)


def _next_ref(ctx: Context, kind: str, at: dt.datetime) -> str:
    year = to_local(at, ctx.settings.tz).year
    name = f"{kind}:{year}"
    updated = Counter.update(value=Counter.value + 1).where(Counter.name == name).execute()
    if not updated:
        Counter.create(name=name, value=1)
    seq = Counter.get_by_id(name).value
    return ctx.settings.references[kind].format(year=year, seq=seq)


def _escalation_values(item: Item, to_step: int, now: dt.datetime) -> dict[str, Any]:
    return {"step": to_step, "acked_by": None, "acked_at": None,
            **({"ack_expires_at": None} if item.ack_expires_at else {}),  # no ack to lapse
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


# the field parsers (console/fields.py), under the names the actions use
_text = fields.text
_when = fields.when
_satisfaction = fields.score


def _casualties(**figures: int | None) -> dict[str, int]:
    """The casualty figures given (dead/injured/missing), as whole numbers ≥ 0."""
    out = {}
    for name, value in figures.items():
        number = fields.count(value, name)
        if number is not None:
            out[name] = number
    return out
