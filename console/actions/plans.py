"""Emergency plans: activate (启动预案), tick a measure, end the response (响应结束)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import rules
from ..context import Actor, Context
from ..errors import DomainError, NotFound, StaleVersion
from ..i18n import t
from ..models import ActivationMeasure, Plan, PlanActivation, Report
from .plumbing import _require, _text, _transaction, append_event, find_item


def activate_plan(ctx: Context, actor: Actor, plan: Any, report: Any, level: str, *,
                  declared_by: str = "", note: str = "",
                  intent: str | None = None) -> PlanActivation:
    """启动预案: activate a plan for a report at a response level; its checklist is copied."""
    _require(actor, "activate_plan")
    try:
        level = rules.level_of(level)
    except ValueError:
        raise DomainError(t("error.level", value=level)) from None
    if level == "unknown":
        raise DomainError(t("error.level", value=level))

    def body() -> PlanActivation:
        p = plan if isinstance(plan, Plan) else Plan.get_or_none(Plan.code == str(plan).strip())
        if p is None:
            raise NotFound(t("error.not_found", ref=plan))
        r = find_item(report) if report not in (None, "") else None
        if r is not None and not isinstance(r, Report):
            raise DomainError(t("error.not_report", ref=r.ref))
        if r is not None and r.closed_at is not None:
            raise DomainError(t("error.closed", ref=r.ref))
        running = PlanActivation.select().where(
            (PlanActivation.plan == p.id) & (PlanActivation.deactivated_at.is_null())
            & ((PlanActivation.report == r.id) if r else PlanActivation.report.is_null()))
        if running.exists():
            raise DomainError(t("error.plan_active", plan=p.code))
        spec = (p.levels or {}).get(level) or {}
        now = ctx.now()
        activation = PlanActivation.create(
            plan=p.id, report=r.id if r else None, level=level,
            declared_by=_text(declared_by, "declared_by") or spec.get("declared_by", ""),
            activated_by=actor.login, activated_at=now)
        for i, measure in enumerate(spec.get("measures", [])):
            ActivationMeasure.create(activation=activation.id, idx=i, text=str(measure))
        kind, item_id, ref = ("report", r.id, r.ref) if r else ("plan", p.id, p.code)
        if r is not None:  # the report's version moves so every console re-reads it
            Report.update(version=Report.version + 1, updated_at=now).where(
                Report.id == r.id).execute()
        append_event(ctx, actor, kind, item_id, ref, "activate_plan", None,
                     {"plan": p.code, "level": level, "activation": activation.id},
                     _text(note, "note"), row=_row(kind, item_id))
        return activation

    return _transaction(ctx, body, intent=intent,
                        replay=lambda e: PlanActivation.get_by_id(e.after["activation"]))


def _live_activation(activation_id: int, expected_version: int | None) -> PlanActivation:
    """The activation a tick or an end acts on: it exists, is as the caller saw it, runs."""
    act = PlanActivation.get_or_none(PlanActivation.id == activation_id)
    if act is None:
        raise NotFound(t("error.not_found", ref=f"#{activation_id}"))
    if expected_version is not None and act.version != expected_version:
        raise StaleVersion(t("error.stale_plain", ref=f"#{activation_id}"))
    if act.deactivated_at is not None:
        raise DomainError(t("error.plan_ended"))
    return act


def tick_measure(ctx: Context, actor: Actor, activation_id: int, idx: int, *, done: bool = True,
                 expected_version: int | None = None, note: str = "",
                 intent: str | None = None) -> PlanActivation:
    """Tick (or untick) one measure of an activated plan's checklist."""
    _require(actor, "tick_measure")

    def body() -> PlanActivation:
        act = _live_activation(activation_id, expected_version)
        m = ActivationMeasure.get_or_none((ActivationMeasure.activation == act.id)
                                          & (ActivationMeasure.idx == idx))
        if m is None:
            raise NotFound(t("error.not_found", ref=f"#{activation_id}.{idx + 1}"))
        if (m.done_at is not None) == done:
            raise DomainError(t("error.measure_same"))
        now = ctx.now()
        ActivationMeasure.update(done_at=now if done else None,
                                 done_by=actor.login if done else None).where(
            ActivationMeasure.id == m.id).execute()
        PlanActivation.update(version=act.version + 1).where(
            PlanActivation.id == act.id).execute()
        _touch_report(act, now)
        kind, item_id, ref = _activation_item(act)
        append_event(ctx, actor, kind, item_id, ref, "tick_measure" if done else "untick_measure",
                     None, {"activation": act.id, "measure": idx + 1, "text": m.text},
                     _text(note, "note"), row=_row(kind, item_id))
        return PlanActivation.get_by_id(act.id)

    return _transaction(ctx, body, intent=intent,
                        replay=lambda e: PlanActivation.get_by_id(activation_id))


