"""The duty room's rules as pure functions over settings and times.

No database here: deadlines, chains, ranks, which action is legal from which
status, and which role may do it.  console/actions.py applies them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import verbs
from .clock import to_local
from .settings import Settings, Step
from .vocab import (  # the statuses are re-exported: rules.STATUSES and friends
    LEVELS,
    REPORT_STATUSES,
    STATUSES,
    SUPERVISION_STATUSES,
    UNIT_ACTIONS,
    WORK_ORDER_STATUSES,
)

# Which action is legal from which status, and the least role of each, come from
# the one verb table (console/verbs.py).  LEGAL_FROM and ITEM_ACTIONS are read
# from it on access (module __getattr__), so a verb registered later is seen.


def __getattr__(name: str):
    if name == "LEGAL_FROM":
        return verbs.legal_rules()
    if name == "ITEM_ACTIONS":
        return tuple(verbs.legal_rules())
    if name == "ACTION_ROLE":
        return verbs.rule_roles() | OTHER_ROLES
    raise AttributeError(name)


def is_legal(action: str, kind: str, status: str) -> bool:
    allowed = verbs.legal_rules().get(action, {}).get(kind)
    if allowed is None:
        return False
    if allowed == "*any":
        return True
    if allowed == "*open":
        return status != "closed"
    return status in allowed


def legal_actions(kind: str, status: str) -> list[str]:
    return [a for a in verbs.legal_rules() if is_legal(a, kind, status)]


# --------------------------------------------------------------------------- roles

# unit: a handling unit's liaison, between viewer and officer, allowed only UNIT_ACTIONS
ROLE_ORDER = {"viewer": 0, "unit": 1, "officer": 2, "leader": 3, "admin": 4}

# the least role of what is not an item verb (the verbs declare their own); admin may do all
OTHER_ROLES = {
    "escalate_any": "leader", "close_major": "leader",
    "create": "officer", "activate_plan": "officer", "tick_measure": "officer",
    "deactivate_plan": "officer", "handover": "officer",
    "admin": "admin",
}


def role_allows(role: str, action: str) -> bool:
    if role == "unit":
        return action in UNIT_ACTIONS
    need = verbs.rule_roles().get(action) or OTHER_ROLES.get(action, "admin")
    return ROLE_ORDER.get(role, -1) >= ROLE_ORDER[need]


# --------------------------------------------------------------------------- severities

REPORT_SEVERITY = {"I": 0, "II": 1, "unknown": 2, "III": 3, "IV": 4}
URGENCY_SEVERITY = {"very_urgent": 0, "urgent": 1, "normal": 2}
CLASS_SEVERITY = {"urgent": 0, "normal": 1, "complex": 2}
CLOSED_RANK = 10  # closed items rank after every open one: rank = CLOSED_RANK + severity
_FAR = 10 * 365 * 86400  # items without a deadline: after every dated one (sort_key is BIGINT)
_EPOCH = dt.datetime(1970, 1, 1)


_SEVERITY = {"report": REPORT_SEVERITY, "work_order": URGENCY_SEVERITY,
             "supervision": CLASS_SEVERITY, "scheduled": {}}  # scheduled: by due time alone


def severity_of(kind: str, item_severity: str) -> int:
    return _SEVERITY[kind].get(item_severity, 2)


def epoch(at: dt.datetime) -> int:
    return int((at - _EPOCH).total_seconds())


def queue_position(severity: int, *, closed_at: dt.datetime | None,
                   deadline_at: dt.datetime | None, created_at: dt.datetime) -> tuple[int, int]:
    """(rank, sort_key): open before closed, then severity, then nearest deadline.

    Closed items sort most recently closed first.  Both are integers so a queue
    pages on one composite index, (rank, sort_key, id).
    """
    if closed_at is not None:
        return CLOSED_RANK + severity, -epoch(closed_at)
    if deadline_at is not None:
        return severity, epoch(deadline_at)
    return severity, epoch(created_at) + _FAR


# --------------------------------------------------------------------------- shifts

SHIFT_REF = "ZB-%Y%m%d-%H"  # a shift's reference: its local start hour


def shift_ref(starts_at: dt.datetime, tz: dt.tzinfo) -> str:
    return to_local(starts_at, tz).strftime(SHIFT_REF)


# --------------------------------------------------------------------------- chains


def chain_snapshot(settings: Settings, kind: str, severity: str) -> list[list]:
    """The configured chain copied onto an item: later config edits do not touch it."""
    return [[s.name, s.wait] for s in settings.chain(kind, severity)]


def step_wait(chain: list[list], step: int) -> int:
    return int(chain[min(step, len(chain) - 1)][1])


def next_escalation(chain: list[list], step: int, since: dt.datetime) -> dt.datetime | None:
    """When an unacknowledged item at ``step`` moves on; None at the last step."""
    if step >= len(chain) - 1:
        return None
    return since + dt.timedelta(minutes=step_wait(chain, step))


def find_step(chain: list[list], wanted: str | int) -> int | None:
    """A step by number (1-based, as shown) or by name (exact, then prefix)."""
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit()):
        n = int(wanted) - 1
        return n if 0 <= n < len(chain) else None
    for i, (name, _wait) in enumerate(chain):
        if name == wanted:
            return i
    matches = [i for i, (name, _w) in enumerate(chain) if name.startswith(str(wanted))]
    return matches[0] if len(matches) == 1 else None


# --------------------------------------------------------------------------- deadlines


def effective_level(settings: Settings, level: str, sensitive: bool) -> str:
    """Sensitive information is reported at least as fast as ``reporting.sensitive_as``."""
    if sensitive and REPORT_SEVERITY[settings.sensitive_as] < REPORT_SEVERITY[level]:
        return settings.sensitive_as
    return level


@dataclass(frozen=True)
class ReportClock:
    """What a report's deadline depends on."""

    level: str
    sensitive: bool
    received_at: dt.datetime
    reported_at: dt.datetime | None
    followups: int
    last_update_at: dt.datetime | None


