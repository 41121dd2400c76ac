"""Pure rules: deadlines, queue order, legality, roles, chains, levels (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from console import rules, settings
from console.clock import to_local, to_utc_naive
from console.rules import ReportClock

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 27, 2, 0)  # Fri 27 Nov 2026 10:00 local
M = dt.timedelta(minutes=1)


def local(y, m, d, hh=10, mm=0, ss=0) -> dt.datetime:
    return to_utc_naive(dt.datetime(y, m, d, hh, mm, ss), SH)


def as_local(at: dt.datetime) -> dt.datetime:
    return to_local(at, SH).replace(tzinfo=None)


def rc(level="I", *, sensitive=False, received=T0, reported=None, followups=0, last=None):
    return ReportClock(level, sensitive, received, reported, followups, last)


# --------------------------------------------------------------------------- report deadlines


@pytest.mark.parametrize("level,minutes", [("I", 30), ("II", 30), ("III", 120), ("IV", 1440),
                                           ("unknown", 30)])
def test_report_up_deadline_per_level(cfg, level, minutes):
    assert rules.report_deadline(cfg, rc(level)) == ("report_up", T0 + minutes * M)


@pytest.mark.parametrize("level,minutes", [("I", 60), ("II", 60), ("III", 240), ("IV", 1440),
                                           ("unknown", 60)])
def test_written_report_deadline_per_level(cfg, level, minutes):
    reported = T0 + 10 * M
    assert rules.report_deadline(cfg, rc(level, reported=reported)) == \
        ("written", T0 + minutes * M)


def test_written_report_after_a_late_report_up_gets_its_own_time(cfg):
    # issue 10 §6: it was due at the moment of the report-up, so overdue again at once
    late = T0 + 90 * M  # reported up after the written limit
    assert rules.report_deadline(cfg, rc("I", reported=late)) == ("written", late + 30 * M)
    on_time = T0 + 20 * M
    assert rules.report_deadline(cfg, rc("I", reported=on_time)) == ("written", T0 + 60 * M)
    iv_late = T0 + 1500 * M  # Ⅳ: written = report = 1 day: a day after the late report-up
    assert rules.report_deadline(cfg, rc("IV", reported=iv_late)) == ("written",
                                                                     iv_late + 1440 * M)


def test_followup_cadence_level_I(cfg):
    last = T0 + 60 * M  # 11:00 local → +120 min = 13:00 local, before 17:00
    what, when = rules.report_deadline(cfg, rc("I", reported=T0, followups=1, last=last))
    assert (what, as_local(when)) == ("followup", dt.datetime(2026, 11, 27, 13, 0))


def test_followup_fixed_hour_17_wins_for_level_II(cfg):
    last = local(2026, 11, 27, 15, 30)  # +240 min = 19:30; 17:00 comes first
    what, when = rules.report_deadline(cfg, rc("II", reported=T0, followups=2, last=last))
    assert (what, as_local(when)) == ("followup", dt.datetime(2026, 11, 27, 17, 0))


def test_followup_fixed_hour_08_next_morning(cfg):
    last = local(2026, 11, 27, 23, 0)  # level I: +120 = 01:00; II: +240 = 03:00; 08:00 later
    _, when_i = rules.report_deadline(cfg, rc("I", reported=T0, followups=1, last=last))
    assert as_local(when_i) == dt.datetime(2026, 11, 28, 1, 0)
    custom = settings.load(overrides={"reporting": {"levels": {
        "II": {"report": 30, "written": 60, "followup": 1440}}}})
    _, when_ii = rules.report_deadline(custom, rc("II", reported=T0, followups=1, last=last))
    assert as_local(when_ii) == dt.datetime(2026, 11, 28, 8, 0)


def test_no_fixed_hours_for_level_III(cfg):
    last = local(2026, 11, 27, 15, 30)  # +720 = 03:30 next day, 17:00 does not apply
    what, when = rules.report_deadline(cfg, rc("III", reported=T0, followups=1, last=last))
    assert (what, as_local(when)) == ("followup", dt.datetime(2026, 11, 28, 3, 30))


def test_level_IV_needs_no_followup(cfg):
    assert rules.report_deadline(cfg, rc("IV", reported=T0, followups=1, last=T0)) == \
        ("none", None)


def test_followup_counts_from_report_up_when_no_update_time(cfg):
    what, when = rules.report_deadline(cfg, rc("III", reported=T0 + M, followups=1, last=None))
    assert (what, when) == ("followup", T0 + M + 720 * M)


def test_sensitive_report_is_treated_as_II(cfg):
    assert rules.effective_level(cfg, "IV", True) == "II"
    assert rules.effective_level(cfg, "III", True) == "II"
    assert rules.effective_level(cfg, "unknown", True) == "II"
    assert rules.effective_level(cfg, "I", True) == "I"  # never slower
    assert rules.effective_level(cfg, "IV", False) == "IV"
    assert rules.report_deadline(cfg, rc("IV", sensitive=True)) == ("report_up", T0 + 30 * M)
    last = local(2026, 11, 27, 15, 30)
    _, when = rules.report_deadline(cfg, rc("IV", sensitive=True, reported=T0, followups=1,
                                            last=last))
    assert as_local(when) == dt.datetime(2026, 11, 27, 17, 0)  # II's fixed hours apply too


# --------------------------------------------------------------------------- 12345 deadlines


def test_very_urgent_same_day(cfg):
    due = rules.work_order_due(cfg, T0, "help", "very_urgent")
    assert as_local(due) == dt.datetime(2026, 11, 27, 23, 59, 59)


def test_very_urgent_late_evening_gets_the_response_time(cfg):
    at = local(2026, 11, 27, 23, 0)
    assert rules.work_order_due(cfg, at, "complaint", "very_urgent") == at + 120 * M


def test_very_urgent_without_same_day(cfg):
    custom = settings.load(overrides={"hotline": {"urgency": {"very_urgent": {"same_day": False}}}})
    assert rules.work_order_due(custom, T0, "help", "very_urgent") == T0 + 120 * M


@pytest.mark.parametrize("wo_type", settings.WO_TYPES)
def test_urgent_is_24_hours_even_over_a_weekend(cfg, wo_type):
    assert rules.work_order_due(cfg, T0, wo_type, "urgent") == T0 + dt.timedelta(hours=24)


@pytest.mark.parametrize("wo_type,due_day", [
    ("enquiry", dt.date(2026, 12, 1)),      # 2 working days: Mon, Tue
    ("help", dt.date(2026, 12, 11)),        # 10
    ("suggestion", dt.date(2026, 12, 11)),  # 10
    ("complaint", dt.date(2026, 12, 18)),   # 15
    ("report", dt.date(2026, 12, 18)),      # 15
])
def test_normal_orders_in_working_days(cfg, wo_type, due_day):
    due = rules.work_order_due(cfg, T0, wo_type, "normal")
    assert as_local(due) == dt.datetime.combine(due_day, dt.time(10, 0))


def test_normal_order_skips_national_day(cfg):
    due = rules.work_order_due(cfg, local(2026, 9, 30, 16), "enquiry", "normal")
    assert as_local(due) == dt.datetime(2026, 10, 9, 16, 0)


def test_extension_and_return_limits(cfg):
    # an extension grants the type's limit again from the current due date
    due = local(2026, 12, 1)
    assert as_local(rules.extension_due(cfg, due, "enquiry")) == dt.datetime(2026, 12, 3, 10)
    # return within 2 working days of assignment (Fri → Tue)
    assert as_local(rules.return_allowed_until(cfg, T0)) == dt.datetime(2026, 12, 1, 10)


# --------------------------------------------------------------------------- 3715


@pytest.mark.parametrize("klass,due_day", [
    ("urgent", dt.date(2026, 12, 2)),    # 3 working days
    ("normal", dt.date(2026, 12, 8)),    # 7
    ("complex", dt.date(2026, 12, 18)),  # 15
])
def test_supervision_3715(cfg, klass, due_day):
    assert as_local(rules.supervision_due(cfg, T0, klass)) == \
        dt.datetime.combine(due_day, dt.time(10, 0))


def test_supervision_in_calendar_days_when_configured(cfg):
    custom = settings.load(overrides={"supervision": {"classes": {
        "urgent": {"days": 3, "working_days": False}}}})
    assert rules.supervision_due(custom, T0, "urgent") == T0 + dt.timedelta(days=3)


def test_supervision_over_national_day(cfg):
    # Wed 30 Sep + 3 working days: 8, 9, 10 (make-up Saturday) Oct
    assert as_local(rules.supervision_due(cfg, local(2026, 9, 30), "urgent")) == \
        dt.datetime(2026, 10, 10, 10)


# --------------------------------------------------------------------------- queue order


def _pos(sev, *, closed=None, deadline=None, created=T0):
    return rules.queue_position(sev, closed_at=closed, deadline_at=deadline, created_at=created)


def test_open_before_closed_whatever_the_severity():
    open_low = _pos(4, deadline=T0 + dt.timedelta(days=30))
    closed_high = _pos(0, closed=T0)
    assert open_low < closed_high


def test_severity_before_deadline():
    assert _pos(0, deadline=T0 + dt.timedelta(days=3)) < _pos(1, deadline=T0)


def test_nearer_deadline_first_within_a_severity():
    assert _pos(2, deadline=T0) < _pos(2, deadline=T0 + M)
    assert _pos(2, deadline=T0 - dt.timedelta(hours=5)) < _pos(2, deadline=T0)  # overdue first


def test_items_without_deadline_after_those_with_one():
    assert _pos(2, deadline=T0 + dt.timedelta(days=365)) < _pos(2, created=T0 - dt.timedelta(days=9))
    assert _pos(2, created=T0) < _pos(2, created=T0 + M)  # then oldest first


def test_items_without_deadline_sort_after_dated_ones_in_any_year():
    for year in (2026, 2028, 2030, 2037, 2045):
        created = dt.datetime(year, 6, 1)
        assert _pos(4, deadline=created + dt.timedelta(days=60)) < _pos(4, created=created)


def test_recently_closed_first():
    assert _pos(1, closed=T0 + M) < _pos(1, closed=T0)
    assert _pos(0, closed=T0) < _pos(1, closed=T0 + dt.timedelta(days=1))  # severity still first


def test_queue_order_of_a_mixed_list():
    items = {
        "closed-old": _pos(0, closed=T0 - dt.timedelta(days=2)),
        "closed-new": _pos(0, closed=T0),
        "IV-soon": _pos(4, deadline=T0),
        "I-late": _pos(0, deadline=T0 + dt.timedelta(hours=5)),
        "I-soon": _pos(0, deadline=T0 + M),
        "II-none": _pos(1, created=T0),
    }
    order = sorted(items, key=items.get)
    assert order == ["I-soon", "I-late", "II-none", "IV-soon", "closed-new", "closed-old"]


def test_severity_of():
    assert [rules.severity_of("report", lv) for lv in ("I", "II", "unknown", "III", "IV")] == \
        [0, 1, 2, 3, 4]
    assert [rules.severity_of("work_order", u) for u in ("very_urgent", "urgent", "normal")] == \
        [0, 1, 2]
    assert [rules.severity_of("supervision", c) for c in ("urgent", "normal", "complex")] == \
        [0, 1, 2]


# --------------------------------------------------------------------------- legality

OPEN = {"report": {"new", "acknowledged", "active"},
        "work_order": {"received", "assigned", "in_progress", "extended", "replied", "visited",
                       "returned"},
        "supervision": {"registered", "in_progress"}}
ALL = {k: v | {"closed"} for k, v in OPEN.items()}
OPEN["scheduled"] = {"due", "missing"}  # scheduled reports: closed as received or late
ALL["scheduled"] = OPEN["scheduled"] | {"received", "late"}
WORKING = {"assigned", "in_progress", "extended"}

# Written from the domain brief, independently of rules.LEGAL_FROM.
EXPECTED_LEGAL: dict[str, dict[str, set[str]]] = {
    "acknowledge": dict(OPEN),
    "escalate": dict(OPEN),
    "assign": {"report": OPEN["report"], "work_order": {"received", "returned"} | WORKING,
               "supervision": OPEN["supervision"]},
    "urge": {"report": OPEN["report"], "work_order": WORKING | {"replied"},
             "supervision": OPEN["supervision"]},
    "extend": {"work_order": WORKING, "supervision": OPEN["supervision"]},
    "return": {"work_order": WORKING},
    "follow_up": {"report": OPEN["report"]},
    "instruct": dict(ALL),
    "reply": {"work_order": WORKING},
    "visit": {"work_order": {"replied"}},
    "close": {"report": OPEN["report"], "work_order": {"replied", "visited"},
              "supervision": OPEN["supervision"]},
    "reopen": {"report": {"closed"}, "work_order": {"closed"}, "supervision": {"closed"}},
    "note": dict(ALL),
    "change_level": {"report": OPEN["report"]},
    "receive": {"scheduled": OPEN["scheduled"]},
    # 12345 unit desk (issue 11)
    "accept": {"work_order": WORKING},
    "ask_return": {"work_order": WORKING},
    "approve_return": {"work_order": WORKING},
    "refuse_return": {"work_order": WORKING},
    # merge and repeats (issue 11)
    "merge": {"work_order": OPEN["work_order"], "report": OPEN["report"]},
    "unmerge": {"work_order": {"closed"}, "report": {"closed"}},
    "link": {"work_order": ALL["work_order"], "report": ALL["report"]},
}
EXPECTED_LEGAL["urge"]["scheduled"] = OPEN["scheduled"]  # chase a missing report

CASES = [(a, k, s) for a in EXPECTED_LEGAL for k in ALL for s in sorted(ALL[k])]


def test_status_lists_match():
    for kind, statuses in rules.STATUSES.items():
        assert set(statuses) == ALL[kind]
    assert set(rules.ITEM_ACTIONS) == set(EXPECTED_LEGAL)


@pytest.mark.parametrize("action,kind,status", CASES)
def test_is_legal_table(action, kind, status):
    expected = status in EXPECTED_LEGAL[action].get(kind, set())
    assert rules.is_legal(action, kind, status) is expected


def test_legal_and_illegal_cases_both_exist():
    legal = sum(rules.is_legal(*c) for c in CASES)
    assert 0 < legal < len(CASES)


def test_unknown_action_or_kind_is_illegal():
    assert not rules.is_legal("explode", "report", "new")
    assert not rules.is_legal("note", "plan", "new")


def test_legal_actions_list():
    assert rules.legal_actions("work_order", "replied") == [
        "acknowledge", "escalate", "urge", "instruct", "visit", "close", "note", "merge", "link"]
    assert rules.legal_actions("report", "closed") == ["instruct", "reopen", "note", "unmerge",
                                                       "link"]


# --------------------------------------------------------------------------- roles

ROUTINE = ["acknowledge", "escalate", "assign", "urge", "extend", "return", "follow_up", "reply",
           "visit", "close", "reopen", "note", "change_level", "create", "activate_plan",
           "tick_measure", "deactivate_plan", "handover", "instruct"]  # 批示: officers record
LEADER_ONLY = ["escalate_any", "close_major"]
ADMIN_ONLY = ["admin", "something_new"]


@pytest.mark.parametrize("role,action", list(itertools.product(
    settings.ROLES, ROUTINE + LEADER_ONLY + ADMIN_ONLY)))
def test_role_matrix(role, action):
    if role == "unit":  # a handling unit's liaison: its own few verbs only (issue 11)
        expected = action in ("extend", "return", "reply", "note")
    elif action in ROUTINE:
        expected = role in ("officer", "leader", "admin")
    elif action in LEADER_ONLY:
        expected = role in ("leader", "admin")
    else:
        expected = role == "admin"
    assert rules.role_allows(role, action) is expected


def test_unknown_role_may_do_nothing():
    assert not rules.role_allows("intruder", "note")


# --------------------------------------------------------------------------- chains

CHAIN = [["值班员", 5], ["带班领导", 10], ["应急办主任", 15], ["秘书长", 15], ["分管副市长", 30]]


@pytest.mark.parametrize("wanted,index", [
    (1, 0), (5, 4), ("2", 1), ("3", 2), (0, None), (6, None), ("9", None),
    ("秘书长", 3), ("应急", 2), ("分管", 4), ("带班领导", 1), ("市长", None), ("x", None),
])
def test_find_step(wanted, index):
    assert rules.find_step(CHAIN, wanted) == index


def test_find_step_ambiguous_prefix_is_none_but_exact_wins():
    chain = [["带班", 5], ["带班领导", 5], ["带班副领导", 5]]
    assert rules.find_step(chain, "带班领") == 1
    assert rules.find_step(chain, "带班") == 0  # exact
    chain2 = [["带班领导", 5], ["带班副领导", 5]]
    assert rules.find_step(chain2, "带班") is None


def test_chain_snapshot_and_waits(cfg):
    snap = rules.chain_snapshot(cfg, "report", "I")
    assert snap == CHAIN
    assert rules.chain_snapshot(cfg, "supervision", "urgent")[0] == ["督查科", 1440]
    assert rules.step_wait(CHAIN, 1) == 10
    assert rules.step_wait(CHAIN, 99) == 30  # past the end: the last wait
    assert rules.next_escalation(CHAIN, 0, T0) == T0 + 5 * M
    assert rules.next_escalation(CHAIN, 3, T0) == T0 + 15 * M
    assert rules.next_escalation(CHAIN, 4, T0) is None  # the last step escalates no further


def test_chain_snapshot_is_a_copy(cfg):
    snap = rules.chain_snapshot(cfg, "report", "II")
    snap[0][1] = 999
    assert rules.chain_snapshot(cfg, "report", "II")[0][1] == 5


# --------------------------------------------------------------------------- levels


@pytest.mark.parametrize("text,level", [
    ("I", "I"), ("ii", "II"), ("III", "III"), ("IV", "IV"), ("Ⅰ", "I"), ("Ⅱ", "II"), ("Ⅲ", "III"),
    ("Ⅳ", "IV"), ("1", "I"), ("2", "II"), ("3", "III"), ("4", "IV"), ("待核", "unknown"),
    ("unknown", "unknown"), ("", "unknown"), ("特别重大", "I"), ("重大", "II"), ("较大", "III"),
    ("一般", "IV"), (" Ⅱ ", "II"), (2, "II"),
])
def test_level_of(text, level):
    assert rules.level_of(text) == level


@pytest.mark.parametrize("junk", ["junk", "5", "V", "0", "I I", "重"])
def test_level_of_rejects_junk(junk):
    with pytest.raises(ValueError, match="expected a level"):
        rules.level_of(junk)


# --------------------------------------------------------------------------- countdown colour


def test_urgency_band(cfg):
    assert rules.urgency_band(cfg, "report", None, T0) == "ok"
    assert rules.urgency_band(cfg, "report", T0 - M, T0) == "overdue"
    assert rules.urgency_band(cfg, "report", T0 + 15 * M, T0) == "near"
    assert rules.urgency_band(cfg, "report", T0 + 16 * M, T0) == "ok"
    assert rules.urgency_band(cfg, "work_order", T0 + dt.timedelta(hours=23), T0) == "near"
    assert rules.urgency_band(cfg, "work_order", T0 + dt.timedelta(hours=25), T0) == "ok"


def test_settings_replace_changes_rules(cfg):
    # rules read only the settings they are given
    custom = dataclasses.replace(cfg, urgent_hours=4)
    assert rules.work_order_due(custom, T0, "help", "urgent") == T0 + dt.timedelta(hours=4)
