"""One import record → the item row it stores (``dutyroom import``, console/actions/imports).

The parts every kind shares (chain and step, closing, escalation, queue position) are
here once; each kind's own fields come from its builder in ``_BUILDERS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .. import rules
from ..clock import to_utc_naive
from ..context import Context
from ..i18n import t
from ..models import ITEM_MODELS
from .plumbing import _next_ref
from .roundtrip import UNIT_DESK, scheduled_row

REPORT_FIELDS = ("received_at", "occurred_at", "place", "category", "subtype", "level",
                 "sensitive", "title", "summary", "dead", "injured", "missing", "area", "trend",
                 "measures", "requests", "source_unit", "reporter", "reporter_phone", "recorder",
                 "reported_at")
WORK_ORDER_FIELDS = ("received_at", "channel", "caller", "phone", "address", "type", "category",
                     "content", "urgency", "satisfaction", "reply", "extensions", "assisting")
SUPERVISION_FIELDS = ("title", "content", "klass", "source_ref", "source_kind", "registered_at",
                      "result")


def _import_row(ctx: Context, kind: str, r: Any, ref: str | None, now: dt.datetime,
                depts: dict, reject: Callable) -> dict:
    d = r.data
    s = ctx.settings
    severity = d.get(ITEM_MODELS[kind].SEVERITY_FIELD) or ("default" if kind == "supervision"
                                                          else None)
    chain = d.get("chain") or _chain(s, kind, severity)
    step = min(d.get("step") or 0, len(chain) - 1)
    closed_at = d.get("closed_at")
    row: dict[str, Any] = {
        "chain": chain, "step": step, "created_at": now, "updated_at": now,
        "closed_at": closed_at, "acked_by": d.get("acked_by"), "acked_at": d.get("acked_at"),
        "owner": d.get("owner"), "overdue_at": d.get("overdue_at"), "version": 1,
    }
    _BUILDERS[kind](ctx, r, ref, row, depts, reject)
    row.setdefault("deadline_at", None)
    if d.get("ack_expires_at") is not None:
        row["ack_expires_at"] = d["ack_expires_at"]
    start = d.get("received_at") or d.get("registered_at")
    if kind == "scheduled":
        start = d["due_at"]  # its escalation is stored as it was (nobody acknowledges it)
    elif closed_at is None and row["acked_at"] is None:
        row["next_escalation_at"] = rules.next_escalation(chain, step, start)
    else:
        row["next_escalation_at"] = None
    if kind == "report":
        severity = rules.effective_level(s, severity, d.get("sensitive", False))
    row["rank"], row["sort_key"] = rules.queue_position(
        rules.severity_of(kind, severity), closed_at=closed_at,
        deadline_at=row["deadline_at"], created_at=start)
    return row


def _report(ctx: Context, r: Any, ref: str | None, row: dict, depts: dict,
            reject: Callable) -> None:
    d = r.data
    row.update({f: d[f] for f in REPORT_FIELDS})
    updates = [u for u in d.get("updates") or [] if u.get("stage") == "followup"]
    row["followups"] = len(updates)
    row["ref"] = ref or _next_ref(ctx, "report", d["received_at"])
    row["status"] = d.get("status") or ("active" if d.get("reported_at") else
                                        ("acknowledged" if d.get("acked_at") else "new"))
    if row["closed_at"] is None:
        last = max((_parse_dt(u.get("at")) for u in updates), default=None)
        _w, row["deadline_at"] = rules.report_deadline(ctx.settings, rules.ReportClock(
            d["level"], d["sensitive"], d["received_at"], d.get("reported_at"),
            len(updates), last))


def _department(r: Any, depts: dict, reject: Callable) -> int | None:
    name = r.data.get("department")
    if not name:
        return None
    if name not in depts:
        raise reject(r, "department", t("import.no_department", name=name))
    return depts[name]


def _work_order(ctx: Context, r: Any, ref: str | None, row: dict, depts: dict,
                reject: Callable) -> None:
    d = r.data
    dept_id = _department(r, depts, reject)
    for code in d.get("assisting") or []:
        if code not in depts:
            raise reject(r, "assisting", t("import.no_department", name=code))
    row.update({f: d[f] for f in WORK_ORDER_FIELDS})
    row["ref"] = ref
    row["department"] = dept_id
    row["assigned_at"] = d.get("assigned_at") or (d["received_at"] if dept_id else None)
    row["status"] = d.get("status") or ("assigned" if dept_id else "received")
    if row["closed_at"] is None:
        row["deadline_at"] = d.get("due_at") or rules.work_order_due(
            ctx.settings, d["received_at"], d["type"], d["urgency"])
    row.update({f: d[f] for f in UNIT_DESK if d.get(f) is not None})


def _supervision(ctx: Context, r: Any, ref: str | None, row: dict, depts: dict,
                 reject: Callable) -> None:
    d = r.data
    row.update({f: d[f] for f in SUPERVISION_FIELDS})
    row["ref"] = ref or _next_ref(ctx, "supervision", d["registered_at"])
    row["department"] = _department(r, depts, reject)
    row["status"] = d.get("status") or "registered"
    if row["closed_at"] is None:
        row["deadline_at"] = d.get("due_at") or rules.supervision_due(
            ctx.settings, d["registered_at"], d["klass"])


def _scheduled(ctx: Context, r: Any, ref: str | None, row: dict, depts: dict,
               reject: Callable) -> None:
    scheduled_row(row, r, depts, reject)


_BUILDERS: dict[str, Callable[..., None]] = {
    "report": _report, "work_order": _work_order, "supervision": _supervision,
    "scheduled": _scheduled}


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
    return to_utc_naive(parsed)  # exports write UTC with "Z"; storage is naive UTC
