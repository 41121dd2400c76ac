"""The one table of item verbs: everything a verb is, in one row.

The `:` command line and its completion (commands.py), ``dutyroom act`` and its
``--help`` (cli.py), the role and legality checks (rules.is_legal /
rules.role_allows), the key bindings, the ? help, the palette and the prompts
(screens/) all read this table.  Adding a verb is one ``Verb(...)`` row (or
``register(Verb(...))``), its function in console.actions and its locale
strings (``ui.verb.<name>``, ``action.<rule>``).

The action function is named, not imported: console.actions imports rules,
which reads this table, so resolving it lazily (``verb.function()``) keeps
the import graph acyclic.  No import of actions or rules at module level here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

KINDS = ("report", "work_order", "supervision")

_WORKING = frozenset({"assigned", "in_progress", "extended"})


@dataclass(frozen=True)
class ArgKind:
    """How a verb's argument is typed on the command line and passed to its action.

    ``cmd``: "" takes no text, "opt" an optional word/text, "req" a required
    text (the rest of the line).  ``completes``: what Tab completes the
    argument to ("step", "department", "level" or "").  ``usage``: the
    placeholder shown in ``act --help`` and the ? help.
    """

    name: str
    cmd: str = ""
    completes: str = ""
    usage: str = ""


ARG_KINDS: dict[str, ArgKind] = {a.name: a for a in (
    ArgKind("none"),
    ArgKind("note", "opt", usage="[note]"),
    ArgKind("reason", "req", usage="REASON"),
    ArgKind("extension", "req", usage="[+DAYS] REASON"),  # 延期: its length, then why
    ArgKind("text", "req", usage="TEXT"),
    ArgKind("closing", "opt", usage="[TEXT]"),
    ArgKind("followup", "req", usage="TEXT"),
    ArgKind("step", "opt", "step", usage="[STEP]"),
    ArgKind("department", "req", "department", usage="DEPT"),
    ArgKind("level", "req", "level", usage="LEVEL"),
    ArgKind("score", "req", usage="1-5 [note]"),
    ArgKind("plan", "req", usage="PLAN LEVEL"),
    ArgKind("supervise", ""),
    ArgKind("instruction", "req", usage="[@LEADER[/TITLE]] [HH:MM] TEXT"),  # handover and instructions
    ArgKind("ref", "req", "ref", usage="OTHER"),  # merge and repeats: the master / other item
)}


@dataclass(frozen=True)
class Verb:
    """One row.  ``name`` is the screens' action id and the binding id ``item.<name>``.

    ``rule`` is the name rules and actions check legality and role under (and
    the event's ``action.<rule>`` label); it defaults to ``name``.  ``legal``
    maps each kind to the statuses the verb may start from ("*open", "*any"
    or a set); None: not a status transition (creation, plans).  ``action``
    is the function's name in console.actions; "" means the screens handle it
    (``open``).  ``command`` is the `:` / ``act`` word, ``aliases`` its other
    words.  ``help`` is the locale key of its one-line description.
    """

    name: str
    action: str
    arg: str = "none"
    kinds: tuple[str, ...] = KINDS
    role: str = "officer"
    legal: dict[str, Any] | None = field(default=None, compare=False)
    key: str = ""
    command: str = ""
    aliases: tuple[str, ...] = ()
    footer: bool = False
    rule: str = ""
    help: str = ""
    prompt: str = ""  # locale key of the text field's label in the console's prompt

    @property
    def rule_name(self) -> str:
        return self.rule or self.name

    @property
    def help_key(self) -> str:
        return self.help or f"ui.verb.{self.name}"

    @property
    def binding_id(self) -> str:
        return f"item.{self.name}"

    @property
    def argument(self) -> ArgKind:
        return ARG_KINDS[self.arg]

    @property
    def usage(self) -> str:
        return " ".join(x for x in (f":{self.command}", "REF", self.argument.usage) if x)

    def function(self) -> Callable[..., Any]:
        """The action in console.actions, resolved at call time (no import cycle)."""
        from . import actions

        return getattr(actions, self.action)

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds


def _all(legal: Any) -> dict[str, Any]:
    return dict.fromkeys(KINDS, legal)


VERBS: list[Verb] = [
    Verb("acknowledge", "acknowledge", "note", legal=_all("*open"), key="a", command="ack",
         aliases=("a",), footer=True),
    Verb("escalate", "escalate", "note", legal=_all("*open"), key="e", footer=True),
    Verb("escalate_to", "escalate", "step", legal=_all("*open"), key="E", command="esc",
         aliases=("e",), rule="escalate"),
    Verb("assign", "assign", "department", key="d", command="assign", aliases=("d",),
         footer=True, legal={"report": "*open",
                             "work_order": frozenset({"received", "returned"}) | _WORKING,
                             "supervision": "*open"}),
    Verb("urge", "urge", "note", key="u", command="urge", aliases=("u",),
         legal={"report": "*open", "work_order": _WORKING | {"replied"},
                "supervision": "*open"}),
    Verb("extend", "extend", "extension", ("work_order", "supervision"), key="x",
         command="extend", aliases=("x",),
         legal={"work_order": _WORKING, "supervision": "*open"}),
    Verb("return", "return_order", "reason", ("work_order",), key="r", command="return",
         aliases=("r",), legal={"work_order": _WORKING}),
    Verb("follow_up", "follow_up", "followup", ("report",), key="f", command="fu",
         aliases=("f",), footer=True, legal={"report": "*open"}),
    Verb("instruct", "instruct", "instruction", legal=_all("*any"), key="i",
         command="ins", aliases=("i",)),
    Verb("reply", "reply", "text", ("work_order",), key="R", command="reply",
         legal={"work_order": _WORKING}),
    Verb("visit", "visit", "score", ("work_order",), key="v", command="visit",
         legal={"work_order": frozenset({"replied"})}),
    Verb("close", "close", "closing", key="c", command="close", aliases=("c",), footer=True,
         legal={"report": "*open", "work_order": frozenset({"replied", "visited"}),
                "supervision": "*open"}),
    Verb("reopen", "reopen", "reason", legal=_all(frozenset({"closed"})), key="o",
         command="reopen", aliases=("o",)),
    Verb("note", "note", "text", legal=_all("*any"), key="n", command="note", aliases=("n",),
         footer=True, prompt="field.note"),
    Verb("change_level", "change_level", "level", ("report",), key="L", command="level",
         aliases=("L",), legal={"report": "*open"}),
    Verb("supervise", "register_supervision", "supervise", key="s", rule="create"),
    Verb("activate_plan", "activate_plan", "plan", ("report",), key="p"),
    Verb("open", "", "none", command="open", role="viewer"),
    # scheduled reports (定期报送): receive closes an expected one (received / late)
    Verb("receive", "receive_scheduled", "file", ("scheduled",), key="g", command="receive",
         footer=True, legal={"scheduled": frozenset({"due", "missing"})}),
    # 12345 unit desk (issue 11; console/actions/units.py)
    Verb("accept", "accept", "note", ("work_order",), role="unit", key="S", command="accept",
         legal={"work_order": _WORKING}),
    Verb("ask_return", "ask_return", "reason", ("work_order",), role="unit",
         command="askreturn", legal={"work_order": _WORKING}),
    Verb("approve_return", "approve_return", "note", ("work_order",), command="approve",
         legal={"work_order": _WORKING}),
    Verb("refuse_return", "refuse_return", "reason", ("work_order",), command="refuse",
         legal={"work_order": _WORKING}),
    Verb("visit_no_redo", "visit_no_redo", "score", ("work_order",), command="noredo",
         rule="visit", legal={"work_order": frozenset({"replied"})}),
    # merge and repeats (issue 11, console/actions/merge.py)
    Verb("merge", "merge", "ref", ("work_order", "report"), key="B", command="merge",
         legal={"work_order": "*open", "report": "*open"}, prompt="merge.prompt.master"),
    Verb("unmerge", "unmerge", "reason", ("work_order", "report"), command="unmerge",
         legal={"work_order": frozenset({"closed"}), "report": frozenset({"closed"})}),
    Verb("link", "link_related", "ref", ("work_order", "report"), key="K", command="link",
         legal={"work_order": "*any", "report": "*any"}, prompt="merge.prompt.other"),
]


def register(verb: Verb) -> Verb:
    """Add (or replace) a row: the parser, act --help, bindings, help and palette see it."""
    for i, existing in enumerate(VERBS):
        if existing.name == verb.name:
            VERBS[i] = verb
            return verb
    VERBS.append(verb)
    return verb


def unregister(name: str) -> None:
    VERBS[:] = [v for v in VERBS if v.name != name]


def by_name(name: str) -> Verb | None:
    return next((v for v in VERBS if v.name == name), None)


def by_word(word: str) -> Verb | None:
    """A command-line word: a verb's command or alias (case matters for L, then not)."""
    for candidate in (word, word.lower()):
        for v in VERBS:
            if v.command and (candidate == v.command or candidate in v.aliases):
                return v
    return None


def with_key() -> list[Verb]:
    return [v for v in VERBS if v.key]


def with_command() -> list[Verb]:
    return [v for v in VERBS if v.command]


def legal_rules() -> dict[str, dict[str, Any]]:
    """rule → kind → legal-from, for the verbs that are status transitions (rules.LEGAL_FROM)."""
    out: dict[str, dict[str, Any]] = {}
    for v in VERBS:
        if v.legal is not None and v.rule_name not in out:
            out[v.rule_name] = v.legal
    return out


def rule_roles() -> dict[str, str]:
    """rule → least role, as the verbs declare it (rules.ACTION_ROLE adds the rest)."""
    out: dict[str, str] = {}
    for v in VERBS:
        if v.action:
            out.setdefault(v.rule_name, v.role)
    return out


def call(verb: Verb, ctx: Any, actor: Any, target: Any, value: Any = "", note: str = "", *,
         expected_version: int | None = None) -> Any:
    """Run the verb's action with the argument collected for its kind (prompt or line)."""
    fn = verb.function()
    v = {"expected_version": expected_version}
    binder = _BINDERS.get(verb.arg)
    if binder is None:
        raise ValueError(f"verb {verb.name}: argument kind {verb.arg} has no call")
    return binder(fn, ctx, actor, target, value, note, v)


def _score(value: Any) -> int:
    from .errors import DomainError
    from .i18n import t

    try:
        return int(str(value).split()[0])
    except (ValueError, IndexError):
        raise DomainError(t("error.satisfaction", value=value)) from None


def _plan(fn, ctx, actor, target, value, note, v):
    code, _, level = str(value).partition(" ")
    return fn(ctx, actor, code, target, level.strip() or "IV", note=note)


def _extension(fn, ctx, actor, target, value, note, v):
    """延期: ``+DAYS REASON`` (the line) or the prompt's ``+DAYS`` with the reason as note;
    without ``+DAYS`` the rule's whole grant."""
    from .errors import DomainError
    from .i18n import t

    text = str(value).strip()
    days = None
    if text.startswith("+"):
        head, _, text = text.partition(" ")
        if not head[1:].isdigit():
            raise DomainError(t("error.extend_days_word", value=head))
        days = int(head[1:])
    return fn(ctx, actor, target, note or text.strip(), days=days, **v)


def _visit(fn, ctx, actor, target, value, note, v):
    score, _, rest = str(value).strip().partition(" ")
    return fn(ctx, actor, target, _score(score), note=note or rest.strip(), **v)


_BINDERS: dict[str, Callable[..., Any]] = {
    "none": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target, **v),
    "note": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target,
                                                               note=value or note, **v),
    "reason": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target, value, **v),
    "text": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target, value, **v),
    "closing": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target, value, **v),
    "followup": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target, value,
                                                                   **v),
    "step": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target,
                                                               to_step=value or None,
                                                               note=note, **v),
    "department": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target, value,
                                                                     note=note, **v),
    "level": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target, value,
                                                                note=note, **v),
    "score": _visit,
    "extension": _extension,
    "plan": _plan,
    "instruction": lambda fn, ctx, actor, target, value, note, v: _instruction(
        fn, ctx, actor, target, value, v),
    "ref": lambda fn, ctx, actor, target, value, note, v: fn(ctx, actor, target, value,
                                                              note=note, **v),
}


