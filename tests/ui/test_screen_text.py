"""Text cut or raw on the real screen, found at the keyboard after issue 10 was closed
(§10, §11): each checked on the rendered screen (the SVG screenshot's text).

*Found*: in English the detail's header and the alert list cut the urgency to
``very …``/``very ur…``; an alert's text began with the ``:`` that followed the ref;
the timeline named the unit desk's 签收人 by login (``wangjing``) and the departments an
order passed through by code (``CGJ、DWQ``); the plan library wrapped ``1.`` and
``启动条件:`` alone on their line at 80 columns, drew the level twice (``Ⅰ   Ⅰ 特别重大``)
and named its lead unit by code (``牵头单位： CGJ``).
"""

from __future__ import annotations

import io

from rich.console import Console

from console import actions, i18n
from console.context import Context
from screens.eventtext import change_text
from screens.plans import render_plan
from tests.conftest import ADMIN, OFFICER2
from tests.ui.conftest import select, settle
from tests.ui.test_layout import screen_lines


def _urgent_orders(ctx, n: int = 3) -> list:
    other = Context(ctx.settings, ctx.clock, "other:console")
    return [actions.create_work_order(other, OFFICER2, content=f"井盖丢失第{i}处", type="help",
                                      urgency="very_urgent", caller="赵先生", address="平房区")
            for i in range(n)]


async def test_the_urgency_is_whole_in_the_detail_header_and_the_alert_list(make_app, duty):
    ctx, _refs = duty
    app = make_app(language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.poll_changes()
        await settle(pilot)
        orders = _urgent_orders(ctx)
        ctx.clock.advance(minutes=120)  # none acknowledged in time: escalated, alerts
        app.sweep_now()
        await settle(pilot)
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        lines = [ln for ln in screen_lines(app) if any(o.ref in ln for o in orders)]
        assert lines, screen_lines(app)
        for line in lines:
            assert "very urgent" in line and "very ur…" not in line, line
            what = line.split("very urgent", 1)[1].split(maxsplit=1)[1]  # after the time
            assert not what.startswith((":", "：")), line
        await pilot.press("escape", "2")
        await settle(pilot)
        await select(pilot, orders[0].ref)
        await pilot.press("enter")
        await settle(pilot)
        header = next(ln for ln in screen_lines(app) if orders[0].ref in ln)
        assert "very urgent" in header and "very …" not in header, header


def test_the_timeline_names_who_accepted_and_the_departments_passed_through(duty):
    ctx, _refs = duty
    actions.upsert_department(ctx, ADMIN, code="DWQ", name="道外区政府")
    names = {"wangjing": "王静", "DWQ": "道外区政府", "CGJ": "市城管局"}
    text = change_text("work_order", {"accepted_by": "wangjing", "dept_trail": ["CGJ"]},
                       {"accepted_by": None, "dept_trail": ["CGJ", "DWQ"]}, [], ctx.settings.tz,
                       names)
    assert "王静→—" in text and "市城管局→市城管局、道外区政府" in text, text
    assert "wangjing" not in text and "CGJ" not in text


def _plan_text(plan, names: dict[str, str], width: int) -> list[str]:
    out = io.StringIO()
    Console(width=width, file=out, color_system=None).print(render_plan(plan, names=names))
    return out.getvalue().splitlines()


def test_a_plan_reads_whole_at_80_columns(duty):
    ctx, _refs = duty
    actions.upsert_department(ctx, ADMIN, code="RQJT", name="市燃气集团")
    plan = actions.upsert_plan(
        ctx, ADMIN, code="ZX-RQ-09", title="城市燃气泄漏事故应急预案", kind="special",
        category="accident", owner="RQJT",
        levels={"I": {"criteria": "造成30人以上死亡或需紧急转移安置10万人以上，"
                                  "或事态超出本市处置能力需由省政府统一指挥",
                      "declared_by": "省政府",
                      "measures": ["总值班室接报后立即报告市委书记、市长，30分钟内电话、"
                                   "60分钟内书面报告省委省政府总值班室"]}})
    i18n.set_language("zh-CN")
    try:
        lines = _plan_text(plan, {"RQJT": "市燃气集团"}, 50)
    finally:
        i18n.set_language("en")
    text = "\n".join(lines)
    assert "牵头单位： 市燃气集团" in text and "RQJT" not in text, text
    level = next(ln for ln in lines if "特别重大" in ln)
    assert level.count("Ⅰ") == 1, level
    # the number and the label keep their text beside them; the rest hangs under it
    assert not any(ln.strip() in ("1.", "启动条件:") for ln in lines), text
    first = next(i for i, ln in enumerate(lines) if ln.strip().startswith("1."))
    assert lines[first + 1].startswith(" " * 6) and lines[first + 1][6] != " ", text


def test_an_alert_row_says_what_happened_without_the_refs_colon():
    from types import SimpleNamespace

    from screens.alerts import _what
    from screens.widgets.alerts import Alert

    row = SimpleNamespace(ref="12345-2026000669")
    for message, what in (("12345-2026000669: not accepted by the unit in time",
                           "not accepted by the unit in time"),
                          ("12345-2026000669：承办单位超时未签收", "承办单位超时未签收"),
                          ("未按时确认——已自动升级", "未按时确认——已自动升级")):
        assert _what(Alert("work_order", 1, row.ref, message, "11:26"), row) == what


def test_the_severity_column_is_headed_by_what_it_shows():
    """*Found*: the 12345 queue headed its urgency column "Level"/"等级"."""
    from screens.widgets.columns import heading

    for language, want in (("en", ("Level", "Urgency", "Class")),
                           ("zh-CN", ("等级", "紧急", "分类"))):
        i18n.set_language(language)
        try:
            got = tuple(heading(kind, 120).plain.split()[1]
                        for kind in ("report", "work_order", "supervision"))
        finally:
            i18n.set_language("en")
        assert got == want


def test_a_bunched_filter_tab_note_lands_in_each_field_of_the_assign_prompt(terminal):
    """§8/§9 in a real terminal: ``道外<Tab>夜间电话通知`` in one write (a paste, a slow SSH
    link) filters the units, moves on, and the note is saved with the assignment."""
    term = terminal((80, 24), "zh-CN")
    term.keys("2")
    term.wait_for(lambda s: "承办单位" in s and "12345-" in s)
    term.keys("d")
    term.wait_for(lambda s: "输入文字筛选" in s)
    term.write("道外\t夜间电话通知")
    shown = term.wait_for(lambda s: "夜间电话通知" in s)
    note_row = next(ln for ln in shown.splitlines() if "夜间电话通知" in ln)
    assert "道外" not in note_row, shown
    assert any("DWQ" in ln and "道外区政府" in ln for ln in shown.splitlines()), shown
    term.keys("Enter")
    term.wait_for(lambda s: "交办——已完成" in s)
    term.keys("Enter")  # the detail of the same item: its timeline ends with the note
    term.wait_for(lambda s: "处理记录" in s or "基本信息" in s)
    for _ in range(10):  # the timeline may still be growing below: to its end again
        term.keys("End")
        term.settle()
        if "夜间电话通知" in term.screen():
            break
    shown = term.screen()
    assert "夜间电话通知" in shown and "道外区政府" in shown, shown


def test_the_filters_received_row_says_dates():
    """*Found*: "Received (days)" beside two YYYY-MM-DD fields."""
    assert i18n.t("ui.filter.received") == "Received (dates)"