def report_deadline(settings: Settings, r: ReportClock) -> tuple[str, dt.datetime | None]:
    """The next reporting obligation of an open report: (what, when).

    Not yet reported up → report up within ``report`` minutes of receipt;
    reported, no follow-up yet → the written report is due ``written`` minutes
    after receipt (when that has passed at the report-up: ``written - report``
    minutes, at least ``report``, after the report-up); after that a follow-up every ``followup`` minutes (none when
    null), and for the configured levels also at the fixed local hours.
    """
    level = effective_level(settings, r.level, r.sensitive)
    limits = settings.report_limits[level]
    if r.reported_at is None:
        return "report_up", r.received_at + dt.timedelta(minutes=limits.report)
    if r.followups == 0:
        due = r.received_at + dt.timedelta(minutes=limits.written)
        if due <= r.reported_at:
            # reported up after the written report's time (by hand, once overdue): it gets
            # its own time after the report-up, not a deadline already passed (it was
            # overdue again at once)
            due = r.reported_at + dt.timedelta(minutes=max(limits.written - limits.report,
                                                           limits.report))
        return "written", due
    last = r.last_update_at or r.reported_at
    candidates = []
    if limits.followup:
        candidates.append(last + dt.timedelta(minutes=limits.followup))
    if level in settings.followup_at_levels:
        candidates.extend(settings.calendar.next_local_time(last, h) for h in settings.followup_at)
    return ("followup", min(candidates)) if candidates else ("none", None)