def _instruction(fn, ctx, actor, target, value, v):
    """批示: the prompt passes a dict, the command line ``[@LEADER] [HH:MM] TEXT``."""
    if not isinstance(value, dict):
        from .instructions import parse_line

        value = parse_line(ctx, value)
    return fn(ctx, actor, target, value.get("text", ""), leader=value.get("leader", ""),
              title=value.get("title", ""), at=value.get("at"), **v)
# --------------------------------------------------------------------------- # scheduled reports
# The receive verb's file argument, and the item verbs a missing report takes like any item
# (chase it: acknowledge, escalate, urge, note, instruct) — extended here, not in their rows.
ARG_KINDS["file"] = ArgKind("file", "opt", usage="[FILE]")
_BINDERS["file"] = lambda fn, ctx, actor, target, value, note, v: fn(
    ctx, actor, target, value or None, note=note, **v)
_SCHEDULED_OPEN = frozenset({"due", "missing"})
for _name, _legal in (("acknowledge", _SCHEDULED_OPEN), ("escalate", _SCHEDULED_OPEN),
                      ("escalate_to", _SCHEDULED_OPEN), ("urge", _SCHEDULED_OPEN),
                      ("note", "*any"), ("instruct", "*any")):
    _verb = by_name(_name)
    if _verb is not None and "scheduled" not in _verb.kinds:
        register(replace(_verb, kinds=(*_verb.kinds, "scheduled"),
                         legal={**(_verb.legal or {}), "scheduled": _legal}))
