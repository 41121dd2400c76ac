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

from console import i18n, verbs
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
