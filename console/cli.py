"""``dutyroom`` command line.  Exit 0 ok, 1 a user error (one line), 2 usage.

Only the commands that open the console import Textual (screens/), so
``dutyroom sweep`` from cron starts fast and needs no terminal.
"""

from __future__ import annotations

import argparse
import logging
import os
import pwd
import sys
from collections.abc import Sequence
from pathlib import Path

from . import i18n, kiosk, ops_cli, serve  # kiosk, serve: the wall board
from .errors import DutyError

USER_ERROR = 1


class _Version(argparse.Action):
    """``--version``: the version and where the log file is (issue 8 §7)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show the version and the log file's path, then exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from . import logs

        print(f"{ops_cli.version_text()}\nlog: {logs.log_path()}")
        parser.exit()


def _globals(parser: argparse.ArgumentParser, default) -> None:
    """The options every command takes, before or after its name (issue 10 §14).

    The main parser gives them their defaults; each sub-command's copy uses
    SUPPRESS, so an option given before the command is not reset by the
    sub-parser and one given after it wins.
    """
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="site configuration file (else $DUTYROOM_CONFIG)")
    parser.add_argument("--db", metavar="URL", default=default,
                        help="database URL (overrides database.url)")
    parser.add_argument("--as", dest="as_login", metavar="LOGIN", default=default,
                        help="act as this roster login (only where operators.allow_as is true)")
    parser.add_argument("--lang", choices=("zh-CN", "en"), default=default,
                        help="interface language")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                        default=default, help="what the log file keeps (default warning)")
    parser.add_argument("--no-mouse", action="store_true",
                        default=False if default is None else default,
                        help="ignore the mouse (slow links: no mouse reports to send)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dutyroom",
        description="Duty-room console: emergency reports, 12345 work orders, supervision items.")
    p.add_argument("--version", action=_Version)
    _globals(p, None)
    common = argparse.ArgumentParser(add_help=False)
    _globals(common, argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    command("console", "open the console (the default)")
    command("init", "create or migrate the database")
    demo = command("demo", "fill a database with a month of realistic demo data")
    demo.add_argument("--force", action="store_true", help="replace a database that has data")
    demo.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    demo.add_argument("--seed", type=int, default=12345, help="random seed")
    demo.add_argument("--open", action="store_true", help="open the console afterwards")
    imp = command("import", "import a JSON Lines, YAML or CSV file (all or nothing)")
    imp.add_argument("file")
    imp.add_argument("--format", choices=("jsonl", "yaml", "csv"))
    exp = command("export", "export items and the event log")
    exp.add_argument("--out", "-o", metavar="FILE", help="output file (default: standard output)")
    exp.add_argument("--format", choices=("jsonl", "csv"))
    exp.add_argument("--events-only", action="store_true")
    command("sweep", "run auto-escalation once (for cron)")
    command("check-config", "validate the configuration and exit")
    command("verify", "verify the event log's hash chain").add_argument(
        "--anchor", metavar="ID:HASH", help="a chain head printed earlier (handover, export)")
    command("summary", "print the queues' counters")
    ho = command("handover", "print the handover report of the current shift")
    ho.add_argument("--out", "-o", metavar="FILE")
    ho.add_argument("--shift", metavar="REF", help="the handover of this shift (else the current)")
    ho.add_argument("--format", choices=("text", "md", "html", "pdf"))
    from .handover_cli import add_arguments  # --submit/--accept/--take-over: handover_cli.py

    add_arguments(ho)
    st = command("stats", "figures of a period (closure rate, on time, …)")
    st.add_argument("--year", type=int, help="calendar year in the site time zone (default: this)")
    st.add_argument("--from", dest="from_day", metavar="DATE", help="first local day (YYYY-MM-DD)")
    st.add_argument("--to", dest="to_day", metavar="DATE", help="last local day, inclusive")
    st.add_argument("--by", choices=("department", "category", "type", "level", "class",
                                      "urgency", "month", "day"))
    st.add_argument("--kind", choices=("work_order", "report", "supervision"))
    st.add_argument("--format", choices=("table", "csv", "json"))
    log = command("log", "print the duty log (值班日志) of a period")
    log.add_argument("--since", metavar="ISO", help="from (site time zone), default: shift start")
    log.add_argument("--until", metavar="ISO")
    log.add_argument("--date", metavar="DATE", help="one local day (YYYY-MM-DD)")
    log.add_argument("--format", choices=("text", "md", "csv", "html", "pdf"))
    log.add_argument("--out", "-o", metavar="FILE")
    from .record_cli import add_bulletin_parser  # bulletin: console/record_cli.py

    add_bulletin_parser(sub, [common])
    act = sub.add_parser("act", help="one action from the shell, e.g. act ack BG-2026-0042",
                         parents=[common],
                         description="One action on one item, as the console's : line takes it.",
                         epilog=_act_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    act.add_argument("words", nargs=argparse.REMAINDER, metavar="VERB REF [ARGUMENT]")
    ops_cli.add_parsers(sub, [common])  # backup, restore, migrate, status (console/ops_cli.py)
    kiosk.add_board_parser(sub, [common])
    serve.add_serve_parser(sub, [common])
    from . import schedule_cli  # receive: a scheduled report (console/schedule_cli.py)

    schedule_cli.add_parser(sub, [common])
    return p


def _act_epilog() -> str:
    """The verbs ``act`` takes, with their arguments, from the verb table."""
    from . import verbs

    lines = ["verbs:"]
    listed = [v for v in verbs.with_command() if v.action]
    width = max(len(v.usage) - 1 for v in listed)  # the longest usage keeps a gap too
    for v in listed:
        names = ", ".join((v.command, *v.aliases))
        lines.append(f"  {v.usage[1:]:<{width}}  {i18n.t(v.help_key)}  ({names})")
    return "\n".join(lines)


CRASHED = 70  # EX_SOFTWARE: a bug, logged; never 0


def _early_language(argv: Sequence[str] | None) -> None:
    """``act --help`` lists the verbs in the language asked for (before parsing)."""
    words = list(sys.argv[1:] if argv is None else argv)
    for i, word in enumerate(words):
        if word.startswith("--lang="):
            i18n.set_language(word.split("=", 1)[1])
        elif word == "--lang" and i + 1 < len(words):
            i18n.set_language(words[i + 1])


def main(argv: Sequence[str] | None = None) -> int:
    from . import logs

    _early_language(argv)
    args = _parser().parse_args(argv)
    logs.setup(args.log_level)
    try:
        code = _run(args)
        sys.stdout.flush()  # a reader that left (| head -1) shows here, not at exit
        return code
    except BrokenPipeError:  # the reader has what it wanted: no traceback, no message
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return USER_ERROR
    except DutyError as exc:
        from .textsafe import one_line

        print(f"dutyroom: {one_line(exc)}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print(f"dutyroom: {i18n.t('cli.interrupted')}", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: logged in full, one line for the officer
        ref = logs.report("dutyroom %s crashed", args.command or "console")
        line = i18n.t("health.crashed", error=type(exc).__name__, ref=ref, log=logs.log_path())
        print(f"dutyroom: {line}", file=sys.stderr)
        return CRASHED


def _setup(args: argparse.Namespace, *, migrate: bool = True, must_exist: bool = False):
    from . import db, schema, settings
    from .context import Context, storage_group

    cfg = settings.load(args.config)
    i18n.set_language(args.lang or settings.language_of(cfg))
    url = args.db or cfg.database_url or db.default_url()
    if must_exist and url.startswith("sqlite:///"):
        db.check_sqlite_url(url)
        path = Path(url[len("sqlite:///"):]).expanduser()
        if not path.exists():
            raise DutyError(i18n.t("cli.no_database", url=db.describe(url)))
    database = db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms,
                                group=storage_group(cfg))
    try:
        applied = schema.at_start(database, url, cfg, args) if migrate else []
    except Exception as exc:  # noqa: BLE001 - storage errors become one line
        if isinstance(exc, DutyError):
            raise
        logging.getLogger("dutyroom.cli").warning("migrate failed", exc_info=True)
        raise DutyError(f"{db.describe(url)}: {str(exc).splitlines()[0]}") from None
    return Context(cfg, db_url=url), url, applied


def os_login(settings=None) -> str:
    """The operator's login: the account of the real uid (over SSH, the SSH user).

    Never $USER, $LOGNAME or any variable the user sets.  When the console runs
    as operators.service_account through sudo (the deployment in
    docs/deployment.md), the operator is the SUDO_USER that sudo set — trusted
    only because the real uid is that account, which only sudo can give.
    """
    from .context import service_account

    uid = os.getuid()
    try:
        login = pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry (some containers): a name nobody can claim
        return f"uid-{uid}"
    service = service_account(settings) if settings is not None else None
    if service and login == service:
        return _sudo_user() or login
    return login


def _sudo_user() -> str | None:
    """SUDO_USER when it and SUDO_UID name one real account (as sudo sets them)."""
    name, uid = os.environ.get("SUDO_USER", ""), os.environ.get("SUDO_UID", "")
    if not name or not uid.isdigit():
        return None
    try:
        return name if pwd.getpwnam(name).pw_uid == int(uid) else None
    except KeyError:
        return None


def operator(ctx, as_login: str | None):
    """(Actor, readonly) for the console: the roster person behind the login."""
    from . import queries
    from .context import Actor

    login = os_login(ctx.settings)
    if as_login:
        if not ctx.settings.allow_as:
            raise DutyError(i18n.t("error.as_not_allowed"))
        login = as_login
    person = queries.person_by_login(login)
    if person is None:
        if as_login or not ctx.settings.unknown_readonly:
            raise DutyError(i18n.t("error.unknown_login", login=login))
        return Actor(login, login, "viewer"), True
    return Actor(person.login, person.name, person.role), person.role == "viewer"


def maintainer(ctx, as_login: str | None, what: str):
    """The operator of a writing maintenance command (import, demo --force): an admin.

    Bootstrap: while the roster is empty (a new database, after ``init``),
    whoever can open the database may load it; from then on only a roster
    admin may.  ``what`` names the command in the refusal.
    """
    from .context import Actor
    from .errors import PermissionDenied
    from .models import Person

    if not Person.select().exists():
        login = as_login if as_login and ctx.settings.allow_as else os_login(ctx.settings)
        return Actor(login, login, "admin")
    actor, _ = operator(ctx, as_login)
    if actor.role != "admin":
        raise PermissionDenied(i18n.t("access.admin_only", who=actor.login,
                                      role=i18n.label("role", actor.role), command=what))
    return actor


def _run(args: argparse.Namespace) -> int:
    """Dispatch: the commands that open no database first, then those that do."""
    command = args.command or "console"
    if command in ops_cli.COMMANDS:  # backup, restore, migrate, status: console/ops_cli.py
        return ops_cli.run(args)
    if command in ("board", "serve"):  # the wall board: console/kiosk.py, console/serve.py
        run = kiosk.run_board_command if command == "board" else serve.run_serve_command
        return run(args, _setup, operator)
    if command in _BEFORE_DATABASE:
        return _BEFORE_DATABASE[command](args)
    ctx, url, _ = _setup(args, must_exist=command not in ("import",))
    return _WITH_DATABASE[command](args, ctx, url)


def _check_config(args: argparse.Namespace) -> int:
    from . import settings

    cfg = settings.load(args.config)
    i18n.set_language(args.lang or settings.language_of(cfg))
    print(i18n.t("cli.config_ok", files=", ".join(cfg.sources)))
    return 0


def _init(args: argparse.Namespace) -> int:
    from . import db

    _ctx, url, applied = _setup(args)
    print(i18n.t("cli.initialised", url=db.describe(url), n=len(applied)))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import db, demo

    if args.open:
        _console_terminal(args)
    ctx, url, _ = _setup(args)
    if args.open and demo.has_data() and not args.force:
        return _console(args, ctx)  # the demo is already there: just open it
    if args.force and demo.has_data():  # replacing data: an admin's decision
        maintainer(ctx, args.as_login, "demo --force")
    bar = _Progress("demo")
    try:
        counts = demo.build(ctx, days=args.days, seed=args.seed, force=args.force, url=url,
                            progress=bar, operator=os_login(ctx.settings))
    finally:
        bar.close()
    print(i18n.t("cli.demo_done", url=db.describe(url), **counts))
    return _console(args, ctx) if args.open else 0


def _open_console(args: argparse.Namespace) -> int:
    _console_terminal(args)
    ctx, _url, _ = _setup(args)
    return _console(args, ctx)


def _sweep(args: argparse.Namespace, ctx, url: str) -> int:
    from .sweep import auto_escalate
    from .textsafe import one_line

    result = auto_escalate(ctx, budget=None)  # to the end, batch by batch
    print(i18n.t("cli.swept", n=len(result)))
    for _kind, ref, reason in result.escalated:
        print(i18n.t("cli.swept_line", ref=one_line(ref), reason=i18n.t(f"reason.{reason}")))
    return 0


def _receive(args: argparse.Namespace, ctx, url: str) -> int:
    from . import schedule_cli  # a scheduled department report

    return schedule_cli.run(ctx, args, operator)


def _verify(args: argparse.Namespace, ctx, url: str) -> int:
    from .verify import run

    return run(args.anchor)


def _handover(args: argparse.Namespace, ctx, url: str) -> int:
    from . import handover_cli, record_cli
    from .export import open_atomic
    from .handover import handover_report

    if handover_cli.handles(args):  # submit / accept / take over: handover_cli.py
        return handover_cli.run(ctx, args, operator)
    if record_cli.wants_record(args):  # the printable record: record_cli.py
        return record_cli.run_record(ctx, args)
    text = handover_report(ctx)
    if args.out:  # a missing folder is one line; a failed write leaves no partial file
        with open_atomic(args.out) as fh:
            fh.write(text + "\n")
    else:
        print(text)
    return 0


def _log(args: argparse.Namespace, ctx, url: str) -> int:
    from . import record_cli
    from .handover import duty_log

    if record_cli.wants_record(args):
        return record_cli.run_record(ctx, args)
    print(duty_log(ctx, since=args.since, until=args.until))
    return 0


def _bulletin(args: argparse.Namespace, ctx, url: str) -> int:
    from . import record_cli

    return record_cli.run_record(ctx, args)


def _act(args: argparse.Namespace, ctx, url: str) -> int:
    from . import schedule_cli
    from .commands import run_command
    from .textsafe import visible

    received = schedule_cli.act_words(args.words)  # act receive DEPT TOPIC [--file F]
    if received is not None:
        received.as_login = args.as_login
        return schedule_cli.run(ctx, received, operator)
    actor, _readonly = operator(ctx, args.as_login)
    print(visible(run_command(ctx, actor, " ".join(args.words))))
    return 0


_BEFORE_DATABASE = {"check-config": _check_config, "init": _init, "demo": _demo,
                    "console": _open_console}
_WITH_DATABASE = {
    "sweep": _sweep, "receive": _receive, "verify": _verify, "handover": _handover,
    "log": _log, "bulletin": _bulletin, "act": _act,
    "import": lambda args, ctx, url: _import(args, ctx),
    "export": lambda args, ctx, url: _export(args),
    "summary": lambda args, ctx, url: _summary(ctx, url),
    "stats": lambda args, ctx, url: _stats(ctx, args.year, args),
}


def _console_terminal(args: argparse.Namespace) -> None:
    """A console needs a terminal, and ends when it hangs up (docs/deployment.md).

    Checked before the database is opened: a refused session touches nothing.
    """
    from . import settings
    from .session import exit_when_terminal_goes, require_terminal

    i18n.set_language(args.lang or settings.language_of(settings.load(args.config)))
    require_terminal()
    exit_when_terminal_goes()


def _console(args: argparse.Namespace, ctx) -> int:
    actor, readonly = operator(ctx, args.as_login)
    mouse = not getattr(args, "no_mouse", False)
    if readonly or ctx.settings.board.kiosk:  # viewers and kiosks get the locked wall board
        return kiosk.open_board(ctx, actor, mouse=mouse)
    from screens.app import run_console

    # CRASHED (70) after a logged crash
    return run_console(ctx, actor, readonly=readonly, mouse=mouse)


class _Progress:
    """A rich progress bar on stderr (rate and ETA once the total is known), only on a
    terminal.  Callers see a callable ``bar(done)`` with a settable ``total``."""

    def __init__(self, what: str, total: int | None = None) -> None:
        self.what = what
        self._total = total
        self._bar = None
        self._task = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), _rate_column(), TimeElapsedColumn(),
                                 TimeRemainingColumn(),
                                 console=Console(file=sys.stderr), transient=True)
            self._task = self._bar.add_task(what, total=total)
            self._bar.start()

    @property
    def enabled(self) -> bool:
        return self._bar is not None

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, value: int | None) -> None:
        self._total = value
        if self._bar is not None:
            self._bar.update(self._task, total=value)

    def __call__(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Records a second (rich's own speed column speaks bytes)."""

        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")

    return RateColumn()


