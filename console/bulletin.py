"""The weekly or monthly bulletin (值班周报 / 月报), drafted from the figures.

The period is the last complete calendar week (Monday–Sunday) or month before
today, compared with the one before it: totals, the categories rising most, the
units below the satisfaction line (``record.satisfaction_line``, default 85 %),
and the Ⅰ/Ⅱ events still open now.  Every number comes from console.figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .clock import to_local
from .context import Context
from .errors import DutyError
from .figures import Period, department_names, figures
from .figures_out import period_of_days
from .i18n import label, t
from .models import Report
from .printing import Document, Section, chain_head
from .textsafe import one_line

TOP_RISING = 5
OPEN_LIMIT = 50


def satisfaction_line(settings: Any) -> float:
    """``record.satisfaction_line`` as a fraction (85 → 0.85); a bad value is one line."""
    value = (settings.raw.get("record") or {}).get("satisfaction_line", 85)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        source = settings.sources[-1] if settings.sources else "default.yaml"
        raise DutyError(t("record.bad_line", file=one_line(source), got=one_line(repr(value))))
    return float(value) / 100.0


def periods(span: str, today: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """(this period, the one before): complete weeks (Mon–Sun) or months before ``today``."""
    if span == "week":
        last = today - dt.timedelta(days=today.weekday() + 1)  # last Sunday
        first = last - dt.timedelta(days=6)
        return (first, last), (first - dt.timedelta(days=7), first - dt.timedelta(days=1))
    last = today.replace(day=1) - dt.timedelta(days=1)
    first = last.replace(day=1)
    prev_last = first - dt.timedelta(days=1)
    return (first, last), (prev_last.replace(day=1), prev_last)


def _change(now: float | int | None, before: float | int | None, rate: bool) -> str:
    if now is None or before is None:
        return t("record.bulletin.change_same") if now == before else t("record.bulletin.change_new")
    if now == before:
        return t("record.bulletin.change_same")
    if rate:
        pct = t("record.bulletin.points", n=f"{abs(now - before) * 100:.1f}")
    elif before == 0:
        return t("record.bulletin.change_new")
    else:
        pct = f"{abs(now - before) / before:.1%}"
    return t("record.bulletin.change_up" if now > before else "record.bulletin.change_down",
             pct=pct)


def _show(value: Any, rate: bool) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if rate else str(value)


def _totals(ctx: Context, cur: Period, prev: Period) -> Section:
    def both(kind: str, by: str | None = None) -> tuple[dict, dict]:
        kw = {"settings": ctx.settings, "now": ctx.now()}
        return figures(kind, cur, by, **kw), figures(kind, prev, by, **kw)

    wo, wo_prev = both("work_order")
    rp, rp_prev = both("report")
    sv, sv_prev = both("supervision")
    rows = [("orders_received", wo, wo_prev, "received", False),
            ("orders_closed", wo, wo_prev, "closed", False),
            ("closure_rate", wo, wo_prev, "closure_rate", True),
            ("on_time_rate", wo, wo_prev, "on_time_rate", True),
            ("reports_received", rp, rp_prev, "received", False),
            ("supervision_registered", sv, sv_prev, "registered", False)]
    sec = Section(t("record.bulletin.totals"))
    for key, a, b, fig, rate in rows:
        x, y = a["total"].get(fig), b["total"].get(fig)
        sec.lines.append("  " + t("record.bulletin.line", what=t(f"record.bulletin.{key}"),
                                  now=_show(x, rate), before=_show(y, rate),
                                  change=_change(x, y, rate)))
    return sec


def _rising(ctx: Context, cur: Period, prev: Period) -> Section:
    kw = {"settings": ctx.settings, "now": ctx.now()}
    now_g = figures("work_order", cur, "category", **kw).get("groups", {})
    before_g = figures("work_order", prev, "category", **kw).get("groups", {})
    deltas = []
    for code, figs in now_g.items():
        before = before_g.get(code, {}).get("received", 0)
        if figs["received"] > before:
            deltas.append((figs["received"] - before, code, figs["received"], before))
    deltas.sort(key=lambda d: (-d[0], d[1]))
    sec = Section(t("record.bulletin.rising"))
    for delta, code, n, before in deltas[:TOP_RISING]:
        sec.lines.append("  " + t("record.bulletin.rising_line",
                                  category=one_line(code if code != "-" else "—"),
                                  now=n, before=before, delta=delta))
    return sec


def _below(ctx: Context, cur: Period, line: float) -> Section:
    groups = figures("work_order", cur, "department", settings=ctx.settings,
                     now=ctx.now()).get("groups", {})
    names = department_names()
    low = sorted((figs["satisfied_rate"], code, figs["rated"]) for code, figs in groups.items()
                 if figs["rated"] and figs["satisfied_rate"] is not None
                 and figs["satisfied_rate"] < line and code != "-")
    sec = Section(t("record.bulletin.below", line=f"{line:.0%}"))
    for rate, code, rated in low:
        sec.lines.append("  " + t("record.bulletin.below_line",
                                  unit=one_line(names.get(code, code)), rate=f"{rate:.1%}",
                                  rated=rated))
    return sec


def _open_major(ctx: Context) -> Section:
    r = Report
    rows = (r.select(r.ref, r.level, r.title, r.received_at)
            .where(r.closed_at.is_null() & r.level.in_(("I", "II")))
            .order_by(r.received_at).limit(OPEN_LIMIT).tuples())
    sec = Section(t("record.bulletin.open_major"))
    for ref, level, title, at in rows:
        sec.lines.append("  " + t("record.bulletin.open_major_line", ref=one_line(ref),
                                  level=one_line(label("level", level)), title=one_line(title),
                                  at=to_local(at, ctx.settings.tz).strftime("%Y-%m-%d %H:%M")))
    return sec


def bulletin_document(ctx: Context, span: str) -> Document:
    line = satisfaction_line(ctx.settings)
    tz = ctx.settings.tz
    (first, last), (pfirst, plast) = periods(span, to_local(ctx.now(), tz).date())
    cur, prev = period_of_days(first, last, tz), period_of_days(pfirst, plast, tz)
    doc = Document(t(f"record.bulletin.title_{span}", site=one_line(ctx.settings.site_name),
                     first=first.isoformat(), last=last.isoformat()), signatures=False)
    doc.sections = [_totals(ctx, cur, prev), _rising(ctx, cur, prev), _below(ctx, cur, line),
                    _open_major(ctx)]
    for sec in doc.sections:
        if not sec.lines:
            sec.lines.append("  " + t("record.bulletin.none"))
    doc.chain = chain_head()
    return doc
