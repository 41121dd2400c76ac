"""交接班 to the 三清 standard: submit (交班), accept (接班) and take over (接管).

- ``submit_handover``: a person on the shift (带班领导, 主班 or 副班) hands it over with
  the three 清 — situation, open problems, tasks — and the list of the open items
  at that moment; anyone else is refused with one line naming why.
- ``accept_handover``: a person on the next shift confirms each 清 and accepts;
  they become the owner (首办) of every item handed over.
- ``take_over_shift``: the outgoing officer is absent; a person on the next shift
  takes over now, with a reason, and owns the open items.

The owner changes are written in batches (``handover.batch`` items a transaction),
one event on each item, each batch exactly once under a key derived from the
intent's; an item closed meanwhile is reported, not fatal.  A console that died
between batches finishes the transfer by accepting again (the same person): an item
already theirs gets no second event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import shiftwork
from ..context import Actor, Context
from ..errors import DomainError, NotFound, PermissionDenied, StaleVersion
from ..i18n import label, t
from ..models import ITEM_MODELS, Event, Shift
from ..textsafe import one_line
from .plumbing import _require, _text, _transaction, _versioned_update, append_event, intent_key

THREE = ("situation", "problems", "tasks")  # 情况清, 问题清, 任务清


@dataclass
class HandoverResult:
    """What accepting or taking over did: the shift, the items now owned, the ones not."""

    shift: Shift
    owned: list[str] = field(default_factory=list)  # refs that changed owner now
    already: int = 0  # already the new owner's (or done by an earlier try)
    stale: list[tuple[str, str]] = field(default_factory=list)  # (ref, reason) not taken


def _shift(ctx: Context, target: Any) -> Shift:
    shift = shiftwork.find_shift(ctx, target, ctx.now())
    if shift is None:
        raise NotFound(t("handover.no_shift_to_hand", ref=one_line(str(target or "—"))))
    return shift


def _check_version(shift: Shift, expected_version: int | None) -> None:
    if expected_version is not None and shift.version != expected_version:
        raise StaleVersion(t("error.stale_plain", ref=shift.ref))


def _not_on(actor: Actor, shift: Shift | None, what: str) -> PermissionDenied:
    return PermissionDenied(shiftwork.not_on(what, actor.name, shift.ref if shift else None,
                                             shiftwork.team_text(shift)))


def _write(ctx: Context, actor: Actor, shift: Shift, values: dict[str, Any], action: str,
           after: dict[str, Any], note: str = "") -> Shift:
    n = (Shift.update(**values, version=shift.version + 1)
         .where((Shift.id == shift.id) & (Shift.version == shift.version)).execute())
    if n != 1:
        raise StaleVersion(t("error.stale_plain", ref=shift.ref))
    shift = Shift.get_by_id(shift.id)
    append_event(ctx, actor, "shift", shift.id, shift.ref, action, None, after, note, row=shift)
    return shift


def handover(ctx: Context, actor: Actor, shift_id: int, note: str, *, to_login: str = "",
             expected_version: int | None = None, intent: str | None = None) -> Shift:
    """交接班 with one note (the older form; ``submit_handover`` has the three 清).

    Only a person on the shift may hand it over."""
    _require(actor, "handover")
    note_text = _text(note, "note")

    def body() -> Shift:
        shift = Shift.get_or_none(Shift.id == shift_id)
        if shift is None:
            raise NotFound(t("error.not_found", ref=f"#{shift_id}"))
        _check_version(shift, expected_version)
        if shift.handed_over_at is not None:
            raise DomainError(t("error.handed_over", ref=shift.ref))
        if shiftwork.post_of(shift, actor.login) is None:
            raise _not_on(actor, shift, "submit")
        values = {"handed_over_at": ctx.now(), "handed_over_by": actor.login,
                  "taken_over_by": to_login or None, "handover_note": note_text}
        return _write(ctx, actor, shift, values, "handover", {"to": to_login}, note_text)

    return _transaction(ctx, body, intent=intent, replay=lambda e: Shift.get_by_id(shift_id))


def submit_handover(ctx: Context, actor: Actor, shift: Any = None, *, situation: str,
                    problems: str, tasks: str, expected_version: int | None = None,
                    intent: str | None = None) -> Shift:
    """交班: the three 清 and the open items of the queues, by a person on the shift."""
    _require(actor, "handover")
    texts = {name: _text(value, name, required=True)
             for name, value in zip(THREE, (situation, problems, tasks), strict=True)}

    def body() -> Shift:
        row = _shift(ctx, shift)
        _check_version(row, expected_version)
        if row.handed_over_at is not None:
            raise DomainError(t("handover.already_submitted", ref=one_line(row.ref),
                                who=shiftwork.name_of(row.handed_over_by)))
        if shiftwork.is_done(row):
            raise DomainError(t("handover.already_accepted", ref=one_line(row.ref),
                                who=shiftwork.name_of(row.taken_over_by)))
        post = shiftwork.post_of(row, actor.login)
        if post is None:
            raise _not_on(actor, row, "submit")
        items = shiftwork.open_items()
        values = {"handed_over_at": ctx.now(), "handed_over_by": actor.login,
                  "handover_note": texts["situation"], "handed_items": items, **texts}
        after = {**texts, "handed_over_by": actor.login, "post": post, "items": len(items)}
        return _write(ctx, actor, row, values, "submit_handover", after)

    return _transaction(ctx, body, intent=intent, replay=lambda e: Shift.get_by_id(e.item_id))


def accept_handover(ctx: Context, actor: Actor, shift: Any = None, *,
                    confirmed: Iterable[str] = (), note: str = "",
                    expected_version: int | None = None,
                    intent: str | None = None) -> HandoverResult:
    """接班: a person on the next shift confirms each 清 and owns the items handed over."""
    _require(actor, "handover")
    given = set(confirmed)
    for name in THREE:
        if name not in given:
            raise DomainError(t("handover.confirm_missing", what=label("field", name)),
                              field=name)
    note_text = _text(note, "note")
    key = intent_key(intent)

    def body() -> Shift:
        row = _shift(ctx, shift)
        _check_version(row, expected_version)
        if row.handed_over_at is None:
            raise DomainError(t("handover.not_submitted", ref=one_line(row.ref)))
        if shiftwork.is_done(row):
            if row.taken_over_by == actor.login:
                return row  # finishing a transfer an earlier try left half done
            raise DomainError(t("handover.already_accepted", ref=one_line(row.ref),
                                who=shiftwork.name_of(row.taken_over_by)))
        incoming = shiftwork.next_shift(row)
        post = shiftwork.post_of(incoming, actor.login)
        if post is None:
            raise _not_on(actor, incoming, "accept")
        values = {"accepted_at": ctx.now(), "taken_over_by": actor.login}
        after = {"taken_over_by": actor.login, "post": post, "confirmed": list(THREE)}
        return _write(ctx, actor, row, values, "accept_handover", after, note_text)

    row = _transaction(ctx, body, intent=key, replay=lambda e: Shift.get_by_id(e.item_id))
    return _transfer(ctx, actor, row, key)


def take_over_shift(ctx: Context, actor: Actor, shift: Any = None, *, reason: str,
                    expected_version: int | None = None,
                    intent: str | None = None) -> HandoverResult:
    """接管: the outgoing officer is absent; a person on the next shift takes over now."""
    _require(actor, "handover")
    why = _text(reason, "reason", required=True)
    key = intent_key(intent)

    def body() -> Shift:
        row = _shift(ctx, shift)
        _check_version(row, expected_version)
        if shiftwork.is_done(row):
            raise DomainError(t("handover.already_accepted", ref=one_line(row.ref),
                                who=shiftwork.name_of(row.taken_over_by)))
        if row.handed_over_at is not None:
            raise DomainError(t("handover.submitted_accept", ref=one_line(row.ref),
                                who=shiftwork.name_of(row.handed_over_by)))
        incoming = shiftwork.next_shift(row)
        post = shiftwork.post_of(incoming, actor.login)
        if post is None:
            raise _not_on(actor, incoming, "take_over")
        items = shiftwork.open_items()
        values = {"accepted_at": ctx.now(), "taken_over_by": actor.login,
                  "takeover_reason": why, "handed_items": items}
        after = {"taken_over_by": actor.login, "takeover_reason": why, "post": post,
                 "items": len(items)}
        return _write(ctx, actor, row, values, "take_over", after, why)

    row = _transaction(ctx, body, intent=key, replay=lambda e: Shift.get_by_id(e.item_id))
    return _transfer(ctx, actor, row, key)


def _transfer(ctx: Context, actor: Actor, shift: Shift, key: str) -> HandoverResult:
    """The new owner of every item handed over: batches, one event per item changed."""
    result = HandoverResult(shift)
    items = list(shift.handed_items or [])
    size = ctx.settings.handover.batch
    for start in range(0, len(items), size):
        batch = items[start:start + size]

        def replay(e: Event, n: int = len(batch)) -> HandoverResult:
            return HandoverResult(shift, already=n)  # committed by a try whose answer was lost

        done = _transaction(ctx, lambda batch=batch: _batch(ctx, actor, shift, batch),
                            intent=intent_key(f"{key}:{start // size}"), replay=replay)
        result.owned += done.owned
        result.already += done.already
        result.stale += done.stale
    return result


def _batch(ctx: Context, actor: Actor, shift: Shift, batch: list) -> HandoverResult:
    """One transaction's items (a retry starts again from a fresh result)."""
    result = HandoverResult(shift)
    now = ctx.now()
    note = t("handover.owner_note", ref=one_line(shift.ref))
    for kind, item_id, ref in batch:
        model = ITEM_MODELS.get(kind)
        item = model.get_or_none(model.id == item_id) if model is not None else None
        if item is None:
            result.stale.append((str(ref), t("handover.stale_missing")))
        elif item.closed_at is not None:
            result.stale.append((item.ref, t("handover.stale_closed")))
        elif item.owner == actor.login:
            result.already += 1
        elif _versioned_update(ctx, actor, item, {"owner": actor.login}, "take_over_item",
                               note, now=now):
            result.owned.append(item.ref)
        else:
            result.stale.append((item.ref, t("handover.stale_changed")))
    return result
