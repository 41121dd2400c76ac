"""Every visible string: looked up by key in config/locales/<lang>/*.yaml.

Each file holds one concern (core.yaml: domain words and errors, ui.yaml: the
screens); they are merged, and a key may be defined in one file only.

``t("error.stale", ref=…)`` renders in the current language.  Both locale files
are complete (a test checks that they have the same keys and placeholders); a
missing key shows the key itself, so a gap is visible rather than silent.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from .paths import locales_dir

LANGUAGES = ("zh-CN", "en")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_language = ["zh-CN"]


@functools.cache
def catalog(language: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for path in sorted((locales_dir() / language).glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            # libyaml's loader when present: the catalogue is read at start-up
            walk("", yaml.load(fh, Loader=_LOADER) or {}, flat)
    return flat


def walk(prefix: str, node: Any, flat: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            walk(f"{prefix}.{key}" if prefix else str(key), value, flat)
    else:
        flat[prefix] = str(node)


def set_language(language: str) -> None:
    """Process-wide language (the console has one operator, one language)."""
    if language not in LANGUAGES:
        language = "en" if language.lower().startswith("en") else "zh-CN"
    _language[0] = language


def language() -> str:
    return _language[0]


def t(key: str, /, **params: Any) -> str:
    text = catalog(language()).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def has(key: str) -> bool:
    return key in catalog(language())


def label(group: str, value: Any) -> str:
    """A domain value's display name, e.g. label("level", "II") → "Ⅱ 重大"."""
    key = f"{group}.{value}"
    return t(key) if has(key) or key in catalog("en") else str(value)


def count(noun: str, n: int | str) -> str:
    """"1 item" / "3 items": the plural form of ``noun`` for ``n`` (locale plural.<noun>)."""
    form = "one" if n == 1 else "other"
    value = f"{n:,}" if isinstance(n, int) else n
    return t(f"plural.{noun}.{form}", n=value)