def work_order_due(settings: Settings, received_at: dt.datetime, wo_type: str,
                   urgency: str) -> dt.datetime:
    """12345 limit: 特急 same day (at least the response time), 紧急 hours, else working days."""
    cal = settings.calendar
    if urgency == "very_urgent":
        respond = received_at + dt.timedelta(minutes=settings.very_urgent_response)
        if settings.very_urgent_same_day:
            return max(cal.end_of_local_day(received_at), respond)
        return respond
    if urgency == "urgent":
        return received_at + dt.timedelta(hours=settings.urgent_hours)
    return cal.add_working_days(received_at, settings.wo_type_days[wo_type])


def extension_due(settings: Settings, current_due: dt.datetime, wo_type: str) -> dt.datetime:
    """An extension (延期) grants the type's limit again from the current due date."""
    return extended_due(settings, current_due, *extension_limit(settings, "work_order", wo_type))


def extension_limit(settings: Settings, kind: str, kind_class: str) -> tuple[int, bool]:
    """The longest 延期 (days, counted in working days?): a work order's type limit again,
    a supervision item's 3715 class again.  A shorter one may be chosen, never a longer."""
    if kind == "work_order":
        return max(1, settings.wo_type_days[kind_class]), True
    return settings.sv_classes[kind_class]


def extended_due(settings: Settings, current_due: dt.datetime, days: int,
                 working: bool) -> dt.datetime:
    if working:
        return settings.calendar.add_working_days(current_due, days)
    return current_due + dt.timedelta(days=days)


def extension_options(settings: Settings, kind: str, kind_class: str,
                      current_due: dt.datetime) -> list[tuple[int, dt.datetime, bool]]:
    """What 延期 may choose from: (days, the new due, working days?), 1 up to the limit."""
    limit, working = extension_limit(settings, kind, kind_class)
    return [(n, extended_due(settings, current_due, n, working), working)
            for n in range(1, limit + 1)]


def return_allowed_until(settings: Settings, assigned_at: dt.datetime) -> dt.datetime:
    return settings.calendar.add_working_days(assigned_at, settings.return_working_days)


def supervision_due(settings: Settings, registered_at: dt.datetime, klass: str) -> dt.datetime:
    """3715: urgent 3, normal 7, complex 15 (working days by default)."""
    days, working = settings.sv_classes[klass]
    if working:
        return settings.calendar.add_working_days(registered_at, days)
    return registered_at + dt.timedelta(days=days)


def urgency_band(settings: Settings, kind: str, deadline: dt.datetime | None,
                 now: dt.datetime) -> str:
    """"ok", "near" (amber) or "overdue" (red) for the countdown colour."""
    if deadline is None:
        return "ok"
    left = deadline - now
    if left.total_seconds() < 0:
        return "overdue"
    if kind == "work_order":
        near = dt.timedelta(hours=settings.remind_before_hours)
    else:
        near = dt.timedelta(minutes=settings.warn_minutes)
    return "near" if left <= near else "ok"


def level_of(value: str) -> str:
    """Accept I/II/III/IV/unknown, Roman numerals Ⅰ–Ⅳ, 1–4 and 待核."""
    table = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "1": "I", "2": "II", "3": "III",
             "4": "IV", "待核": "unknown", "特别重大": "I", "重大": "II", "较大": "III", "一般": "IV"}
    v = str(value).strip()
    v = table.get(v, v)
    if v.upper() in ("I", "II", "III", "IV"):
        return v.upper()
    if v.lower() in ("unknown", ""):
        return "unknown"
    raise ValueError(f"expected a level I/II/III/IV/unknown, got {value!r}")


assert set(REPORT_SEVERITY) == set(LEVELS)
__all__ = ["Step", "REPORT_STATUSES", "WORK_ORDER_STATUSES", "SUPERVISION_STATUSES",
           "STATUSES"]


# --------------------------------------------------------------------------- fields


def is_phone(text: str) -> bool:
    """A phone number as officers write it: console.fields' rule, and at least one digit."""
    from .fields import PHONE_RE

    return bool(PHONE_RE.match(text)) and any(ch.isdigit() for ch in text)
