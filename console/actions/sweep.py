"""Automatic escalations (the sweep), written through the same version-checked update."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from .. import problems
from ..context import Actor, Context
from ..errors import StaleVersion
from ..i18n import t
from ..models import ITEM_MODELS, Event, Item, database
from .bulkwrite import _head, _insert_rows
from .plumbing import (
    _DERIVED,
    _escalation_values,
    _jsonable,
    _notify,
    _position,
    _transaction,
    event_digest,
    row_digest,
    take_children,
    take_intent,
)

Trigger = tuple[str, int, str]  # (kind, id, reason)


def sweep_batch(ctx: Context, triggers: Iterable[Trigger]) -> list[tuple[Item, str]]:
    """Automatic escalations (the sweep), one transaction for the batch.

    Each trigger is (kind, id, reason) with reason "unacknowledged" or "overdue".
    The trigger is re-checked inside the write transaction, so however many
    consoles sweep at once each one fires once: a second sweeper finds it already
    handled and skips it.  Returns (item, reason) for each escalation made.
    """
    triggers = list(triggers)
    return _transaction(ctx, lambda: _sweep_all(ctx, triggers)) if triggers else []


def sweep_due(ctx: Context,
              find: Callable[[], list[Trigger]]) -> tuple[int, list[tuple[Item, str]]]:
    """One batch of the sweep: ``find`` looks up what is due inside the write
    transaction (so two sweepers never pick the same trigger) and each is fired.
    Returns (triggers found, escalations made)."""
    def body() -> tuple[int, list[tuple[Item, str]]]:
        triggers = find()
        return len(triggers), _sweep_all(ctx, triggers)

    return _transaction(ctx, body)


def sweep_problems(ctx: Context, triggers: Iterable[Trigger]) -> list[tuple[Item, str]]:
    """The unit desk's triggers (issue 11: 签收 missed, problem orders, expired
    acknowledgements), each re-checked under the write lock by its own rule, in one
    transaction of their own: they write through the item path, not the batch writer."""
    triggers = list(triggers)

    def body() -> list[tuple[Item, str]]:
        done = []
        for kind, item_id, reason in triggers:
            item = problems.sweep_one(ctx, kind, item_id, reason)
            if item is not None:
                done.append((item, reason))
        return done

    return _transaction(ctx, body) if triggers else []


def _sweep_all(ctx: Context, triggers: list[Trigger]) -> list[tuple[Item, str]]:
    # the batch's rows in one read per kind; an item due twice (overdue and
    # unacknowledged) is the same object, its second check seeing the first change
    rows: dict[tuple[str, int], Item] = {}
    for kind, model in ITEM_MODELS.items():
        ids = [i for k, i, _r in triggers if k == kind]
        for start in range(0, len(ids), 500):
            for item in model.select().where(model.id.in_(ids[start:start + 500])):
                rows[(kind, item.id)] = item
    done, writes = [], _Writes(ctx)
    for kind, item_id, reason in triggers:
        item = rows.get((kind, item_id))
        if item is not None and _sweep_one(ctx, item, reason, writes):
            done.append((item, reason))
    writes.flush()
    return done


def _sweep_one(ctx: Context, item: Item, reason: str, writes: _Writes) -> bool:
    now = ctx.now()
    if item.closed_at is not None:
        return False
    values: dict[str, Any] = {}
    if reason == "overdue":
        if item.deadline_at is None or item.deadline_at > now or item.overdue_at is not None:
            return False
        values["overdue_at"] = now
    elif item.next_escalation_at is None or item.next_escalation_at > now:
        return False
    if item.step + 1 < len(item.chain):
        values.update(_escalation_values(item, item.step + 1, now))
    else:
        values["next_escalation_at"] = None  # already at the top: marked, and stays there
    action = "overdue" if reason == "overdue" else "auto_escalate"
    writes.add(item, values, action, t("event.auto_" + reason), now)
    return True


class _Writes:
    """A batch's escalations written together: what ``_versioned_update`` writes for
    each (the same row values, before/after, state digest and chained event), as one
    UPDATE statement per set of columns and one bulk insert of the events.  Peewee
    building two statements per escalation was most of a catch-up's time."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.updates: dict[tuple[type, tuple[str, ...]], list[tuple]] = {}
        self.events: list[dict] = []
        self.actor = Actor.system()

    def add(self, item: Item, values: dict[str, Any], action: str, note: str,
            now: dt.datetime) -> None:
        values = {**values, **_position(self.ctx, item, values)}
        before = {k: _jsonable(getattr(item, k)) for k in values if k not in _DERIVED}
        after = {k: _jsonable(v) for k, v in values.items() if k not in _DERIVED}
        names = tuple(values)
        model = type(item)
        fields = [model._meta.fields[n] for n in names]
        self.updates.setdefault((model, names), []).append(
            (*(f.db_value(values[n]) for f, n in zip(fields, names, strict=True)),
             now, item.version + 1, item.id, item.version))
        for name, value in values.items():
            setattr(item, name, value)
        item.updated_at, item.version = now, item.version + 1
        self.events.append({
            "at": self.ctx.now(), "actor": self.actor.login, "actor_name": self.actor.name,
            "console": self.ctx.console, "item_kind": item.KIND, "item_id": item.id,
            "item_ref": item.ref, "action": action, "before": before, "after": after,
            "note": note or "", "intent": take_intent(), "state": row_digest(item),
            "children": take_children()})

    def flush(self) -> None:
        if not self.events:
            return
        for (model, names), params in self.updates.items():
            sets = ", ".join(f'"{model._meta.fields[n].column_name}" = {database.param}'
                             for n in names)
            p = database.param
            sql = (f'UPDATE "{model._meta.table_name}" SET {sets}, "updated_at" = {p}, '
                   f'"version" = {p} WHERE "id" = {p} AND "version" = {p}')
            cursor = database.cursor()
            cursor.executemany(sql, params)
            if cursor.rowcount not in (-1, len(params)):  # the write lock makes it unreachable
                raise StaleVersion(t("error.stale_plain", ref=model.__name__))
        prev = _head()
        for e in self.events:
            e["prev_hash"] = prev
            e["hash"] = prev = event_digest(prev, e)
        _insert_rows(Event, self.events)
        _notify(0)
