"""Both languages are complete: same keys, same placeholders, no empty strings."""

from __future__ import annotations

import re
import string

from console import i18n

PLACEHOLDER = re.compile(r"{(\w+)")


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_same_keys_in_both_languages():
    zh, en = i18n.catalog("zh-CN"), i18n.catalog("en")
    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []


def test_same_placeholders_and_no_empty_strings():
    zh, en = i18n.catalog("zh-CN"), i18n.catalog("en")
    for key, text in en.items():
        assert text.strip(), f"en: {key} is empty"
        assert zh[key].strip(), f"zh-CN: {key} is empty"
        assert _fields(text) == _fields(zh[key]), key


def test_missing_key_shows_the_key_itself():
    assert i18n.t("no.such.key") == "no.such.key"
