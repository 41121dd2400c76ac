"""Scheduled department reports (定期报送): the cadence rules, pure.

Given the configured expectations (``scheduled_reports`` in default.yaml) and a
period, which reports are expected, for which period, due when.  No database:
console/actions/scheduled.py creates the expected rows from ``expected()``.

- weekly: due on a weekday of each ISO week, at a local time; period "2026-W49";
- monthly: due on a day of each month (31 in a 30-day month, or 29–31 in
  February, is the month's last day), at a local time; period "2026-12";
- seasonal: a weekly or monthly cadence, expected only while its season is on
  (a season is a set of months or a from/to "MM-DD" span, which may cross the
  new year); a period counts when its nominal due day falls inside the season,
  so a season starting mid-week takes the first due day on or after its start;
- a due day on a weekend or holiday moves to the next working day
  (``move_off_holidays``; the calendar's 调休 make-up days count as working);
  the period keeps its name.

The grace is minutes after the due time before a report not received is
missing (and escalates).
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from .clock import Calendar, to_local, to_utc_naive

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CADENCES = ("weekly", "monthly", "seasonal")
EVERY = ("weekly", "monthly")  # the cadence inside a season
_PAD = dt.timedelta(days=45)  # a due day moved off the longest holiday run stays inside this


@dataclass(frozen=True)
class Season:
    """When a seasonal report is expected: ``months`` or a (month, day) span."""

    name: str
    months: frozenset[int] = frozenset()
    start: tuple[int, int] | None = None  # (month, day), inclusive
    end: tuple[int, int] | None = None  # (month, day), inclusive

    def contains(self, day: dt.date) -> bool:
        if self.start is not None and self.end is not None:
            md = (day.month, day.day)
            if self.start <= self.end:
                return self.start <= md <= self.end
            return md >= self.start or md <= self.end  # crosses the new year (fire season)
        return day.month in self.months


@dataclass(frozen=True)
class Expectation:
    """One configured report: who sends what, how often, and the grace."""

    department: str  # department code
    topic: str  # topic code (label: schedule.topic.<topic>)
    cadence: str  # weekly / monthly / seasonal
    every: str  # weekly / monthly (= cadence unless seasonal)
    weekday: int = 0  # 0 = Monday (weekly)
    day: int = 1  # 1–31 (monthly)
    time: dt.time = dt.time(17, 0)
    grace: int = 0  # minutes after the due time
    season: str | None = None


@dataclass(frozen=True)
class ScheduleConfig:
    reports: tuple[Expectation, ...] = ()
    seasons: dict[str, Season] | None = None
    move_off_holidays: bool = True
    days_ahead: int = 7  # the sweep creates the rows due within this many days
    days_back: int = 3  # … and those due this many days back that are not there yet
    reference: str = "BS-{year}-{seq:04d}"


@dataclass(frozen=True)
class Due:
    """One expected report of one period."""

    department: str
    topic: str
    cadence: str
    period: str
    due_at: dt.datetime  # naive UTC
    grace: int

    @property
    def missing_at(self) -> dt.datetime:
        """Past this, a report not received is missing."""
        return self.due_at + dt.timedelta(minutes=self.grace)


def month_day(year: int, month: int, day: int) -> dt.date:
    """Day ``day`` of a month, or its last day when the month is shorter (31 → 30, 29 Feb)."""
    return dt.date(year, month, min(day, _cal.monthrange(year, month)[1]))


def next_working_day(day: dt.date, calendar: Calendar) -> dt.date:
    for _ in range(366):  # a calendar with working weekdays always ends this
        if calendar.is_workday(day):
            return day
        day += dt.timedelta(days=1)
    return day


def _weeks(start: dt.date, end: dt.date, weekday: int) -> Iterator[tuple[str, dt.date]]:
    monday = start - dt.timedelta(days=start.weekday())
    while monday <= end:
        day = monday + dt.timedelta(days=weekday)
        iso = monday.isocalendar()
        yield f"{iso.year}-W{iso.week:02d}", day
        monday += dt.timedelta(days=7)


def _months(start: dt.date, end: dt.date, day: int) -> Iterator[tuple[str, dt.date]]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield f"{year}-{month:02d}", month_day(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def nominal_days(exp: Expectation, start: dt.date, end: dt.date,
                 seasons: dict[str, Season] | None = None) -> Iterator[tuple[str, dt.date]]:
    """(period, nominal due day) of every period whose window meets start..end, in order;
    seasonal ones only when their nominal due day is in the season."""
    periods = _weeks(start, end, exp.weekday) if exp.every == "weekly" else _months(
        start, end, exp.day)
    season = (seasons or {}).get(exp.season or "") if exp.cadence == "seasonal" else None
    for period, day in periods:
        if exp.cadence == "seasonal" and (season is None or not season.contains(day)):
            continue
        yield period, day


def due_time(day: dt.date, at: dt.time, calendar: Calendar, move_off_holidays: bool
             ) -> dt.datetime:
    """The due moment (naive UTC) of a nominal due day."""
    if move_off_holidays:
        day = next_working_day(day, calendar)
    return to_utc_naive(dt.datetime.combine(day, at), calendar.tz)


def expected(cfg: ScheduleConfig, calendar: Calendar, start: dt.datetime,
             end: dt.datetime) -> list[Due]:
    """Every report expected with a due time in [start, end] (naive UTC), by due time."""
    tz = calendar.tz
    first, last = to_local(start, tz).date() - _PAD, to_local(end, tz).date() + _PAD
    out: list[Due] = []
    for exp in cfg.reports:
        for period, day in nominal_days(exp, first, last, cfg.seasons):
            due = due_time(day, exp.time, calendar, cfg.move_off_holidays)
            if start <= due <= end:
                out.append(Due(exp.department, exp.topic, exp.cadence, period, due, exp.grace))
    out.sort(key=lambda d: (d.due_at, d.department, d.topic))
    return out


def status_when_received(due_at: dt.datetime, received_at: dt.datetime) -> str:
    """received, or late when it came after its due time (the grace only delays 'missing')."""
    return "late" if received_at > due_at else "received"
