"""The `:` command line (CAD style): parsing, Tab completion and execution.

Used by the console's `:` line (screens/), by ``dutyroom act …`` and the tests.

``parse(":esc BG-2026-0042 秘书长")`` → ``Command(verb="esc", action="escalate",
ref="BG-2026-0042", arg="秘书长")``.  One verb per action; a verb also has the
one-letter alias of its key on the queue.  Completion takes callables for the
database look-ups so it is testable without a database (the screen runs them
in a thread worker).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# arg: "" none, "opt" optional word/text, "req" required text (rest of line)
# complete: what the argument completes to ("step", "dept", "level", "")


@dataclass(frozen=True)
class Verb:
    name: str
    action: str  # the screens' action id (see screens/keymap.py)
    arg: str = ""
    complete: str = ""
    aliases: tuple[str, ...] = ()


VERBS: tuple[Verb, ...] = (
    Verb("ack", "acknowledge", "opt", aliases=("a",)),
    Verb("esc", "escalate", "opt", "step", aliases=("e",)),
    Verb("assign", "assign", "req", "dept", aliases=("d",)),
    Verb("urge", "urge", "opt", aliases=("u",)),
    Verb("extend", "extend", "req", aliases=("x",)),
    Verb("return", "return", "req", aliases=("r",)),
    Verb("fu", "follow_up", "req", aliases=("f",)),
    Verb("ins", "instruct", "req", aliases=("i",)),
    Verb("close", "close", "opt", aliases=("c",)),
    Verb("reopen", "reopen", "req", aliases=("o",)),
    Verb("note", "note", "req", aliases=("n",)),
    Verb("level", "change_level", "req", "level", aliases=("L",)),
    Verb("reply", "reply", "req"),
    Verb("visit", "visit", "req"),
    Verb("open", "open"),
)
_BY_NAME = {v.name: v for v in VERBS} | {a: v for v in VERBS for a in v.aliases}
LEVEL_WORDS = ("I", "II", "III", "IV", "unknown")


@dataclass(frozen=True)
class Command:
    verb: str
    action: str
    ref: str
    arg: str = ""


class CommandError(ValueError):
    """A command that does not parse: ``key`` is an i18n key, ``params`` its values."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def verb_of(word: str) -> Verb | None:
    return _BY_NAME.get(word) or _BY_NAME.get(word.lower())


def parse(text: str) -> Command:
    """One command line → Command, or CommandError naming what is wrong."""
    line = text.strip().lstrip(":").strip()
    if not line:
        raise CommandError("cmd.empty")
    parts = line.split(None, 2)
    verb = verb_of(parts[0])
    if verb is None:
        raise CommandError("cmd.unknown_verb", verb=parts[0])
    if len(parts) < 2:
        raise CommandError("cmd.need_ref", verb=verb.name)
    ref = parts[1]
    arg = parts[2].strip() if len(parts) > 2 else ""
    if verb.arg == "" and arg:
        raise CommandError("cmd.no_arg", verb=verb.name)
    if verb.arg == "req" and not arg:
        raise CommandError("cmd.need_arg", verb=verb.name)
    return Command(verb.name, verb.action, ref, arg)


@dataclass(frozen=True)
class Lookups:
    """Where completions come from (database look-ups, run in a worker by the screen)."""

    refs: Callable[[str], Sequence[str]]
    departments: Callable[[str], Sequence[str]]
    steps: Callable[[str], Sequence[str]]  # ref → step names of its chain


def complete(text: str, lookups: Lookups) -> list[str]:
    """Whole-line candidates for the word being typed at the end of ``text``."""
    body = text.lstrip(":")
    lead = text[: len(text) - len(body)]
    words = body.split(" ")
    current = words[-1]
    head = " ".join(words[:-1])
    prefix = lead + (head + " " if head else "")
    if len(words) == 1:
        names = sorted({v.name for v in VERBS if v.name.startswith(current.lower())})
        return [prefix + n + " " for n in names]
    verb = verb_of(words[0])
    if verb is None:
        return []
    if len(words) == 2:
        return [prefix + r + " " for r in _dedupe(lookups.refs(current))]
    if len(words) == 3 and verb.complete:
        if verb.complete == "step":
            options = [s for s in lookups.steps(words[1]) if s.startswith(current)]
        elif verb.complete == "dept":
            options = list(lookups.departments(current))
        else:
            options = [w for w in LEVEL_WORDS if w.lower().startswith(current.lower())]
        return [prefix + o for o in _dedupe(options)]
    return []


def _dedupe(items: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


# --------------------------------------------------------------------------- execution


def db_lookups() -> Lookups:
    """Completion look-ups against the database (call ``complete`` from a worker)."""
    from . import actions, queries
    from .errors import DomainError

    def steps(ref: str) -> list[str]:
        try:
            return [name for name, _wait in actions.find_item(ref).chain]
        except DomainError:
            return []

    # departments complete to their names: assign accepts a code or a name
    return Lookups(refs=lambda p: queries.refs_starting(p, 20),
                   departments=lambda p: [d.name for d in queries.departments(p, 20)],
                   steps=steps)


def execute(ctx: Any, actor: Any, command: Command, *,
            expected_version: int | None = None) -> Any:
    """Run a parsed command through the one function in console/actions.py for its verb."""
    from . import actions
    from .errors import DomainError
    from .i18n import t

    ref, arg = command.ref, command.arg
    v = {"expected_version": expected_version}
    calls: dict[str, Callable[[], Any]] = {
        "acknowledge": lambda: actions.acknowledge(ctx, actor, ref, note=arg, **v),
        "escalate": lambda: actions.escalate(ctx, actor, ref, to_step=arg or None, **v),
        "assign": lambda: actions.assign(ctx, actor, ref, arg, **v),
        "urge": lambda: actions.urge(ctx, actor, ref, note=arg, **v),
        "extend": lambda: actions.extend(ctx, actor, ref, arg, **v),
        "return": lambda: actions.return_order(ctx, actor, ref, arg, **v),
        "follow_up": lambda: actions.follow_up(ctx, actor, ref, arg, **v),
        "instruct": lambda: actions.instruct(ctx, actor, ref, arg, **v),
        "close": lambda: actions.close(ctx, actor, ref, arg, **v),
        "reopen": lambda: actions.reopen(ctx, actor, ref, arg, **v),
        "note": lambda: actions.note(ctx, actor, ref, arg, **v),
        "change_level": lambda: actions.change_level(ctx, actor, ref, arg, **v),
        "reply": lambda: actions.reply(ctx, actor, ref, arg, **v),
        "visit": lambda: actions.visit(ctx, actor, ref, _score(arg), **v),
    }
    if command.action not in calls:  # "open" is the console's, not an action
        raise DomainError(t("cmd.unknown_verb", verb=command.verb))
    return calls[command.action]()


def _score(arg: str) -> int:
    from .errors import DomainError
    from .i18n import t

    try:
        return int(arg.split()[0])
    except (ValueError, IndexError):
        raise DomainError(t("error.satisfaction", value=arg)) from None


def run_command(ctx: Any, actor: Any, line: str) -> str:
    """``dutyroom act``: parse, execute, and say what happened in one line."""
    from .errors import DomainError
    from .i18n import label, t

    try:
        command = parse(line)
    except CommandError as exc:
        raise DomainError(t(exc.key, **exc.params)) from None
    item = execute(ctx, actor, command)
    return t("cli.done_action", ref=item.ref, action=label("action", command.action),
             status=label(f"status.{item.KIND}", item.status))
