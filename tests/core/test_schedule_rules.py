"""Scheduled department reports: the pure cadence rules (console/schedule.py), no database."""

from __future__ import annotations

import calendar as _cal
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from console import schedule, settings
from console.clock import Calendar
from console.errors import ConfigError
from console.schedule import Expectation, ScheduleConfig, Season

TZ = "Asia/Shanghai"  # UTC+8, no DST
CAL = Calendar(TZ)  # Monday–Friday, no holidays


def weekly(day="mon", hhmm="12:00", grace=120, dept="XCB", topic="opinion", **kw):
    h, m = (int(x) for x in hhmm.split(":"))
    return Expectation(dept, topic, kw.get("cadence", "weekly"), "weekly",
                       schedule.WEEKDAYS.index(day), 1, dt.time(h, m), grace, kw.get("season"))


def monthly(day, hhmm="17:00", grace=240, dept="XFJ", topic="petitions", **kw):
    h, m = (int(x) for x in hhmm.split(":"))
    return Expectation(dept, topic, kw.get("cadence", "monthly"), "monthly", 0, day,
                       dt.time(h, m), grace, kw.get("season"))


def utc(y, mo, d, h=0, mi=0):  # a local (UTC+8) time as naive UTC
    return dt.datetime(y, mo, d, h, mi) - dt.timedelta(hours=8)


def dues(cfg, start, end, cal=CAL):
    return schedule.expected(cfg, cal, start, end)


def test_weekly_due_on_its_weekday_and_local_time_one_per_iso_week():
    cfg = ScheduleConfig((weekly("mon", "12:00"),), move_off_holidays=False)
    got = dues(cfg, utc(2026, 11, 23), utc(2026, 12, 13))
    assert [(d.period, d.due_at) for d in got] == [
        ("2026-W48", utc(2026, 11, 23, 12)), ("2026-W49", utc(2026, 11, 30, 12)),
        ("2026-W50", utc(2026, 12, 7, 12))]
    assert got[0].missing_at == utc(2026, 11, 23, 14)  # due + 120 minutes of grace


def test_weekly_window_edges_are_inclusive_and_iso_weeks_cross_the_year():
    cfg = ScheduleConfig((weekly("fri", "17:00", grace=0),), move_off_holidays=False)
    got = dues(cfg, utc(2026, 12, 25, 17), utc(2027, 1, 8, 17))
    # 2026 has 53 ISO weeks; Friday 1 Jan 2027 belongs to 2026-W53
    assert [d.period for d in got] == ["2026-W52", "2026-W53", "2027-W01"]
    assert got[0].due_at == utc(2026, 12, 25, 17) and got[-1].due_at == utc(2027, 1, 8, 17)


def test_monthly_due_day_past_a_short_month_is_its_last_day():
    cfg = ScheduleConfig((monthly(31),), move_off_holidays=False)
    got = dues(cfg, utc(2026, 1, 1), utc(2026, 12, 31, 23, 59))
    days = [(d.period, (d.due_at + dt.timedelta(hours=8)).date()) for d in got]
    assert days[:4] == [("2026-01", dt.date(2026, 1, 31)), ("2026-02", dt.date(2026, 2, 28)),
                        ("2026-03", dt.date(2026, 3, 31)), ("2026-04", dt.date(2026, 4, 30))]
    assert len(got) == 12 and days[10] == ("2026-11", dt.date(2026, 11, 30))


@pytest.mark.parametrize(("year", "day", "expected"), [
    (2028, 29, dt.date(2028, 2, 29)),  # leap year: 29 Feb exists
    (2027, 29, dt.date(2027, 2, 28)),  # not a leap year
    (2100, 30, dt.date(2100, 2, 28)),  # a century, not a leap year
    (2000, 31, dt.date(2000, 2, 29)),  # 400 years: a leap year
])
def test_february_in_and_out_of_leap_years(year, day, expected):
    assert schedule.month_day(year, 2, day) == expected
    cfg = ScheduleConfig((monthly(day, "09:00"),), move_off_holidays=False)
    got = dues(cfg, utc(year, 2, 1), utc(year, 3, 1) - dt.timedelta(seconds=1))
    assert [(d.due_at + dt.timedelta(hours=8)).date() for d in got] == [expected]


