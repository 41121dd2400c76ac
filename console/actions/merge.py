"""并单 and related items (issue 11): merge a duplicate into its master, undo it, link two items.

A merged duplicate is closed (status "closed", ``closed_at`` set) and an
``ItemLink(relation="merged")`` row links it to the master; each side gets one
event ("merge" on the duplicate, "merge_in" on the master), so both timelines say
what happened.  ``unmerge`` restores the duplicate to where the merge found it (the
merge event's ``before``) and ends the link.  A merged report's content becomes a
follow-up (续报) of the master: "the later one becomes a follow-up source of the
earlier".  Resolving a duplicate's reference to its master is the command layer's
(console/merge_queries.resolve), not ``find_item``'s: unmerge must reach the
duplicate itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import rules
from ..context import Actor, Context
from ..errors import DomainError
from ..i18n import label, t
from ..models import Event, Item, ItemLink, Report, ReportUpdate
from .plumbing import (
    _replay_item,
    _report_deadline,
    _require,
    _stale,
    _text,
    _transaction,
    _versioned_update,
    add_child,
    find_item,
)

MERGEABLE = ("work_order", "report")


def counted_once(model: Any, settings: Any) -> Any:
    """A WHERE term the figures add so a merged order counts once (hotline.count_merged_once):
    ``query.where(counted_once(WorkOrder, ctx.settings))``; true when merges count."""
    from ..repeats import rules_of

    if not rules_of(settings).count_merged_once:
        return model.id.is_null(False)
    return model.id.not_in(ItemLink.select(ItemLink.item_id).where(
        (ItemLink.kind == model.KIND) & (ItemLink.relation == "merged")
        & ItemLink.ended_at.is_null()))


def active_link(kind: str, item_id: int, relation: str = "merged") -> ItemLink | None:
    return (ItemLink.select().where((ItemLink.kind == kind) & (ItemLink.item_id == item_id)
                                    & (ItemLink.relation == relation)
                                    & ItemLink.ended_at.is_null()).first())


def _check_pair(ctx: Context, action: str, dup: Item, master: Item,
                expected_version: int | None) -> None:
    if expected_version is not None and dup.version != expected_version:
        raise _stale(ctx, dup)
    if dup.KIND != master.KIND or dup.KIND not in MERGEABLE:
        raise DomainError(t("merge.error.kind", ref=dup.ref, master=master.ref))
    if dup.id == master.id:
        raise DomainError(t("merge.error.self", ref=dup.ref))
    if ItemLink.select().where((ItemLink.kind == dup.KIND) & (ItemLink.other_id == dup.id)
                               & (ItemLink.relation == "merged")
                               & ItemLink.ended_at.is_null()).exists():
        # one level only: the master's detail lists its callers, the reply reaches them
        raise DomainError(t("merge.error.is_master", ref=dup.ref, master=master.ref))
    for item in (dup, master):
        if active_link(item.KIND, item.id) is not None:
            raise DomainError(t("merge.error.merged", ref=item.ref))
        if not rules.is_legal(action, item.KIND, item.status):
            raise DomainError(t("error.illegal", ref=item.ref, action=label("action", action),
                                status=label(f"status.{item.KIND}", item.status)))


def _master_values(ctx: Context, actor: Actor, dup: Item, master: Item,
                   now: dt.datetime) -> dict[str, Any]:
    """A merged report's content is a follow-up of the master (续报, numbered)."""
    if not isinstance(master, Report):
        return {}
    assert isinstance(dup, Report)
    seq = master.followups + 1
    text = t("merge.followup_text", ref=dup.ref, title=dup.title,
             summary=dup.summary or "-", source=dup.source_unit or dup.reporter or "-")
    add_child(ReportUpdate.create(report=master.id, stage="followup", seq=seq, at=now,
                                  text=text, author=actor.login))
    values: dict[str, Any] = {"followups": seq}
    if master.status in ("new", "acknowledged"):
        values["status"] = "active"
    values.update(_report_deadline(ctx, master, values, last_update_at=now))
    return values


