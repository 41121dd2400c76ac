"""Bulk actions for a storm: one verb, one note, many items — each item its own event.

``bulk(ctx, actor, verb, targets, …)`` calls the ordinary single-item action once
per item, each with the version the officer saw and its own exactly-once key
(derived from the one intent of the confirmation), each in its own short
transaction: never one giant transaction holding the write lock for a storm.
An item someone else changed meanwhile (stale version), or one the verb cannot
apply to (illegal now, a role, a missing final report…) is skipped and named in
the result; the rest go through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..context import Actor, Context
from ..errors import DomainError, DutyError
from ..i18n import t
from ..models import Item
from .items import acknowledge, assign, close, note, urge
from .plumbing import intent_key

# the verbs a storm is handled with, and how the one note/argument reaches each call
BULK_VERBS: dict[str, Callable[..., Item]] = {
    "acknowledge": lambda ctx, actor, target, a, **v: acknowledge(
        ctx, actor, target, note=a.get("note", ""), **v),
    "assign": lambda ctx, actor, target, a, **v: assign(
        ctx, actor, target, a["department"], note=a.get("note", ""), **v),
    "note": lambda ctx, actor, target, a, **v: note(ctx, actor, target, a.get("note", ""), **v),
    "urge": lambda ctx, actor, target, a, **v: urge(ctx, actor, target, note=a.get("note", ""),
                                                    **v),
    "close": lambda ctx, actor, target, a, **v: close(ctx, actor, target, a.get("note", ""),
                                                      **v),
}


@dataclass(frozen=True)
class BulkTarget:
    """One item as the officer saw it: its (kind, id), reference and version."""

    kind: str
    id: int
    ref: str = ""
    version: int | None = None


@dataclass
class BulkResult:
    """What a bulk action did: the refs done, and (ref, why) of each item skipped."""

    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    kinds: set[tuple[str, int]] = field(default_factory=set)  # items changed

    def merge(self, other: BulkResult) -> BulkResult:
        self.done += other.done
        self.skipped += other.skipped
        self.kinds |= other.kinds
        return self

    def summary(self, limit: int = 3) -> str:
        """One line: "28 done, 2 skipped: BG-… was acknowledged by 李明 at 02:14; …"."""
        line = t("bulk.summary", done=len(self.done), skipped=len(self.skipped))
        if self.skipped:
            reasons = [why for _ref, why in self.skipped[:limit]]
            more = len(self.skipped) - limit
            if more > 0:
                reasons.append(t("bulk.more", n=more))
            line += t("bulk.reasons", reasons="；".join(reasons))
        return line


def _as_target(x: Any) -> BulkTarget:
    if isinstance(x, BulkTarget):
        return x
    if isinstance(x, Item):
        return BulkTarget(x.KIND, x.id, x.ref, x.version)
    if isinstance(x, tuple) and len(x) in (2, 3):
        return BulkTarget(x[0], int(x[1]), "", x[2] if len(x) == 3 else None)
    kind, item_id, ref, version = (getattr(x, n) for n in ("kind", "id", "ref", "version"))
    return BulkTarget(kind, item_id, ref, version)


def check_bulk(ctx: Context, verb: str, count: int, args: dict[str, Any]) -> None:
    """Refuse a bulk action before it starts: an unknown verb, too many, nothing to say."""
    if verb not in BULK_VERBS:
        raise DomainError(t("bulk.not_bulk", verb=verb))
    if count > ctx.settings.bulk_max:
        raise DomainError(t("bulk.too_many", n=count, max=ctx.settings.bulk_max))
    if verb == "assign" and not args.get("department"):
        raise DomainError(t("error.required", field=t("field.department")), field="department")
    if verb == "note" and not str(args.get("note") or "").strip():
        raise DomainError(t("error.required", field=t("field.note")), field="note")


def bulk(ctx: Context, actor: Actor, verb: str, targets: Iterable[Any], *,
         intent: str | None = None, note: str = "", department: Any = None,
         progress: Callable[[int, int], None] | None = None) -> BulkResult:
    """``verb`` on every target, one ordinary action (and one event) per item.

    ``intent``: the one key of the officer's confirmation; item i's key is derived
    from it, so repeating the same bulk (a retry after "not saved") changes nothing
    twice.  ``progress(done, total)`` is called after each item.
    """
    items = [_as_target(x) for x in targets]
    args = {"note": note, "department": department}
    check_bulk(ctx, verb, len(items), args)
    base = intent_key(intent)
    call = BULK_VERBS[verb]
    result = BulkResult()
    for n, target in enumerate(items, 1):
        ref = target.ref or f"{target.kind}#{target.id}"
        try:
            item = call(ctx, actor, (target.kind, target.id), args,
                        expected_version=target.version,
                        intent=f"{base}:{target.kind}:{target.id}")
        except DutyError as exc:  # stale, illegal now, refused: named in the summary
            result.skipped.append((ref, str(exc)))
        else:
            result.done.append(item.ref)
            result.kinds.add((target.kind, target.id))
        if progress is not None:
            progress(n, len(items))
    return result
