"""An event's before/after as the officer reads it, in the interface language.

Every field name is a label (``field.*``), every enum value its name (type, urgency,
channel, status, level, class…), department codes and logins their names, lists
joined with 、, empty values —; the sweep's reason is shown in the interface language
whatever language it was stored in.  Pure, but for ``names_for`` (run in a thread).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from console import queries
from console.i18n import label, t
from console.queries import Detail
from screens import fmt

_HIDDEN = {"next_escalation_at", "acked_at", "updated_at", "activation", "chain", "title",
           "rank", "sort_key", "assigned_at", "levels"}
# an event's value shown in the interface language: field → its label group
ENUMS = {"level": "level_short", "type": "wo_type", "urgency": "urgency", "klass": "klass",
         "channel": "channel", "role": "role", "kind": "plan_kind", "category": "category"}
NAMED = {"department", "assisting", "acked_by", "owner", "accepted_by", "dept_trail"}  # codes and logins → names
SYSTEM_NOTES = {"auto_escalate": "event.auto_unacknowledged", "overdue": "event.auto_overdue"}


def _shown(kind: str, key: str, value: Any, chain: list, tz,
           names: dict[str, str] | None = None) -> str:
    """One value of an event's before/after, as the officer reads it (never a raw code:
    enums in the interface language, lists as names joined with 、, empty as —)."""
    names = names or {}
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return t("ui.yes") if value else t("ui.no")
    if isinstance(value, list):
        return "、".join(_shown(kind, key, v, chain, tz, names) for v in value)
    if isinstance(value, dict):  # a contact: its name
        return str(value.get("name") or value.get("code") or "—")
    if key == "status":
        return label(f"status.{kind}", value)
    if key in ENUMS:
        return label(ENUMS[key], value)
    if key == "subtype":
        from screens.flows import subtype_label
        return subtype_label(value)
    if key in NAMED:
        return names.get(str(value), str(value))
    if key == "step" and isinstance(value, int):
        return chain[value][0] if 0 <= value < len(chain) else str(value + 1)
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-" and value[10] == " ":
        try:
            return fmt.local(dt.datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    return str(value)


def change_text(kind: str, before: dict | None, after: dict | None, chain: list, tz,
                 names: dict[str, str] | None = None) -> str:
    """before→after, compactly: "状态 新接报→已确认; 当前环节 值班员→带班领导"."""
    if not after:
        return ""
    parts = []
    for key, new in after.items():
        if key in _HIDDEN:
            continue
        name = label("field", "due_at" if key == "deadline_at" else key)
        shown = _shown(kind, key, new, chain, tz, names)
        if before is not None and key in before:
            was = _shown(kind, key, before[key], chain, tz, names)
            if was == shown:
                continue  # written but not changed (the sweep's "acknowledged by —→—")
            shown = f"{was}→{shown}"
        parts.append(f"{name} {shown}")
    return "; ".join(parts)


def names_for(d: Detail) -> dict[str, str]:
    """The names of the department codes and logins an item and its timeline show (thread)."""
    item = d.item
    wanted: set[str] = set(getattr(item, "assisting", None) or [])
    wanted.update(x for x in (item.acked_by, item.owner) if x)
    wanted.update(u.author for u in d.updates)
    wanted.update(i.recorded_by for i in d.instructions)
    for a in d.activations:
        wanted.add(a.activated_by)
        wanted.update(m.done_by for m in a.measures if m.done_by)
    for e in d.events:
        for values in (e.before or {}, e.after or {}):
            for key in NAMED & set(values):
                v = values[key]
                wanted.update(map(str, v) if isinstance(v, list) else [str(v)] if v else [])
    names = {dept.code: dept.name for dept in queries.departments("", 1000)
             if dept.code in wanted}
    for login in wanted - set(names):
        person = queries.person_by_login(login)
        if person is not None:
            names[login] = person.name
    return names
