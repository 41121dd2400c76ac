"""``dutyroom`` command line.  Exit 0 ok, 1 a user error (one line), 2 usage.

Only the commands that open the console import Textual (screens/), so
``dutyroom sweep`` from cron starts fast and needs no terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, i18n
from .errors import DutyError

USER_ERROR = 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dutyroom",
        description="Duty-room console: emergency reports, 12345 work orders, supervision items.")
    p.add_argument("--version", action="version", version=f"dutyroom {__version__}")
    p.add_argument("--config", metavar="PATH", help="site configuration file (else $DUTYROOM_CONFIG)")
    p.add_argument("--db", metavar="URL", help="database URL (overrides database.url)")
    p.add_argument("--as", dest="as_login", metavar="LOGIN",
                   help="act as this roster login (only where operators.allow_as is true)")
    p.add_argument("--lang", choices=("zh-CN", "en"), help="interface language")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("console", help="open the console (the default)")
    sub.add_parser("init", help="create or migrate the database")
    demo = sub.add_parser("demo", help="fill a database with a month of realistic demo data")
    demo.add_argument("--force", action="store_true", help="replace a database that has data")
    demo.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    demo.add_argument("--seed", type=int, default=12345, help="random seed")
    demo.add_argument("--open", action="store_true", help="open the console afterwards")
    imp = sub.add_parser("import", help="import a JSON Lines, YAML or CSV file (all or nothing)")
    imp.add_argument("file")
    imp.add_argument("--format", choices=("jsonl", "yaml", "csv"))
    exp = sub.add_parser("export", help="export items and the event log")
    exp.add_argument("--out", "-o", metavar="FILE", help="output file (default: standard output)")
    exp.add_argument("--format", choices=("jsonl", "csv"))
    exp.add_argument("--events-only", action="store_true")
    sub.add_parser("sweep", help="run auto-escalation once (for cron)")
    sub.add_parser("check-config", help="validate the configuration and exit")
    sub.add_parser("verify", help="verify the event log's hash chain")
    sub.add_parser("summary", help="print the queues' counters")
    ho = sub.add_parser("handover", help="print the handover report of the current shift")
    ho.add_argument("--out", "-o", metavar="FILE")
    st = sub.add_parser("stats", help="12345 statistics of a year (closure rate, on time, …)")
    st.add_argument("--year", type=int, help="calendar year in the site time zone (default: this)")
    log = sub.add_parser("log", help="print the duty log (值班日志) of a period")
    log.add_argument("--since", metavar="ISO", help="from (site time zone), default: shift start")
    log.add_argument("--until", metavar="ISO")
    act = sub.add_parser("act", help="one action from the shell, e.g. act ack BG-2026-0042")
    act.add_argument("words", nargs=argparse.REMAINDER)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except DutyError as exc:
        print(f"dutyroom: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print(f"dutyroom: {i18n.t('cli.interrupted')}", file=sys.stderr)
        return 130


def _setup(args: argparse.Namespace, *, migrate: bool = True, must_exist: bool = False):
    from . import db, settings
    from .context import Context

    cfg = settings.load(args.config)
    i18n.set_language(args.lang or settings.language_of(cfg))
    url = args.db or cfg.database_url or db.default_url()
    if must_exist and url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):]).expanduser()
        if not path.exists():
            raise DutyError(i18n.t("cli.no_database", url=db.describe(url)))
    database = db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    try:
        applied = db.migrate(database) if migrate else []
    except Exception as exc:  # noqa: BLE001 - storage errors become one line
        if isinstance(exc, DutyError):
            raise
        raise DutyError(f"{db.describe(url)}: {str(exc).splitlines()[0]}") from None
    return Context(cfg, db_url=url), url, applied


def os_login() -> str:
    """The operator's login: over SSH, the SSH user the session runs as."""
    if os.environ.get("DUTYROOM_USER"):  # kiosks and tests name the operator explicitly
        return os.environ["DUTYROOM_USER"]
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def operator(ctx, as_login: str | None):
    """(Actor, readonly) for the console: the roster person behind the login."""
    from . import queries
    from .context import Actor

    login = os_login()
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


def maintainer():
    """The CLI's maintenance commands (init, demo, import, sweep) act as the OS login.

    Access to the database file or URL is their trust boundary; roles govern
    the consoles.
    """
    from .context import Actor

    login = os_login()
    return Actor(login, login, "admin")


