"""Auto-escalation and overdue detection: idempotent, safe from any number of consoles.

Two triggers, each found through an index and fired through
``actions.sweep_due`` (which re-checks it under the write lock):
- unacknowledged: the current step did not acknowledge within its wait;
- overdue: the item's deadline passed — marked once per deadline, one step up.
A missed deadline on an item at the top of its chain is still marked overdue.

A backlog (after an outage or an import) is swept in batches of ``BATCH``, each its
own short transaction that finds what is due *under the write lock* — so any number
of sweepers share the work exactly once and none holds the lock for long.  A console
sweeps for at most ``BUDGET`` seconds per tick (its worker yields between batches;
the next tick, or another console, goes on); ``dutyroom sweep`` runs to the end.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from . import problems
from .actions import sweep_due, sweep_problems
from .actions.scheduled import sweep as sweep_scheduled
from .context import Context
from .models import ITEM_MODELS

BATCH = 200  # triggers per transaction (read at call time: tests and benches set it)
BUDGET = 2.0  # seconds of sweeping per console tick; None runs to the end


@dataclass(frozen=True)
class SweepResult:
    escalated: list[tuple[str, str, str]]  # (kind, ref, reason)
    complete: bool = True  # False: stopped at the time budget with work left

    def __len__(self) -> int:
        return len(self.escalated)


def due_triggers(now: dt.datetime, limit: int | None = None) -> list[tuple[str, int, str]]:
    """What is due at ``now`` (at most ``limit``): overdue first (the worse news)."""
    out: list[tuple[str, int, str]] = []
    for reason in ("overdue", "unacknowledged"):
        for kind, model in ITEM_MODELS.items():
            left = None if limit is None else limit - len(out)
            if left is not None and left <= 0:
                return out
            if reason == "overdue":
                q = (model.select(model.id)
                     .where(model.deadline_at.is_null(False) & model.overdue_at.is_null()
                            & (model.deadline_at <= now))
                     .order_by(model.deadline_at))
            else:
                q = (model.select(model.id).where(model.next_escalation_at <= now)
                     .order_by(model.next_escalation_at))
            out.extend((kind, i, reason) for (i,) in q.limit(left).tuples())
    return out


def auto_escalate(ctx: Context, *, batch: int | None = None,
                  budget: float | None = -1.0) -> SweepResult:
    """Escalate what is due now, batch by batch; return what this call escalated.

    ``budget``: seconds after which no new batch starts (default ``BUDGET``; None:
    until nothing is due).  Each batch looks up its triggers inside its own write
    transaction, so what another sweeper did meanwhile is never done twice.
    """
    size = batch or BATCH
    budget = BUDGET if budget is not None and budget < 0 else budget
    stop = None if budget is None else time.monotonic() + budget
    escalated: list[tuple[str, str, str]] = []
    # 定期报送 first: a report past due + grace is marked missing (its own overdue event),
    # so the general overdue trigger below does not fire for it a second time
    escalated.extend((it.KIND, it.ref, r) for it, r in sweep_scheduled(ctx))
    complete = True
    while True:
        found, done = sweep_due(ctx, lambda: due_triggers(ctx.now(), size))
        escalated.extend((it.KIND, it.ref, reason) for it, reason in done)
        if found < size or not done:
            break  # nothing more due (or only what cannot move: never loop on it)
        if stop is not None and time.monotonic() >= stop:
            complete = False  # the rest is for the next tick or another console
            break
        time.sleep(0)  # between transactions: let the UI thread and other writers in
    # other triggers of the sweep: one line each below
    escalated.extend((it.KIND, it.ref, r) for it, r in sweep_problems(  # issue 11's unit desk
        ctx, problems.due_triggers(ctx.settings, ctx.now(), size)))
    return SweepResult(escalated, complete)
