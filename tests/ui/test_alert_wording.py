"""The alert list's line for an item escalated before the console started (issue 10 §5, §6).

*Found* at the keyboard: a report escalated by hand (e, then not yet acknowledged by the
next step) was listed as "未按时确认——已自动升级到第 3 级" — the row does not say whether
the sweep or a person escalated it, and it was a person.
"""

from __future__ import annotations

from console import actions
from console.queries import QueueFilter, window
from screens.alerts import alert_of
from tests.conftest import OFFICER


def test_an_item_escalated_by_hand_is_not_called_escalated_automatically(duty):
    ctx, refs = duty
    from console import i18n

    i18n.set_language("zh-CN")
    try:
        item = actions.escalate(ctx, OFFICER, refs["gas"], note="电话报告带班领导")
        row = next(r for r in window(QueueFilter("report", unacked_only=True), 0, 50)
                   if r.id == item.id)
        message = alert_of(row, ctx.settings.tz).message
    finally:
        i18n.set_language("en")
    assert "自动" not in message
    assert message == f"{item.ref} 已升级到第 {item.step + 1} 级，尚未确认"


def test_an_overdue_alert_shows_when_it_went_overdue_not_the_last_change(duty):
    """Found: after a take-over (one event on every open item) every alert in the list
    showed the take-over's time; an overdue item's alert shows when it went overdue."""
    import dataclasses
    import datetime as dt

    ctx, refs = duty
    row = next(iter(window(QueueFilter("report"), 0, 50)))
    late = dataclasses.replace(row, overdue_at=dt.datetime(2026, 11, 27, 1, 5),
                               updated_at=dt.datetime(2026, 11, 27, 9, 40))
    assert alert_of(late, ctx.settings.tz).at == "09:05"  # 01:05 UTC in UTC+8
    fresh = dataclasses.replace(row, overdue_at=None, updated_at=dt.datetime(2026, 11, 27, 9, 40))
    assert alert_of(fresh, ctx.settings.tz).at == "17:40"
