"""The sweep's extra triggers (issue 11): orders not accepted in time, problem orders
(问题工单) and acknowledgements that expired.

Each is found through a partial index (migration 0007) and fired through
``actions.sweep_batch``, which hands these reasons to ``sweep_one`` under the write
lock; the trigger is re-checked there, so any number of consoles sweeping at once
fire it once.  Also here: when an acknowledgement lapses (``ack_expiry_values``,
applied by every item action in ``actions.plumbing._change``).

No import of console.actions at module level: actions.plumbing imports this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import rules
from .i18n import t
from .models import ITEM_MODELS, Item, SupervisionItem, WorkOrder
from .settings import Settings

NOT_ACCEPTED, PROBLEM, ACK_EXPIRED = "not_accepted", "problem", "ack_expired"
REASONS = (NOT_ACCEPTED, PROBLEM, ACK_EXPIRED)


# --------------------------------------------------------------------------- expiry rule


def ack_expiry_values(settings: Settings, item: Item, values: dict[str, Any],
                      now: dt.datetime) -> dict[str, Any]:
    """``ack_expires_at`` after a change: ``now`` plus the configured minutes while the
    item stays acknowledged and open (any action restarts the countdown), else none."""
    def get(name: str) -> Any:
        return values[name] if name in values else getattr(item, name)

    minutes = settings.unitdesk.ack_minutes(item.KIND, get(item.SEVERITY_FIELD))
    if get("acked_at") is None or get("closed_at") is not None or not minutes:
        return {"ack_expires_at": None} if item.ack_expires_at is not None else {}
    return {"ack_expires_at": now + dt.timedelta(minutes=minutes)}


# --------------------------------------------------------------------------- triggers


def due_triggers(settings: Settings, now: dt.datetime,
                 limit: int | None = None) -> list[tuple[str, int, str]]:
    """What of the unit desk is due at ``now``: each question an index range."""
    wo = WorkOrder
    out: list[tuple[str, int, str]] = []
    late = (wo.select(wo.id).where(wo.accept_due_at.is_null(False) & wo.accepted_at.is_null()
                                   & wo.accept_overdue_at.is_null() & (wo.accept_due_at <= now))
            .order_by(wo.accept_due_at).limit(limit))
    out.extend(("work_order", i, NOT_ACCEPTED) for (i,) in late.tuples())
    desk = settings.unitdesk
    for column, threshold in ((wo.returns, desk.problem_returns),
                              (wo.dept_count, desk.problem_departments)):
        hits = (wo.select(wo.id).where(wo.problem_ref.is_null() & (column >= threshold)
                                       & wo.closed_at.is_null())
                .order_by(column).limit(limit))  # the partial index's order: no scan
        out.extend(("work_order", i, PROBLEM) for (i,) in hits.tuples())
    for kind, model in ITEM_MODELS.items():
        lapsed = (model.select(model.id).where(model.ack_expires_at.is_null(False)
                                               & (model.ack_expires_at <= now))
                  .order_by(model.ack_expires_at).limit(limit))
        out.extend((kind, i, ACK_EXPIRED) for (i,) in lapsed.tuples())
    return list(dict.fromkeys(out))  # an order over both thresholds: one trigger


# --------------------------------------------------------------------------- firing


def sweep_one(ctx: Any, kind: str, item_id: int, reason: str) -> Item | None:
    """Fire one trigger, re-checked inside the sweep's write transaction (None: not due)."""
    model = ITEM_MODELS[kind]
    item = model.get_or_none(model.id == item_id)
    now = ctx.now()
    if item is None or item.closed_at is not None:
        return None
    if reason == NOT_ACCEPTED:
        return _not_accepted(ctx, item, now)
    if reason == PROBLEM:
        return _problem(ctx, item, now)
    return _ack_expired(ctx, item, now)


def _write(ctx: Any, item: Item, values: dict[str, Any], action: str, note: str,
           now: dt.datetime) -> Item | None:
    from .actions.plumbing import _versioned_update
    from .context import Actor

    return item if _versioned_update(ctx, Actor.system(), item, values, action, note,
                                     now=now) else None


def _not_accepted(ctx: Any, item: Item, now: dt.datetime) -> Item | None:
    """签收 missed: escalated one step once, like a missed deadline."""
    assert isinstance(item, WorkOrder)
    if (item.accepted_at is not None or item.accept_overdue_at is not None
            or item.accept_due_at is None or item.accept_due_at > now):
        return None
    values: dict[str, Any] = {"accept_overdue_at": now}
    if item.step + 1 < len(item.chain):
        values.update({"step": item.step + 1, "acked_by": None, "acked_at": None,
                       "next_escalation_at": rules.next_escalation(item.chain, item.step + 1,
                                                                   now)})
        if item.ack_expires_at is not None:
            values["ack_expires_at"] = None
    return _write(ctx, item, values, "accept_overdue", t("unitdesk.event.not_accepted"), now)


def is_problem(settings: Settings, order: WorkOrder) -> bool:
    desk = settings.unitdesk
    return (order.returns >= desk.problem_returns
            or order.dept_count >= desk.problem_departments)


def _problem(ctx: Any, item: Item, now: dt.datetime) -> Item | None:
    """问题工单: registered once as a supervision item (提级督办), linked both ways."""
    from .actions.create import _insert_item
    from .actions.plumbing import _next_ref
    from .context import Actor

    assert isinstance(item, WorkOrder)
    if item.problem_ref is not None or not is_problem(ctx.settings, item):
        return None
    klass = ctx.settings.unitdesk.problem_class
    chain = rules.chain_snapshot(ctx.settings, "supervision", "default")
    why = t("unitdesk.problem_why", returns=item.returns, departments=item.dept_count)
    sv = SupervisionItem(
        ref=_next_ref(ctx, "supervision", now), status="registered", created_at=now,
        updated_at=now, registered_at=now, klass=klass, source_kind="work_order",
        source_ref=item.ref, department=item.department_id, chain=chain, step=0,
        title=t("unitdesk.problem_title", ref=item.ref)[:200],
        content=f"{why}\n{item.content}"[:4000],
        next_escalation_at=rules.next_escalation(chain, 0, now),
        deadline_at=rules.supervision_due(ctx.settings, now, klass))
    _insert_item(ctx, Actor.system(), sv, {"klass": klass, "source": item.ref}, why)
    return _write(ctx, item, {"problem_ref": sv.ref}, "problem_order",
                  t("unitdesk.event.problem", ref=sv.ref, why=why), now)


def _ack_expired(ctx: Any, item: Item, now: dt.datetime) -> Item | None:
    """The acknowledgement lapsed: alert again, the chain resumes from the same step."""
    if item.acked_at is None or item.ack_expires_at is None or item.ack_expires_at > now:
        return None
    values = {"acked_by": None, "acked_at": None, "ack_expires_at": None,
              "next_escalation_at": rules.next_escalation(item.chain, item.step, now)}
    return _write(ctx, item, values, "ack_expired",
                  t("unitdesk.event.ack_expired", who=item.acked_by or ""), now)
