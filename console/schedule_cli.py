"""``dutyroom receive DEPT TOPIC [--file F] [--period P]``: a scheduled report came in.

``act``'s words are VERB REF ARGUMENT; a scheduled report is named by its department
and topic instead (the officer has the department on the phone, not a reference), so
it has a sub-command of its own, which ``act receive DEPT TOPIC [--file F]`` also takes
(``act receive REF [FILE]`` stays the verb table's form).  The console's row key does the same.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_parser(sub: Any, parents: list) -> None:
    r = sub.add_parser("receive", parents=parents,
                       help="receive a scheduled department report (定期报送), e.g. "
                            "receive XCB opinion --file week49.pdf")
    _arguments(r)


def _arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("department", metavar="DEPT", help="department code or name")
    r.add_argument("topic", metavar="TOPIC", help="topic code (see scheduled_reports)")
    r.add_argument("--file", metavar="F", help="the file received: stored by path and SHA-256")
    r.add_argument("--period", metavar="P", help="which period (default: the oldest open)")
    r.add_argument("--note", default="", help="a note for the record")


def act_words(words: list[str]) -> argparse.Namespace | None:
    """``act receive DEPT TOPIC [--file F] [--period P] [--note N]`` as the sub-command's
    arguments, or None when the words are the verb table's ``receive REF [FILE]``: the
    first word after the verb names a department (code or name) and no item."""
    from . import actions, verbs
    from .errors import DomainError
    from .models import Department

    if len(words) < 3 or verbs.by_word(words[0]) is not verbs.by_name("receive"):
        return None
    dept = words[1]
    if Department.get_or_none((Department.code == dept) | (Department.name == dept)) is None:
        return None
    try:
        actions.find_item(dept)
        return None  # an item's reference: the verb table's form
    except DomainError:
        pass
    parser = argparse.ArgumentParser(prog="dutyroom act receive", add_help=False)
    _arguments(parser)
    return parser.parse_args(words[1:])


def run(ctx: Any, args: argparse.Namespace, operator: Callable[..., Any]) -> int:
    from . import actions
    from .i18n import label, t
    from .schedule_queries import topic_label
    from .textsafe import one_line

    actor, _readonly = operator(ctx, args.as_login)
    item = actions.receive(ctx, actor, args.department, args.topic, file=args.file,
                           period=args.period, note=args.note)
    dept = item.department
    print(t("schedule.cli.received", ref=one_line(item.ref), topic=topic_label(item.topic),
            dept=one_line(dept.name), period=one_line(item.period),
            status=label("status.scheduled", item.status)))
    if item.file_path:
        print(t("schedule.cli.file", path=one_line(item.file_path), sha256=item.file_sha256))
    return 0



