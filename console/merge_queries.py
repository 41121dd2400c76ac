"""Reads for 并单 and 重复投诉: a duplicate's reference resolved to its master, the
callers a master reaches, an item's links and repeat candidates (issue 11).

Every look-up is by index: ``item_link_item`` / ``item_link_other`` (kind, id,
relation) and the two repeat indexes of migration 0008.  Text from the data goes
through console/textsafe.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from . import repeats
from .i18n import t
from .models import ITEM_MODELS, Item, ItemLink, WorkOrder
from .textsafe import one_line

MERGE_KINDS = ("work_order", "report")
MAX_LINKS = 50  # a detail shows at most this many links of each kind


@dataclass(frozen=True)
class LinkRow:
    relation: str  # merged_from / merged_into / related / repeat_of / repeated_by
    ref: str
    status: str
    caller: str
    phone: str
    received_at: dt.datetime | None
    summary: str


def _model(kind: str) -> Any:
    return ITEM_MODELS[kind]


def _light(model: Any, where: Any) -> Any:
    """Only the columns shown here: a damaged JSON column elsewhere in a row (health.py)
    must not stop the detail from opening."""
    names = ("id", "ref", "status", "received_at", "caller", "phone", "content", "reporter",
             "reporter_phone", "title")
    return model.select(*(getattr(model, n) for n in names if n in model._meta.fields)
                        ).where(where)


def master_of(item: Item) -> Item | None:
    """The master a merged duplicate was merged into (None when it is not merged)."""
    link = (ItemLink.select(ItemLink.other_id)
            .where((ItemLink.kind == item.KIND) & (ItemLink.item_id == item.id)
                   & (ItemLink.relation == "merged") & ItemLink.ended_at.is_null()).first())
    if link is None:
        return None
    model = _model(item.KIND)
    return _light(model, model.id == link.other_id).first()


def resolve(ref: str, *, verb: str = "") -> tuple[str, str]:
    """(the reference to act on, a notice): a merged duplicate's reference names its master.

    ``unmerge`` and ``merge`` act on the duplicate itself (merging it again is refused).  Follows a
    chain of merges at most a few steps (a master merged later into another)."""
    if verb in ("unmerge", "merge"):
        return ref, ""
    item = next((found for model in (_model(k) for k in MERGE_KINDS)
                 if (found := _light(model, model.ref == str(ref).strip()).first())), None)
    if item is None:
        return ref, ""
    first, seen = item, {item.id}
    for _ in range(8):
        master = master_of(item)
        if master is None or master.id in seen:
            break
        item, _x = master, seen.add(master.id)
    if item is first:
        return ref, ""
    return item.ref, t("merge.notice", dup=one_line(first.ref), master=one_line(item.ref))


def merged_callers(master: Item) -> list[tuple[str, str, str]]:
    """(ref, caller, phone) of the master and every order merged into it: whom the reply
    and the visit reach."""
    if not isinstance(master, WorkOrder):
        return []
    ids = [i for (i,) in ItemLink.select(ItemLink.item_id).where(
        (ItemLink.kind == "work_order") & (ItemLink.other_id == master.id)
        & (ItemLink.relation == "merged") & ItemLink.ended_at.is_null())
        .limit(MAX_LINKS).tuples()]
    rows = [(master.ref, master.caller, master.phone)]
    if ids:
        rows += list(WorkOrder.select(WorkOrder.ref, WorkOrder.caller, WorkOrder.phone)
                     .where(WorkOrder.id.in_(ids)).order_by(WorkOrder.id).tuples())
    return [(one_line(r), one_line(c), one_line(p)) for r, c, p in rows]


def reached_note(item: Item) -> str:
    """The note a reply or visit adds on a master: each caller it reaches (empty if none)."""
    callers = merged_callers(item)
    if len(callers) < 2:
        return ""
    return " " + t("merge.reached", callers="; ".join(
        f"{c or '-'} {p}".strip() + f" ({r})" for r, c, p in callers))


_OUT = {"merged": "merged_into", "related": "related", "repeat": "repeat_of"}
_IN = {"merged": "merged_from", "related": "related", "repeat": "repeated_by"}


def links(item: Item) -> list[LinkRow]:
    """Every link of an item still in force, both directions, for the detail."""
    pairs: list[tuple[str, int]] = []
    for column, other, names in ((ItemLink.item_id, ItemLink.other_id, _OUT),
                                 (ItemLink.other_id, ItemLink.item_id, _IN)):
        rows = (ItemLink.select(ItemLink.relation, other.alias("peer"))
                .where((ItemLink.kind == item.KIND) & (column == item.id)
                       & ItemLink.ended_at.is_null()).order_by(ItemLink.id).limit(MAX_LINKS))
        pairs += [(names[rel], peer) for rel, peer in rows.tuples()]
    model = _model(item.KIND)
    found = {r.id: r for r in _light(model, model.id.in_([p for _, p in pairs]))}
    return [_row(rel, found[peer]) for rel, peer in pairs if peer in found]


def clip(text: str, cells: int) -> str:
    """At most ``cells`` terminal columns (a CJK character takes two), with … when cut."""
    out, used = [], 0
    for ch in text:
        width = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + width > cells - 1:
            return "".join(out) + "…"
        out.append(ch)
        used += width
    return text


def _row(relation: str, other: Item) -> LinkRow:
    if isinstance(other, WorkOrder):
        return LinkRow(relation, one_line(other.ref), other.status, one_line(other.caller),
                       one_line(other.phone), other.received_at, clip(one_line(other.content), 40))
    return LinkRow(relation, one_line(other.ref), other.status,
                   one_line(getattr(other, "reporter", "")),
                   one_line(getattr(other, "reporter_phone", "")),
                   getattr(other, "received_at", None),
                   clip(one_line(getattr(other, "title", "")), 40))


def candidates_for(settings: Any, *, phone: str = "", address: str = "", category: str = "",
                   received_at: dt.datetime) -> list[LinkRow]:
    """The intake form: earlier orders this one may repeat, before it is saved."""
    probe = SimpleNamespace(id=-1, phone=phone or "", address=address or "",
                            category=category or "", received_at=received_at)
    ids = repeats.candidates(settings, probe)  # type: ignore[arg-type]
    found = {o.id: o for o in _light(WorkOrder, WorkOrder.id.in_(ids))}
    return [_row("repeat_of", found[i]) for i in ids if i in found]


def is_repeat(item: Item) -> bool:
    return ItemLink.select().where(
        (ItemLink.kind == item.KIND) & (ItemLink.item_id == item.id)
        & (ItemLink.relation == "repeat") & ItemLink.ended_at.is_null()).exists()


def ref_choices(kind: str, item_id: int, limit: int = 200, *,
                open_only: bool = False) -> list[tuple[str, str]]:
    """The merge/link prompt: (ref, label) — this item's repeat candidates first (★), then
    the newest open items of its kind (the prompt filters them as the officer types)."""
    model = _model(kind)
    item = _light(model, model.id == item_id).first()
    if item is None:
        return []
    first = [r for r in links(item) if r.relation == "repeat_of"
             and not (open_only and r.status == "closed")]  # a merge needs an open master
    out = [(r.ref, f"★ {r.ref}  {r.caller} {r.phone}  {r.summary}") for r in first]
    seen = {r.ref for r in first} | {item.ref}
    text = WorkOrder.content if kind == "work_order" else getattr(model, "title", model.ref)
    rows = (model.select(model.ref, text).where(model.closed_at.is_null())
            .order_by(model.id.desc()).limit(limit))
    out += [(one_line(r), f"  {one_line(r)}  {clip(one_line(s or ''), 50)}")
            for r, s in rows.tuples() if r not in seen]
    return out


def intake_note(settings: Any, now: dt.datetime, raw: dict[str, str]) -> str:
    """The work-order form's live line: the category the text names, and the earlier
    orders this one may repeat (same phone, or same address and category)."""
    from . import categories

    parts: list[str] = []
    category = (raw.get("category") or "").strip()
    found = categories.find(category) if category else None
    if category:  # a class, and the leaves under it (or the nearest) to pick from
        near = " · ".join(f"{c.code} {c.name}" for c in categories.matching(
            found.code if found else category, 4) if found is None or c.level > found.level)
        if found is None:
            parts.append(t("merge.form.category_hint", options=near or "—"))
        else:
            parts.append(t("merge.form.category", path=found.path)
                         + (f" — {near}" if found.level < 3 and near else ""))
    rows = candidates_for(settings, phone=raw.get("phone", ""), address=raw.get("address", ""),
                          category=found.name if found else category, received_at=now)
    if rows:
        parts.append(t("merge.form.repeats", refs=" · ".join(
            f"{r.ref} {r.caller} {r.phone}".strip() for r in rows)))
    return "\n".join(parts)


@dataclass(frozen=True)
class MergeBlock:
    """The detail's merge section: the item's links and, on a master, whom it reaches."""

    links: list[LinkRow]
    callers: list[tuple[str, str, str]]


def detail_block(kind: str, item_id: int) -> MergeBlock | None:
    model = _model(kind)
    item = _light(model, model.id == item_id).first() if kind in MERGE_KINDS else None
    if item is None:
        return None
    callers = merged_callers(item)
    return MergeBlock(links(item), callers if len(callers) > 1 else [])


def masters_named(model: Any, ref: str) -> Any:
    """A subquery: the master of the merged duplicate whose reference is ``ref`` (the queue's
    search; by the unique ref index and item_link_item)."""
    dup = model.select(model.id).where(model.ref == ref)
    return ItemLink.select(ItemLink.other_id).where(
        (ItemLink.kind == model.KIND) & ItemLink.item_id.in_(dup)
        & (ItemLink.relation == "merged") & ItemLink.ended_at.is_null())
