"""The one source of "now", and the working-day calendar.

Convention for all of console/: datetimes are *naive UTC*.  They are stored that
way (SQLite and PostgreSQL alike) and only turned into local time for display
and for calendar arithmetic, which happens in the site time zone.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from zoneinfo import ZoneInfo

UTC = dt.UTC
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Clock:
    """Wall clock.  Tests and the demo use :class:`FrozenClock`."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class FrozenClock(Clock):
    """A clock that moves only when told to (thread-safe)."""

    def __init__(self, at: dt.datetime) -> None:
        self._at = at.replace(tzinfo=None) if at.tzinfo is None else to_utc_naive(at)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._at

    def set(self, at: dt.datetime) -> None:
        # as in __init__: an aware time becomes naive UTC (kept aware, it could not
        # be compared with the naive UTC values read from the database)
        with self._lock:
            self._at = to_utc_naive(at)

    def advance(self, **delta: float) -> dt.datetime:
        with self._lock:
            self._at = self._at + dt.timedelta(**delta)
            return self._at


def to_utc_naive(value: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime:
    """An aware datetime (or a naive one in ``tz``) as naive UTC."""
    if value.tzinfo is None:
        if tz is None:
            return value
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC).replace(tzinfo=None)


def to_local(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Naive UTC → aware local time in ``tz``."""
    return value.replace(tzinfo=UTC).astimezone(tz)


class Calendar:
    """Working days: configured weekdays, minus holidays, plus make-up days (调休)."""

    def __init__(
        self,
        tz: str | dt.tzinfo,
        workdays: Iterable[str] = WEEKDAYS[:5],
        holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
    ) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.weekdays = frozenset(WEEKDAYS.index(d) for d in workdays)
        self.holidays = frozenset(holidays)
        self.extra = frozenset(extra_workdays)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra:
            return True
        if day in self.holidays:
            return False
        return day.weekday() in self.weekdays

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """``start`` (naive UTC) plus ``days`` working days, same local clock time.

        Counting starts on the day after ``start``; each working day counts one.
        So an enquiry received on Friday 10:00 with 2 working days is due on
        Tuesday 10:00, and one received on Saturday is due on Tuesday too.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        local = to_local(start, self.tz)
        day = local.date()
        left = days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        # a limit of 0 working days received on a non-working day: next working day
        if days == 0:
            while not self.is_workday(day):
                day += dt.timedelta(days=1)
        naive_local = dt.datetime.combine(day, local.time().replace(tzinfo=None))
        return to_utc_naive(naive_local, self.tz)

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working days strictly after ``start``'s local date up to ``end``'s local date."""
        a = to_local(start, self.tz).date()
        b = to_local(end, self.tz).date()
        count = 0
        while a < b:
            a += dt.timedelta(days=1)
            if self.is_workday(a):
                count += 1
        return count

    def end_of_local_day(self, at: dt.datetime) -> dt.datetime:
        """The last second of ``at``'s local day, as naive UTC."""
        local = to_local(at, self.tz)
        end = dt.datetime.combine(local.date(), dt.time(23, 59, 59))
        return to_utc_naive(end, self.tz)

    def next_local_time(self, at: dt.datetime, hhmm: str) -> dt.datetime:
        """The first moment strictly after ``at`` whose local time is ``hhmm``."""
        hour, minute = (int(p) for p in hhmm.split(":"))
        local = to_local(at, self.tz)
        candidate = dt.datetime.combine(local.date(), dt.time(hour, minute))
        result = to_utc_naive(candidate, self.tz)
        if result <= at:
            candidate += dt.timedelta(days=1)
            result = to_utc_naive(candidate, self.tz)
        return result
