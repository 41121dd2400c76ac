"""The queue's columns and its cells as plain strings: widths per kind and language,
the heading, and the hot-path text helpers the list draws its rows with."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.control import strip_control_codes
from rich.style import Style
from rich.text import Text

from console import i18n, rules
from console.i18n import t
from console.queries import QueueRow
from screens import fmt


@dataclass(frozen=True)
class Column:
    name: str
    width: int


SEVERITY_VALUES = {"report": ("I", "II", "III", "IV", "unknown"),
                   "work_order": ("very_urgent", "urgent", "normal"),
                   "supervision": ("urgent", "normal", "complex"),
                   "scheduled": ("weekly", "monthly", "seasonal")}


@functools.cache
def _label_width(kind: str, language: str) -> tuple[int, int]:
    """The widest severity and status label of a kind in a language (never cut)."""
    sev = max(cell_len(fmt.severity_label(kind, v)) for v in SEVERITY_VALUES[kind])
    status = max(cell_len(fmt.status_label(kind, s)) for s in rules.STATUSES[kind])
    return max(6, sev), status


def severity_width(kind: str) -> int:
    """Cells the widest severity label of ``kind`` takes in the interface language."""
    return _label_width(kind, i18n.language())[0]


def columns(kind: str, width: int) -> tuple[Column, ...]:
    """Column widths in cells for a list ``width`` wide: the title takes the rest."""
    if kind == "scheduled":  # scheduled department reports: their own columns
        return _scheduled_columns(width)
    return _columns(kind, width, i18n.language())


@functools.lru_cache(maxsize=64)
def _columns(kind: str, width: int, language: str) -> tuple[Column, ...]:
    wide = width >= 120
    ref = 17 if kind == "work_order" else 13
    sev, status = _label_width(kind, language)
    cols = [Column("mark", 2), Column("ref", ref), Column("sev", sev)]
    tail = [Column("status", min(status, 14) if wide else min(status, 12)),
            Column("where", 18 if wide else 12), Column("left", 9)]
    if width >= 150:
        tail.insert(0, Column("extra", 14))
    used = sum(c.width for c in cols + tail) + len(cols + tail)  # one space between columns
    cols.append(Column("title", max(8, width - used)))
    return tuple(cols + tail)


def _scheduled_columns(width: int) -> list[Column]:
    """Cadence, topic, period, status, department, its phone (from 100 cells), due countdown."""
    sev, status = _label_width("scheduled", i18n.language())
    cols = [Column("mark", 2), Column("ref", 12), Column("cadence", sev)]
    tail = [Column("period", 8), Column("status", min(status, 12)),
            Column("where", 18 if width >= 120 else 10)]
    if width >= 100:
        tail.append(Column("phone", 14))
    tail.append(Column("left", 9))
    used = sum(c.width for c in cols + tail) + len(cols + tail)
    cols.append(Column("title", max(8, width - used)))
    return cols + tail


def _heading_name(kind: str, name: str) -> str:
    """A column's heading: the severity, step/department and extra columns by kind (a work
    order's urgency is no "Level")."""
    if name == "mark":
        return ""
    if name in ("where", "extra"):
        return t(f"ui.col.{name}.{kind}")
    if name == "sev":
        return t(f"ui.col.severity.{kind}")
    return t(f"ui.col.{name}")


def heading(kind: str, width: int) -> Text:
    text = Text(no_wrap=True, end="")
    for col in columns(kind, width):
        name = _heading_name(kind, col.name)
        text.append_text(fmt.fit(name, col.width, right=col.name == "left"))
        text.append(" ")
    return text


def cell_text(row: QueueRow, name: str) -> str:
    if name == "ref":
        return row.ref
    if name in ("period", "phone"):  # scheduled reports
        return row.extra.get(name) or ""
    if name == "title":
        return row.title or ""
    if name == "status":
        return fmt.status_label(row.kind, row.status)
    if name == "where":
        where = row.where if row.kind != "report" else row.step_name
        return where or (row.step_name if row.kind == "supervision" else "")
    return _extra(row)


@functools.lru_cache(maxsize=1024)
def style_of(base: Style, spec: str, dim: bool) -> Style:
    """``base`` + the cell's style (+ dim), parsed and combined once per combination."""
    style = base
    if spec:
        style = style + Style.parse(spec)
    return style + _DIM if dim else style


_DIM = Style(dim=True)


def fit_cell(value: str, width: int, align: str = "left") -> str:
    """``value`` cut (with an ellipsis) or padded to exactly ``width`` cells: the plain-string
    twin of ``fmt.fit`` (rich's Text.truncate), for the list's hot path."""
    value = strip_control_codes(value.replace("\n", " "))
    if cell_len(value) > width:
        value = set_cell_size(value, width - 1) + "…"
    gap = width - cell_len(value)
    if gap > 0:
        if align == "center":
            value = " " * (gap // 2) + value + " " * (gap - gap // 2)
        elif align == "right":
            value = " " * gap + value
        else:
            value += " " * gap
    return value


def _extra(row: QueueRow) -> str:
    if row.kind == "report":
        dead, injured = row.extra.get("dead") or 0, row.extra.get("injured") or 0
        return t("ui.list.casualties", dead=dead, injured=injured) if dead or injured else ""
    if row.kind == "work_order":
        return row.extra.get("caller") or ""
    return row.extra.get("source") or ""

