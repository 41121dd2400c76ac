"""``dutyroom stats --from/--to/--by/--format``, the printable record and the bulletin (issue 12)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from console import actions, cli
from console.bulletin import bulletin_document, satisfaction_line
from console.errors import DutyError
from console.models import Department, Event
from console.printing import log_document, to_html, to_markdown
from console.printing_pdf import available as pdf_available
from tests.conftest import OFFICER
from tests.core.test_figures import _order, _u


def _main(db_url: str, *args: str) -> int:
    return cli.main(["--lang", "en", "--db", db_url, *args])


@pytest.fixture
def march(db):
    zjj = Department.insert(code="ZJJ", name="市住建局").execute()
    _order("W1", _u("2026-03-02 01:00"), dept=zjj, closed=_u("2026-03-02 03:00"), sat=5)
    _order("W2", _u("2026-03-03 01:00"), dept=zjj, closed=_u("2026-03-03 11:00"), late=True,
           category="=HYPERLINK(1)")
    _order("W3", _u("2026-03-05 01:00"), type="help")
    return zjj


def test_stats_json_is_keyed_by_group_code(db_url, march, capsys):
    assert _main(db_url, "stats", "--from", "2026-03-01", "--to", "2026-03-31",
                 "--by", "department", "--format", "json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"]["received"] == 3 and out["total"]["closed"] == 2
    assert set(out["groups"]) == {"ZJJ", "-"}
    z = out["groups"]["ZJJ"]
    assert (z["received"], z["closed"], z["on_time"], z["on_time_rate"]) == (2, 2, 1, 0.5)
    assert z["closure_rate"] == 1.0 and out["groups"]["-"]["on_time_rate"] is None


def test_stats_csv_neutralises_formulas_and_days_are_inclusive(db_url, march, capsys):
    # --to 2026-03-03 takes the whole of the 3rd (W2 at 09:00 local) and not W3 on the 5th
    assert _main(db_url, "stats", "--from", "2026-03-01", "--to", "2026-03-03",
                 "--by", "category", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["group"] == "total" and rows[0]["received"] == "2"
    assert {r["group"] for r in rows[1:]} == {"供暖", "'=HYPERLINK(1)"}


def test_stats_table_names_departments(db_url, march, capsys):
    assert _main(db_url, "stats", "--from", "2026-03-01", "--to", "2026-03-31",
                 "--by", "department") == 0
    out = capsys.readouterr().out
    assert "市住建局" in out and "on time rate" in out and "50.0%" in out


@pytest.mark.parametrize("args", [
    ("--kind", "report", "--by", "department"),
    ("--from", "2026-02-30"),
    ("--from", "2026-03-05", "--to", "2026-03-01"),
])
def test_stats_bad_options_are_one_line(db_url, db, capsys, args):
    assert _main(db_url, "stats", *args) == 1
    err = capsys.readouterr().err
    assert err.startswith("dutyroom: --") and err.count("\n") == 1


def _hostile_day(ctx) -> None:
    order = actions.create_work_order(ctx, OFFICER, content="供暖不热", type="complaint",
                                      department="ZJJ")
    actions.note(ctx, OFFICER, order, "<script>alert(1)</script> \x1b[2J | # x")


@pytest.mark.usefixtures("roster")
def test_log_of_a_day_has_entries_signatures_and_the_chain_head(ctx, db):
    _hostile_day(ctx)
    doc = log_document(ctx, date="2026-11-27")  # T0 is 10:00 on 27 November, site time
    head = Event.select().order_by(Event.id.desc()).first()
    md = to_markdown(doc)
    assert f"event #{head.id}, hash {head.hash}" in md
    assert "Duty leader (带班领导): ____" in md and "Duty officer (值班员): ____" in md
    assert [e["n"] for e in doc.entries] == list(range(1, len(doc.entries) + 1))
    assert "\x1b" not in md and "␛[2J" in md and "\\| \\# x" in md
    page = to_html(doc)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ␛[2J" in page and "<script>" not in page
    assert f"hash {head.hash}" in page
    assert log_document(ctx, date="2026-11-26").entries == []


@pytest.mark.usefixtures("roster")
def test_log_and_handover_files_from_the_command_line(db_url, ctx, tmp_path, capsys):
    _hostile_day(ctx)
    out = tmp_path / "log.csv"
    assert _main(db_url, "log", "--since", "2026-11-27T00:00", "--until", "2026-11-27T23:59",
                 "--format", "csv", "-o", str(out)) == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0][:2] == ["No.", "Time"] and len(rows) == Event.select().count() + 1
    page = tmp_path / "handover.html"
    assert _main(db_url, "handover", "--format", "html", "-o", str(page)) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "带班领导" in text
    capsys.readouterr()
    assert _main(db_url, "handover", "--format", "md", "-o", str(tmp_path / "no" / "x.md")) == 1
    err = capsys.readouterr().err
    assert err.startswith("dutyroom: cannot write") and err.count("\n") == 1
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.skipif(pdf_available() is not None, reason=str(pdf_available()))
@pytest.mark.usefixtures("roster")
def test_pdf_of_the_duty_log(db_url, ctx, tmp_path):
    _hostile_day(ctx)
    out = tmp_path / "log.pdf"
    assert _main(db_url, "log", "--date", "2026-11-27", "--format", "pdf", "-o", str(out)) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 2000
    handover = tmp_path / "handover.pdf"
    assert _main(db_url, "handover", "--format", "pdf", "-o", str(handover)) == 0
    assert handover.read_bytes().startswith(b"%PDF-")


@pytest.mark.skipif(pdf_available() is not None, reason=str(pdf_available()))
def test_pdf_log_keeps_time_and_ticket_on_one_line_and_the_signatures_on_one_page():
    """The time and a 12345 ticket fit their columns (they wrapped: '2026-12-06 00' / ':01');
    the two signature lines never split across pages, whatever the number of entries."""
    from fpdf import FPDF

    from console.printing import Document
    from console.printing_pdf import ENTRY_WIDTHS, _fonts, _layout

    pdf = FPDF()
    pdf.set_font(_fonts(pdf), size=9)
    for col, text in ((1, "2026-12-06 00:01"), (3, "12345-2026000630")):
        assert pdf.get_string_width(text) + 2 * pdf.c_margin <= ENTRY_WIDTHS[col], text
    assert sum(ENTRY_WIDTHS) == 180
    entry = {"n": 1, "at": "2026-12-06 00:01", "who": "李明", "ref": "BG-2026-0001",
             "action": "确认", "note": ""}
    for n in range(20, 80):
        doc = Document("值班日志", header=["时段"], entries=[entry] * n, chain="hash")
        pages = _layout(doc).sign_pages
        assert len(pages) == 2 and pages[0] == pages[1], n


@pytest.mark.usefixtures("roster")
def test_the_log_names_who_printed_it(db_url, ctx, tmp_path):
    """打印人 is the roster person (as on the handover), not the console's host:pid."""
    out = tmp_path / "log.md"
    site = tmp_path / "site.yaml"
    site.write_text("operators:\n  allow_as: true\n", encoding="utf-8")
    assert _main(db_url, "--config", str(site), "--as", "liming", "log", "--date", "2026-11-27",
                 "--format", "md", "-o", str(out)) == 0
    head = out.read_text(encoding="utf-8")
    assert "by 李明" in head and ctx.console not in head