def _activation_item(act: PlanActivation) -> tuple[str, int, str]:
    """(kind, id, ref) the activation's events are filed under: its report, else its plan."""
    if act.report_id:
        return "report", act.report_id, Report.get_by_id(act.report_id).ref
    return "plan", act.plan_id, Plan.get_by_id(act.plan_id).code


def _row(kind: str, item_id: int) -> Report | Plan:
    """The row an activation's event is about, as it now stands (its digest is logged)."""
    return Report.get_by_id(item_id) if kind == "report" else Plan.get_by_id(item_id)


def _touch_report(act: PlanActivation, now: dt.datetime) -> None:
    """A change to a report's activation moves the report's version, so every console
    re-reads it (and the version keeps counting the report's events)."""
    if act.report_id:
        Report.update(version=Report.version + 1, updated_at=now).where(
            Report.id == act.report_id).execute()


def deactivate_plan(ctx: Context, actor: Actor, activation_id: int, *, note: str = "",
                    expected_version: int | None = None,
                    intent: str | None = None) -> PlanActivation:
    """响应结束: end the response under an activated plan."""
    _require(actor, "deactivate_plan")

    def body() -> PlanActivation:
        act = _live_activation(activation_id, expected_version)
        now = ctx.now()
        PlanActivation.update(deactivated_at=now, deactivated_by=actor.login,
                              version=act.version + 1).where(
            PlanActivation.id == act.id).execute()
        _touch_report(act, now)
        kind, item_id, ref = _activation_item(act)
        plan = Plan.get_by_id(act.plan_id)
        append_event(ctx, actor, kind, item_id, ref, "deactivate_plan", None,
                     {"plan": plan.code, "activation": act.id}, _text(note, "note"),
                     row=_row(kind, item_id))
        return PlanActivation.get_by_id(act.id)

    return _transaction(ctx, body, intent=intent,
                        replay=lambda e: PlanActivation.get_by_id(activation_id))


def running_activations(report: Report) -> list[PlanActivation]:
    return list(PlanActivation.select().where((PlanActivation.report == report.id)
                                              & PlanActivation.deactivated_at.is_null())
                .order_by(PlanActivation.id))


def end_with_report(ctx: Context, actor: Actor, report: Report, act: PlanActivation,
                    now: dt.datetime) -> None:
    """End one running activation as its report closes (inside the close's transaction):
    its own event on the report, whose version moves with it."""
    PlanActivation.update(deactivated_at=now, deactivated_by=actor.login,
                          version=act.version + 1).where(PlanActivation.id == act.id).execute()
    Report.update(version=Report.version + 1, updated_at=now).where(
        Report.id == report.id).execute()
    report.version, report.updated_at = report.version + 1, now
    plan = Plan.get_by_id(act.plan_id)
    append_event(ctx, actor, "report", report.id, report.ref, "deactivate_plan", None,
                 {"plan": plan.code, "activation": act.id}, "", row=report)
