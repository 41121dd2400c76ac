"""Scheduled department reports on SQLite and PostgreSQL: the sweep creates the expected
rows once, receive (on time / late, with a file), missing → overdue and one escalation
with two sweepers, the handover lines, ``dutyroom receive``."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from console import actions, cli, handover, queries, schedule_queries, sweep
from console.errors import DomainError
from console.models import Event, ScheduledReport
from tests.conftest import ADMIN, OFFICER, T0
from tests.core import _procs

H = dt.timedelta(hours=1)
# T0 is Friday 27 Nov 2026 10:00 local (UTC+8).  Shipped: XCB/ZFW weekly on Monday 12:00
# (+120 min grace) → W49 due Mon 30 Nov 04:00 UTC; XFJ monthly on the 5th 17:00 — Saturday
# 5 Dec moves to Monday 7 Dec 09:00 UTC.
DUE_W49 = dt.datetime(2026, 11, 30, 4, 0)


@pytest.fixture
def depts(roster):
    for code, name, phone in (("XCB", "市委宣传部", "0451-86742121"),
                              ("ZFW", "市委政法委", "0451-86752222"),
                              ("XFJ", "市信访局", "0451-86732020")):
        actions.upsert_department(roster, ADMIN, code=code, name=name, phone=phone)
    return roster


def rows(**where):
    q = ScheduledReport.select().order_by(ScheduledReport.due_at, ScheduledReport.id)
    for k, v in where.items():
        q = q.where(getattr(ScheduledReport, k) == v)
    return list(q)


def one(dept_code: str, period: str) -> ScheduledReport:
    from console.models import Department

    d = Department.get(Department.code == dept_code)
    return ScheduledReport.get((ScheduledReport.department == d.id)
                               & (ScheduledReport.period == period))


def test_sweep_creates_the_coming_rows_once(depts, clock):
    sweep.auto_escalate(depts)
    got = [(r.department.code, r.topic, r.period, r.status, r.due_at) for r in rows()]
    assert got == [("XCB", "opinion", "2026-W49", "due", DUE_W49),
                   ("ZFW", "stability", "2026-W49", "due", DUE_W49)]
    first = rows()[0]
    assert first.deadline_at == DUE_W49 + 2 * H and first.next_escalation_at is None
    assert first.ref == "BS-2026-0001" and first.chain[0][0] == "值班员"
    n_events = Event.select().count()
    sweep.auto_escalate(depts)  # again: nothing new
    assert len(rows()) == 2 and Event.select().count() == n_events
    clock.set(T0 + 80 * H)  # Monday 30 Nov 18:00 local: W50 and XFJ's December are in reach
    sweep.auto_escalate(depts)
    assert [(r.department.code, r.period) for r in rows()][2:] == [
        ("XCB", "2026-W50"), ("ZFW", "2026-W50"), ("XFJ", "2026-12")]
    assert one("XFJ", "2026-12").due_at == dt.datetime(2026, 12, 7, 9, 0)
    creates = Event.select().where((Event.item_kind == "scheduled") & (Event.action == "create"))
    assert creates.count() == 5


def test_receive_on_time_with_a_file(depts, clock, tmp_path):
    sweep.auto_escalate(depts)
    f = tmp_path / "舆情周报.pdf"
    f.write_bytes(b"%PDF weekly opinion summary")
    clock.set(DUE_W49 - H)
    item = actions.receive(depts, OFFICER, "XCB", "opinion", file=str(f))
    assert (item.status, item.received_by, item.closed_at) == ("received", "liming",
                                                              DUE_W49 - H)
    assert item.file_sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
    assert item.file_path == str(f.resolve())
    stored = ScheduledReport.get_by_id(item.id)
    assert stored.status == "received" and stored.deadline_at is None and stored.rank >= 10
    ev = Event.select().where(Event.item_ref == item.ref).order_by(Event.id.desc()).get()
    assert ev.action == "receive" and ev.actor == "liming"
    assert ev.after["file_sha256"] == item.file_sha256 and ev.after["file_path"] == str(f.resolve())
    # received: the sweep leaves it alone, and it cannot be received twice
    clock.set(DUE_W49 + 5 * H)
    assert all(r != "missing" for _k, _ref, r in sweep.auto_escalate(depts).escalated
               if _ref == item.ref)
    with pytest.raises(DomainError):
        actions.receive(depts, OFFICER, "XCB", "opinion", period="2026-W49")
    with pytest.raises(DomainError):
        actions.receive_scheduled(depts, OFFICER, item.ref)
    assert ScheduledReport.get_by_id(item.id).version == stored.version


def test_received_after_the_due_time_is_late_and_never_missing(depts, clock):
    sweep.auto_escalate(depts)
    clock.set(DUE_W49 + H)  # inside the grace: late, not yet missing
    item = actions.receive(depts, OFFICER, "市委宣传部", "opinion")
    assert item.status == "late" and item.overdue_at is None and item.step == 0
    clock.set(DUE_W49 + 10 * H)
    done = sweep.auto_escalate(depts).escalated
    assert item.ref not in {ref for _k, ref, _r in done}
    assert one("ZFW", "2026-W49").status == "missing"


def test_missing_becomes_overdue_escalates_once_and_then_like_any_item(depts, clock):
    sweep.auto_escalate(depts)
    clock.set(DUE_W49 + 2 * H)  # due + grace, exactly: missing
    done = sweep.auto_escalate(depts).escalated
    assert sorted(r for _k, _ref, r in done) == ["missing", "missing"]
    item = one("XCB", "2026-W49")
    assert (item.status, item.step, item.overdue_at) == ("missing", 1, DUE_W49 + 2 * H)
    assert item.next_escalation_at == DUE_W49 + 2 * H + dt.timedelta(minutes=240)
    assert sweep.auto_escalate(depts).escalated == []  # once
    # the queue shows it with the department's phone; the overdue filter finds it
    f = queries.QueueFilter("scheduled", overdue_only=True, now=clock.now())
    shown = queries.window(f, 0, 10)
    assert [(r.ref, r.where, r.extra["phone"], r.extra["period"]) for r in shown][0] == (
        item.ref, "市委宣传部", "0451-86742121", "2026-W49")
    assert shown[0].deadline_at == DUE_W49  # the countdown is to the due time
    # unacknowledged at step 2, it moves on like any item; acknowledge stops the clock
    clock.set(DUE_W49 + 7 * H)
    assert ("scheduled", item.ref, "unacknowledged") in sweep.auto_escalate(depts).escalated
    item = actions.acknowledge(depts, OFFICER, item.ref)
    assert item.step == 2 and item.next_escalation_at is None
    item = actions.urge(depts, OFFICER, item.ref, note="打电话催报")  # chase it
    # it comes in at last: late, closed, escalation over
    item = actions.receive(depts, OFFICER, "XCB", "opinion")
    assert (item.status, item.next_escalation_at, item.deadline_at) == ("late", None, None)
    acts = [e.action for e in Event.select().where(Event.item_ref == item.ref).order_by(Event.id)]
    assert acts == ["create", "overdue", "auto_escalate", "acknowledge", "urge", "receive"]
    from console import verify

    _n, problems = verify.verify_all()  # rows and events agree (the sweep's rows too)
    assert problems == []


def test_a_receive_that_cannot_be_done_changes_nothing(depts, clock, tmp_path):
    sweep.auto_escalate(depts)
    n = Event.select().count()
    with pytest.raises(DomainError) as err:
        actions.receive(depts, OFFICER, "XCB", "opinion", file=str(tmp_path / "nope.pdf"))
    assert err.value.field == "file"
    with pytest.raises(DomainError):
        actions.receive(depts, OFFICER, "XCB", "petitions")  # nothing of that topic is open
    with pytest.raises(DomainError):
        actions.receive(depts, OFFICER, "NOPE", "opinion")
    assert Event.select().count() == n and one("XCB", "2026-W49").status == "due"


def test_receive_is_exactly_once_for_one_intent(depts, clock):
    sweep.auto_escalate(depts)
    a = actions.receive(depts, OFFICER, "XCB", "opinion", intent="key-1")
    b = actions.receive_scheduled(depts, OFFICER, a.ref, intent="key-1")
    assert a.id == b.id and b.status == "received"
    assert Event.select().where((Event.item_ref == a.ref) & (Event.action == "receive")).count() == 1


def test_handover_lists_the_missing_and_those_due_in_the_next_shift(depts, clock):
    sweep.auto_escalate(depts)
    clock.set(DUE_W49 + 3 * H)
    sweep.auto_escalate(depts)
    lines = schedule_queries.handover_lines(depts, clock.now())
    text = "\n".join(lines)
    assert "Scheduled reports missing (2)" in text
    assert "0451-86742121" in text and "2026-W49" in text
    assert "due in the next shift" in text
    report = handover.handover_report(depts)
    assert "Scheduled reports missing (2)" in report


def _receiving(depts, db_url: str, tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    """This week's reports created by the sweep, a file to receive with, and the CLI's
    leading arguments (English, as the liaison liming, --as allowed)."""
    sweep.auto_escalate(depts)
    f = tmp_path / "w49.txt"
    f.write_text(text, encoding="utf-8")
    site = tmp_path / "site.yaml"
    site.write_text("operators:\n  allow_as: true\n", encoding="utf-8")
    return f, ["--config", str(site), "--db", db_url, "--lang", "en", "--as", "liming"]


def test_dutyroom_receive_from_the_shell(depts, clock, db_url, tmp_path, capsys):
    if not db_url.startswith("sqlite"):
        pytest.skip("the CLI is the same on PostgreSQL; once is enough")
    f, common = _receiving(depts, db_url, tmp_path, "稳定情况")
    rc = cli.main([*common, "receive", "ZFW", "stability", "--file", str(f)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    item = one("ZFW", "2026-W49")
    assert item.status in ("received", "late") and item.file_sha256 == hashlib.sha256(
        f.read_bytes()).hexdigest()
    assert item.ref in out.out and "sha256" in out.out
    rc = cli.main([*common, "receive", "ZFW", "stability"])
    err = capsys.readouterr().err
    assert rc == 1 and "no open scheduled report" in err and "Traceback" not in err


def test_act_receive_takes_department_and_topic_as_the_issue_writes_it(depts, clock, db_url,
                                                                      tmp_path, capsys):
    """`dutyroom act receive DEPT TOPIC [--file F]` (issue 12); `act receive REF` still works."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the CLI is the same on PostgreSQL; once is enough")
    f, common = _receiving(depts, db_url, tmp_path, "舆情情况")
    rc = cli.main([*common, "act", "receive", "ZFW", "stability", "--file", str(f)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    item = one("ZFW", "2026-W49")
    assert item.status in ("received", "late") and item.file_sha256 == hashlib.sha256(
        f.read_bytes()).hexdigest()
    assert item.ref in out.out
    other = one("XCB", "2026-W49")
    rc = cli.main([*common, "act", "receive", other.ref])
    assert rc == 0, capsys.readouterr().err
    assert one("XCB", "2026-W49").status in ("received", "late")


@pytest.mark.multiprocess
def test_two_sweepers_create_each_row_once_and_escalate_each_missing_once(depts, db, db_url):
    moment = DUE_W49 + 2 * H + dt.timedelta(minutes=1)
    n_before = Event.select().count()
    db.close()
    results = _procs.run_all(_procs.sweep_worker, [(f"proc{i}", db_url, moment, 5)
                                                   for i in range(2)])
    errors = [err for _name, _esc, err in results if err]
    assert not errors, errors[0]
    done = [tuple(x) for _name, esc, _err in results for x in esc]
    missing = sorted(ref for _k, ref, r in done if r == "missing")
    assert len(missing) == 2 and len(set(missing)) == 2
    got = collections.Counter((r.period, r.status) for r in ScheduledReport.select())
    assert got == {("2026-W49", "missing"): 2, ("2026-W50", "due"): 2}
    per = collections.Counter((e.item_ref, e.action) for e in Event.select()
                              .where(Event.item_kind == "scheduled"))
    assert set(per.values()) == {1}  # one create each, one missing each
    assert Event.select().count() == n_before + 4 + 2