@pytest.mark.usefixtures("roster")
def test_handover_of_a_named_shift(db_url, ctx, tmp_path, capsys):
    import datetime as dt

    from console.printing import handover_document
    from tests.conftest import ADMIN, T0

    actions.upsert_shift(ctx, ADMIN, starts_at=T0 - dt.timedelta(hours=2),
                         ends_at=T0 + dt.timedelta(hours=22), leader="zhaoqiang",
                         primary="liming", secondary="wangfang")
    from console.models import Shift

    shift = Shift.select().first()
    doc = handover_document(ctx, shift.ref)
    assert any("leader 赵强, primary 李明, secondary 王芳" in line for line in doc.header)
    assert doc.chain.startswith("Event chain head: event #")
    assert _main(db_url, "handover", "--shift", "ZB-none", "--format", "md") == 1
    err = capsys.readouterr().err
    assert err == "dutyroom: no shift ZB-none on the roster\n"


def test_bulletin_compares_weeks_and_names_units_below_the_line(ctx, db):
    zjj = Department.insert(code="ZJJ", name="市住建局").execute()
    grb = Department.insert(code="GRB", name="市供热办").execute()
    # T0 is Friday 27 November: the bulletin's week is 16–22 November, the one before 9–15
    for i in range(4):
        _order(f"N{i}", _u("2026-11-17 02:00"), dept=zjj, category="供暖", sat=5 if i else 2)
    _order("N9", _u("2026-11-18 02:00"), dept=grb, category="供暖", sat=5)
    _order("P1", _u("2026-11-10 02:00"), dept=zjj, category="供暖")
    doc = bulletin_document(ctx, "week")
    assert "16" in doc.title and "22" in doc.title
    text = to_markdown(doc)
    assert "12345 orders received: 5 (previous period 1, up 400.0%)" in text
    assert "供暖: 5 (previous 1, +4)" in text
    assert "市住建局: 75.0% satisfied of 4 rated" in text and "市供热办:" not in text


def test_bulletin_rate_changes_are_percentage_points_in_each_language(ctx, db):
    """zh-CN says 个百分点 for a rate's change, not the English "pt"."""
    from console import i18n

    zjj = Department.insert(code="ZJJ", name="市住建局").execute()
    _order("N1", _u("2026-11-17 02:00"), dept=zjj, closed=_u("2026-11-17 05:00"))
    _order("N2", _u("2026-11-17 03:00"), dept=zjj)
    _order("P1", _u("2026-11-10 02:00"), dept=zjj, closed=_u("2026-11-10 05:00"))
    assert "closure rate: 50.0% (previous period 100.0%, down 50.0 pt)" in to_markdown(
        bulletin_document(ctx, "week"))
    i18n.set_language("zh-CN")
    text = to_markdown(bulletin_document(ctx, "week"))
    assert "办结率：50.0%（上期 100.0%，下降 50.0 个百分点）" in text and " pt" not in text


def test_satisfaction_line_is_checked(ctx):
    assert satisfaction_line(ctx.settings) == 0.85
    bad = dataclasses.replace(ctx.settings, raw={"record": {"satisfaction_line": "high"}})
    with pytest.raises(DutyError, match="record.satisfaction_line"):
        satisfaction_line(bad)


def test_chain_head_shows_no_events(ctx, db):
    assert "no events yet" in to_markdown(log_document(ctx, since="2026-11-27T00:00",
                                                       until="2026-11-27T10:00"))