def test_a_due_day_on_a_holiday_or_weekend_moves_to_the_next_working_day():
    # National Day 2026: 1–7 October are holidays; Saturday 10 October is a make-up day (调休)
    cal = Calendar(TZ, holidays=[dt.date(2026, 10, d) for d in range(1, 8)],
                   extra_workdays=[dt.date(2026, 10, 10)])
    cfg = ScheduleConfig((monthly(5, "17:00"),), move_off_holidays=True)
    got = dues(cfg, utc(2026, 10, 1), utc(2026, 10, 31), cal)
    assert [(d.period, d.due_at) for d in got] == [("2026-10", utc(2026, 10, 8, 17))]
    # a weekend due day: Sunday 5 July 2026 → Monday 6 July
    got = dues(cfg, utc(2026, 7, 1), utc(2026, 7, 31), cal)
    assert got[0].due_at == utc(2026, 7, 6, 17)
    # a Saturday report: 3 October (holiday) moves to Thursday 8 October; the make-up
    # Saturday 10 October is a working day: due there, not moved
    sat = ScheduleConfig((weekly("sat", "10:00"),), move_off_holidays=True)
    got = dues(sat, utc(2026, 10, 5), utc(2026, 10, 11), cal)
    assert [(d.period, d.due_at) for d in got] == [("2026-W40", utc(2026, 10, 8, 10)),
                                                   ("2026-W41", utc(2026, 10, 10, 10))]


def test_moving_off_holidays_is_configurable():
    cal = Calendar(TZ, holidays=[dt.date(2026, 10, d) for d in range(1, 8)])
    cfg = ScheduleConfig((monthly(5, "17:00"),), move_off_holidays=False)
    assert [d.due_at for d in dues(cfg, utc(2026, 10, 1), utc(2026, 10, 31), cal)] == [
        utc(2026, 10, 5, 17)]


def test_a_moved_due_day_keeps_its_period_even_across_a_month_end():
    # due on the 31st: Saturday 31 October 2026 → Monday 2 November, still October's report
    cfg = ScheduleConfig((monthly(31, "17:00"),), move_off_holidays=True)
    got = dues(cfg, utc(2026, 10, 25), utc(2026, 11, 10))
    assert [(d.period, d.due_at) for d in got] == [("2026-10", utc(2026, 11, 2, 17))]


def test_a_season_that_starts_mid_week():
    # flood season from Wednesday 3 June 2026: a Monday report's first week is the next one;
    # a Friday report is due that first Friday
    seasons = {"flood": Season("flood", start=(6, 3), end=(9, 30))}
    mon = weekly("mon", cadence="seasonal", season="flood", dept="SLJ", topic="flood")
    fri = weekly("fri", cadence="seasonal", season="flood", dept="SLGA", topic="flood")
    cfg = ScheduleConfig((mon, fri), seasons=seasons, move_off_holidays=False)
    got = dues(cfg, utc(2026, 5, 25), utc(2026, 6, 14))
    assert [(d.department, d.period, d.due_at) for d in got] == [
        ("SLGA", "2026-W23", utc(2026, 6, 5, 12)),
        ("SLJ", "2026-W24", utc(2026, 6, 8, 12)),
        ("SLGA", "2026-W24", utc(2026, 6, 12, 12))]
    # and it ends: nothing after 30 September (Wednesday)
    after = dues(cfg, utc(2026, 9, 25), utc(2026, 10, 20))
    assert [(d.department, d.period) for d in after] == [("SLGA", "2026-W39"),
                                                        ("SLJ", "2026-W40")]


def test_a_season_of_months_and_one_crossing_the_new_year():
    fire = Season("fire", months=frozenset({3, 4, 5, 9, 10, 11}))
    winter = Season("winter", start=(11, 15), end=(3, 15))
    assert fire.contains(dt.date(2026, 11, 30)) and not fire.contains(dt.date(2026, 12, 1))
    assert winter.contains(dt.date(2026, 12, 31)) and winter.contains(dt.date(2027, 1, 1))
    assert winter.contains(dt.date(2027, 3, 15)) and not winter.contains(dt.date(2027, 3, 16))
    cfg = ScheduleConfig((monthly(10, cadence="seasonal", season="fire"),),
                         seasons={"fire": fire}, move_off_holidays=False)
    got = dues(cfg, utc(2026, 1, 1), utc(2026, 12, 31))
    assert [d.period for d in got] == ["2026-03", "2026-04", "2026-05", "2026-09", "2026-10",
                                       "2026-11"]


