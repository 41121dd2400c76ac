"""The detail and timeline speak the interface language (issue 10 §10).

*Found*: the zh-CN timeline showed ``plan ZX-RQ-01``, ``measure 1``, ``acked_by``,
``reported_at``, ``step``, ``followups``, ``closed_at``, ``类型 enquiry; 紧急程度
normal``, ``渠道 phone``, ``assisting departments []→['DWQ']`` and the sweep's
English reason; ``field.assigned_at`` and ``field.reply`` were unresolved in both
languages.  Items here go through every verb of the table and the sweep; their
detail and timeline, rendered as the terminal shows them, must hold no raw key,
no English enum word and no identifier-like field name (zh-CN), no raw key and no
identifier (en).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from rich.console import Console, Group

from console import actions, i18n, queries, sweep, verbs
from console.context import Context
from screens.detail import render_detail
from screens.eventtext import names_for
from tests.conftest import ADMIN, LEADER, OFFICER, OFFICER2

RAW_KEY = re.compile(r"\b(field|ui|action|done|status|level|level_short|event|stage|klass|"
                     r"urgency|wo_type|channel|category|role|health|plan_kind|bulk)\.[a-z_]+")
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b")  # acked_by, very_urgent, in_progress …
ASCII_WORD = re.compile(r"(?<![A-Za-z0-9:/-])[a-z]{3,}\b")  # enquiry, phone, normal, plan …
PY_REPR = re.compile(r"\[\]|\['|\{'")


def _every_verb(ctx) -> list[tuple[str, int]]:
    """A report, a work order and a supervision item through every verb and the sweep."""
    actions.upsert_department(ctx, ADMIN, code="DWQ", name="道外区政府")
    r = actions.create_report(ctx, OFFICER, title="道外区燃气管道泄漏", category="accident",
                              subtype="gas_leak", level="unknown", place="道外区南马路",
                              injured=1)
    key = ("report", r.id)
    actions.acknowledge(ctx, OFFICER, key, note="已确认")
    actions.change_level(ctx, OFFICER, key, "II", note="核实后定级")
    actions.escalate(ctx, OFFICER, key, note="电话报告带班领导")
    actions.acknowledge(ctx, LEADER, key)
    actions.escalate(ctx, LEADER, key, to_step=3, note="报秘书长")
    actions.assign(ctx, OFFICER, key, "RQJT", note="通知燃气集团")
    actions.urge(ctx, OFFICER, key, note="催报处置进展")
    actions.follow_up(ctx, OFFICER, key, "已关阀，疏散居民", injured=2)
    actions.instruct(ctx, LEADER, key, "全力处置，防止次生灾害", leader=LEADER.login)
    actions.note(ctx, OFFICER, key, "现场记者已到")
    act = actions.activate_plan(ctx, LEADER, "ZX-RQ-01", key, "II")
    actions.tick_measure(ctx, OFFICER, act.id, 0)
    sv = actions.register_supervision(ctx, LEADER, title="燃气隐患整改", klass="urgent",
                                      source=r.ref)
    actions.close(ctx, LEADER, key, "险情排除，终报", end_plans=True)
    actions.reopen(ctx, LEADER, key, "居民反映仍有气味")
    w = actions.create_work_order(ctx, OFFICER, content="咨询燃气开户", type="enquiry",
                                  urgency="normal", caller="王先生", phone="13800003333",
                                  address="道外区")
    wk = ("work_order", w.id)
    actions.assign(ctx, OFFICER, wk, "GRB", assisting=["DWQ"], note="派单")
    actions.acknowledge(ctx, OFFICER2, wk)
    actions.extend(ctx, OFFICER2, wk, "需现场核查")
    actions.return_order(ctx, OFFICER2, wk, "非本单位职责")
    actions.assign(ctx, OFFICER, wk, "ZJJ")
    actions.urge(ctx, OFFICER, wk, note="电话催办")
    actions.reply(ctx, OFFICER, wk, "已答复市民")
    actions.visit(ctx, OFFICER, wk, 4, note="回访满意")
    actions.close(ctx, OFFICER, wk)
    actions.reopen(ctx, OFFICER, wk, "市民再次来电")
    sk = ("supervision", sv.id)
    actions.assign(ctx, OFFICER, sk, "ZJJ")
    actions.acknowledge(ctx, OFFICER, sk)
    actions.extend(ctx, LEADER, sk, "整改周期长")
    actions.close(ctx, LEADER, sk, "已整改销号")
    actions.reopen(ctx, LEADER, sk, "复查未达标")
    # the sweep: the reopened items miss their acknowledgement and their deadlines
    for minutes in (45, 60 * 24 * 20):
        ctx.clock.advance(minutes=minutes)
        sweep.auto_escalate(ctx)
    return [key, wk, sk]


def _rendered(ctx, key: tuple[str, int]) -> str:
    d = queries.detail(*key)
    out = io.StringIO()
    console = Console(width=400, file=out, color_system=None, legacy_windows=False)
    console.print(Group(*render_detail(d, ctx.settings, ctx.now(), names_for(d))))
    text = out.getvalue()
    return text.replace(ctx.console, "").replace("other:console", "")


def test_every_verb_is_exercised_here():
    used = {"acknowledge", "escalate", "assign", "urge", "extend", "return_order", "follow_up",
            "instruct", "reply", "visit", "close", "reopen", "note", "change_level",
            "register_supervision", "activate_plan",
            # exercised by their own suites (tests/core/test_unit_desk.py, test_merge.py,
            # test_scheduled_reports.py), not in this timeline
            "accept", "ask_return", "approve_return", "refuse_return", "visit_no_redo",
            "merge", "unmerge", "link_related", "receive_scheduled"}
    missing = {v.action for v in verbs.VERBS if v.action} - used
    assert not missing, f"add these verbs to _every_verb: {missing}"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_detail_and_timeline_have_no_raw_text(duty, language):
    ctx, _refs = duty
    ctx = Context(ctx.settings, ctx.clock, ctx.console)
    ctx.clock.set(ctx.now() + dt.timedelta(minutes=1))
    # the room acts in its own language too: a note the core composes (批示 by …, 记录 by …)
    # is stored as it was said, in the language of the console that wrote it
    i18n.set_language(language)
    try:
        keys = _every_verb(ctx)
        for key in keys:
            text = _rendered(ctx, key)
            assert not RAW_KEY.findall(text), (key, RAW_KEY.findall(text))
            assert not IDENTIFIER.findall(text), (key, IDENTIFIER.findall(text))
            assert not PY_REPR.findall(text), (key, text)
            if language == "zh-CN":
                assert not ASCII_WORD.findall(text), (key, ASCII_WORD.findall(text))
                assert "自动升级" in text, text
    finally:
        i18n.set_language("en")



def _rendered_in(ctx, key, language: str) -> str:
    i18n.set_language(language)
    try:
        return _rendered(ctx, key)
    finally:
        i18n.set_language("en")
