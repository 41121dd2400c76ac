"""Export for the archive: roster, plans, items (with their stages) and the event log.

JSON Lines (one record a line, the import format) or CSV (one header for all
kinds; nested values as JSON).  Exported → imported into an empty database
gives the same items and the same, still verifiable, event log.  Rows are read
in pages, never a whole table at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .models import (
    ITEM_MODELS,
    ActivationMeasure,
    Department,
    Event,
    Instruction,
    Person,
    Plan,
    PlanActivation,
    ReportUpdate,
    Shift,
)

PAGE = 2000


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat() + "Z"  # stored as naive UTC
    return value


def _page_lists(query, key) -> Iterator[list[Any]]:
    """Keyset pages over ``key`` (an id column), so memory stays flat."""
    last = 0
    while True:
        rows = list(query.where(key > last).order_by(key).limit(PAGE))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _pages(query, key) -> Iterator[Any]:
    for rows in _page_lists(query, key):
        yield from rows


def _children(kind: str, ids: list[int]) -> dict[str, dict[int, list]]:
    """A page's instructions, stages and activations: one query each, not one per item."""
    out: dict[str, dict[int, list]] = {"instructions": {}, "updates": {}, "activations": {}}
    for i in (Instruction.select().where((Instruction.item_kind == kind)
                                         & Instruction.item_id.in_(ids)).order_by(Instruction.id)):
        out["instructions"].setdefault(i.item_id, []).append(
            {"leader": i.leader, "text": i.text, "at": _iso(i.at), "recorded_by": i.recorded_by})
    if kind != "report":
        return out
    for u in (ReportUpdate.select().where(ReportUpdate.report.in_(ids))
              .order_by(ReportUpdate.seq, ReportUpdate.id)):
        out["updates"].setdefault(u.report_id, []).append(
            {"stage": u.stage, "seq": u.seq, "at": _iso(u.at), "text": u.text, "dead": u.dead,
             "injured": u.injured, "missing": u.missing, "author": u.author})
    acts = list(PlanActivation.select(PlanActivation, Plan).join(Plan)
                .where(PlanActivation.report.in_(ids)).order_by(PlanActivation.id))
    measures: dict[int, list] = {}
    if acts:
        for m in (ActivationMeasure.select()
                  .where(ActivationMeasure.activation.in_([a.id for a in acts]))
                  .order_by(ActivationMeasure.idx)):
            measures.setdefault(m.activation_id, []).append(
                {"text": m.text, "done_at": _iso(m.done_at), "done_by": m.done_by})
    for a in acts:
        out["activations"].setdefault(a.report_id, []).append(
            {"plan": a.plan.code, "level": a.level, "declared_by": a.declared_by,
             "activated_by": a.activated_by, "activated_at": _iso(a.activated_at),
             "deactivated_by": a.deactivated_by, "deactivated_at": _iso(a.deactivated_at),
             "measures": measures.get(a.id, [])})
    return out


def records(*, events: bool = True, items: bool = True) -> Iterator[dict[str, Any]]:
    """Every exported record, in the order import needs them."""
    dept_code = {d.id: d.code for d in Department.select(Department.id, Department.code)}
    for d in Department.select().order_by(Department.id):
        yield {"kind": "department", "code": d.code, "name": d.name, "phone": d.phone}
    logins = {}
    for p in Person.select().order_by(Person.id):
        logins[p.id] = p.login
        yield {"kind": "person", "login": p.login, "name": p.name, "title": p.title,
               "phone": p.phone, "role": p.role}
    for p in Plan.select().order_by(Plan.id):
        yield {"kind": "plan", "code": p.code, "title": p.title, "plan_kind": p.kind,
               "category": p.category, "subtype": p.subtype, "owner": p.owner,
               "summary": p.summary, "levels": p.levels, "contacts": p.contacts,
               "related": p.related, "shelters": p.shelters}
    for s in Shift.select().order_by(Shift.id):
        yield {"kind": "shift", "ref": s.ref, "starts_at": _iso(s.starts_at),
               "ends_at": _iso(s.ends_at), "leader": logins.get(s.leader_id),
               "primary": logins.get(s.primary_id), "secondary": logins.get(s.secondary_id)}
    if items:
        for kind, model in ITEM_MODELS.items():
            for page in _page_lists(model.select(), model.id):
                children = _children(kind, [item.id for item in page])
                for item in page:
                    yield _item(kind, item, dept_code, children)
    if events:
        for e in _pages(Event.select(), Event.id):
            yield {"kind": "event", "at": _iso(e.at), "actor": e.actor,
                   "actor_name": e.actor_name, "console": e.console, "item_kind": e.item_kind,
                   "item_ref": e.item_ref, "action": e.action, "before": e.before,
                   "after": e.after, "note": e.note, "prev_hash": e.prev_hash, "hash": e.hash}


