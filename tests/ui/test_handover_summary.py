"""The 情况清 the handover form pre-fills counts every item handed over (issue 10 §3).

*Found* on the demo: the form said "移交：突发事件 10 件，12345 工单 182 件，督办件 9 件"
(201) above "移交事项（211）": the 10 scheduled reports (定期报送) handed over with them
were not counted.
"""

from __future__ import annotations

import datetime as dt

from console import shiftwork
from console.actions import scheduled
from screens.handover import read_handover
from tests.conftest import OFFICER
from tests.ui.test_handover_accept import next_shift


def test_the_situation_counts_the_scheduled_reports_too(duty):
    ctx, _refs = duty
    next_shift(ctx)
    assert scheduled.create_expected(ctx, ctx.now() - dt.timedelta(days=8),
                                     ctx.now() + dt.timedelta(days=1))
    items = shiftwork.state(ctx, OFFICER.login, ctx.now()).items
    n = sum(1 for kind, *_ in items if kind == "scheduled")
    summary = read_handover(ctx, OFFICER).summary
    assert summary.endswith(f", {n} scheduled report" + ("s" if n != 1 else "")), summary
