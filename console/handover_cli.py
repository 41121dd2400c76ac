"""``dutyroom handover``: the report (naming who produced it), and the handover itself.

    dutyroom handover --submit --situation TEXT --problems TEXT --tasks TEXT [--shift REF]
    dutyroom handover --accept --confirm situation,problems,tasks [--note TEXT] [--shift REF]
    dutyroom handover --take-over --reason TEXT [--shift REF]

The operator is the roster person behind the login (``--as`` where allowed), as for
``dutyroom act``.  After each step the report is saved to the archive folder
(``handover.archive_dir``).  Without a step: the plain report, printed or ``-o FILE``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from . import i18n
from .errors import DutyError
from .i18n import t
from .textsafe import one_line

THREE = ("situation", "problems", "tasks")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    step = parser.add_mutually_exclusive_group()
    step.add_argument("--submit", action="store_true", help="hand the shift over (交班)")
    step.add_argument("--accept", action="store_true", help="accept the handover (接班)")
    step.add_argument("--take-over", action="store_true", dest="take_over",
                      help="take over the shift now, its officer absent (接管)")
    parser.add_argument("--situation", metavar="TEXT", help="情况清 (with --submit)")
    parser.add_argument("--problems", metavar="TEXT", help="问题清 (with --submit)")
    parser.add_argument("--tasks", metavar="TEXT", help="任务清 (with --submit)")
    parser.add_argument("--confirm", metavar="LIST",
                        help="with --accept: situation,problems,tasks (or all), each checked")
    parser.add_argument("--note", metavar="TEXT", help="with --accept: a note")
    parser.add_argument("--reason", metavar="TEXT", help="with --take-over: why (required)")


def handles(args: argparse.Namespace) -> bool:
    """A handover step, or the plain text report (the record formats are record_cli's)."""
    from .record_cli import wants_record

    return _step(args) is not None or not wants_record(args)


def _step(args: argparse.Namespace) -> str | None:
    for name in ("submit", "accept", "take_over"):
        if getattr(args, name, False):
            return name
    return None


def _confirmed(text: str | None) -> tuple[str, ...]:
    words = [w.strip() for w in (text or "").replace(" ", ",").split(",") if w.strip()]
    if not words:
        raise DutyError(t("handover.cli_need_confirm"))
    if words == ["all"]:
        return THREE
    for w in words:
        if w not in THREE:
            raise DutyError(t("handover.cli_bad_confirm", what=one_line(w)))
    return tuple(words)


def run(ctx: Any, args: argparse.Namespace, operator: Callable[..., Any]) -> int:
    from . import actions
    from .handover import archive, handover_report, save_report

    step = _step(args)
    if step is None:  # the report, naming who produced it
        try:
            actor = operator(ctx, args.as_login)[0]
        except DutyError:
            actor = None
        text = handover_report(ctx, actor=actor)
        if args.out:
            save_report(args.out, text)
        else:
            print(text)
        return 0
    actor, readonly = operator(ctx, args.as_login)
    if readonly:
        raise DutyError(t("error.readonly", who=actor.name))
    if step == "submit":
        if not all(getattr(args, name) for name in THREE):
            raise DutyError(t("handover.cli_need_three"))
        shift = actions.submit_handover(ctx, actor, args.shift, situation=args.situation,
                                        problems=args.problems, tasks=args.tasks)
        print(t("handover.submitted", ref=one_line(shift.ref),
                n=i18n.count("entry", len(shift.handed_items or []))))
    else:
        if step == "accept":
            result = actions.accept_handover(ctx, actor, args.shift,
                                             confirmed=_confirmed(args.confirm),
                                             note=args.note or "")
        else:
            if not (args.reason or "").strip():
                raise DutyError(t("handover.cli_need_reason"))
            result = actions.take_over_shift(ctx, actor, args.shift, reason=args.reason)
        shift = result.shift
        print(result_line(result, actor.name))
    print(t("handover.archived", path=str(archive(ctx, actor, shift.ref))))
    return 0


def result_line(result: Any, who: str) -> str:
    """"shift X: 王芳 now owns 12 items, 1 already theirs; 1 not taken: BG-… (closed …)"."""
    line = t("handover.result", ref=one_line(result.shift.ref), who=one_line(who),
             n=i18n.count("entry", len(result.owned)))
    if result.already:
        line += t("handover.result_already", n=i18n.count("entry", result.already))
    if result.stale:
        items = ", ".join(f"{one_line(ref)} ({why})" for ref, why in result.stale[:10])
        line += t("handover.result_stale", n=i18n.count("entry", len(result.stale)), items=items)
    return line
