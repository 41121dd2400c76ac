"""Who acted is who logged in (issue 9 §4): no environment variable names the operator,
sudo's SUDO_USER counts only for the service account, writing maintenance commands need a
roster admin, and the console needs a terminal and ends when it hangs up."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import pwd
import select
import signal
import sqlite3
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from console import cli, settings

ROOT = Path(__file__).resolve().parents[2]
ME = pwd.getpwuid(os.getuid()).pw_name  # the OS login these tests run as


def run(*args: str, cwd: Path, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8",
                "PYTHONPATH": str(ROOT), "HOME": str(cwd), **(env or {})}
    # the shipped language is zh-CN (the site's); these checks read the English texts
    lang = [] if "--lang" in args else ["--lang", "en"]
    return subprocess.run([sys.executable, "-m", "console.cli", *lang, *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True,
                          timeout=kw.pop("timeout", 300), **kw)


def events(path: Path) -> list[tuple[str, str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT actor, action, item_ref FROM event ORDER BY id").fetchall()


def roster(path: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT login, role FROM person").fetchall())


@pytest.fixture
def demo_db(tmp_path):
    path = tmp_path / "demo.db"
    res = run("--db", f"sqlite:///{path}", "demo", "--days", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return path


def test_environment_does_not_name_the_operator(demo_db, tmp_path):
    """Found: DUTYROOM_USER (and $USER/$LOGNAME) made any OS user the secretary-general."""
    before = len(events(demo_db))
    res = run("--db", f"sqlite:///{demo_db}", "act", "note", "BG-2026-0001", "核实", cwd=tmp_path,
              env={"DUTYROOM_USER": "mazhiyuan", "USER": "mazhiyuan", "LOGNAME": "mazhiyuan"})
    assert res.returncode == 0, res.stderr
    new = events(demo_db)[before:]
    assert new == [(ME, "note", "BG-2026-0001")]


def test_as_is_refused_unless_allowed(demo_db, tmp_path):
    res = run("--db", f"sqlite:///{demo_db}", "--as", "mazhiyuan", "act", "note", "BG-2026-0001",
              "x", cwd=tmp_path)
    assert res.returncode == 1 and "operators.allow_as" in res.stderr


def _viewer_roster(tmp_path: Path) -> Path:
    """A database whose roster has an admin (chief) and this OS login as a viewer."""
    path = tmp_path / "site.db"
    people = tmp_path / "people.jsonl"
    people.write_text(
        '{"kind":"person","login":"chief","name":"主任","role":"admin"}\n'
        f'{{"kind":"person","login":"{ME}","name":"大屏","role":"viewer"}}\n', encoding="utf-8")
    res = run("--db", f"sqlite:///{path}", "import", str(people), cwd=tmp_path)  # bootstrap
    assert res.returncode == 0, res.stderr
    return path


def test_viewer_cannot_import_an_admin(tmp_path):
    """Found: the viewer imported {"login":"wallboard","role":"admin"} and then acted."""
    path = _viewer_roster(tmp_path)
    evil = tmp_path / "evil.jsonl"
    evil.write_text(f'{{"kind":"person","login":"{ME}","name":"x","role":"admin"}}\n'
                    '{"kind":"person","login":"mole","name":"y","role":"admin"}\n',
                    encoding="utf-8")
    res = run("--db", f"sqlite:///{path}", "import", str(evil), cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip() == (f"dutyroom: {ME} (viewer) may not run import: it needs an "
                                  "admin of the roster")
    assert roster(path) == {"chief": "admin", ME: "viewer"}


def test_viewer_cannot_replace_data_with_the_demo(tmp_path):
    path = _viewer_roster(tmp_path)
    res = run("--db", f"sqlite:///{path}", "demo", "--days", "1", "--force", cwd=tmp_path)
    assert res.returncode == 1 and "may not run demo --force" in res.stderr
    assert roster(path) == {"chief": "admin", ME: "viewer"}


def test_admin_imports(demo_db, tmp_path):
    """Whoever ran the demo joined its roster as an admin: they may import."""
    more = tmp_path / "more.jsonl"
    more.write_text('{"kind":"person","login":"newbie","name":"新人","role":"officer"}\n',
                    encoding="utf-8")
    res = run("--db", f"sqlite:///{demo_db}", "import", str(more), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert roster(demo_db)["newbie"] == "officer"


# -- sudo: SUDO_USER is sudo's word only when the real uid is the service account ----------

class _Pw:
    def __init__(self, name: str, uid: int) -> None:
        self.pw_name, self.pw_uid = name, uid


@pytest.fixture
def accounts(monkeypatch):
    """A passwd with duty-svc (uid 990) and duty-officer1 (uid 1001); the process runs as ``uid``."""
    table = {990: "duty-svc", 1001: "duty-officer1", 1002: "duty-officer2"}
    monkeypatch.setattr(cli.pwd, "getpwuid", lambda uid: _Pw(table[uid], uid))
    monkeypatch.setattr(cli.pwd, "getpwnam", lambda name: next(
        _Pw(n, u) for u, n in table.items() if n == name))

    def as_uid(uid: int, **env: str) -> None:
        monkeypatch.setattr(cli.os, "getuid", lambda: uid)
        for key in ("SUDO_USER", "SUDO_UID"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
    return as_uid


SVC = settings.load(overrides={"operators": {"service_account": "duty-svc"}})


def test_sudo_user_is_the_operator_of_the_service_account(accounts):
    accounts(990, SUDO_USER="duty-officer1", SUDO_UID="1001")
    assert cli.os_login(SVC) == "duty-officer1"


def test_sudo_user_set_by_hand_gives_nothing(accounts):
    accounts(1001, SUDO_USER="duty-officer2", SUDO_UID="1002")  # not the service account
    assert cli.os_login(SVC) == "duty-officer1"
    accounts(990, SUDO_USER="duty-officer2", SUDO_UID="1001")  # uid and name disagree
    assert cli.os_login(SVC) == "duty-svc"
    accounts(990, SUDO_USER="duty-officer1", SUDO_UID="1001")  # no service account set
    assert cli.os_login(settings.load()) == "duty-svc"


# -- the terminal ---------------------------------------------------------------------------

def test_console_without_a_terminal_is_refused(demo_db, tmp_path):
    """Found: `ssh host dutyroom` (no -t) started the console, which spun on after the client."""
    res = run("--db", f"sqlite:///{demo_db}", cwd=tmp_path, stdin=subprocess.PIPE, timeout=60)
    assert res.returncode == 1
    assert res.stderr.splitlines() == ["dutyroom: the console needs a terminal: connect with "
                                       "ssh -t (or from a terminal window)"]
    assert res.stdout == ""


def _ignore_hangup_and_take_tty() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup, or a parent that ignores it


def _no_controlling_tty() -> None:
    os.setsid()  # the pty is not its controlling terminal: no SIGHUP will come at all


@pytest.mark.parametrize("setup", [_ignore_hangup_and_take_tty, _no_controlling_tty],
                         ids=["sighup-ignored", "no-sighup"])
def test_console_ends_when_its_terminal_hangs_up(demo_db, tmp_path, setup):
    """Even with SIGHUP ignored or never sent, a hung-up terminal ends the console."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")  # 24x80
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8",
           "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "TERM": "xterm-256color",
           "TEXTUAL_ANIMATIONS": "none"}
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "--db", f"sqlite:///{demo_db}"],
                            stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path, env=env,
                            preexec_fn=setup)
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 60
        while b"BG-2026" not in seen and time.monotonic() < deadline:  # the queue has painted
            if select.select([master], [], [], 1)[0]:
                with contextlib.suppress(OSError):
                    seen += os.read(master, 65536)
        assert b"BG-2026" in seen, seen[-500:]
        os.close(master)  # the terminal goes away, as when sshd closes the session's pty
        master = -1
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        assert proc.poll() is not None, "the console outlived its terminal"
    finally:
        if master >= 0:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- a frozen client ---------------------------------------------------------------------------

