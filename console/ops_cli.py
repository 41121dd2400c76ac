"""The operator's commands: ``backup``, ``restore``, ``migrate``, ``status``.

Kept out of cli.py (which only adds these parsers and dispatches here).  They
open the database without the start-up schema check, because they are what an
operator runs when that check refuses: ``status`` reports any version,
``migrate`` applies pending migrations, ``backup`` copies any version.
Imports stay light at module level: ``dutyroom --help`` builds these parsers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import __version__, i18n

COMMANDS = ("backup", "restore", "migrate", "status")


def version_text() -> str:
    """``dutyroom --version``: the app and the schema version it ships."""
    names = sorted(p.stem for p in (Path(__file__).parent / "migrations").glob("[0-9]*.py"))
    last = names[-1] if names else "none"
    return f"dutyroom {__version__}, schema {int(last.split('_')[0]) if names else 0} ({last})"


def add_parsers(sub, parents: list | None = None) -> None:
    """The operator's sub-commands; ``parents`` carries the global options."""
    common = {"parents": parents or []}
    b = sub.add_parser("backup", help="consistent online copy of the database, verified",
                       **common)
    b.add_argument("dest", metavar="DEST", help="a new file, or a folder for a dated file")
    r = sub.add_parser("restore", help="restore a backup into an empty database, verified",
                       **common)
    r.add_argument("src", metavar="SRC", help="a file written by dutyroom backup")
    m = sub.add_parser("migrate", help="apply pending schema migrations (after a backup)",
                       **common)
    m.add_argument("--backup", metavar="DEST",
                   help="PostgreSQL: pg_dump to DEST first (SQLite backs up next to the file)")
    sub.add_parser("status", help="database, schema, pending migrations, chain head, disk",
                   **common)


def _open(args: argparse.Namespace, *, must_exist: bool = True):
    from . import db, settings
    from .backup import sqlite_path
    from .errors import DutyError

    cfg = settings.load(args.config)
    i18n.set_language(args.lang or settings.language_of(cfg))
    url = args.db or cfg.database_url or db.default_url()
    db.check_sqlite_url(url)
    path = sqlite_path(url)
    if must_exist and path is not None and not path.exists():
        raise DutyError(i18n.t("cli.no_database", url=db.describe(url)))
    return cfg, url, path


def run(args: argparse.Namespace) -> int:
    command = args.command
    try:
        return {"backup": _backup, "restore": _restore, "migrate": _migrate,
                "status": _status}[command](args)
    except Exception as exc:  # noqa: BLE001 - storage errors become one line
        from .errors import DutyError

        if isinstance(exc, DutyError):
            raise
        raise DutyError(f"{command}: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None


def _print_summary(key: str, s) -> None:
    from .status import human_size

    head = (f"#{s.head_id} {s.head_hash[:16]}…" if s.head_id
            else i18n.t("ops.status_no_events"))
    print(i18n.t(key, path=s.path, events=s.events, head=head, schema=s.schema,
                 size=human_size(s.size)))


def _backup(args: argparse.Namespace) -> int:
    from .backup import backup

    cfg, url, _ = _open(args)
    _print_summary("ops.backup_done", backup(url, args.dest, busy_timeout_ms=cfg.busy_timeout_ms))
    return 0


def _restore(args: argparse.Namespace) -> int:
    from . import db, schema
    from .backup import restore

    cfg, url, _ = _open(args, must_exist=False)
    summary = restore(url, args.src, busy_timeout_ms=cfg.busy_timeout_ms)
    _print_summary("ops.restore_done", summary)
    database = db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    try:
        st = schema.state(database)
    finally:
        database.close()
    if st.pending:
        print(i18n.t("ops.restore_pending", n=len(st.pending),
                     command=schema.migrate_command(args)))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from . import db, schema
    from .backup import backup, backup_before_migrate

    cfg, url, path = _open(args, must_exist=False)
    database = db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    try:
        st = schema.state(database)
        schema.refuse_newer(st, url)
        if not st.pending:
            print(i18n.t("ops.migrate_current", version=st.version))
            return 0
        if not st.empty:
            if path is not None:
                _print_summary("ops.backup_done", backup_before_migrate(database, url))
            elif args.backup:
                _print_summary("ops.backup_done", backup(url, args.backup))
            else:
                print(i18n.t("ops.migrate_no_pg_backup"))
        applied = db.migrate(database)
        print(i18n.t("ops.migrated", n=len(applied), names=", ".join(applied) or "—",
                     version=schema.code_version()))
        return 0
    finally:
        database.close()


def _status(args: argparse.Namespace) -> int:
    from . import db, schema
    from .status import status_lines

    cfg, url, _ = _open(args)
    database = db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    try:
        print(i18n.t("ops.status_line", label=i18n.t("ops.status_version"),
                     value=i18n.t("ops.status_version_value", app=__version__,
                                  schema=schema.code_version())))
        for line in status_lines(database, url, cfg, schema.migrate_command(args)):
            print(line)
    finally:
        database.close()
    return 0
