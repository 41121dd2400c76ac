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
