"""The `:` command line (CAD style): parsing, Tab completion and execution.

Used by the console's `:` line (screens/), by ``dutyroom act …`` and the tests.

``parse(":esc BG-2026-0042 秘书长")`` → ``Command(verb="esc", action="escalate_to",
ref="BG-2026-0042", arg="秘书长")``.  The words, arguments and completions come
from the verb table (console/verbs.py); a verb also has the one-letter alias of
its key on the queue.  Completion takes callables for the
database look-ups so it is testable without a database (the screen runs them
in a thread worker).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import verbs
from .verbs import Verb

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
    return verbs.by_word(word)


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
        raise CommandError("cmd.need_ref", verb=verb.command)
    ref = parts[1]
    arg = parts[2].strip() if len(parts) > 2 else ""
    if verb.argument.cmd == "" and arg:
        raise CommandError("cmd.no_arg", verb=verb.command)
    if verb.argument.cmd == "req" and not arg:
        raise CommandError("cmd.need_arg", verb=verb.command)
    return Command(verb.command, verb.name, ref, arg)


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
        names = sorted({v.command for v in verbs.with_command()
                        if v.command.startswith(current.lower())})
        return [prefix + n + " " for n in names]
    verb = verb_of(words[0])
    if verb is None:
        return []
    if len(words) == 2:
        return [prefix + r + " " for r in _dedupe(lookups.refs(current))]
    completes = verb.argument.completes
    if len(words) == 3 and completes:
        if completes == "step":
            options = [s for s in lookups.steps(words[1]) if s.startswith(current)]
        elif completes == "department":
            options = list(lookups.departments(current))
        elif completes == "ref":  # merge/link: the other item
            options = [r for r in lookups.refs(current) if r != words[1]]
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
    """Run a parsed command through its verb's one function in console.actions."""
    from .errors import DomainError
    from .i18n import t

    verb = verbs.by_name(command.action)
    if verb is None or not verb.action:  # "open" is the console's, not an action
        raise DomainError(t("cmd.unknown_verb", verb=command.verb))
    command = resolved(command)[0]  # a merged duplicate's ref acts on its master
    return verbs.call(verb, ctx, actor, command.ref, command.arg,
                      expected_version=expected_version)


def run_command(ctx: Any, actor: Any, line: str) -> str:
    """``dutyroom act``: parse, execute, and say what happened in one line."""
    from . import actions
    from .errors import DomainError
    from .i18n import label, t

    try:
        command = parse(line)
        verb = verbs.by_name(command.action)
        if verb is None or not verb.action:  # "open" is the console's
            raise CommandError("cmd.unknown_verb", verb=command.verb)
    except CommandError as exc:
        key = "cmd.unknown_verb_cli" if exc.key == "cmd.unknown_verb" else exc.key
        raise DomainError(t(key, **exc.params)) from None
    # the version this command was decided on (issue 9 §2): a change by someone else
    # between the read and the write is reported, not overwritten
    command, notice = resolved(command)
    read = actions.find_item(command.ref)
    item = execute(ctx, actor, command, expected_version=read.version)
    done = t("cli.done_action", ref=item.ref, action=label("action", verb.rule_name),
             status=label(f"status.{item.KIND}", item.status))
    return f"{notice}\n{done}" if notice else done


def resolved(command: Command) -> tuple[Command, str]:
    """并单: a merged duplicate's reference names its master, with a notice saying so."""
    from dataclasses import replace

    from .merge_queries import resolve

    ref, notice = resolve(command.ref, verb=command.action)
    return (replace(command, ref=ref) if ref != command.ref else command), notice