def _run(args: argparse.Namespace) -> int:
    from . import db

    command = args.command or "console"
    if command == "check-config":
        from . import settings

        cfg = settings.load(args.config)
        i18n.set_language(args.lang or settings.language_of(cfg))
        print(i18n.t("cli.config_ok", files=", ".join(cfg.sources)))
        return 0
    if command == "init":
        ctx, url, applied = _setup(args)
        print(i18n.t("cli.initialised", url=db.describe(url), n=len(applied)))
        return 0
    if command == "demo":
        from . import demo

        ctx, url, _ = _setup(args)
        if args.open and demo.has_data() and not args.force:
            return _console(args, ctx)  # the demo is already there: just open it
        bar = _Progress("demo")
        try:
            counts = demo.build(ctx, days=args.days, seed=args.seed, force=args.force, url=url,
                                progress=bar, operator=os_login())
        finally:
            bar.close()
        print(i18n.t("cli.demo_done", url=db.describe(url), **counts))
        if args.open:
            return _console(args, ctx)
        return 0
    if command == "console":
        ctx, url, _ = _setup(args)
        return _console(args, ctx)
    ctx, url, _ = _setup(args, must_exist=command not in ("import",))
    if command == "sweep":
        from .sweep import auto_escalate

        result = auto_escalate(ctx)
        print(i18n.t("cli.swept", n=len(result)))
        for _kind, ref, reason in result.escalated:
            print(i18n.t("cli.swept_line", ref=ref, reason=i18n.t(f"reason.{reason}")))
        return 0
    if command == "import":
        return _import(args, ctx)
    if command == "export":
        return _export(args)
    if command == "verify":
        from .verify import verify_chain

        ok, n, bad_id, problem = verify_chain()
        if ok:
            print(i18n.t("cli.verify_ok", n=n))
            return 0
        print(i18n.t("cli.verify_bad", id=bad_id, problem=problem), file=sys.stderr)
        return USER_ERROR
    if command == "summary":
        return _summary(ctx, url)
    if command == "handover":
        from .handover import handover_report

        text = handover_report(ctx)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            print(text)
        return 0
    if command == "stats":
        return _stats(ctx, args.year)
    if command == "log":
        from .handover import duty_log

        print(duty_log(ctx, since=args.since, until=args.until))
        return 0
    if command == "act":
        from .commands import run_command

        actor, readonly = operator(ctx, args.as_login)
        message = run_command(ctx, actor, " ".join(args.words))
        print(message)
        return 0
    raise AssertionError(command)  # argparse admits only the commands above


def _console(args: argparse.Namespace, ctx) -> int:
    actor, readonly = operator(ctx, args.as_login)
    from screens.app import run_console

    run_console(ctx, actor, readonly=readonly)
    return 0


class _Progress:
    """A one-line progress bar on stderr, only on a terminal."""

    def __init__(self, what: str, total: int | None = None) -> None:
        self.what, self.total = what, total
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        if self.total:
            width = 30
            filled = int(width * done / self.total)
            bar = "█" * filled + "·" * (width - filled)
            sys.stderr.write(f"\r{self.what} [{bar}] {done}/{self.total}")
        else:
            sys.stderr.write(f"\r{self.what}: {done}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _import(args: argparse.Namespace, ctx) -> int:
    from . import actions, intake

    path = Path(args.file)
    bar = _Progress(path.name)
    try:
        records = intake.load_file(path, ctx.settings, args.format, progress=bar)
        bar.total = len(records)
        result = actions.import_records(ctx, maintainer(), records, source=path.name,
                                        progress=bar)
    finally:
        bar.close()
    created = sum(v for k, v in result.items() if k not in ("skipped", "events_skipped"))
    print(i18n.t("cli.imported", n=created, file=path.name, skipped=result.get("skipped", 0)))
    return 0


def _export(args: argparse.Namespace) -> int:
    from . import export

    kwargs = {"items": not args.events_only}
    if args.out:
        bar = _Progress(Path(args.out).name)
        try:
            counts = export.export_to(args.out, args.format, progress=bar, **kwargs)
        finally:
            bar.close()
        print(i18n.t("cli.exported", items=counts["items"], events=counts["events"],
                     file=args.out), file=sys.stderr)
    else:
        export.write(sys.stdout, args.format or "jsonl", **kwargs)
    return 0


def _stats(ctx, year: int | None) -> int:
    import datetime as dt

    from .clock import to_local, to_utc_naive
    from .stats import work_order_stats

    tz = ctx.settings.tz
    year = year or to_local(ctx.now(), tz).year
    since = to_utc_naive(dt.datetime(year, 1, 1), tz)
    until = to_utc_naive(dt.datetime(year + 1, 1, 1), tz)
    s = work_order_stats(since, until, tz=tz)
    print(i18n.t("stats.title", year=year, total=s.total))
    print(i18n.t("stats.closure", rate=f"{s.closure_rate:.1%}", closed=s.closed,
                 on_time=f"{(s.closed_on_time / s.closed if s.closed else 0):.1%}",
                 satisfaction=f"{s.satisfaction_avg:.2f}" if s.satisfaction_avg else "—"))
    print(i18n.t("stats.by_type") + "  " + "  ".join(
        f"{i18n.label('wo_type', k)} {v}" for k, v in sorted(s.by_type.items())))
    print(i18n.t("stats.by_urgency") + "  " + "  ".join(
        f"{i18n.label('urgency', k)} {v}" for k, v in sorted(s.by_urgency.items())))
    print(i18n.t("stats.by_month") + "  " + "  ".join(f"{k} {v}" for k, v in s.by_month.items()))
    print(i18n.t("stats.departments"))
    for name, n, closed in s.top_departments:
        print(f"  {name}  {n}  {closed / n if n else 0:.1%}")
    return 0


def _summary(ctx, url: str) -> int:
    from . import db, queries

    now = ctx.now()
    print(i18n.t("cli.summary_header", site=ctx.settings.site_name, url=db.describe(url)))
    for kind in queries.KINDS:
        c = queries.counters(kind, now)
        print(i18n.t("cli.summary_line", queue=i18n.label("kind", kind), open=c.open,
                     unacked=c.unacked, overdue=c.overdue))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
