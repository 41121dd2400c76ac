"""The command line as a new user meets it: exit codes, one-line errors, nothing changed on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8",
                "PYTHONPATH": str(ROOT), "HOME": str(cwd), **(env or {})}
    # the shipped language is zh-CN (the site's); these checks read the English texts
    lang = [] if "--lang" in args else ["--lang", "en"]
    return subprocess.run([sys.executable, "-m", "console.cli", *lang, *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def demo_db(tmp_path_factory):
    """One demo database (3 days) shared by the read-only checks below."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    res = run("--db", f"sqlite:///{path}", "demo", "--days", "3", cwd=path.parent)
    assert res.returncode == 0, res.stderr
    return path


def test_check_config_error_is_one_line_naming_file_key_problem(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("escalation:\n  report:\n    I:\n      - {name: 值班员, wait: 5}\n"
                    "      - {name: 带班领导, wait: 10}\n      - {name: 秘书长, wait: ten}\n",
                    encoding="utf-8")
    res = run("--config", str(site), "check-config", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip() == ('dutyroom: site.yaml: escalation.report.I[2].wait: '
                                  'expected minutes, got "ten"')
    assert "Traceback" not in res.stderr


def test_usage_error_exits_2(tmp_path):
    assert run("no-such-command", cwd=tmp_path).returncode == 2


def test_demo_then_sweep_escalates_and_export_shows_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert run("--db", url, "demo", "--days", "3", cwd=tmp_path).returncode == 0
    auto_before = _auto_events(url, tmp_path)  # the demo's night swept until 40 min ago
    swept = run("--db", url, "sweep", cwd=tmp_path)
    assert swept.returncode == 0, swept.stderr
    n = int(swept.stdout.split(":")[1].split()[0])
    assert n > 0, swept.stdout  # the demo leaves overdue and unacknowledged items
    again = run("--db", url, "sweep", cwd=tmp_path)
    assert again.stdout.startswith("sweep: 0 ")  # the same moment: nothing twice
    assert len(_auto_events(url, tmp_path)) == len(auto_before) + n
    assert run("--db", url, "verify", cwd=tmp_path).returncode == 0


def _auto_events(url: str, tmp_path) -> list[dict]:
    out = tmp_path / "out.jsonl"
    assert run("--db", url, "export", "-o", str(out), cwd=tmp_path).returncode == 0
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()
              if '"kind": "event"' in line]
    return [e for e in events if e["action"] in ("auto_escalate", "overdue",  # and issue 11's
                                                 "accept_overdue", "problem_order", "ack_expired")]


def test_demo_refuses_a_database_with_data(demo_db):
    res = run("--db", f"sqlite:///{demo_db}", "demo", cwd=demo_db.parent)
    assert res.returncode == 1 and "--force" in res.stderr


def test_bad_import_changes_nothing(demo_db, tmp_path):
    url = f"sqlite:///{demo_db}"
    before = run("--db", url, "export", "--events-only", cwd=tmp_path).stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"kind":"work_order","ticket":"T-1","received_at":"2026-11-26T09:00:00","type":"投诉",'
        '"content":"ok"}\n'
        '{"kind":"work_order","ticket":"T-2","received_at":"yesterday","type":"投诉",'
        '"content":"bad time"}\n', encoding="utf-8")
    res = run("--db", url, "import", str(bad), cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip() == ("dutyroom: bad.jsonl:2: received_at: expected an ISO 8601 "
                                  "date and time, got 'yesterday'")
    assert run("--db", url, "export", "--events-only", cwd=tmp_path).stdout == before


def test_import_with_unknown_department_rolls_back(demo_db, tmp_path):
    url = f"sqlite:///{demo_db}"
    before = run("--db", url, "summary", cwd=tmp_path).stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("- kind: work_order\n  ticket: Y-1\n  received_at: 2026-11-26T09:00:00\n"
                   "  type: help\n  content: 路灯不亮\n"
                   "- kind: work_order\n  ticket: Y-2\n  received_at: 2026-11-26T09:00:00\n"
                   "  type: help\n  content: 井盖丢失\n  department: 不存在局\n",
                   encoding="utf-8")
    res = run("--db", url, "import", str(bad), cwd=tmp_path)
    assert res.returncode == 1
    assert "bad.yaml:6: department: no department 不存在局" in res.stderr
    assert run("--db", url, "summary", cwd=tmp_path).stdout == before


def test_reimport_does_not_duplicate(tmp_path):
    url = f"sqlite:///{tmp_path / 'i.db'}"
    src = tmp_path / "orders.csv"
    src.write_text("kind,ticket,received_at,type,urgency,content,code,name\n"
                   "department,,,,,,ZJJ,市住建局\n"
                   "work_order,12345-1,2026-11-26T09:00,投诉,紧急,暖气不热,,\n"
                   "work_order,12345-2,2026-11-26T10:00,咨询,一般,公积金提取,,\n",
                   encoding="utf-8")
    first = run("--db", url, "import", str(src), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "imported 3 records" in first.stdout
    second = run("--db", url, "import", str(src), cwd=tmp_path)
    assert "imported 0 records" in second.stdout and "3 already present" in second.stdout


def test_export_import_round_trip(demo_db, tmp_path):
    src_url, dst_url = f"sqlite:///{demo_db}", f"sqlite:///{tmp_path / 'copy.db'}"
    dump = tmp_path / "dump.jsonl"
    assert run("--db", src_url, "export", "-o", str(dump), cwd=tmp_path).returncode == 0
    res = run("--db", dst_url, "import", str(dump), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert run("--db", dst_url, "verify", cwd=tmp_path).returncode == 0
    again = tmp_path / "again.jsonl"
    assert run("--db", dst_url, "export", "-o", str(again), cwd=tmp_path).returncode == 0

    def items(path: Path) -> list[dict]:
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        return [r for r in rows if r["kind"] not in ("event",)]

    def events(path: Path) -> list[dict]:
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        return [r for r in rows if r["kind"] == "event"]

    assert items(again) == items(dump)
    original = events(dump)
    assert events(again)[:len(original)] == original  # the archive, verbatim, then the imports


def test_export_prints_the_chain_head_that_anchors_verify(demo_db, tmp_path):
    """Issue 9 §5: the chain head is printed in every export (as in every handover), and
    ``verify --anchor`` with it sees the last events deleted after the export."""
    import shutil
    import sqlite3

    copy = tmp_path / "copy.db"
    shutil.copy(demo_db, copy)
    url, dump = f"sqlite:///{copy}", tmp_path / "dump.jsonl"
    res = run("--db", url, "export", "-o", str(dump), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    head = res.stderr.strip().splitlines()[-1].removeprefix("Event chain head: ")
    last = json.loads(dump.read_text(encoding="utf-8").splitlines()[-1])
    assert last["kind"] == "event" and head.endswith(":" + last["hash"])
    to_stdout = run("--db", url, "export", "--format", "csv", cwd=tmp_path)
    assert to_stdout.stderr.strip() == f"Event chain head: {head}"
    assert run("--db", url, "verify", "--anchor", head, cwd=tmp_path).returncode == 0
    with sqlite3.connect(copy) as con:
        con.execute("DELETE FROM event WHERE id > (SELECT max(id) - 50 FROM event)")
    res = run("--db", url, "verify", "--anchor", head, cwd=tmp_path)
    assert res.returncode == 1 and f"the anchor {head} is not in the log" in res.stderr


def test_export_of_a_damaged_row_is_one_line_and_no_file(demo_db, tmp_path):
    """Issue 9 §1: a chain stored as ``{broken`` made export an "unexpected error
    (JSONDecodeError)"; it names the row and field, exits 1 and leaves no file."""
    import shutil
    import sqlite3

    copy, dump = tmp_path / "copy.db", tmp_path / "dump.jsonl"
    shutil.copy(demo_db, copy)
    with sqlite3.connect(copy) as con:
        row = con.execute("SELECT id FROM report ORDER BY id LIMIT 1").fetchone()[0]
        con.execute("UPDATE report SET chain = '{broken' WHERE id = ?", (row,))
    res = run("--db", f"sqlite:///{copy}", "export", "-o", str(dump), cwd=tmp_path)
    assert res.returncode == 1 and not dump.exists()
    assert res.stderr.strip() == (f"dutyroom: report#{row} chain: the stored value cannot be "
                                  "read (damaged record); the export stopped — run dutyroom "
                                  "verify and tell the administrator")


def _allow_as(tmp_path: Path) -> str:
    """A training-room config where --as is allowed (the operator is otherwise the OS login)."""
    site = tmp_path / "training.yaml"
    site.write_text("operators:\n  allow_as: true\n", encoding="utf-8")
    return str(site)


def test_viewer_cannot_act(demo_db, tmp_path):
    url = f"sqlite:///{demo_db}"
    res = run("--config", _allow_as(tmp_path), "--as", "wallboard", "--db", url,
              "act", "note", "BG-2026-0001", "x", cwd=tmp_path)
    assert res.returncode == 1 and "may not" in res.stderr


def test_officer_acts_from_the_shell(demo_db, tmp_path):
    url = f"sqlite:///{demo_db}"
    res = run("--config", _allow_as(tmp_path), "--as", "duty", "--db", url,
              "act", "note", "BG-2026-0001", "交班前核实", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("BG-2026-0001:")


def test_handover_and_log(demo_db, tmp_path):
    url = f"sqlite:///{demo_db}"
    report = run("--db", url, "handover", cwd=tmp_path)
    assert report.returncode == 0 and "Handover report" in report.stdout
    log = run("--db", url, "log", cwd=tmp_path)
    assert log.returncode == 0 and log.stdout.startswith("Duty log")


def test_whoever_runs_the_demo_can_act_in_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    assert run("--db", url, "demo", "--days", "1", cwd=tmp_path).returncode == 0
    res = run("--db", url, "act", "note", "BG-2026-0001", "新用户试用", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


# --------------------------------------------------------------------------- hostile use
# issue 9 §7: each of these was a traceback; now one line and exit 1.


@pytest.fixture
def empty_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'e.db'}"
    assert run("--db", url, "init", cwd=tmp_path).returncode == 0
    return url


def one_line_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


@pytest.mark.parametrize("args, expected", [
    (("log", "--since", "0001-01-01"),
     "dutyroom: --since: expected a year 2000–2100, got '0001-01-01'"),
    (("log", "--until", "9999-12-31T23:59"),
     "dutyroom: --until: expected a year 2000–2100, got '9999-12-31T23:59'"),
    (("log", "--since", "2026-11-27", "--until", "2026-11-26"),
     "dutyroom: --since 2026-11-27 00:00 is after --until 2026-11-26 00:00"),
    (("stats", "--year", "9999"), "dutyroom: --year: expected a year 2000–2100, got 9999"),
    (("stats", "--year", "1"), "dutyroom: --year: expected a year 2000–2100, got 1"),
    (("export", "-o", "/nonexistent/dir/x.jsonl"),
     "dutyroom: cannot write /nonexistent/dir/x.jsonl: No such file or directory"),
    (("handover", "-o", "/nonexistent/dir/h.txt"),
     "dutyroom: cannot write /nonexistent/dir/h.txt: No such file or directory"),
], ids=["log-year-1", "log-year-9999", "log-since-after-until", "stats-9999", "stats-1",
        "export-missing-dir", "handover-missing-dir"])
def test_bad_option_or_target_is_one_line(empty_db, tmp_path, args, expected):
    assert one_line_error(run("--db", empty_db, *args, cwd=tmp_path)) == expected


def test_closed_pipe_exits_quietly(empty_db, tmp_path):
    """``dutyroom summary | head -1``: the reader left; no BrokenPipeError traceback."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8",
           "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "DUTYROOM_USER": "admin"}
    for command in ("summary", "log", "handover"):
        proc = subprocess.Popen([sys.executable, "-m", "console.cli", "--db", empty_db, command],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdout.close()  # the reader is gone before the first line is written
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
        assert err == "", err
        assert proc.returncode == 1, command


def test_hostile_import_is_one_line_and_writes_nothing(demo_db, tmp_path):
    url = f"sqlite:///{demo_db}"
    before = run("--db", url, "export", cwd=tmp_path).stdout
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("- kind: work_order\n  ticket: B-1\n  received_at: 2026-11-26\n"
                    "  type: help\n  content: x\n  assisting: &a [x, x, x, x, x, x, x, x]\n"
                    "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
                    "  d: [*c, *c, *c, *c, *c, *c, *c, *c]\n", encoding="utf-8")
    assert one_line_error(run("--db", url, "import", str(bomb), cwd=tmp_path)) == (
        "dutyroom: bomb.yaml:6: not valid YAML: YAML anchors and aliases (& and *) are not "
        "accepted in an import")
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"kind":"event","before":' + "[" * 5000 + "]" * 5000 + "}\n",
                    encoding="utf-8")
    assert one_line_error(run("--db", url, "import", str(deep), cwd=tmp_path)) == (
        "dutyroom: deep.jsonl:1: not valid JSON: nested deeper than 16 levels")
    assert run("--db", url, "export", cwd=tmp_path).stdout == before


def test_failed_export_leaves_no_file_and_a_good_one_is_private(empty_db, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run("--db", empty_db, "export", "-o", str(out), cwd=tmp_path).returncode == 0
    assert out.stat().st_mode & 0o777 == 0o600  # citizens' phone numbers
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_act_error_does_not_echo_escapes(demo_db, tmp_path):
    res = run("--db", f"sqlite:///{demo_db}", "act", "note", "\x1b[2J\x1b]0;T\x07X", "hi",
              cwd=tmp_path, env={"DUTYROOM_USER": "duty"})
    line = one_line_error(res)
    assert "\x1b" not in line and "\x07" not in line and "␛[2J" in line
