"""The handover report (交接班) and the duty log (值班日志), as plain text for print and archive."""

from __future__ import annotations

import datetime as dt

from . import queries
from .clock import to_local, to_utc_naive
from .context import Context
from .errors import DutyError
from .i18n import label, t
from .models import ITEM_MODELS, ActivationMeasure, Event

OPEN_LIMIT = 40


def _fmt(ctx: Context, at: dt.datetime | None) -> str:
    return to_local(at, ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if at else "—"


def handover_report(ctx: Context, now: dt.datetime | None = None) -> str:
    now = now or ctx.now()
    team = queries.duty_team(now)
    lines = [t("handover.title", site=ctx.settings.site_name), ""]
    if team.shift is None:
        lines.append(t("handover.no_shift", at=_fmt(ctx, now)))
        since = now - dt.timedelta(hours=24)
    else:
        s = team.shift
        since = s.starts_at
        lines.append(t("handover.shift", ref=s.ref, start=_fmt(ctx, s.starts_at),
                       end=_fmt(ctx, s.ends_at)))
        lines.append(t("handover.team", leader=team.leader.name if team.leader else "—",
                       primary=team.primary.name if team.primary else "—",
                       secondary=team.secondary.name if team.secondary else "—"))
    lines.append(t("handover.generated", at=_fmt(ctx, now), who=ctx.console))
    lines.append("")
    received = {}
    for kind, model in ITEM_MODELS.items():
        column = model.registered_at if kind == "supervision" else model.received_at
        received[kind] = model.select().where((column >= since) & (column <= now)).count()
    lines.append(t("handover.received", reports=received["report"],
                   orders=received["work_order"], items=received["supervision"]))
    lines.append("")
    for heading, overdue in (("handover.overdue_heading", True), ("handover.open_heading", False)):
        block: list[str] = []
        total = 0
        for kind in queries.KINDS:
            f = queries.QueueFilter(kind, overdue_only=overdue, now=now)
            n = queries.count(f)
            total += n
            for row in queries.window(f, 0, OPEN_LIMIT, total=n):
                block.append("  " + t("handover.item_line", ref=row.ref,
                                      severity=_severity(kind, row.severity), title=row.title,
                                      status=label(f"status.{kind}", row.status),
                                      step=row.step_name or "—", due=_fmt(ctx, row.deadline_at)))
            if n > OPEN_LIMIT:
                block.append("  " + t("handover.open_more", n=n - OPEN_LIMIT))
        lines.append(t(heading, n=total))
        lines.extend(block or ["  " + t("handover.none")])
        lines.append("")
    active = queries.active_activations()
    lines.append(t("handover.plans_heading", n=len(active)))
    for act, plan in active:
        measures = list(ActivationMeasure.select().where(ActivationMeasure.activation == act.id))
        done = sum(1 for m in measures if m.done_at)
        lines.append("  " + t("handover.plan_line", code=plan.code, title=plan.title,
                              level=label("level_short", act.level), done=done,
                              total=len(measures)))
    if not active:
        lines.append("  " + t("handover.none"))
    lines += ["", t("handover.signature")]
    return "\n".join(lines)


def _severity(kind: str, value: str) -> str:
    group = {"report": "level_short", "work_order": "urgency", "supervision": "klass"}[kind]
    return label(group, value)


def _parse_local(ctx: Context, text: str, field: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise DutyError(t("error.option_time", option=field, got=repr(text))) from None
    return to_utc_naive(parsed, ctx.settings.tz)


def duty_log(ctx: Context, since: str | None = None, until: str | None = None,
             limit: int = 100000) -> str:
    """Numbered events of a period (default: the current shift so far)."""
    now = ctx.now()
    if since:
        start = _parse_local(ctx, since, "since")
    else:
        team = queries.duty_team(now)
        start = team.shift.starts_at if team.shift else now - dt.timedelta(hours=24)
    end = _parse_local(ctx, until, "until") if until else now
    lines = [t("handover.log_title", since=_fmt(ctx, start), until=_fmt(ctx, end))]
    rows = (Event.select().where((Event.at >= start) & (Event.at <= end))
            .order_by(Event.id).limit(limit))
    for n, e in enumerate(rows, 1):
        lines.append(t("handover.log_line", n=n, at=_fmt(ctx, e.at),
                       who=e.actor_name or e.actor, ref=e.item_ref,
                       action=label("done", e.action), note=(e.note or "").replace("\n", " ")))
    return "\n".join(lines)
