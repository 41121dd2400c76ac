"""One table of the item keys: the bindings, the ? help screen and the palette read it.

Keys were chosen to be learnt in a night: the first letter of the English verb
where free (a acknowledge, e escalate, c close, n note …), Shift for the
"bigger" variant (E escalate to a chosen step, R reply, L set the level).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.binding import Binding
from textual.dom import DOMNode

from console.i18n import t


@dataclass(frozen=True)
class ItemKey:
    key: str
    verb: str  # the screens' action id
    rule: str  # the rules.LEGAL_FROM / ACTION_ROLE action it needs
    kinds: tuple[str, ...] = ("report", "work_order", "supervision")
    show: bool = False  # in the footer (the rest are in ? help and the palette)


ITEM_KEYS: tuple[ItemKey, ...] = (
    ItemKey("a", "acknowledge", "acknowledge", show=True),
    ItemKey("e", "escalate", "escalate", show=True),
    ItemKey("E", "escalate_to", "escalate"),
    ItemKey("d", "assign", "assign", show=True),
    ItemKey("u", "urge", "urge"),
    ItemKey("x", "extend", "extend", ("work_order", "supervision")),
    ItemKey("r", "return", "return", ("work_order",)),
    ItemKey("f", "follow_up", "follow_up", ("report",), show=True),
    ItemKey("i", "instruct", "instruct"),
    ItemKey("c", "close", "close", show=True),
    ItemKey("o", "reopen", "reopen"),
    ItemKey("n", "note", "note", show=True),
    ItemKey("L", "change_level", "change_level", ("report",)),
    ItemKey("R", "reply", "reply", ("work_order",)),
    ItemKey("v", "visit", "visit", ("work_order",)),
    ItemKey("s", "supervise", "create"),
    ItemKey("p", "activate_plan", "activate_plan", ("report",)),
)
BY_VERB = {k.verb: k for k in ITEM_KEYS}


def item_bindings() -> list[Binding]:
    return [Binding(k.key, f"item('{k.verb}')", f"ui.verb.{k.verb}", show=k.show,
                    id=f"item.{k.verb}") for k in ITEM_KEYS]


def localize_bindings(node: DOMNode) -> None:
    """Bindings are declared with i18n keys as descriptions; show them translated.

    (Class-level BINDINGS exist before the language is chosen, so each node
    translates its own copy when it is created.)
    """
    for key, bindings in node._bindings.key_to_bindings.items():
        node._bindings.key_to_bindings[key] = [
            replace(b, description=t(b.description)) if b.description.startswith("ui.") else b
            for b in bindings
        ]
