"""Auto-escalation and overdue detection: idempotent, safe from any number of consoles.

Two triggers, each found through an index and fired through
``actions.sweep_batch`` (which re-checks it under the write lock):
- unacknowledged: the current step did not acknowledge within its wait;
- overdue: the item's deadline passed — marked once per deadline, one step up.
A missed deadline on an item at the top of its chain is still marked overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .actions import sweep_batch
from .context import Context
from .models import ITEM_MODELS

BATCH = 200


@dataclass(frozen=True)
class SweepResult:
    escalated: list[tuple[str, str, str]]  # (kind, ref, reason)

    def __len__(self) -> int:
        return len(self.escalated)


def due_triggers(now: dt.datetime, limit: int | None = None) -> list[tuple[str, int, str]]:
    """What is due at ``now``: overdue first (a missed deadline is the worse news)."""
    out: list[tuple[str, int, str]] = []
    for kind, model in ITEM_MODELS.items():
        overdue = (model.select(model.id)
                   .where(model.deadline_at.is_null(False) & model.overdue_at.is_null()
                          & (model.deadline_at <= now))
                   .order_by(model.deadline_at).limit(limit))
        out.extend((kind, i, "overdue") for (i,) in overdue.tuples())
    for kind, model in ITEM_MODELS.items():
        unacked = (model.select(model.id).where(model.next_escalation_at <= now)
                   .order_by(model.next_escalation_at).limit(limit))
        out.extend((kind, i, "unacknowledged") for (i,) in unacked.tuples())
    return out


def auto_escalate(ctx: Context, *, limit: int | None = None) -> SweepResult:
    """Escalate everything due now; return what this call escalated (others may do the rest)."""
    escalated: list[tuple[str, str, str]] = []
    triggers = due_triggers(ctx.now(), limit)
    for start in range(0, len(triggers), BATCH):
        batch = triggers[start:start + BATCH]
        escalated.extend((it.KIND, it.ref, reason) for it, reason in sweep_batch(ctx, batch))
    return SweepResult(escalated)
