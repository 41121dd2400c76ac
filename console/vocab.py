"""The duty room's vocabulary, in one place: kinds, levels, categories, urgencies,
supervision classes, roles and statuses.

Pure constants (no imports from the rest of console/), so settings, rules, models,
intake and the screens can all take their words from here.  Labels for people
are in the locale files under the same keys (``level.II``, ``status.report.new``…).
"""

from __future__ import annotations

KINDS = ("report", "work_order", "supervision")  # the three queues, in their display order

LEVELS = ("I", "II", "III", "IV", "unknown")  # 突发事件 Ⅰ–Ⅳ and 待核
MAJOR_LEVELS = ("I", "II")  # 特别重大 / 重大: lowering a level from these needs a leader
REPORT_CATEGORIES = ("natural", "accident", "health", "security")
URGENCIES = ("normal", "urgent", "very_urgent")  # 12345
WO_TYPES = ("enquiry", "help", "complaint", "report", "suggestion")
SV_CLASSES = ("urgent", "normal", "complex")  # 3715
ROLES = ("viewer", "unit", "officer", "leader", "admin")
# what a handling unit's liaison (role unit, bound to one department) may do, and only
# on its own department's orders (console/actions/units.py checks the department)
UNIT_ACTIONS = ("accept", "reply", "extend", "ask_return", "return", "note")

REPORT_STATUSES = ("new", "acknowledged", "active", "closed")
WORK_ORDER_STATUSES = ("received", "assigned", "in_progress", "extended", "replied", "visited",
                       "returned", "closed")
SUPERVISION_STATUSES = ("registered", "in_progress", "closed")
SCHEDULED_STATUSES = ("due", "missing", "received", "late")  # scheduled department reports
STATUSES = {"report": REPORT_STATUSES, "work_order": WORK_ORDER_STATUSES,
            "supervision": SUPERVISION_STATUSES, "scheduled": SCHEDULED_STATUSES}

# which column of each kind is its severity (also ``Model.SEVERITY_FIELD``), and its values
SEVERITY_FIELDS = {"report": "level", "work_order": "urgency", "supervision": "klass",
                   "scheduled": "cadence"}
SEVERITY_VALUES = {"report": LEVELS, "work_order": URGENCIES, "supervision": SV_CLASSES,
                   "scheduled": ("weekly", "monthly", "seasonal")}