def _import(args: argparse.Namespace, ctx) -> int:
    from . import actions, intake
    from .textsafe import one_line

    path = Path(args.file)
    bar = _Progress(path.name)
    try:
        records = intake.file_source(path, ctx.settings, args.format)  # read as a stream
        result = actions.import_records(ctx, maintainer(ctx, args.as_login, "import"), records, source=path.name,
                                        progress=bar)
    finally:
        bar.close()
    created = sum(v for k, v in result.items() if k not in ("skipped", "events_skipped"))
    print(i18n.t("cli.imported", n=created, file=one_line(path.name),
                 skipped=result.get("skipped", 0)))
    return 0


def _export(args: argparse.Namespace) -> int:
    from . import export
    from .textsafe import one_line

    kwargs = {"items": not args.events_only}
    if args.out:
        bar = _Progress(Path(args.out).name)
        try:
            counts = export.export_to(args.out, args.format, progress=bar, **kwargs)
        finally:
            bar.close()
        print(i18n.t("cli.exported", items=counts["items"], events=counts["events"],
                     file=one_line(args.out)), file=sys.stderr)
    else:
        counts = export.write(sys.stdout, args.format or "jsonl", **kwargs)
    # the anchor, outside the database (issue 9 §5): verify --anchor finds a truncation
    print(i18n.t("handover.chain_head", head=counts["head"]), file=sys.stderr)
    return 0