CURSOR_REQUEST = b"\x1b[6n"


def _console_in_a_pty(db: Path, tmp_path: Path, probe_seconds: float):
    """The console on a pty of ours, asking its terminal every ``probe_seconds``."""
    site = tmp_path / "site.yaml"
    site.write_text(f"console:\n  terminal_probe_seconds: {probe_seconds}\n", encoding="utf-8")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")  # 24x80
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8",
           "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "TERM": "xterm-256color",
           "TEXTUAL_ANIMATIONS": "none"}
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "--config", str(site),
                             "--db", f"sqlite:///{db}"], stdin=slave, stdout=slave,
                            stderr=slave, cwd=tmp_path, env=env, preexec_fn=os.setsid)
    os.close(slave)
    return proc, master


def _terminal(proc, master: int, seconds: float, answer) -> tuple[bytes, int]:
    """Play the terminal for ``seconds`` (or until the console ends): read everything the
    console writes, as a live client does, and answer the n-th cursor request when
    ``answer(n)`` says so.  The output and the number of requests seen."""
    seen, asked, start = b"", 0, time.monotonic()
    while proc.poll() is None and time.monotonic() - start < seconds:
        if select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            seen += chunk
            for _ in range(chunk.count(CURSOR_REQUEST)):
                asked += 1
                if answer(asked):
                    os.write(master, b"\x1b[24;80R")
    return seen, asked



def _stop(proc, master: int) -> None:
    os.close(master)
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_console_ends_when_its_terminal_stops_answering(demo_db, tmp_path):
    """Found (CI): an SSH client stopped with SIGSTOP kept its console alive — sshd's
    keep-alive only probes after a quiet interval, and the console's clock writes every
    second.  A terminal that answered and then goes silent ends the console."""
    proc, master = _console_in_a_pty(demo_db, tmp_path, 0.5)
    try:
        start = time.monotonic()
        # answers the first six requests (3 s, however slow the start), then freezes
        _, asked = _terminal(proc, master, 60, lambda n: n <= 6)
        assert asked >= 9, "the console never asked its terminal"
        with contextlib.suppress(subprocess.TimeoutExpired):  # the pty closes as it exits
            proc.wait(timeout=10)
        assert proc.poll() == 129, f"the console outlived its frozen terminal ({asked} asked)"
        assert time.monotonic() - start < 60
    finally:
        _stop(proc, master)


@pytest.mark.parametrize("answers", [True, False], ids=["answering", "never-answering"])
def test_console_stays_with_a_terminal_that_answers_or_never_did(demo_db, tmp_path, answers):
    """No false alarm: a live terminal is kept; one that never answers (a dumb terminal) is
    asked three times and then left alone, never ended."""
    proc, master = _console_in_a_pty(demo_db, tmp_path, 0.5)
    try:
        seen, asked = _terminal(proc, master, 8, lambda _n: answers)
        assert proc.poll() is None, seen[-500:]
        assert b"BG-2026" in seen
        assert asked >= 10 if answers else asked == 3
    finally:
        _stop(proc, master)
