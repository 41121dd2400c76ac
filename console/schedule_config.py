"""Validation of the ``scheduled_reports`` settings (one call from settings._validate).

Errors name the file and key path, like every other setting:
``site.yaml: scheduled_reports.reports[2].day: expected days ≤ 31, got 40``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .schedule import CADENCES, EVERY, WEEKDAYS, Expectation, ScheduleConfig, Season

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MMDD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_KEYS = {"department", "topic", "cadence", "every", "weekday", "day", "time", "grace",
         "season"}


def parse(v: Any) -> ScheduleConfig:
    """``v`` is settings._V (typed reads whose errors name file and key path)."""
    base = "scheduled_reports"
    v.map_(base)
    seasons = _seasons(v, f"{base}.seasons")
    reports = tuple(_report(v, f"{base}.reports[{i}]", r, seasons)
                    for i, r in enumerate(v.list_(f"{base}.reports")))
    seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(reports):
        if (r.department, r.topic) in seen:
            raise v.fail(f"{base}.reports[{i}].topic",
                         f"{r.department}/{r.topic} is already listed at "
                         f"reports[{seen[(r.department, r.topic)]}]")
        seen[(r.department, r.topic)] = i
    ref = v.str_(f"{base}.reference")
    try:
        ref.format(year=2026, seq=1)
    except (KeyError, IndexError, ValueError):
        raise v.fail(f"{base}.reference", "expected a format with {year} and {seq}") from None
    return ScheduleConfig(
        reports=reports, seasons=seasons,
        move_off_holidays=v.bool_(f"{base}.move_off_holidays"),
        days_ahead=v.int_(f"{base}.days_ahead", minimum=1, maximum=62, unit="days"),
        days_back=v.int_(f"{base}.days_back", minimum=0, maximum=62, unit="days"),
        reference=ref)


def _seasons(v: Any, path: str) -> dict[str, Season]:
    out: dict[str, Season] = {}
    for name, spec in (v.map_(path) or {}).items():
        p = f"{path}.{name}"
        if not isinstance(spec, dict):
            raise v.fail(p, "expected {months: [...]} or {from: MM-DD, to: MM-DD}")
        if "months" in spec:
            months = v.list_(f"{p}.months")
            if not months:
                raise v.fail(f"{p}.months", "expected at least one month")
            got = frozenset(v.int_(f"{p}.months[{i}]", m, minimum=1, maximum=12, unit="a month")
                            for i, m in enumerate(months))
            out[str(name)] = Season(str(name), months=got)
        elif "from" in spec and "to" in spec:
            out[str(name)] = Season(str(name), start=_mmdd(v, f"{p}.from", spec["from"]),
                                    end=_mmdd(v, f"{p}.to", spec["to"]))
        else:
            raise v.fail(p, "expected months: [...] or from: MM-DD and to: MM-DD")
    return out


def _mmdd(v: Any, path: str, value: Any) -> tuple[int, int]:
    if not isinstance(value, str) or not _MMDD.match(value):
        raise v.fail(path, f'expected a day "MM-DD", got {value!r}')
    month, day = int(value[:2]), int(value[3:])
    try:
        dt.date(2024, month, day)  # a leap year: 02-29 is a day
    except ValueError:
        raise v.fail(path, f"no such day {value!r}") from None
    return month, day


def _report(v: Any, p: str, r: Any, seasons: dict[str, Season]) -> Expectation:
    if not isinstance(r, dict):
        raise v.fail(p, "expected {department: …, topic: …, cadence: …}")
    unknown = sorted(set(r) - _KEYS)
    if unknown:
        raise v.fail(f"{p}.{unknown[0]}", "unknown key (see default.yaml for the keys)")
    dept, topic = (_code(v, f"{p}.{k}", r.get(k)) for k in ("department", "topic"))
    cadence = v.choice(f"{p}.cadence", r.get("cadence"), CADENCES)
    season = None
    if cadence == "seasonal":
        every = v.choice(f"{p}.every", r.get("every"), EVERY)
        season = r.get("season")
        if season not in seasons:
            raise v.fail(f"{p}.season", f"expected one of {', '.join(seasons) or '(none)'}"
                                        f", got {season!r}")
    else:
        every = cadence
    weekday, day = 0, 1
    if every == "weekly":
        weekday = WEEKDAYS.index(v.choice(f"{p}.weekday", r.get("weekday"), WEEKDAYS))
    else:
        day = v.int_(f"{p}.day", r.get("day"), minimum=1, maximum=31, unit="a day of the month")
    hhmm = r.get("time", "17:00")
    if not isinstance(hhmm, str) or not _HHMM.match(hhmm):
        raise v.fail(f"{p}.time", f'expected a time "HH:MM", got {hhmm!r}')
    grace = v.int_(f"{p}.grace", r.get("grace", 0), minimum=0, maximum=10080, unit="minutes")
    return Expectation(dept, topic, cadence, every, weekday, day,
                       dt.time(int(hhmm[:2]), int(hhmm[3:])), grace, season)


def _code(v: Any, path: str, value: Any) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise v.fail(path, f"expected a code (letters, digits, _ . -), got {value!r}")
    return value