def _stats(ctx, year: int | None, args: argparse.Namespace | None = None) -> int:
    import datetime as dt

    if args is not None and any((args.from_day, args.to_day, args.by, args.kind, args.format)):
        from .figures_out import parse_day, stats_command

        print(stats_command(ctx, kind=args.kind or "work_order", by=args.by,
                            fmt=args.format or "table", year=year,
                            first=args.from_day and parse_day(args.from_day, "from"),
                            last=args.to_day and parse_day(args.to_day, "to")), end="")
        return 0
    from .clock import to_local, to_utc_naive
    from .intake import YEARS
    from .stats import work_order_stats
    from .textsafe import one_line

    tz = ctx.settings.tz
    year = year or to_local(ctx.now(), tz).year
    if not YEARS[0] <= year <= YEARS[1]:  # 9999 + 1 overflowed datetime
        raise DutyError(i18n.t("error.option_year", option="year", lo=YEARS[0], hi=YEARS[1],
                               got=year))
    since = to_utc_naive(dt.datetime(year, 1, 1), tz)
    until = to_utc_naive(dt.datetime(year + 1, 1, 1), tz)
    s = work_order_stats(since, until, tz=tz, settings=ctx.settings)
    print(i18n.t("stats.title", year=year, total=s.total))
    print(i18n.t("stats.closure", rate=f"{s.closure_rate:.1%}", closed=s.closed,
                 on_time=f"{s.on_time_rate:.1%}",
                 satisfaction=f"{s.satisfaction_avg:.2f}" if s.satisfaction_avg else "—"))
    print(i18n.t("stats.by_type") + "  " + "  ".join(
        f"{i18n.label('wo_type', k)} {v}" for k, v in sorted(s.by_type.items())))
    print(i18n.t("stats.by_urgency") + "  " + "  ".join(
        f"{i18n.label('urgency', k)} {v}" for k, v in sorted(s.by_urgency.items())))
    print(i18n.t("stats.by_month") + "  " + "  ".join(f"{k} {v}" for k, v in s.by_month.items()))
    print(i18n.t("stats.departments"))
    for name, n, closed, on_time in s.top_departments:
        rate = f"{on_time / closed:.1%}" if closed else "—"  # none closed: no rate, not 0 %
        print(f"  {one_line(name)}  {n}  {closed / n if n else 0:.1%}  {rate}")
    return 0


def _summary(ctx, url: str) -> int:
    from . import db, queries
    from .textsafe import one_line

    now = ctx.now()
    print(i18n.t("cli.summary_header", site=one_line(ctx.settings.site_name),
                 url=db.describe(url)))
    for kind in queries.KINDS:
        c = queries.counters(kind, now)
        print(i18n.t("cli.summary_line", queue=i18n.label("kind", kind), open=c.open,
                     unacked=c.unacked, overdue=c.overdue))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
