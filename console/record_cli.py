"""``dutyroom handover|log --format … -o FILE`` and ``dutyroom bulletin`` (console/printing.py)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .i18n import t
from .textsafe import one_line


def add_bulletin_parser(sub: Any, parents: list | None = None) -> None:
    b = sub.add_parser("bulletin", help="draft the weekly or monthly bulletin (简报)",
                       parents=parents or [])
    span = b.add_mutually_exclusive_group()
    span.add_argument("--week", action="store_const", const="week", dest="span",
                      help="the last complete week, Monday to Sunday (the default)")
    span.add_argument("--month", action="store_const", const="month", dest="span",
                      help="the last complete month")
    b.add_argument("--format", choices=("md", "html", "pdf"))
    b.add_argument("--out", "-o", metavar="FILE")


def wants_record(args: argparse.Namespace) -> bool:
    """The printable record rather than the plain text of handover/log."""
    if args.command == "bulletin":
        return True
    if getattr(args, "format", None) not in (None, "text"):
        return True
    return bool(getattr(args, "shift", None) or getattr(args, "date", None)
                or (args.command == "log" and getattr(args, "out", None)))


def run_record(ctx: Any, args: argparse.Namespace) -> int:
    from . import printing

    fmt = getattr(args, "format", None) or ("md" if args.command == "bulletin" else "text")
    if args.command == "bulletin":
        from .bulletin import bulletin_document

        doc = bulletin_document(ctx, args.span or "week")
    elif args.command == "handover":
        doc = printing.handover_document(ctx, args.shift, _reader(ctx, args))
    else:
        doc = printing.log_document(ctx, date=args.date, since=args.since, until=args.until,
                                    actor=_reader(ctx, args))
    if fmt == "text":
        text = _text(ctx, args)
        if args.out:
            printing.write_atomic(args.out, text + "\n")
        else:
            print(text)
        return 0
    text = printing.output(doc, fmt, args.out)
    if text is None:
        print(t("record.written", what=one_line(doc.title), file=one_line(args.out)),
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _reader(ctx: Any, args: argparse.Namespace) -> Any:
    """The roster person producing the record (named on it), else None (the console)."""
    from .cli import operator
    from .errors import DutyError

    try:
        return operator(ctx, getattr(args, "as_login", None))[0]
    except DutyError:
        return None


def _text(ctx: Any, args: argparse.Namespace) -> str:
    """The plain text report, for --shift REF or --date D."""
    import datetime as dt

    from .handover import duty_log, handover_report
    from .models import Shift

    if args.command == "handover":
        shift = Shift.get_or_none(Shift.ref == args.shift)
        if shift is None:
            from .errors import DutyError

            raise DutyError(t("record.no_shift", ref=one_line(args.shift)))
        return handover_report(ctx, min(ctx.now(), shift.ends_at - dt.timedelta(seconds=1)),
                               _reader(ctx, args))
    since, until = args.since, args.until
    if args.date:
        from .figures_out import parse_day

        day = parse_day(args.date, "date").isoformat()
        since, until = f"{day}T00:00:00", f"{day}T23:59:59.999999"
    return duty_log(ctx, since=since, until=until)
