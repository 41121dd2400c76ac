"""Text from the data never drives a terminal (or a spreadsheet).

A caller's words reach the database as they were said (stored text is
evidence), but whatever is *shown* — the console, ``dutyroom log``,
``handover``, ``act``'s messages, a CSV export — passes through here first:

- C0 controls but newline and tab, ESC, DEL and the C1 range become visible
  placeholders from the Unicode "Control Pictures" block (␛, ␇, ␡ …), so an
  ``ESC [2J`` in a title reads ``␛[2J`` instead of clearing the screen;
- the bidirectional overrides and isolates (U+202A–202E, U+2066–2069), which can
  make a line read backwards, become ``⟨U+202E⟩``;
- ``csv_cell`` also neutralises spreadsheet formulas (a cell starting with
  ``= + - @``, or a tab/CR before one) with a leading apostrophe, as OWASP advises.
"""

from __future__ import annotations

import re
from typing import Any

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# everything below 0x20 but \t and \n, DEL, C1 (0x80–0x9f) and the bidi controls
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "]")


def _picture(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (ESC is ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\u27e8U+{code:04X}\u27e9"  # C1 and bidi: ⟨U+009B⟩, ⟨U+202E⟩


def visible(value: Any) -> str:
    """``value`` as text safe for a terminal; newlines and tabs are kept."""
    text = "" if value is None else str(value)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: _picture(m.group()), text)


def one_line(value: Any) -> str:
    """Safe text on one line: newlines and tabs become spaces (table cells, messages)."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    if not _UNSAFE_LINE.search(text):
        return text
    return _UNSAFE_LINE.sub(lambda m: _picture(m.group()), text)


def is_safe(text: str) -> bool:
    """True when ``text`` holds nothing a terminal would act on (tests use this)."""
    return not _UNSAFE.search(text)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never evaluates, and that is safe
    to print.  Numbers stay numbers (``-3`` is a number, not a formula)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = visible(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text
