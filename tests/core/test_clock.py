"""The clock and the working-day calendar (pure: no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from console.clock import Calendar, Clock, FrozenClock, to_local, to_utc_naive

SH = ZoneInfo("Asia/Shanghai")


def local(y, m, d, hh=10, mm=0, tz=SH) -> dt.datetime:
    """A local wall-clock time as naive UTC (what console/ stores)."""
    return to_utc_naive(dt.datetime(y, m, d, hh, mm), tz)


def as_local(at: dt.datetime, tz=SH) -> dt.datetime:
    return to_local(at, tz).replace(tzinfo=None)


@pytest.fixture
def cal(cfg) -> Calendar:
    return cfg.calendar


# --------------------------------------------------------------------------- add_working_days


def test_friday_plus_two_skips_the_weekend(cal):
    # Fri 27 Nov 2026 10:00 + 2 working days → Tue 1 Dec 10:00 (Sat/Sun skipped)
    assert as_local(cal.add_working_days(local(2026, 11, 27), 2)) == dt.datetime(2026, 12, 1, 10)


def test_friday_plus_one_is_monday(cal):
    assert as_local(cal.add_working_days(local(2026, 11, 27), 1)) == dt.datetime(2026, 11, 30, 10)


def test_midweek_without_weekend(cal):
    # Mon 23 Nov + 3 → Thu 26 Nov
    assert as_local(cal.add_working_days(local(2026, 11, 23), 3)) == dt.datetime(2026, 11, 26, 10)


def test_received_on_saturday_counts_from_monday(cal):
    # Sat 28 Nov: Mon is working day 1, Tue working day 2
    assert as_local(cal.add_working_days(local(2026, 11, 28), 2)) == dt.datetime(2026, 12, 1, 10)
    assert as_local(cal.add_working_days(local(2026, 11, 29, 23, 30), 1)) == \
        dt.datetime(2026, 11, 30, 23, 30)


def test_across_national_day_holidays(cal):
    # Wed 30 Sep 2026: 1–2 Oct holidays, 3–4 weekend, 5–7 holidays → Thu 8 Oct is day 1
    assert as_local(cal.add_working_days(local(2026, 9, 30), 1)) == dt.datetime(2026, 10, 8, 10)
    assert as_local(cal.add_working_days(local(2026, 9, 30), 2)) == dt.datetime(2026, 10, 9, 10)


def test_makeup_workday_counts(cal):
    # Sat 10 Oct 2026 is a make-up working day (调休): Fri 9 Oct + 1 → Sat 10 Oct
    assert dt.date(2026, 10, 10).weekday() == 5
    assert cal.is_workday(dt.date(2026, 10, 10))
    assert as_local(cal.add_working_days(local(2026, 10, 9), 1)) == dt.datetime(2026, 10, 10, 10)
    # ... and the Sunday after it is not
    assert as_local(cal.add_working_days(local(2026, 10, 9), 2)) == dt.datetime(2026, 10, 12, 10)


def test_received_on_a_makeup_saturday(cal):
    assert as_local(cal.add_working_days(local(2026, 10, 10), 1)) == dt.datetime(2026, 10, 12, 10)


def test_holiday_on_a_weekday_is_not_a_workday(cal):
    assert not cal.is_workday(dt.date(2026, 10, 1))  # Thursday, National Day
    assert not cal.is_workday(dt.date(2026, 11, 28))  # Saturday
    assert cal.is_workday(dt.date(2026, 11, 27))  # Friday


def test_zero_days_on_a_workday_is_the_same_moment(cal):
    start = local(2026, 11, 27, 16, 45)
    assert cal.add_working_days(start, 0) == start


def test_zero_days_on_a_non_working_day_moves_to_next_working_day(cal):
    assert as_local(cal.add_working_days(local(2026, 11, 28, 9), 0)) == \
        dt.datetime(2026, 11, 30, 9)
    assert as_local(cal.add_working_days(local(2026, 10, 1, 9), 0)) == dt.datetime(2026, 10, 8, 9)


def test_negative_days_rejected(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(local(2026, 11, 27), -1)


def test_local_day_not_utc_day_decides():
    # 00:30 Saturday in Shanghai is still Friday in UTC: the local (Saturday) date counts.
    cal = Calendar("Asia/Shanghai")
    start = local(2026, 11, 28, 0, 30)
    assert start.date() == dt.date(2026, 11, 27)  # UTC Friday
    assert as_local(cal.add_working_days(start, 1)) == dt.datetime(2026, 11, 30, 0, 30)


def test_custom_workdays_six_day_week():
    cal = Calendar("Asia/Shanghai", workdays=["mon", "tue", "wed", "thu", "fri", "sat"])
    assert as_local(cal.add_working_days(local(2026, 11, 27), 1)) == dt.datetime(2026, 11, 28, 10)
    assert as_local(cal.add_working_days(local(2026, 11, 27), 2)) == dt.datetime(2026, 11, 30, 10)


def test_dst_zone_keeps_local_clock_time():
    berlin = ZoneInfo("Europe/Berlin")
    cal = Calendar("Europe/Berlin")
    # Fri 27 Mar 2026 10:00 CET (UTC+1); DST starts Sun 29 Mar; Mon 10:00 CEST is 08:00 UTC
    start = local(2026, 3, 27, 10, 0, berlin)
    assert start == dt.datetime(2026, 3, 27, 9, 0)
    due = cal.add_working_days(start, 1)
    assert due == dt.datetime(2026, 3, 30, 8, 0)
    assert as_local(due, berlin) == dt.datetime(2026, 3, 30, 10, 0)
    # and back in autumn (DST ends Sun 25 Oct 2026): Fri 10:00 CEST → Mon 10:00 CET = 09:00 UTC
    autumn = cal.add_working_days(local(2026, 10, 23, 10, 0, berlin), 1)
    assert autumn == dt.datetime(2026, 10, 26, 9, 0)


def test_working_days_between(cal):
    assert cal.working_days_between(local(2026, 11, 27), local(2026, 12, 1)) == 2
    assert cal.working_days_between(local(2026, 9, 30), local(2026, 10, 10)) == 3  # 8, 9, 10
    assert cal.working_days_between(local(2026, 11, 27), local(2026, 11, 27, 23)) == 0


def test_end_of_local_day(cal):
    assert as_local(cal.end_of_local_day(local(2026, 11, 27, 10))) == \
        dt.datetime(2026, 11, 27, 23, 59, 59)
    # 01:00 local on the 28th is 17:00 UTC on the 27th: still the 28th locally
    assert as_local(cal.end_of_local_day(local(2026, 11, 28, 1))) == \
        dt.datetime(2026, 11, 28, 23, 59, 59)


def test_next_local_time_is_strictly_after(cal):
    assert as_local(cal.next_local_time(local(2026, 11, 27, 7, 59), "08:00")) == \
        dt.datetime(2026, 11, 27, 8, 0)
    assert as_local(cal.next_local_time(local(2026, 11, 27, 8, 0), "08:00")) == \
        dt.datetime(2026, 11, 28, 8, 0)
    assert as_local(cal.next_local_time(local(2026, 11, 27, 10), "17:00")) == \
        dt.datetime(2026, 11, 27, 17, 0)


# --------------------------------------------------------------------------- clocks


def test_frozen_clock_stands_still_and_advances():
    t0 = dt.datetime(2026, 11, 27, 2, 0)
    clock = FrozenClock(t0)
    assert clock.now() == t0
    assert clock.now() == t0
    assert clock.advance(minutes=5) == t0 + dt.timedelta(minutes=5)
    assert clock.now() == t0 + dt.timedelta(minutes=5)
    clock.advance(hours=1, seconds=30)
    assert clock.now() == t0 + dt.timedelta(hours=1, minutes=5, seconds=30)
    clock.set(t0)
    assert clock.now() == t0


def test_frozen_clock_takes_aware_time_as_utc():
    clock = FrozenClock(dt.datetime(2026, 11, 27, 10, 0, tzinfo=SH))
    assert clock.now() == dt.datetime(2026, 11, 27, 2, 0)
    assert clock.now().tzinfo is None


def test_frozen_clock_set_takes_aware_time_as_utc_too():
    clock = FrozenClock(dt.datetime(2026, 11, 27, 2, 0))
    clock.set(dt.datetime(2026, 11, 28, 9, 30, tzinfo=SH))
    assert clock.now() == dt.datetime(2026, 11, 28, 1, 30)
    assert clock.now().tzinfo is None
    assert clock.advance(minutes=1) == dt.datetime(2026, 11, 28, 1, 31)


def test_wall_clock_is_naive_utc_whole_seconds():
    now = Clock().now()
    assert now.tzinfo is None and now.microsecond == 0
    real = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert abs((real - now).total_seconds()) < 5


def test_utc_conversions_round_trip():
    at = dt.datetime(2026, 11, 27, 2, 0)
    assert to_local(at, SH) == dt.datetime(2026, 11, 27, 10, 0, tzinfo=SH)
    assert to_utc_naive(to_local(at, SH)) == at
    assert to_utc_naive(at) == at  # naive without a zone: already UTC
