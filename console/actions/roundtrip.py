"""What ``dutyroom import`` restores beyond the original format (console/actions/imports.py):
scheduled reports, the unit desk's columns, a handover's items and the item links, all
by reference (a restored database gives its rows new ids)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..i18n import t
from ..models import ITEM_MODELS, ItemLink
from .bulkwrite import _ids_by_ref


def unflag(order_ids: list[int], at: dt.datetime, actor: str) -> None:
    """Take back the repeat flags an import wrote (rows of its own transaction)."""
    for start in range(0, len(order_ids), 500):
        ItemLink.delete().where(
            (ItemLink.kind == "work_order") & (ItemLink.relation == "repeat")
            & ItemLink.item_id.in_(order_ids[start:start + 500]) & (ItemLink.at == at)
            & (ItemLink.actor == actor)).execute()


# the unit desk's columns (0007), restored when the record has them
UNIT_DESK = ("accept_due_at", "accepted_at", "accepted_by", "accept_overdue_at",
             "return_asked_at", "returns", "dept_trail", "dept_count", "problem_ref",
             "redo_count")
_SCHEDULED = ("ref", "topic", "cadence", "period", "due_at", "grace", "received_at",
              "received_by", "file_path", "file_sha256")


def scheduled_row(row: dict, r: Any, depts: dict, reject: Callable) -> None:
    """A scheduled report (定期报送) as exported: its stored columns restored as they were."""
    d = r.data
    dept_id = depts.get(d["department"])
    if dept_id is None:
        raise reject(r, "department", t("import.no_department", name=d["department"]))
    row.update({f: d[f] for f in _SCHEDULED})
    row["department"] = dept_id
    row["status"] = d.get("status") or "due"
    if row["closed_at"] is None:  # open: due + grace, unless the export says otherwise
        row["deadline_at"] = d.get("deadline_at") or (
            d["due_at"] + dt.timedelta(minutes=d.get("grace") or 0))
        row["next_escalation_at"] = d.get("next_escalation_at")
    else:
        row["deadline_at"] = row["next_escalation_at"] = None


def handed_items(items: list) -> list:
    """A handover's [[kind, id, ref], …] with the ids of this database (a restore gives
    items new ids; 接班 takes them over by id).  One not here keeps id 0: stale at 接班."""
    out = []
    for entry in items:
        kind, _old, ref = (list(entry) + [None, None, None])[:3] if isinstance(entry, list) \
            else (None, None, None)
        model = ITEM_MODELS.get(kind) if isinstance(kind, str) else None
        found = _ids_by_ref(model, [str(ref)]).get(str(ref)) if model is not None else None
        out.append([kind, found or 0, ref])
    return out


def restore_links(links: list, result: dict, reject: Callable) -> None:
    """并单/related/repeat links (item_link), their items found by reference.  The facts
    are in the events; this is the index the console reads, so a link already present
    (a re-import) is skipped rather than doubled."""
    for r in links:
        d = r.data
        model = ITEM_MODELS[d["item_kind"]]
        ids = _ids_by_ref(model, [d["item_ref"], d["other_ref"]])
        for side in ("item_ref", "other_ref"):
            if d[side] not in ids:
                raise reject(r, side, t("roundtrip.no_item", ref=d[side]))
        values = {"kind": d["item_kind"], "item_id": ids[d["item_ref"]],
                  "other_id": ids[d["other_ref"]], "relation": d["relation"], "at": d["at"]}
        if ItemLink.select().where(*[getattr(ItemLink, k) == v for k, v in values.items()]
                                   ).exists():
            result["skipped"] += 1
            continue
        ItemLink.create(**values, actor=d.get("actor") or "", ended_at=d.get("ended_at"))
        result["link"] = result.get("link", 0) + 1
