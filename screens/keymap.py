"""Key bindings: the item keys from the verb table, the site's keymap, translated labels.

The item keys are the ``key`` of each row of console/verbs.py (binding id
``item.<verb>``): the bindings, the ? help screen and the palette read that
one table.  A site rebinds any key by binding id (``keys:`` in the config),
applied through Textual's own keymap (``App.set_keymap``).

Bindings are declared with i18n keys as descriptions (class-level BINDINGS
exist before the language is chosen); the screens' base classes translate
them where Textual reads them, in the public ``Screen.active_bindings``.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen, ScreenResultType

from console import i18n, rules, verbs
from console.errors import ConfigError
from console.i18n import t

# Textual's own descriptions that a duty officer sees (the palette key in the footer)
_TEXTUAL_WORDS = {"palette": "ui.key.palette_short"}


def item_bindings() -> list[Binding]:
    return [Binding(v.key, f"item('{v.name}')", v.help_key, show=v.footer, id=v.binding_id)
            for v in verbs.with_key()]


@functools.lru_cache(maxsize=1024)
def _translated(binding: Binding, language: str) -> Binding:
    key = _TEXTUAL_WORDS.get(binding.description, binding.description)
    if not key.startswith("ui."):
        return binding
    tooltip = t(binding.tooltip) if binding.tooltip.startswith("ui.") else ""
    return replace(binding, description=t(key), tooltip=tooltip)


def translate(active: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
    language = i18n.language()
    return {key: ab._replace(binding=_translated(ab.binding, language))
            for key, ab in active.items()}


def _verb_of(binding: Binding) -> verbs.Verb | None:
    action = binding.action
    return verbs.by_name(action[len("item('"):-len("')")]) if action.startswith("item(") else None


def _offered(app: Any, binding: Binding) -> bool:
    actor = getattr(app, "actor", None)
    if getattr(app, "is_readonly", False) or actor is None:
        return False
    verb = _verb_of(binding)
    if verb is None or not rules.role_allows(actor.role, verb.rule_name):
        return False
    return binding.show or actor.role == "unit"  # a liaison's footer: all it may do


def for_role(app: Any, active: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
    """An item screen's footer offers the item keys the operator's role may use: none to the
    viewer, a liaison's own few with 签收 first (never the one a narrow footer cuts);
    pressed, a hidden key still says why it is refused."""
    out = {key: ab._replace(binding=replace(ab.binding, show=_offered(app, ab.binding)))
           if ab.binding.action.startswith("item(") else ab for key, ab in active.items()}
    if getattr(getattr(app, "actor", None), "role", "") != "unit":
        return out

    def order(ab: ActiveBinding) -> int:
        verb = _verb_of(ab.binding)
        return 0 if verb is None else 1 if verb.role == "unit" else 2

    return dict(sorted(out.items(), key=lambda kv: order(kv[1])))


class DutyScreen(Screen):
    """A full screen whose footer and key panel show the bindings translated."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translate(super().active_bindings)


class DutyModalScreen(ModalScreen[ScreenResultType]):
    """A modal screen whose footer and key panel show the bindings translated."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translate(super().active_bindings)


# --------------------------------------------------------------------------- site keymap


def binding_ids() -> set[str]:
    """Every binding id declared by a loaded node class (screens, widgets, the app)."""
    found: set[str] = set()
    stack: list[type] = [DOMNode]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        for b in cls.__dict__.get("BINDINGS", []):
            if isinstance(b, Binding) and b.id:
                found.add(b.id)
    return found | {v.binding_id for v in verbs.with_key()}


def site_keymap(settings: Any) -> dict[str, str]:
    """The config's ``keys:`` for ``App.set_keymap``; an unknown id is one config error."""
    keys: dict[str, str] = getattr(settings, "keys", {}) or {}
    if not keys:
        return {}
    known = binding_ids()
    for binding_id in keys:
        if binding_id not in known:
            source = settings.sources[-1] if settings.sources else "config"
            raise ConfigError(source.rsplit("/", 1)[-1], f"keys.{binding_id}",
                              "unknown binding id (the `id=` of a binding in screens/)")
    return dict(keys)


def key_of(app: Any, binding_id: str, default: str) -> str:
    """The key shown for a binding: the site's (``keys:``), else the default."""
    settings = getattr(getattr(app, "ctx", None), "settings", None)
    keys = (getattr(settings, "keys", None) or {}).get(binding_id) or default
    first = keys.split(",")[0]
    return app.get_key_display(Binding(first, "")) if app is not None else first
