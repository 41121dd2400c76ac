"""Load the shipped default.yaml, merge a site file over it, validate.

Every error names the file the bad value came from, the key path and the
problem, e.g. ``site.yaml: escalation.report.I[2].wait: expected minutes, got "ten"``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from . import settings_sections as sections
from .clock import WEEKDAYS, Calendar
from .errors import ConfigError
from .paths import default_config_file
from .schedule_config import parse as parse_scheduled_reports
from .settings_sections import BoardSettings, HandoverSettings, UnitDeskSettings  # noqa: F401
from .vocab import LEVELS, ROLES, SV_CLASSES, URGENCIES, WO_TYPES  # noqa: F401  (re-exported)

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_DEPTH = 32  # nesting in a configuration file; the YAML composer recurses per level
MONTH = 31 * 24 * 60  # minutes: the longest wait or limit a setting may give


@dataclass(frozen=True)
class Step:
    """One step of an escalation chain: who holds the item, and for how long."""

    name: str
    wait: int  # minutes unacknowledged before the next step


@dataclass(frozen=True)
class ReportLimits:
    report: int
    written: int
    followup: int | None


@dataclass(frozen=True)
class Settings:
    site_name: str
    timezone: str
    language: str
    database_url: str
    busy_timeout_ms: int
    retries: int
    allow_as: bool
    unknown_readonly: bool
    sweep_seconds: float
    feed_ms: int
    warn_minutes: int
    theme: str
    bell: bool
    terminal_probe_seconds: float  # 0: off (console/session.TerminalProbe)
    calendar: Calendar
    report_limits: dict[str, ReportLimits]
    followup_at: tuple[str, ...]
    followup_at_levels: tuple[str, ...]
    sensitive_as: str
    leader_closes: tuple[str, ...]
    wo_type_days: dict[str, int]
    very_urgent_response: int
    very_urgent_same_day: bool
    urgent_hours: int
    return_working_days: int
    max_extensions: int
    remind_before_hours: int
    sv_classes: dict[str, tuple[int, bool]]
    chains: dict[str, dict[str, tuple[Step, ...]]]
    references: dict[str, str]
    auto_migrate: bool = False  # database.auto_migrate: migrate at start (single host)
    sources: tuple[str, ...] = field(default=())
    keys: dict[str, str] = field(default_factory=dict)  # binding id → keys (screens' keymap)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    merge: Any = None  # hotline.count_merged_once / hotline.repeat (console/repeats.py)
    board: BoardSettings = field(default_factory=BoardSettings)
    bulk_max: int = 500  # console.bulk_max: most items one bulk action (a storm) may touch
    handover: HandoverSettings = field(default_factory=HandoverSettings)
    scheduled: Any = None  # schedule.ScheduleConfig: scheduled_reports (schedule_config.py)
    unitdesk: UnitDeskSettings = field(default_factory=UnitDeskSettings)

    @property
    def tz(self) -> ZoneInfo:
        return cast(ZoneInfo, self.calendar.tz)

    def chain(self, kind: str, severity: str) -> tuple[Step, ...]:
        chains = self.chains[kind]
        return chains.get(severity) or chains["default"]


# --------------------------------------------------------------------------- loading


class _Loader(yaml.SafeLoader):
    """SafeLoader whose date-like scalars that are not real dates stay text, and whose
    nesting is capped.

    PyYAML turns ``2026-13-01`` into a date and raises a bare ValueError ("month
    must be in 1..12") that named neither file nor key; kept as text, the
    validator reports it as ``site.yaml: calendar.holidays[0]: expected a date …``.
    The composer recurses once per level: 20,000 levels were a RecursionError
    traceback, so nesting stops at MAX_DEPTH with a YAML error instead.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if not isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise yaml.YAMLError(f"line {event.start_mark.line + 1}: nested deeper than "
                                 f"{MAX_DEPTH} levels")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)




