"""Global options before or after the command (issue 10 §14), the log file, a crash's exit."""

from __future__ import annotations

import os
import stat

import pytest

from console import cli, logs


@pytest.fixture(autouse=True)
def _log_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DUTYROOM_LOG_DIR", str(tmp_path / "log"))
    yield
    for h in list(logs.log.handlers):
        h.close()
        logs.log.removeHandler(h)
    logs._path[0] = None
    logs.log.propagate = True


def test_global_options_after_the_command(tmp_path, capsys):
    """Found: ``dutyroom check-config --config x.yaml`` was a usage error."""
    site = tmp_path / "site.yaml"
    site.write_text("site:\n  name: 测试值班室\n", encoding="utf-8")
    assert cli.main(["check-config", "--config", str(site), "--lang", "en"]) == 0
    assert "site.yaml" in capsys.readouterr().out
    assert cli.main(["--config", str(site), "check-config"]) == 0
    args = cli._parser().parse_args(["summary", "--db", "sqlite:///x.db", "--as", "liming",
                                     "--log-level", "debug"])
    assert (args.db, args.as_login, args.log_level) == ("sqlite:///x.db", "liming", "debug")
    # before the command, and not reset by the sub-command's own copy of the option
    args = cli._parser().parse_args(["--db", "sqlite:///y.db", "--lang", "en", "summary"])
    assert (args.db, args.lang, args.config) == ("sqlite:///y.db", "en", None)
    # after the command wins over before it
    args = cli._parser().parse_args(["--db", "sqlite:///a.db", "verify", "--db", "sqlite:///b.db"])
    assert args.db == "sqlite:///b.db"


def test_act_keeps_its_words(tmp_path):
    args = cli._parser().parse_args(["--as", "liming", "act", "note", "BG-2026-0001", "a", "b"])
    assert args.words == ["note", "BG-2026-0001", "a", "b"] and args.as_login == "liming"
    args = cli._parser().parse_args(["act", "--db", "sqlite:///z.db", "ack", "BG-2026-0001"])
    assert args.words == ["ack", "BG-2026-0001"] and args.db == "sqlite:///z.db"


def test_version_shows_the_log_path(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "dutyroom " in out and str(tmp_path / "log" / "dutyroom.log") in out


def test_a_crash_is_logged_and_exits_nonzero(tmp_path, monkeypatch, capsys):
    def broken(_args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "_run", broken)
    assert cli.main(["summary", "--log-level", "info"]) == cli.CRASHED
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    path = tmp_path / "log" / "dutyroom.log"
    assert str(path) in err
    text = path.read_text(encoding="utf-8")
    assert "Traceback" in text and "ZeroDivisionError: a bug" in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_progress_bar_counts_with_rate(monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr(cli.sys, "stderr", fake)
    bar = cli._Progress("import")
    assert bar.enabled
    bar.total = 1000
    for done in (100, 500, 1000):
        bar(done)
    task = bar._bar.tasks[0]
    assert (task.total, task.completed) == (1000, 1000)
    bar.close()
    assert not bar.enabled


def test_no_mouse_reaches_the_console_and_the_board(monkeypatch):
    """issue 13: ``--no-mouse`` for slow links, for the console as for the board."""
    import screens.app
    import screens.board
    from console.context import Actor

    seen: list[tuple[str, bool]] = []
    monkeypatch.setattr(screens.app, "run_console",
                        lambda ctx, actor, *, readonly, mouse: seen.append(("console", mouse)) or 0)
    monkeypatch.setattr(screens.board, "run_board",
                        lambda ctx, actor, *, mouse: seen.append(("board", mouse)) or 0)
    officer, viewer = Actor("liming", "李明", "officer"), Actor("wb", "大屏", "viewer")
    for actor, readonly in ((officer, False), (viewer, True)):
        monkeypatch.setattr(cli, "operator", lambda ctx, login, a=actor, r=readonly: (a, r))
        for argv in (["--no-mouse"], ["console", "--no-mouse"], []):
            args = cli._parser().parse_args(argv)
            ctx = type("Ctx", (), {"settings": type("S", (), {
                "board": type("B", (), {"kiosk": False})()})()})()
            cli._console(args, ctx)
    assert seen == [("console", False), ("console", False), ("console", True),
                    ("board", False), ("board", False), ("board", True)]


def test_an_sqlite_url_with_options_is_refused_in_one_line(tmp_path, capsys):
    """Found: --db 'sqlite:///…/x.db?mode=ro' silently made a new file named 'x.db?mode=ro'
    (an empty database beside the real one)."""
    from console import cli

    for command in (["init"], ["summary"], ["status"], ["backup", str(tmp_path / "b.db")]):
        url = f"sqlite:///{tmp_path}/x.db?mode=ro"
        assert cli.main(["--lang", "en", "--db", url, *command]) == 1, command
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "takes no ?options" in err, (command, err)
    assert not [p for p in tmp_path.rglob("*") if "mode" in p.name or p.suffix == ".db"]
