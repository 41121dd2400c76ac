"""Display helpers: local time, countdowns, severity badges, CJK-aware columns.

Column widths are terminal cells (rich's cell_len), so 汉字 take two and rows
stay aligned whatever the language.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.text import Text

from console import i18n
from console.clock import to_local
from console.i18n import label, t

# The warning colours are meaning, not decoration: the same in every theme.
SEVERITY_STYLE = {
    "report": {"I": "bold white on red3", "II": "bold black on dark_orange",
               "III": "bold black on yellow", "IV": "bold white on blue",
               "unknown": "black on grey62"},
    "work_order": {"very_urgent": "bold white on red3", "urgent": "bold black on dark_orange",
                   "normal": ""},
    "supervision": {"urgent": "bold white on red3", "normal": "bold black on yellow",
                    "complex": "bold white on blue"},
    "scheduled": {},
}
BAND_STYLE = {"ok": "", "near": "bold #ffaf00", "overdue": "bold red blink"}


def local(at: dt.datetime | None, tz: ZoneInfo, fmt: str = "%m-%d %H:%M") -> str:
    return "" if at is None else to_local(at, tz).strftime(fmt)


def countdown(deadline: dt.datetime | None, now: dt.datetime) -> str:
    """Time left (negative once overdue): mm:ss under an hour, then h/m, then d/h."""
    if deadline is None:
        return ""
    secs = int((deadline - now).total_seconds())
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    if secs < 3600:
        return f"{sign}{secs // 60:02d}:{secs % 60:02d}"
    if secs < 86400:
        return f"{sign}{secs // 3600}h{secs % 3600 // 60:02d}m"
    return f"{sign}{secs // 86400}d{secs % 86400 // 3600:02d}h"


def severity_label(kind: str, value: str) -> str:
    group = {"report": "level_short", "work_order": "urgency", "supervision": "klass",
             "scheduled": "schedule.cadence"}[kind]
    if kind == "supervision":
        return t(f"ui.klass_short.{value}")
    return label(group, value)


def badge(kind: str, value: str, width: int) -> Text:
    text = fit(severity_label(kind, value), width, center=True)
    text.stylize(SEVERITY_STYLE[kind].get(value, ""))
    return text


def fit(value: str, width: int, *, center: bool = False, right: bool = False) -> Text:
    """``value`` cut or padded to exactly ``width`` cells."""
    text = Text(value.replace("\n", " "), no_wrap=True, end="")
    if cell_len(text.plain) > width:
        text.truncate(width, overflow="ellipsis")
    gap = width - cell_len(text.plain)
    if gap > 0:
        if center:
            text = Text(" " * (gap // 2)) + text + Text(" " * (gap - gap // 2))
        elif right:
            text = Text(" " * gap) + text
        else:
            text.append(" " * gap)
    return text


def count(noun: str, n: int | str) -> str:
    """"1 item" / "3 items": the plural form of ``noun`` for ``n`` (locale plural.<noun>)."""
    return i18n.count(noun, n)


def status_label(kind: str, status: str) -> str:
    return label(f"status.{kind}", status)