def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError(path.name, f"line {line}", "not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader
    except (RecursionError, ValueError) as exc:  # ValueError: a 5,000-digit number
        raise ConfigError(path.name, "", f"not valid YAML: {str(exc).splitlines()[0][:80]}") \
            from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(path.name, where, f"not valid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path.name, "", "expected a mapping of settings at the top level")
    return data


def _merge(base: dict, over: dict, origin: dict[str, str], name: str, prefix: str = "") -> dict:
    """Deep-merge ``over`` into a copy of ``base``, remembering which file set each path."""
    out = dict(base)
    for key, value in over.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, origin, name, path)
        else:
            out[key] = value
            origin[path] = name
    return out


def load(path: str | os.PathLike | None = None, overrides: dict | None = None) -> Settings:
    """Settings from default.yaml, the site file (``path`` or $DUTYROOM_CONFIG), overrides."""
    default = default_config_file()
    data = _read_yaml(default)
    origin: dict[str, str] = {}
    sources = [str(default)]
    site = path or os.environ.get("DUTYROOM_CONFIG")
    if site:
        site_path = Path(site)
        if not site_path.is_file():
            raise ConfigError(str(site_path), "", "no such file")
        over = _read_yaml(site_path)
        _check_known(data, over, site_path.name)
        data = _merge(data, over, origin, site_path.name)
        sources.append(str(site_path))
    if overrides:
        data = _merge(data, overrides, origin, "command line")
    return _validate(data, _Origin(origin, default.name), tuple(sources))


def _check_known(base: dict, over: dict, name: str, prefix: str = "") -> None:
    """A typo in a site file must not be silently ignored."""
    open_maps = {"escalation.report", "escalation.work_order", "escalation.supervision",
                 "hotline.types", "supervision.classes", "reporting.levels", "keys"}
    for key, value in over.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in base:
            if prefix in open_maps:
                continue
            raise ConfigError(name, path, "unknown setting (see default.yaml for the keys)")
        if isinstance(value, dict) and isinstance(base[key], dict):
            _check_known(base[key], value, name, path)


class _Origin:
    def __init__(self, origin: dict[str, str], default: str) -> None:
        self.origin, self.default = origin, default

    def file_of(self, path: str) -> str:
        probe = path
        while probe:
            if probe in self.origin:
                return self.origin[probe]
            probe = re.sub(r"(\[\d+\]|\.[^.\[]+)$", "", probe)
            if "." not in probe and "[" not in probe:
                return self.origin.get(probe, self.default)
        return self.default


# --------------------------------------------------------------------------- validation


class _V:
    """Typed reads with errors that name file and key path."""

    def __init__(self, data: dict, origin: _Origin) -> None:
        self.data, self.origin = data, origin

    def fail(self, path: str, problem: str) -> ConfigError:
        return ConfigError(self.origin.file_of(path), path, problem)

    def get(self, path: str) -> Any:
        node: Any = self.data
        walked: list[str] = []
        for part in path.split("."):
            if not isinstance(node, dict):  # e.g. "site: [1, 2]": say what is wrong there
                raise self.fail(".".join(walked), f"expected a mapping, got {node!r}")
            if part not in node:
                raise self.fail(path, "missing")
            node = node[part]
            walked.append(part)
        return node

    def str_(self, path: str, value: Any = None) -> str:
        value = self.get(path) if value is None else value
        if not isinstance(value, str):
            raise self.fail(path, f"expected text, got {value!r}")
        return value

    def int_(self, path: str, value: Any = ..., *, minimum: int = 0, maximum: int = 10**6,
             unit: str = "a whole number", allow_null: bool = False) -> Any:
        value = self.get(path) if value is ... else value
        if value is None and allow_null:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            shown = f'"{value}"' if isinstance(value, str) else repr(value)
            raise self.fail(path, f"expected {unit}, got {shown[:60]}")
        if value < minimum:
            raise self.fail(path, f"expected {unit} ≥ {minimum}, got {value}")
        if value > maximum:  # 100,000,000 working days overflowed a date, 10 s later
            shown = str(value) if value.bit_length() < 64 else "a huge number"
            raise self.fail(path, f"expected {unit} ≤ {maximum}, got {shown}")
        return value

    def num(self, path: str, *, minimum: float = 0, maximum: float = 3600) -> float:
        value = self.get(path)
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) \
            and math.isfinite(value) and minimum <= value <= maximum  # NaN compares false
        if not ok:
            shown = repr(value) if not isinstance(value, int) or value.bit_length() < 64 \
                else "a huge number"
            raise self.fail(path, f"expected a number from {minimum} to {maximum}, "
                                  f"got {shown[:60]}")
        return float(value)

    def bool_(self, path: str) -> bool:
        value = self.get(path)
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, got {value!r}")
        return value

    def map_(self, path: str) -> dict:
        value = self.get(path)
        if not isinstance(value, dict):
            raise self.fail(path, "expected a mapping")
        return value

    def list_(self, path: str) -> list:
        value = self.get(path)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, "expected a list")
        return value

    def date(self, path: str, value: Any) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(path, f"expected a date YYYY-MM-DD, got {value!r}") from None

    def choice(self, path: str, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(path, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def chain(self, path: str) -> tuple[Step, ...]:
        steps = self.list_(path)
        if not steps:
            raise self.fail(path, "an escalation chain needs at least one step")
        out = []
        for i, step in enumerate(steps):
            p = f"{path}[{i}]"
            if not isinstance(step, dict):
                raise self.fail(p, "expected {name: …, wait: minutes}")
            unknown = set(step) - {"name", "wait"}
            if unknown:
                raise self.fail(f"{p}.{sorted(unknown)[0]}", "unknown key (use name and wait)")
            name = step.get("name")
            if not isinstance(name, str) or not name.strip():
                raise self.fail(f"{p}.name", f"expected the step's name, got {name!r}")
            wait = self.int_(f"{p}.wait", step.get("wait"), minimum=1, maximum=MONTH,
                             unit="minutes")
            out.append(Step(name.strip(), wait))
        return tuple(out)


def _validate(data: dict, origin: _Origin, sources: tuple[str, ...]) -> Settings:
    v = _V(data, origin)
    tzname = v.str_("site.timezone")
    try:
        ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise v.fail("site.timezone", f"unknown time zone {tzname!r}") from None
    language = v.str_("site.language")
    v.choice("site.language", language, ("auto", "zh-CN", "en"))

    calendar = _calendar(v, tzname)

    limits: dict[str, ReportLimits] = {}
    levels = v.map_("reporting.levels")
    for level in LEVELS:
        if level not in levels:
            raise v.fail(f"reporting.levels.{level}", "missing")
    for level in levels:
        v.choice(f"reporting.levels.{level}", level, LEVELS)
        base = f"reporting.levels.{level}"
        v.map_(base)
        limits[level] = ReportLimits(
            report=v.int_(f"{base}.report", minimum=1, maximum=MONTH, unit="minutes"),
            written=v.int_(f"{base}.written", minimum=1, maximum=MONTH, unit="minutes"),
            followup=v.int_(f"{base}.followup", minimum=1, maximum=MONTH, unit="minutes",
                            allow_null=True),
        )
    followup_at = tuple(v.list_("reporting.followup_at"))
    for i, hhmm in enumerate(followup_at):
        if not isinstance(hhmm, str) or not _HHMM.match(hhmm):
            raise v.fail(f"reporting.followup_at[{i}]", f'expected a time "HH:MM", got {hhmm!r}')
    fal = tuple(v.choice(f"reporting.followup_at_levels[{i}]", x, LEVELS)
                for i, x in enumerate(v.list_("reporting.followup_at_levels")))
    leader_closes = tuple(v.choice(f"reporting.leader_closes[{i}]", x, LEVELS)
                          for i, x in enumerate(v.list_("reporting.leader_closes")))

    types = v.map_("hotline.types")
    wo_days = {}
    for t in WO_TYPES:
        if t not in types:
            raise v.fail(f"hotline.types.{t}", "missing")
    for t in types:
        v.choice(f"hotline.types.{t}", t, WO_TYPES)
        wo_days[t] = v.int_(f"hotline.types.{t}.working_days", minimum=0, maximum=365,
                            unit="working days")

    classes = v.map_("supervision.classes")
    sv: dict[str, tuple[int, bool]] = {}
    for c in SV_CLASSES:
        if c not in classes:
            raise v.fail(f"supervision.classes.{c}", "missing")
    for c in classes:
        v.choice(f"supervision.classes.{c}", c, SV_CLASSES)
        sv[c] = (v.int_(f"supervision.classes.{c}.days", minimum=1, maximum=365, unit="days"),
                 v.bool_(f"supervision.classes.{c}.working_days"))

    chains = _chains(v)

    refs = {kind: _reference(v, f"references.{kind}")
            for kind in ("report", "supervision", "work_order")}

    url = v.get("database.url") or ""
    if not isinstance(url, str):
        raise v.fail("database.url", f"expected a URL, got {url!r}")
    if url and not url.startswith(("sqlite:", "postgresql:", "postgres:")):
        raise v.fail("database.url", "expected sqlite:///PATH or postgresql://…")

    return Settings(
        site_name=v.str_("site.name"),
        timezone=tzname,
        language=language,
        database_url=url,
        busy_timeout_ms=v.int_("database.busy_timeout_ms", minimum=0, maximum=600_000,
                               unit="milliseconds"),
        retries=v.int_("database.retries", minimum=0, maximum=100),
        auto_migrate=v.bool_("database.auto_migrate"),
        allow_as=v.bool_("operators.allow_as"),
        unknown_readonly=v.bool_("operators.unknown_readonly"),
        sweep_seconds=v.num("console.sweep_seconds", minimum=0.5),
        feed_ms=v.int_("console.feed_ms", minimum=10, maximum=60_000, unit="milliseconds"),
        warn_minutes=v.int_("console.warn_minutes", minimum=0, maximum=MONTH, unit="minutes"),
        theme=v.str_("console.theme"),
        bell=v.bool_("console.bell"),
        terminal_probe_seconds=v.num("console.terminal_probe_seconds", maximum=600),
        calendar=calendar,
        report_limits=limits,
        followup_at=followup_at,
        followup_at_levels=fal,
        sensitive_as=v.choice("reporting.sensitive_as", v.get("reporting.sensitive_as"), LEVELS),
        leader_closes=leader_closes,
        wo_type_days=wo_days,
        very_urgent_response=v.int_("hotline.urgency.very_urgent.response_minutes", minimum=1,
                                    maximum=MONTH, unit="minutes"),
        very_urgent_same_day=v.bool_("hotline.urgency.very_urgent.same_day"),
        urgent_hours=v.int_("hotline.urgency.urgent.hours", minimum=1, maximum=744, unit="hours"),
        return_working_days=v.int_("hotline.return_working_days", minimum=0, maximum=365,
                                   unit="working days"),
        max_extensions=v.int_("hotline.max_extensions", minimum=0, maximum=100),
        remind_before_hours=v.int_("hotline.remind_before_hours", minimum=0, maximum=744,
                                   unit="hours"),
        sv_classes=sv,
        chains=chains,
        references=refs,
        sources=sources,
        keys=sections.keys(v),
        raw=data,
        board=sections.board(v),
        bulk_max=v.int_("console.bulk_max", minimum=1, maximum=10_000, unit="items"),
        handover=sections.handover(v),
        scheduled=parse_scheduled_reports(v),
        unitdesk=sections.unitdesk(v),
        merge=_merge_rules(v),
    )


def _merge_rules(v: _V) -> Any:
    from .repeats import MergeRules  # the rules of 并单 and 重复投诉 (issue 11)

    return MergeRules.from_settings(v)


def _chains(v: _V) -> dict[str, dict[str, tuple[Step, ...]]]:
    chains: dict[str, dict[str, tuple[Step, ...]]] = {}
    allowed = {"report": LEVELS, "work_order": URGENCIES, "supervision": ("default",),
               "scheduled": ("default",)}
    for kind, severities in allowed.items():
        table = v.map_(f"escalation.{kind}")
        chains[kind] = {}
        for sev in table:
            # dict.fromkeys: supervision's only name is "default"; listed once in the error
            v.choice(f"escalation.{kind}.{sev}", sev,
                     tuple(dict.fromkeys(severities + ("default",))))
            chains[kind][sev] = v.chain(f"escalation.{kind}.{sev}")
        if "default" not in chains[kind] and not all(s in chains[kind] for s in severities):
            missing = next(s for s in severities if s not in chains[kind])
            raise v.fail(f"escalation.{kind}.{missing}", "missing (or give a default chain)")
    return chains


def _calendar(v: _V, tzname: str) -> Calendar:
    workdays = v.list_("calendar.workdays")
    if not workdays:  # no working day: counting working days never ends
        raise v.fail("calendar.workdays", "expected at least one working day")
    for i, d in enumerate(workdays):
        v.choice(f"calendar.workdays[{i}]", d, WEEKDAYS)
    holidays = [v.date(f"calendar.holidays[{i}]", d) for i, d in enumerate(v.list_("calendar.holidays"))]
    extra = [v.date(f"calendar.extra_workdays[{i}]", d)
             for i, d in enumerate(v.list_("calendar.extra_workdays"))]
    return Calendar(tzname, workdays, holidays, extra)


def _reference(v: _V, path: str) -> str:
    """A reference format: only {year} and {seq}, and {seq} in it — without it every
    report got the same reference and the second one failed on the unique index."""
    fmt = v.str_(path)
    try:
        parts = [(name, spec) for _, name, spec, _ in string.Formatter().parse(fmt)
                 if name is not None]
        fields = {name for name, _ in parts}
        if any(len(spec or "") > 4 for _, spec in parts):  # {seq:>100000000}: no
            raise ValueError(fmt)
        first, second = fmt.format(year=2026, seq=1), fmt.format(year=2026, seq=2)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        fields, first, second = {"?"}, "", ""
    if not fields <= {"year", "seq"} or first == second or not 0 < len(first) <= 40:
        raise v.fail(path, "expected a format using {year} and {seq}, at most 40 characters, "
                           f"got {fmt[:60]!r}")
    return fmt


def language_of(settings: Settings) -> str:
    """zh-CN or en: the configured language, or the one LANG / LC_ALL asks for."""
    if settings.language != "auto":
        return settings.language
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh-CN" if value.lower().startswith("zh") else "en"
    return "zh-CN"
