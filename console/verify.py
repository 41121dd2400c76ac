"""``dutyroom verify``: walk the event log and recompute its hash chain."""

from __future__ import annotations

from .actions import GENESIS, event_digest
from .models import Event

PAGE = 5000


def verify_chain() -> tuple[bool, int, int | None, str]:
    """(ok, events checked, first bad event id, problem)."""
    prev = GENESIS
    last_id, n = 0, 0
    while True:
        rows = list(Event.select().where(Event.id > last_id).order_by(Event.id).limit(PAGE))
        if not rows:
            return True, n, None, ""
        for e in rows:
            if e.prev_hash != prev:
                return False, n, e.id, "prev_hash does not match the event before it"
            row = {"at": e.at, "actor": e.actor, "console": e.console, "item_kind": e.item_kind,
                   "item_ref": e.item_ref, "action": e.action, "before": e.before,
                   "after": e.after, "note": e.note}
            if event_digest(prev, row) != e.hash:
                return False, n, e.id, "content does not match its hash (altered)"
            prev = e.hash
            n += 1
        last_id = rows[-1].id
