"""The CAD-style command line: ``:esc BG-2026-0042 秘书长``, ``:assign 12345-88123 住建局``.

One verb per action; parsing and completion are pure, execution calls the one
function in console/actions.py.  Used by the console's ``:`` line, by
``dutyroom act …`` and by the tests.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from . import actions, queries
from .context import Actor, Context
from .errors import DomainError
from .i18n import label, t
from .models import Item


@dataclass(frozen=True)
class Verb:
    name: str
    action: str  # key in locale "action.*"
    aliases: tuple[str, ...]
    args: str  # "" none; "step?" optional step; "dept"; "text"; "text?"; "level"


VERBS: tuple[Verb, ...] = (
    Verb("ack", "acknowledge", ("a", "acknowledge", "确认"), ""),
    Verb("esc", "escalate", ("e", "escalate", "升级"), "step?"),
    Verb("assign", "assign", ("d", "dispatch", "交办"), "dept"),
    Verb("urge", "urge", ("u", "chase", "催办"), "text?"),
    Verb("extend", "extend", ("x", "延期"), "text"),
    Verb("return", "return", ("r", "退单"), "text"),
    Verb("fu", "follow_up", ("f", "followup", "follow-up", "续报"), "text"),
    Verb("instruct", "instruct", ("i", "批示"), "text"),
    Verb("reply", "reply", ("答复",), "text"),
    Verb("visit", "visit", ("回访",), "score"),
    Verb("close", "close", ("c", "办结", "销号", "终报"), "text?"),
    Verb("reopen", "reopen", ("o", "重开"), "text"),
    Verb("note", "note", ("n", "备注"), "text"),
    Verb("level", "change_level", ("l", "定级"), "level"),
)
_BY_NAME = {alias: v for v in VERBS for alias in (v.name, *v.aliases)}


@dataclass(frozen=True)
class Command:
    verb: Verb
    ref: str
    arg: str = ""


def parse(line: str) -> Command:
    """``:verb REF [argument…]`` → Command, or a DomainError saying what is wrong."""
    text = line.strip().lstrip(":").strip()
    if not text:
        raise DomainError(t("cmd.empty"))
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    verb = _BY_NAME.get(words[0].lower())
    if verb is None:
        raise DomainError(t("cmd.unknown_verb", verb=words[0],
                            verbs=" ".join(v.name for v in VERBS)))
    if len(words) < 2:
        raise DomainError(t("cmd.need_ref", verb=verb.name))
    ref, rest = words[1], " ".join(words[2:]).strip()
    if verb.args in ("dept", "text", "level", "score") and not rest:
        raise DomainError(t(f"cmd.need_{verb.args}", verb=verb.name))
    return Command(verb, ref, rest)


def execute(ctx: Context, actor: Actor, cmd: Command,
            expected_version: int | None = None) -> Item:
    """Run a parsed command through console.actions."""
    v, ref, arg = cmd.verb, cmd.ref, cmd.arg
    common = {"expected_version": expected_version}
    calls: dict[str, Callable[[], Item]] = {
        "ack": lambda: actions.acknowledge(ctx, actor, ref, **common),
        "esc": lambda: actions.escalate(ctx, actor, ref, to_step=arg or None, **common),
        "assign": lambda: actions.assign(ctx, actor, ref, arg, **common),
        "urge": lambda: actions.urge(ctx, actor, ref, note=arg, **common),
        "extend": lambda: actions.extend(ctx, actor, ref, arg, **common),
        "return": lambda: actions.return_order(ctx, actor, ref, arg, **common),
        "fu": lambda: actions.follow_up(ctx, actor, ref, arg, **common),
        "instruct": lambda: actions.instruct(ctx, actor, ref, arg, **common),
        "reply": lambda: actions.reply(ctx, actor, ref, arg, **common),
        "visit": lambda: actions.visit(ctx, actor, ref, _score(arg), **common),
        "close": lambda: actions.close(ctx, actor, ref, arg, **common),
        "reopen": lambda: actions.reopen(ctx, actor, ref, arg, **common),
        "note": lambda: actions.note(ctx, actor, ref, arg, **common),
        "level": lambda: actions.change_level(ctx, actor, ref, arg, **common),
    }
    return calls[v.name]()


def _score(arg: str) -> int:
    try:
        return int(arg.split()[0])
    except (ValueError, IndexError):
        raise DomainError(t("error.satisfaction", value=arg)) from None


def run_command(ctx: Context, actor: Actor, line: str) -> str:
    """Parse, execute, and describe the result in one line."""
    cmd = parse(line)
    item = execute(ctx, actor, cmd)
    return t("cli.done_action", ref=item.ref, action=label("action", cmd.verb.action),
             status=label(f"status.{item.KIND}", item.status))


def complete(line: str, limit: int = 20) -> list[str]:
    """Completions for the word being typed: verbs, then references, then steps/departments.

    Returns whole lines (the line with its last word completed), best first.
    Reads the database (references, departments): call it from a worker.
    """
    text = line.lstrip(":")
    words = text.split(" ")
    head = ":" if line.startswith(":") else ""
    if len(words) == 1:
        word = words[0].lower()
        return [f"{head}{v.name} " for v in VERBS if v.name.startswith(word)][:limit]
    verb = _BY_NAME.get(words[0].lower())
    prefix = " ".join(words[:-1])
    word = words[-1]
    if len(words) == 2:
        return [f"{head}{prefix} {ref} " for ref in queries.refs_starting(word, limit)]
    if verb is None or len(words) > 3:
        return []
    if verb.args == "dept":
        return [f"{head}{prefix} {d.code}" for d in queries.departments(word, limit)]
    if verb.args == "step?":
        try:
            item = actions.find_item(words[1])
        except DomainError:
            return []
        return [f"{head}{prefix} {name}" for name, _w in item.chain if name.startswith(word)]
    if verb.args == "level":
        return [f"{head}{prefix} {lv}" for lv in ("I", "II", "III", "IV", "unknown")
                if lv.startswith(word)]
    return []
