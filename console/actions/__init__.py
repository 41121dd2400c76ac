"""Every state change, one function each: validate → version-checked update → event → commit.

The UI, the CLI, import, the sweep and the tests all call these.  Each public
function is one transaction (retried whole on a busy or dropped database) that
writes exactly one ``Event``.  An illegal transition, a missing reason, a role
that may not act, or a stale ``expected_version`` raises a DomainError whose
message is one line for the officer, and nothing is changed.

The package, along its seams: ``plumbing`` (transaction, event log, the one
version-checked update), ``items`` (verbs on an item), ``sweep`` (automatic
escalation), ``create`` (intake), ``plans``, ``roster`` (roster, configuration),
``shifts`` (交接班) and ``imports``.  ``from console import actions; actions.<verb>`` is the API.
"""

from __future__ import annotations

from ..models import database
from .bulk import BulkResult, BulkTarget, bulk
from .create import create_report, create_work_order, register_supervision
from .imports import ImportResult, import_records
from .items import (
    acknowledge,
    assign,
    change_level,
    close,
    escalate,
    extend,
    follow_up,
    instruct,
    note,
    reopen,
    reply,
    return_order,
    urge,
    visit,
)
from .merge import counted_once, link_related, merge, unmerge
from .plans import activate_plan, deactivate_plan, tick_measure
from .plumbing import GENESIS, MAX_TEXT, append_event, event_digest, find_item, intent_key
from .roster import (
    department_values,
    person_values,
    upsert_department,
    upsert_person,
    upsert_plan,
    upsert_shift,
)
from .scheduled import receive, receive_scheduled  # scheduled department reports
from .shifts import HandoverResult, accept_handover, handover, submit_handover, take_over_shift
from .sweep import sweep_batch, sweep_due, sweep_problems
from .units import accept, approve_return, ask_return, refuse_return, visit_no_redo

__all__ = [
    "acknowledge", "escalate", "assign", "urge", "extend", "return_order", "follow_up",
    "instruct", "reply", "visit", "close", "reopen", "note", "change_level", "sweep_batch", "sweep_due",
    "create_report", "create_work_order", "register_supervision", "activate_plan",
    "tick_measure", "deactivate_plan", "handover", "upsert_department", "upsert_person",
    "upsert_plan", "upsert_shift", "append_event", "event_digest", "find_item", "database",
    "import_records", "ImportResult", "GENESIS", "MAX_TEXT", "intent_key", "department_values",
    "person_values",
    "bulk", "BulkResult", "BulkTarget",  # bulk (storms)
    "person_values", "submit_handover", "accept_handover", "take_over_shift", "HandoverResult",
    "receive", "receive_scheduled",
    # 12345 unit desk (issue 11)
    "accept", "ask_return", "approve_return", "refuse_return", "visit_no_redo",
    "sweep_problems",
    "merge", "unmerge", "link_related", "counted_once",
]
