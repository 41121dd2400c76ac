"""The text outputs: handover report, duty log, export (issue 9 §3 and §6, issue 10 §13).

Text from the data never drives a terminal (a title holding ``ESC [2J`` or an OSC 52
clipboard write prints as ``␛[2J``) and never runs as a spreadsheet formula; JSON Lines
keeps the original, as evidence.  Export reads one snapshot and never leaves a partial file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from console import actions, export, intake
from console import db as dbmod
from console.errors import DutyError
from console.handover import duty_log, handover_report
from console.models import Event
from console.textsafe import is_safe
from tests.conftest import ADMIN, LEADER, OFFICER

pytestmark = pytest.mark.usefixtures("roster")

CLEAR, OSC_TITLE, OSC_CLIP = "\x1b[2J\x1b[31m", "\x1b]0;TITLE\x07", "\x1b]52;c;aGFjaw==\x07"
HOSTILE = f"{CLEAR}HACK{OSC_TITLE}\u202e{OSC_CLIP}\x9b5m"


def _hostile_data(ctx):
    r = actions.create_report(ctx, OFFICER, title=HOSTILE, category="accident", level="III",
                              summary=HOSTILE)
    actions.note(ctx, OFFICER, r, HOSTILE)
    wo = actions.create_work_order(ctx, OFFICER, content="=HYPERLINK(\"http://x\")" + HOSTILE,
                                   type="complaint", caller="@SUM(A1)", phone="+86 138")
    return r, wo


def test_handover_report_writes_no_control_characters(ctx, db):
    _hostile_data(ctx)
    text = handover_report(ctx)
    assert is_safe(text), repr(text)
    assert "␛[2J␛[31mHACK" in text and "\x1b" not in text and "\u202e" not in text


def test_duty_log_writes_no_control_characters(ctx, db):
    _hostile_data(ctx)
    text = duty_log(ctx, since="2026-11-27T00:00")
    assert is_safe(text) and "\x07" not in text and "␛]52;c;" in text


def test_csv_export_is_safe_and_neutralises_formulas(ctx, db):
    _hostile_data(ctx)
    out = io.StringIO()
    export.write(out, "csv")
    text = out.getvalue()
    assert is_safe(text.replace("\r\n", "\n")), repr(text[:400])
    rows = list(csv.DictReader(io.StringIO(text)))
    order = next(r for r in rows if r["kind"] == "work_order")
    assert order["content"].startswith("'=HYPERLINK(")
    assert order["caller"] == "'@SUM(A1)" and order["phone"] == "'+86 138"


def test_jsonl_export_keeps_the_original_text(ctx, db):
    _hostile_data(ctx)
    out = io.StringIO()
    export.write(out, "jsonl")
    text = out.getvalue()
    assert is_safe(text) and "\u202e" not in text  # escaped in the JSON, not dropped
    report = next(json.loads(x) for x in text.split("\n")[:-1]
                  if json.loads(x)["kind"] == "report")
    assert report["title"] == HOSTILE  # the archive is evidence


def test_export_reads_one_snapshot(ctx, db, db_url, monkeypatch):
    """A write from another console while the export runs is not half in it."""
    actions.create_work_order(ctx, OFFICER, content="路灯不亮", type="help")
    n_events = Event.select().count()
    other = dbmod.open_database(db_url, bind=False)
    plain_item, done = export._item, []

    def item_then_write(*args, **kwargs):
        if not done:  # mid-export, another connection commits an event
            done.append(1)
            p = other.param
            other.execute_sql(
                'INSERT INTO "event" (at, actor, actor_name, console, item_kind, item_id, '
                f'item_ref, action, note, prev_hash, hash) VALUES ({", ".join([p] * 11)})',
                (dt.datetime(2026, 11, 27), "x", "x", "x", "work_order", 1, "R", "note", "",
                 "0", "1"))
        return plain_item(*args, **kwargs)

    monkeypatch.setattr(export, "_item", item_then_write)
    out = io.StringIO()
    counts = export.write(out, "jsonl")
    other.close()
    assert done and counts["events"] == n_events
    assert Event.select().count() == n_events + 1  # the write did happen, after the snapshot


def test_failed_export_leaves_the_target_as_it_was(ctx, db, tmp_path, monkeypatch):
    for text in ("路灯不亮", "井盖丢失"):
        actions.create_work_order(ctx, OFFICER, content=text, type="help")
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "backup.jsonl"
    target.write_text("yesterday's export\n", encoding="utf-8")
    plain_item, calls = export._item, []

    def fail_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return plain_item(*args, **kwargs)

    monkeypatch.setattr(export, "_item", fail_on_second)
    with pytest.raises(DutyError) as info:
        export.export_to(target)
    assert str(info.value).endswith("backup.jsonl: No space left on device")
    assert target.read_text(encoding="utf-8") == "yesterday's export\n"
    assert [p.name for p in target.parent.iterdir()] == ["backup.jsonl"]  # no temporary left
    monkeypatch.setattr(export, "_item", plain_item)
    export.export_to(target)
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text(encoding="utf-8").count('"kind": "work_order"') == 2


# --------------------------------------------------------------------------- duty log detail


def test_duty_log_says_what_each_action_did(ctx, db, clock):
    plan = actions.upsert_plan(
        ctx, ADMIN, code="ZX-RQ-01", title="燃气泄漏事故应急预案", kind="special",
        category="accident", subtype="gas_leak",
        levels={"II": {"criteria": "10人以上死亡", "declared_by": "省政府",
                       "measures": ["召开指挥部会议", "报告省应急办", "派出抢险队伍"]}})
    r = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="III")
    act = actions.activate_plan(ctx, OFFICER, plan.code, r.ref, "II")
    actions.tick_measure(ctx, OFFICER, act.id, 1)
    actions.escalate(ctx, OFFICER, r)
    actions.change_level(ctx, LEADER, r, "II")
    wo = actions.create_work_order(ctx, OFFICER, content="路灯不亮", type="help",
                                   department="ZJJ")
    actions.visit(ctx, OFFICER, actions.reply(ctx, OFFICER, wo, "已修复"), 4)
    text = duty_log(ctx, since="2026-11-27T00:00")
    assert "ZX-RQ-01 level II" in text, text
    assert "measure 2: 报告省应急办" in text
    assert "→ 带班领导" in text
    assert "re-levelled III → II" in text
    assert "satisfaction 4/5" in text


def test_duty_log_with_a_damaged_chain_still_prints(ctx, db):
    """Issue 9 §1: an item whose chain is stored as ``{broken`` made ``dutyroom log`` an
    "unexpected error (JSONDecodeError)"; its escalation is listed without the step name."""
    from peewee import SQL

    from console.models import Report

    r = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="III")
    actions.escalate(ctx, OFFICER, r)
    Report.update({Report.chain: SQL("'{broken'")}).where(Report.id == r.id).execute()
    text = duty_log(ctx, since="2026-11-27T00:00")
    assert f"{r.ref}  escalated" in text, text


def test_duty_log_one_entry_per_import(ctx, db, tmp_path):
    path = tmp_path / "backup.jsonl"
    path.write_text("".join(json.dumps({"kind": "work_order", "ticket": f"T-{i}",
                                        "received_at": "2026-11-27T09:00", "type": "help",
                                        "content": "x"}) + "\n" for i in range(5)),
                    encoding="utf-8")
    actions.import_records(ctx, ADMIN, intake.load_file(path, ctx.settings), source=path.name)
    actions.create_work_order(ctx, OFFICER, content="路灯不亮", type="help")
    lines = duty_log(ctx, since="2026-11-27T00:00").splitlines()
    assert [x for x in lines if "backup.jsonl" in x or "T-" in x] == [
        f"{len(lines) - 2}. 2026-11-27 10:00  管理员    import backup.jsonl: 5 records"]
    assert lines[-1].endswith("created  路灯不亮")


def test_duty_log_since_after_until_is_one_line(ctx, db):
    with pytest.raises(DutyError) as info:
        duty_log(ctx, since="2026-11-27T10:00", until="2026-11-26T10:00")
    assert str(info.value) == "--since 2026-11-27 10:00 is after --until 2026-11-26 10:00"


def test_duty_log_names_the_unit_the_system_and_an_unverified_level(ctx, db, clock):
    """*Found* at the keyboard: ``交办  测试备注一`` without the unit, ``system`` in a zh-CN
    log, ``re-levelled ? → III``."""
    from console import i18n, sweep

    r = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident",
                              level="unknown")
    actions.change_level(ctx, OFFICER, r, "III")
    wo = actions.create_work_order(ctx, OFFICER, content="路灯不亮", type="help")
    actions.assign(ctx, OFFICER, wo, "ZJJ", note="派单")
    clock.advance(minutes=180)
    sweep.auto_escalate(ctx)
    text = duty_log(ctx, since="2026-11-27T00:00")
    assert "assigned → 市住建局  派单" in text, text
    assert "re-levelled To be verified → III" in text
    i18n.set_language("zh-CN")
    try:
        text = duty_log(ctx, since="2026-11-27T00:00")
    finally:
        i18n.set_language("en")
    assert "  系统  " in text and "  system  " not in text, text
    assert "交办 → 市住建局  派单" in text


def test_handover_counts_say_one_in_the_singular(ctx, db):
    actions.create_work_order(ctx, OFFICER, content="路灯不亮", type="help")
    text = handover_report(ctx)
    assert "1 work order," in text and "1 work orders" not in text, text
    from console import i18n
    from console.handover_cli import result_line

    class Result:  # what accept_handover returns, as result_line reads it
        shift = type("Shift", (), {"ref": "ZB-1"})
        owned, already, stale = [1], 1, []

    assert result_line(Result, "王芳") == "shift ZB-1: 王芳 now owns 1 item, 1 item already theirs"
    assert i18n.count("entry", 3) == "3 items"