def test_late_is_after_the_due_time_not_after_the_grace():
    due = dt.datetime(2026, 11, 30, 4)
    assert schedule.status_when_received(due, due) == "received"
    assert schedule.status_when_received(due, due + dt.timedelta(seconds=1)) == "late"


def test_the_shipped_reports_are_the_seed_list():
    cfg = settings.load().scheduled
    got = {(r.department, r.topic, r.cadence) for r in cfg.reports}
    assert got == {("XCB", "opinion", "weekly"), ("ZFW", "stability", "weekly"),
                   ("GAJ", "stability", "weekly"), ("XFJ", "petitions", "monthly"),
                   ("AJJ", "work_safety", "monthly"), ("XF", "fires", "monthly"),
                   ("ZSJ", "projects", "monthly"), ("FGW", "projects", "monthly"),
                   ("SLGA", "forest_fire", "seasonal"), ("SLJ", "flood", "seasonal")}
    assert cfg.move_off_holidays is True


@pytest.mark.parametrize(("override", "path"), [
    ({"reports": [{"department": "XCB", "topic": "x", "cadence": "monthly", "day": 40}]},
     "scheduled_reports.reports[0].day"),
    ({"reports": [{"department": "XCB", "topic": "x", "cadence": "weekly", "weekday": "mo"}]},
     "scheduled_reports.reports[0].weekday"),
    ({"reports": [{"department": "XCB", "topic": "x", "cadence": "seasonal", "every": "weekly",
                   "weekday": "mon", "season": "summer"}]},
     "scheduled_reports.reports[0].season"),
    ({"reports": [{"department": "XCB", "topic": "x", "cadence": "weekly", "weekday": "mon",
                   "time": "25:00"}]}, "scheduled_reports.reports[0].time"),
    ({"reports": [{"department": "XCB", "topic": "x", "cadence": "weekly", "weekday": "mon"},
                  {"department": "XCB", "topic": "x", "cadence": "monthly", "day": 1}]},
     "scheduled_reports.reports[1].topic"),
    ({"seasons": {"flood": {"from": "02-30", "to": "09-30"}}},
     "scheduled_reports.seasons.flood.from"),
    ({"days_ahead": 0}, "scheduled_reports.days_ahead"),
])
def test_a_bad_setting_is_one_line_naming_the_key(tmp_path, override, path):
    site = tmp_path / "site.yaml"
    import yaml

    site.write_text(yaml.safe_dump({"scheduled_reports": override}), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        settings.load(site)
    assert str(err.value).startswith(f"{site.name}: {path}: ") or f"{path}: " in str(err.value)
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- properties

days = st.integers(min_value=1, max_value=31)
years = st.integers(min_value=1990, max_value=2100)


@given(years, st.integers(min_value=1, max_value=12), days)
def test_month_day_is_the_day_or_the_months_last(year, month, day):
    got = schedule.month_day(year, month, day)
    last = _cal.monthrange(year, month)[1]
    assert (got.year, got.month) == (year, month) and got.day == min(day, last)


holiday_sets = st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)), max_size=40)


@hsettings(max_examples=60, deadline=None)
@given(holiday_sets, days, st.sampled_from(schedule.WEEKDAYS),
       st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 10, 1)),
       st.integers(min_value=1, max_value=60))
def test_each_period_once_on_a_working_day_inside_the_window(holidays, day, weekday, start,
                                                            span):
    cal = Calendar(TZ, holidays=holidays)
    cfg = ScheduleConfig((monthly(day), weekly(weekday)), move_off_holidays=True)
    end = start + dt.timedelta(days=span)
    got = schedule.expected(cfg, cal, start, end)
    keys = [(d.department, d.topic, d.period) for d in got]
    assert len(keys) == len(set(keys))
    assert got == sorted(got, key=lambda d: (d.due_at, d.department, d.topic))
    for d in got:
        assert start <= d.due_at <= end
        assert cal.is_workday((d.due_at + dt.timedelta(hours=8)).date())
    # a window split in two finds the same reports
    mid = start + (end - start) / 2
    halves = schedule.expected(cfg, cal, start, mid) + [
        d for d in schedule.expected(cfg, cal, mid, end) if d.due_at != mid]
    assert sorted(keys) == sorted((d.department, d.topic, d.period) for d in halves)