def merge(ctx: Context, actor: Actor, target: Any, master: Any, *, note: str = "",
          expected_version: int | None = None, intent: str | None = None) -> Item:
    """并单: close ``target`` as a duplicate of ``master``; returns the master."""
    _require(actor, "merge")
    note = _text(note, "note")

    def body() -> Item:
        dup, main = find_item(target), find_item(_text(master, "master", required=True)
                                                 if isinstance(master, str) else master)
        _check_pair(ctx, "merge", dup, main, expected_version)
        now = ctx.now()
        values = {"status": "closed", "closed_at": now, "deadline_at": None,
                  "next_escalation_at": None}
        changed = {k: v for k, v in values.items() if getattr(dup, k) != v}
        ItemLink.create(kind=dup.KIND, item_id=dup.id, other_id=main.id, relation="merged",
                        at=now, actor=actor.login)
        text = " ".join(x for x in (t("merge.note_into", master=main.ref), note) if x)
        if not _versioned_update(ctx, actor, dup, changed, "merge", text, now=now):
            raise _stale(ctx, dup)
        more = _master_values(ctx, actor, dup, main, now)
        if not _versioned_update(ctx, actor, main, more, "merge_in",
                                 t("merge.note_from", ref=dup.ref), now=now):
            raise _stale(ctx, main)
        return main

    return _transaction(ctx, body, intent=intent, replay=_replay_master)


def _replay_master(event: Event) -> Item:
    item = find_item((event.item_kind, event.item_id))
    link = active_link(item.KIND, item.id)
    return find_item((item.KIND, link.other_id)) if link is not None else item


def _merge_event(dup: Item) -> Event | None:
    return (Event.select().where((Event.item_kind == dup.KIND) & (Event.item_id == dup.id)
                                 & (Event.action == "merge"))
            .order_by(Event.id.desc()).first())


def _restored(ctx: Context, dup: Item, now: dt.datetime) -> dict[str, Any]:
    """Where the merge found the duplicate: its event's ``before`` (the clock as it was)."""
    event = _merge_event(dup)
    before = (event.before or {}) if event is not None else {}
    values: dict[str, Any] = {"closed_at": None, "status": before.get("status") or "in_progress"}
    for name in ("deadline_at", "next_escalation_at"):
        raw = before.get(name, getattr(dup, name))
        values[name] = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    if values["status"] == "closed":  # merged while closed cannot happen; be safe
        values["status"] = "in_progress"
    return values


def unmerge(ctx: Context, actor: Actor, target: Any, reason: str, *,
            expected_version: int | None = None, intent: str | None = None) -> Item:
    """撤销并单, with a reason: the duplicate is open again where it was; returns it."""
    _require(actor, "unmerge")
    reason = _text(reason, "reason", required=True)

    def body() -> Item:
        dup = find_item(target)
        if expected_version is not None and dup.version != expected_version:
            raise _stale(ctx, dup)
        link = active_link(dup.KIND, dup.id)
        if link is None:
            raise DomainError(t("merge.error.not_merged", ref=dup.ref))
        main = find_item((dup.KIND, link.other_id))
        now = ctx.now()
        ItemLink.update(ended_at=now).where(ItemLink.id == link.id).execute()
        if not _versioned_update(ctx, actor, dup, _restored(ctx, dup, now), "unmerge",
                                 reason, now=now):
            raise _stale(ctx, dup)
        if not _versioned_update(ctx, actor, main, {}, "unmerge_out",
                                 t("merge.note_out", ref=dup.ref, reason=reason), now=now):
            raise _stale(ctx, main)
        return dup

    return _transaction(ctx, body, intent=intent, replay=_replay_item)


def link_related(ctx: Context, actor: Actor, target: Any, other: Any, *, note: str = "",
                 expected_version: int | None = None, intent: str | None = None) -> Item:
    """关联: link two items of one kind as related, neither closes (one event on each)."""
    _require(actor, "link")
    note = _text(note, "note")

    def body() -> Item:
        item, peer = find_item(target), find_item(_text(other, "other", required=True)
                                                  if isinstance(other, str) else other)
        if expected_version is not None and item.version != expected_version:
            raise _stale(ctx, item)
        if item.KIND != peer.KIND or item.id == peer.id:
            raise DomainError(t("merge.error.link", ref=item.ref, other=peer.ref))
        if active_link(item.KIND, item.id, "related") is not None and ItemLink.select().where(
                (ItemLink.kind == item.KIND) & (ItemLink.item_id == item.id)
                & (ItemLink.other_id == peer.id) & (ItemLink.relation == "related")
                & ItemLink.ended_at.is_null()).exists():
            raise DomainError(t("merge.error.linked", ref=item.ref, other=peer.ref))
        now = ctx.now()
        ItemLink.create(kind=item.KIND, item_id=item.id, other_id=peer.id, relation="related",
                        at=now, actor=actor.login)
        for a, b in ((item, peer), (peer, item)):
            text = " ".join(x for x in (t("merge.note_link", other=b.ref), note) if x)
            if not _versioned_update(ctx, actor, a, {}, "link", text, now=now):
                raise _stale(ctx, a)
        return item

    return _transaction(ctx, body, intent=intent, replay=_replay_item)
