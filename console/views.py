"""What the read side hands the screens: plain dataclasses, text safe for a terminal.

console/queries.py builds these; nothing here is an ORM row, so a screen can
keep one as long as it likes and no read happens behind its back.  Every text
value from the data has been through console.textsafe (placeholders for ESC,
C1 and bidi controls); the stored rows keep the original as evidence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .textsafe import one_line, visible

SEVERITY_FIELD = {"report": "level", "work_order": "urgency", "supervision": "klass",
                  "scheduled": "cadence"}


@dataclass(frozen=True)
class ItemView:
    """An item as the screens show it: plain values, text safe for a terminal.

    The kind's own columns are in ``fields``; attribute access reaches them too
    (``view.title``), so code written for the ORM row reads a view unchanged.
    ``damaged`` names the columns whose stored value could not be decoded.
    """

    kind: str
    id: int
    ref: str
    version: int
    status: str
    step: int
    chain: list
    owner: str | None
    acked_by: str | None
    acked_at: dt.datetime | None
    deadline_at: dt.datetime | None
    closed_at: dt.datetime | None
    fields: dict
    damaged: tuple[str, ...] = ()

    @property
    def KIND(self) -> str:  # noqa: N802 - the ORM models' name for it
        return self.kind

    @property
    def severity(self) -> str:
        return self.fields.get(SEVERITY_FIELD[self.kind]) or ""

    @property
    def title(self) -> str:
        text = self.fields.get("title") or (self.fields.get("content") or "")[:60]
        return one_line(text)

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("fields") or {}
        if name in fields:
            return fields[name]
        raise AttributeError(name)


@dataclass(frozen=True)
class UpdateView:
    stage: str
    seq: int
    at: dt.datetime
    author: str
    text: str
    dead: int | None
    injured: int | None
    missing: int | None


@dataclass(frozen=True)
class InstructionView:
    leader: str
    at: dt.datetime
    recorded_by: str
    text: str


@dataclass(frozen=True)
class MeasureView:
    idx: int
    text: str
    done_at: dt.datetime | None
    done_by: str | None


@dataclass(frozen=True)
class ActivationView:
    id: int
    version: int
    level: str
    activated_at: dt.datetime
    activated_by: str
    deactivated_at: dt.datetime | None
    plan_code: str
    plan_title: str
    measures: list[MeasureView]


@dataclass(frozen=True)
class LinkView:
    """A linked item (a supervision item raised on this one, or this one's source)."""

    kind: str
    ref: str
    severity: str
    status: str
    title: str


@dataclass(frozen=True)
class EventView:
    id: int
    at: dt.datetime
    actor: str
    actor_name: str
    console: str
    action: str
    before: dict | None
    after: dict | None
    note: str
    damaged: bool = False


@dataclass
class Detail:
    """Everything the detail screen shows of one item, as plain safe values."""

    item: ItemView
    department: str | None  # the department's name
    updates: list[UpdateView]
    instructions: list[InstructionView]
    activations: list[ActivationView]
    supervision: list[LinkView]
    events: list[EventView]
    source: LinkView | None = None


@dataclass(frozen=True)
class FeedRow:
    """An event as the change feed reads it (``after`` None when it cannot be decoded)."""

    id: int
    item_kind: str
    item_id: int
    item_ref: str
    action: str
    actor: str
    actor_name: str
    console: str
    after: Any
    note: str


@dataclass(frozen=True)
class HeaderTeam:
    """The duty team as the header shows it: names only, safe to print."""

    on_shift: bool
    leader: str | None
    primary: str | None
    secondary: str | None


@dataclass(frozen=True)
class PlanChoice:
    code: str
    title: str


@dataclass(frozen=True)
class AdminRows:
    """One admin section as the screen shows it: table rows and the records behind them.

    The records keep the stored values (they pre-fill the edit forms, and saving
    must not write placeholders back); the table makes each cell safe to show.
    """

    section: str
    records: dict[str, dict] = field(default_factory=dict)  # row key → values
    roster: tuple[tuple[str, str], ...] = ()  # (login, name) of active people, for shifts


def safe(value: Any) -> Any:
    """Text from the data made safe to show (textsafe.visible), through lists and dicts."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, list | tuple):
        return [safe(v) for v in value]
    if isinstance(value, dict):
        return {visible(k): safe(v) for k, v in value.items()}
    return value


def chain_steps(value: Any) -> list[tuple[str, int]]:
    """A stored escalation chain as [(step name, minutes)]; anything else reads as empty."""
    out = []
    for step in value if isinstance(value, list) else []:
        if isinstance(step, list | tuple) and step:
            out.append((one_line(step[0]), step[1] if len(step) > 1 else 0))
    return out


def item_view(kind: str, row: dict[str, Any], damaged: tuple[str, ...]) -> ItemView:
    common = ("id", "ref", "version", "status", "step", "chain", "owner", "acked_by",
              "acked_at", "deadline_at", "closed_at")
    rest = {k: v for k, v in row.items() if k not in common}
    return ItemView(kind, row["id"], row["ref"] or "", row["version"] or 0, row["status"] or "",
                    row["step"] or 0, chain_steps(row["chain"]), row["owner"], row["acked_by"],
                    row["acked_at"], row["deadline_at"], row["closed_at"], rest, damaged)