_COMMON = ("status", "step", "chain", "acked_by", "acked_at", "owner", "overdue_at", "closed_at")


def _item(kind: str, item: Any, dept_code: dict[int, str],
          children: dict[str, dict[int, list]]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind}
    for name in _COMMON:
        out[name] = _iso(getattr(item, name))
    instructions = children["instructions"].get(item.id)
    if instructions:
        out["instructions"] = instructions
    if kind == "report":
        out["ref"] = item.ref
        for name in ("received_at", "occurred_at", "place", "category", "subtype", "level",
                     "sensitive", "title", "summary", "dead", "injured", "missing", "area",
                     "trend", "measures", "requests", "source_unit", "reporter",
                     "reporter_phone", "recorder", "reported_at"):
            out[name] = _iso(getattr(item, name))
        out["updates"] = children["updates"].get(item.id, [])
        acts = children["activations"].get(item.id)
        if acts:
            out["activations"] = acts
    elif kind == "work_order":
        out["ticket"] = item.ref
        for name in ("received_at", "channel", "caller", "phone", "address", "type", "category",
                     "content", "urgency", "assisting", "assigned_at", "extensions",
                     "satisfaction", "reply"):
            out[name] = _iso(getattr(item, name))
        out["department"] = dept_code.get(item.department_id)
        out["due_at"] = _iso(item.deadline_at)
    else:
        out["ref"] = item.ref
        for name in ("title", "content", "klass", "source_kind", "source_ref", "registered_at",
                     "result"):
            out[name] = _iso(getattr(item, name))
        out["department"] = dept_code.get(item.department_id)
        out["due_at"] = _iso(item.deadline_at)
    return out


CSV_FIELDS = ("kind", "ref", "ticket", "code", "login", "name", "title", "status", "level",
              "urgency", "type", "klass", "category", "subtype", "received_at", "registered_at",
              "occurred_at", "due_at", "closed_at", "department", "content", "summary", "place",
              "caller", "phone", "address", "at", "actor", "item_kind", "item_ref", "action",
              "note", "hash", "prev_hash")


def write(out: IO[str], fmt: str = "jsonl", *, events: bool = True, items: bool = True,
          progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write the export to ``out``; returns counts of items and events written."""
    counts = {"items": 0, "events": 0, "other": 0}
    writer = None
    for n, record in enumerate(records(events=events, items=items), 1):
        kind = record["kind"]
        key = "events" if kind == "event" else "items" if kind in ITEM_MODELS else "other"
        counts[key] += 1
        if fmt == "jsonl":
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        else:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=[*CSV_FIELDS, "extra"])
                writer.writeheader()
            flat = {k: v for k, v in record.items() if k in CSV_FIELDS}
            rest = {k: v for k, v in record.items() if k not in CSV_FIELDS}
            for k, v in list(flat.items()):
                if isinstance(v, (list, dict)):
                    flat[k] = json.dumps(v, ensure_ascii=False)
            flat["extra"] = json.dumps(rest, ensure_ascii=False, default=str) if rest else ""
            writer.writerow(flat)
        if progress and n % 5000 == 0:
            progress(n)
    return counts


def export_to(path: str | Path, fmt: str | None = None, **kwargs: Any) -> dict[str, int]:
    path = Path(path)
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        return write(fh, fmt, **kwargs)

