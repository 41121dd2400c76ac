"""Settings sections of their own: the wall board, the handover, the 12345 unit desk and
the console's keymap — their dataclasses and their validation (console/settings.py
calls these; ``v`` is its validator, whose errors name the file and the key path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .vocab import LEVELS, SV_CLASSES, URGENCIES

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MONTH = 31 * 24 * 60  # minutes: the longest wait or limit a setting may give


@dataclass(frozen=True)
class BoardSettings:
    """The wall board, its kiosk lock and its web page (board:, kiosk:, serve:)."""

    kiosk: bool = False  # console.kiosk: `dutyroom` opens the board
    cycle_seconds: float = 20.0
    refresh_seconds: float = 30.0
    views: tuple[str, ...] = ("urgent", "overdue", "plans", "reports")
    pin_hash: str = ""
    host: str = "127.0.0.1"
    port: int = 8765
    token_hash: str = ""


@dataclass(frozen=True)
class HandoverSettings:
    """handover: where reports are archived, the batch of owner changes, the warnings."""

    archive_dir: str = ""  # "" = <user data dir>/handover
    batch: int = 200
    late_minutes: int = 120
    warn_hours: int = 12


@dataclass(frozen=True)
class UnitDeskSettings:
    """The 12345 unit desk (hotline.acceptance/clock_starts/problem_order/redo, acknowledgement)."""

    accept_hours: float = 2.0  # 签收 limit, working hours
    # working periods of a working day, local minutes from midnight: 09:00–12:00, 13:30–17:30
    working_hours: tuple[tuple[int, int], ...] = ((540, 720), (810, 1050))
    clock_starts: str = "assignment"  # or "acceptance"
    problem_returns: int = 3
    problem_departments: int = 3
    problem_class: str = "complex"
    redo_max_satisfaction: int = 2
    # kind → severity → minutes after the last action an acknowledgement lapses (None: never)
    ack_expiry: dict[str, dict[str, int | None]] = field(
        default_factory=lambda: {"report": {"I": 60, "II": 60}})

    def ack_minutes(self, kind: str, severity: str) -> int | None:
        table = self.ack_expiry.get(kind) or {}
        return table.get(severity, table.get("default"))


def handover(v: Any) -> HandoverSettings:
    folder = v.get("handover.archive_dir") or ""
    if not isinstance(folder, str):
        raise v.fail("handover.archive_dir", f"expected a folder path, got {folder!r}")
    return HandoverSettings(
        archive_dir=folder,
        batch=v.int_("handover.batch", minimum=1, maximum=5000),
        late_minutes=v.int_("handover.late_minutes", minimum=0, maximum=1440, unit="minutes"),
        warn_hours=v.int_("handover.warn_hours", minimum=0, maximum=168, unit="hours"),
    )


_BINDING_ID = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_0-9]*$")
_KEY = re.compile(r"^(?:(?:ctrl|shift|alt|meta|super)\+)*(?:[a-z][a-z0-9_]*|.)$")


def keys(v: Any) -> dict[str, str]:
    """``keys:`` binding id → comma-separated keys; item.<verb> must name a verb with a key."""
    from . import verbs  # the verb table: the item binding ids are its names

    raw = v.get("keys") if "keys" in v.data else {}
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise v.fail("keys", "expected a mapping of binding id → keys")
    out: dict[str, str] = {}
    for binding_id, keys in raw.items():
        path = f"keys.{binding_id}"
        if not isinstance(binding_id, str) or not _BINDING_ID.match(binding_id):
            raise v.fail(path, "expected a binding id like item.acknowledge")
        scope, _, name = binding_id.partition(".")
        verb = verbs.by_name(name) if scope == "item" else None
        if scope == "item" and name != "new" and (verb is None or not verb.key):
            names = ", ".join(x.name for x in verbs.with_key())
            raise v.fail(path, f"no item key {name!r} (one of: {names}, new)")
        parts = [k.strip() for k in keys.split(",")] if isinstance(keys, str) else []
        if not parts or not all(p and _KEY.match(p) for p in parts):
            raise v.fail(path, f'expected keys like "ctrl+a" or "n,ctrl+n", got {keys!r}')
        out[binding_id] = ",".join(parts)
    return out


def _period(v: Any, path: str, value: Any) -> tuple[int, int]:
    start, _, end = value.partition("-") if isinstance(value, str) else ("", "", "")
    if not (_HHMM.match(start.strip()) and _HHMM.match(end.strip())):
        raise v.fail(path, f'expected a period "HH:MM-HH:MM", got {value!r}')
    a, b = ((int(x.strip()[:2]) * 60 + int(x.strip()[3:])) for x in (start, end))
    if b <= a:
        raise v.fail(path, f"the period must end after it starts, got {value!r}")
    return a, b


def unitdesk(v: Any) -> UnitDeskSettings:
    base = "hotline.acceptance"
    periods = tuple(_period(v, f"{base}.working_hours[{i}]", x)
                    for i, x in enumerate(v.list_(f"{base}.working_hours")))
    if not periods:
        raise v.fail(f"{base}.working_hours", "expected at least one period")
    pairs = zip(periods, periods[1:], strict=False)
    if any(a < prev_end for (_, prev_end), (a, _) in pairs):
        raise v.fail(f"{base}.working_hours", "expected periods in order, not overlapping")
    expiry: dict[str, dict[str, int | None]] = {}
    allowed = {"report": LEVELS, "work_order": URGENCIES, "supervision": ()}
    for kind, severities in allowed.items():
        path = f"acknowledgement.expires_minutes.{kind}"
        table = v.map_(path)
        for sev in table:
            v.choice(f"{path}.{sev}", sev, (*severities, "default"))
        expiry[kind] = {sev: v.int_(f"{path}.{sev}", minimum=1, maximum=MONTH, unit="minutes",
                                    allow_null=True) for sev in table}
    return UnitDeskSettings(
        accept_hours=v.num(f"{base}.limit_working_hours", minimum=0.25, maximum=1000),
        working_hours=periods,
        clock_starts=v.choice("hotline.clock_starts", v.get("hotline.clock_starts"),
                              ("assignment", "acceptance")),
        problem_returns=v.int_("hotline.problem_order.returns", minimum=1, maximum=100),
        problem_departments=v.int_("hotline.problem_order.departments", minimum=2, maximum=100),
        problem_class=v.choice("hotline.problem_order.class",
                               v.get("hotline.problem_order.class"), SV_CLASSES),
        redo_max_satisfaction=v.int_("hotline.redo.max_satisfaction", minimum=0, maximum=4,
                                     unit="a satisfaction 0–4 (0: never redo)"),
        ack_expiry=expiry,
    )


BOARD_VIEWS = ("urgent", "overdue", "plans", "reports")


def board(v: Any) -> BoardSettings:
    views = tuple(v.choice(f"board.views[{i}]", x, BOARD_VIEWS)
                  for i, x in enumerate(v.list_("board.views")))
    if not views:
        raise v.fail("board.views", f"expected at least one of {', '.join(BOARD_VIEWS)}")
    hashes = {}
    for path in ("kiosk.pin_hash", "serve.token_hash"):
        value = v.get(path) or ""
        if not isinstance(value, str) or (value and not value.startswith("scrypt$")):
            raise v.fail(path, "expected the line `dutyroom board --hash-pin` prints")
        hashes[path] = value
    port = v.int_("serve.port", minimum=1, unit="a TCP port")
    if port > 65535:
        raise v.fail("serve.port", f"expected a TCP port ≤ 65535, got {port}")
    return BoardSettings(
        kiosk=v.bool_("console.kiosk"),
        cycle_seconds=v.num("board.cycle_seconds", minimum=1),
        refresh_seconds=v.num("board.refresh_seconds", minimum=1),
        views=views,
        pin_hash=hashes["kiosk.pin_hash"],
        host=v.str_("serve.host"),
        port=port,
        token_hash=hashes["serve.token_hash"],
    )
