"""Import: read JSON Lines, a YAML list or CSV; validate every record; then write all or nothing.

Reading (console.importfile) bounds what a hostile file may cost.  Validation
happens here, before anything is written: the first bad record rejects the whole
file with ``FILE:LINE: FIELD: reason``.  The write itself is
``actions.import_records`` (one transaction, one event per record).  The format
and its limits are documented in docs/formats.md.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import categories, rules
from .clock import to_utc_naive
from .errors import ImportRejected
from .i18n import t
from .importfile import (  # noqa: F401 - detect_format, read_raw and the limits are intake's API
    MAX_DEPTH,
    MAX_FIELD,
    MAX_FILE_BYTES,
    MAX_INT,
    YEARS,
    _Bad,
    _check_shape,
    _json_loads,
    _shown,
    detect_format,
    read_raw,
)
from .settings import ROLES, SV_CLASSES, Settings
from .textsafe import one_line
from .vocab import SEVERITY_VALUES

KINDS = ("department", "person", "plan", "shift", "report", "work_order", "supervision",
         "scheduled", "link", "event")
LINK_RELATIONS = ("merged", "related", "repeat")  # models.ItemLink.relation

WO_TYPE_ALIASES = {"咨询": "enquiry", "求助": "help", "投诉": "complaint", "举报": "report",
                   "建议": "suggestion"}
URGENCY_ALIASES = {"一般": "normal", "紧急": "urgent", "特急": "very_urgent"}
CATEGORY_ALIASES = {"自然灾害": "natural", "事故灾难": "accident", "公共卫生事件": "health",
                    "公共卫生": "health", "社会安全事件": "security", "社会安全": "security"}
KLASS_ALIASES = {"紧急": "urgent", "一般": "normal", "复杂": "complex", "3": "urgent",
                 "7": "normal", "15": "complex"}
PLAN_KINDS = ("master", "special", "department", "unit")

MAX_STEPS = 50  # steps in an imported escalation chain


@dataclass
class Record:
    kind: str
    line: int
    data: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- validation


def _str(d: dict, key: str, *, required: bool = False, max_len: int = 20000) -> str:
    value = d.get(key)
    if value is None or value == "":
        if required:
            raise _Bad(key, t("import.required"))
        return ""
    if isinstance(value, (dict, list)):
        raise _Bad(key, t("import.text", got=type(value).__name__))
    text = str(value).strip()
    if len(text) > max_len:
        raise _Bad(key, t("import.too_long", max=max_len))
    return text


def _category(d: dict) -> str:
    """A work order's category by code or name → the class's name (issue 11)."""
    text = _str(d, "category", max_len=64)
    found = categories.find(text) if text else None
    if text and found is None:
        raise _Bad("category", t("merge.category.unknown", value=one_line(text)))
    return found.name if found else ""


def _int(d: dict, key: str, *, default: int | None = 0, lo: int = 0,
         hi: int = 1_000_000) -> int | None:
    value = d.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip()) if isinstance(value, (int, str)) \
            and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None:
        raise _Bad(key, t("import.number", got=_shown(value)))
    if number < lo or number > hi:
        raise _Bad(key, t("import.range", lo=lo, hi=hi, got=_shown(number)))
    return number


def _when(d: dict, key: str, tz: dt.tzinfo, *, required: bool = False,
          micro: bool = False) -> dt.datetime | None:
    """ISO 8601; a time without an offset is in ``tz``.  Stored as naive UTC, between
    the YEARS (a year 1 or 9999 overflowed the arithmetic on it)."""
    value = d.get(key)
    if value is None or value == "":
        if required:
            raise _Bad(key, t("import.required"))
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(key, t("import.datetime", got=_shown(value))) from None
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise _Bad(key, t("import.year", lo=YEARS[0], hi=YEARS[1], got=_shown(value)))
    if parsed.tzinfo is not None:
        parsed = to_utc_naive(parsed)
    else:
        parsed = parsed - _utcoffset(tz, parsed.replace(minute=0, second=0, microsecond=0))
    return parsed if micro else parsed.replace(microsecond=0)


@functools.lru_cache(maxsize=65536)
def _utcoffset(tz: dt.tzinfo, hour: dt.datetime) -> dt.timedelta:
    """The zone's offset for a local hour (zone transitions fall on the hour): an import
    converts 100,000 times, mostly within the same few thousand hours."""
    return hour.replace(tzinfo=tz).utcoffset() or dt.timedelta(0)


def _choice(d: dict, key: str, choices: tuple[str, ...], aliases: dict[str, str] | None = None,
            *, default: str | None = None) -> str:
    value = d.get(key)
    if value is None or value == "":
        if default is None:
            raise _Bad(key, t("import.required"))
        return default
    text = str(value).strip()
    text = (aliases or {}).get(text, text)
    if text not in choices:
        raise _Bad(key, t("import.choice", choices="/".join(choices), got=_shown(value)))
    return text


def _list(d: dict, key: str) -> list:
    value = d.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = _json_loads(text)
            except ValueError:
                raise _Bad(key, t("import.list")) from None
            if isinstance(parsed, list):
                _check_shape(parsed, key)
                return parsed
        return [p.strip() for p in text.replace("；", ";").split(";") if p.strip()]
    raise _Bad(key, t("import.list"))


def _json(d: dict, key: str, kind: type) -> Any:
    value = d.get(key)
    if value is None or value == "":
        return kind()
    if isinstance(value, str):
        try:
            value = _json_loads(value)
        except ValueError:
            raise _Bad(key, t("import.json")) from None
        _check_shape(value, key)  # JSON inside a CSV cell: the same bounds
    if not isinstance(value, kind):
        raise _Bad(key, t("import.json"))
    return value


def _texts(d: dict, key: str) -> list[str]:
    """A list of codes or names (assisting departments): text items only."""
    out = []
    for i, x in enumerate(_list(d, key)):
        if isinstance(x, (dict, list)) or x is None or isinstance(x, bool):
            raise _Bad(f"{key}[{i}]", t("import.text", got=type(x).__name__))
        out.append(_str({"x": x}, "x", max_len=64))
    return out


def _chain(d: dict) -> list[list] | None:
    """An imported escalation chain: [[step name, minutes], …], like rules.chain_snapshot."""
    steps = _json(d, "chain", list)
    if not steps:
        return None
    if len(steps) > MAX_STEPS:
        raise _Bad("chain", t("import.range", lo=1, hi=MAX_STEPS, got=len(steps)))
    out = []
    for i, step in enumerate(steps):
        where = f"chain[{i}]"
        if not isinstance(step, list) or len(step) != 2:
            raise _Bad(where, t("import.chain_step"))
        name = _str({"name": step[0]}, "name", max_len=64) if isinstance(step[0], str) else ""
        if not name:
            raise _Bad(where, t("import.chain_step"))
        wait = _within(where, lambda s=step: _int({"wait": s[1]}, "wait", lo=1, hi=10**6))
        out.append([name, wait])
    return out


def _within(prefix: str, read: Callable[[], Any]) -> Any:
    """Run a field read on a nested mapping, naming the field by its full path."""
    try:
        return read()
    except _Bad as bad:
        raise _Bad(f"{prefix}.{bad.field}", bad.reason) from None


def _maps(d: dict, key: str) -> list[dict]:
    items = _json(d, key, list)
    for i, x in enumerate(items):
        if not isinstance(x, dict):
            raise _Bad(f"{key}[{i}]", t("import.mapping"))
    return items


# Nested records: which fields each may have and how they are read.  Times there are
# naive UTC, as dutyroom export writes them (and as actions' import reads them).
_TEXT, _TIME, _COUNT = "text", "time", "count"
_UPDATE = {"stage": ("initial", "followup", "final"), "seq": _COUNT, "at": _TIME,
           "text": _TEXT, "author": _TEXT, "dead": _COUNT, "injured": _COUNT,
           "missing": _COUNT}
_INSTRUCTION = {"leader": _TEXT, "text": _TEXT, "at": _TIME, "recorded_by": _TEXT,
                "leader_login": _TEXT, "leader_title": _TEXT}
_MEASURE = {"text": _TEXT, "done_at": _TIME, "done_by": _TEXT}
_ACTIVATION = {"plan": _TEXT, "level": ("I", "II", "III", "IV"), "declared_by": _TEXT,
               "activated_by": _TEXT, "activated_at": _TIME, "deactivated_by": _TEXT,
               "deactivated_at": _TIME}


def _nested(d: dict, key: str, spec: dict[str, Any]) -> list[dict]:
    """Each mapping of ``d[key]`` checked field by field; only known fields are kept."""
    out = []
    for i, item in enumerate(_maps(d, key)):
        where = f"{key}[{i}]"
        clean: dict[str, Any] = {}
        for name, how in spec.items():
            if name not in item:
                continue
            if how == _TEXT:  # kept as written (an export round trip is exact)
                value = item[name]
                if isinstance(value, (dict, list)):
                    raise _Bad(f"{where}.{name}", t("import.text", got=type(value).__name__))
                clean[name] = None if value is None else str(value)
            elif how == _TIME:
                clean[name] = _within(where, lambda n=name, x=item: _when(x, n, dt.UTC,
                                                                         micro=True))
            elif how == _COUNT:
                clean[name] = _within(where, lambda n=name, x=item: _int(x, n, default=None))
            else:
                clean[name] = _within(where, lambda n=name, x=item, c=how: _choice(x, n, c))
        if key == "updates" and "stage" not in clean:
            raise _Bad(f"{where}.stage", t("import.required"))
        if key == "activations":
            if not clean.get("plan"):
                raise _Bad(f"{where}.plan", t("import.required"))
            clean["measures"] = _within(where, lambda x=item: _nested(x, "measures", _MEASURE))
        out.append(clean)
    return out


def _status(d: dict, kind: str) -> str | None:
    value = d.get("status")
    if value in (None, ""):
        return None
    if value not in rules.STATUSES[kind]:
        raise _Bad("status", t("import.choice", choices="/".join(rules.STATUSES[kind]),
                                        got=repr(value)))
    return value


def _late(out: dict) -> dict:
    """A closed item closed after its due time went overdue at that due time.

    The store keeps no due time on a closed item (actions' import and close both
    clear it); ``overdue_at`` is what the on-time statistics read.  Without this, a
    year of imported orders with due_at and closed_at showed 100 % on time (issue 12).
    """
    closed, due = out.get("closed_at"), out.get("due_at")
    if closed is not None and due is not None and closed > due and out.get("overdue_at") is None:
        out["overdue_at"] = due
    return out


class Validator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tz = settings.tz

    def __call__(self, line: int, raw: dict) -> Record:
        _check_shape(raw, "")
        kind = raw.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            raise _Bad("kind", t("import.choice", choices="/".join(KINDS), got=_shown(kind)))
        check: Callable[[dict], dict] = getattr(self, f"_{kind}")
        return Record(kind, line, check(raw))

    def _department(self, d: dict) -> dict:
        return {"code": _str(d, "code", required=True, max_len=32),
                "name": _str(d, "name", required=True, max_len=100),
                "phone": _str(d, "phone", max_len=40)}

    def _person(self, d: dict) -> dict:
        return {"login": _str(d, "login", required=True, max_len=64),
                "name": _str(d, "name", required=True, max_len=64),
                "title": _str(d, "title", max_len=64), "phone": _str(d, "phone", max_len=40),
                "role": _choice(d, "role", ROLES, default="officer"),
                **({"department": _str(d, "department", max_len=32)} if "department" in d
                   else {})}  # role unit (issue 11)

    def _plan(self, d: dict) -> dict:
        levels = _json(d, "levels", dict)
        for level, spec in levels.items():
            if level not in ("I", "II", "III", "IV"):
                raise _Bad(f"levels.{level}", t("import.choice", choices="I/II/III/IV", got=repr(level)))
            if not isinstance(spec, dict) or not isinstance(spec.get("measures", []), list):
                raise _Bad(f"levels.{level}", t("import.plan_level"))
        return {"code": _str(d, "code", required=True, max_len=32),
                "title": _str(d, "title", required=True, max_len=200),
                "kind": _choice(d, "plan_kind", PLAN_KINDS),
                "category": _choice(d, "category", ("natural", "accident", "health", "security"),
                                    CATEGORY_ALIASES),
                "subtype": _str(d, "subtype") or "other", "owner": _str(d, "owner"),
                "summary": _str(d, "summary"), "levels": levels,
                "contacts": _json(d, "contacts", list), "related": _json(d, "related", list),
                "shelters": _json(d, "shelters", list)}

    def _shift(self, d: dict) -> dict:
        starts = _when(d, "starts_at", self.tz, required=True)
        ends = _when(d, "ends_at", self.tz, required=True)
        if ends <= starts:
            raise _Bad("ends_at", t("import.ends_after"))
        return {"ref": _str(d, "ref") or None, "starts_at": starts, "ends_at": ends,
                "leader": _str(d, "leader") or None, "primary": _str(d, "primary") or None,
                "secondary": _str(d, "secondary") or None, **self._handover(d)}

    def _handover(self, d: dict) -> dict:
        """交接班 columns (0010), only those the record has: an older export's shift
        (without them) re-imports as before."""
        out: dict[str, Any] = {}
        for key in ("handed_over_at", "accepted_at"):
            if key in d:
                out[key] = _when(d, key, self.tz)
        for key in ("handed_over_by", "taken_over_by"):
            if key in d:
                out[key] = _str(d, key, max_len=64) or None
        for key in ("situation", "problems", "tasks", "takeover_reason"):
            if key in d:
                out[key] = _str(d, key) or None
        if "handover_note" in d:
            out["handover_note"] = _str(d, "handover_note")
        if "handed_items" in d:
            out["handed_items"] = _json(d, "handed_items", list) or None
        return out

    def _common(self, d: dict, kind: str) -> dict:
        status = _status(d, kind)
        closed_at = _when(d, "closed_at", self.tz)
        # a scheduled report is closed by being received (on time or late)
        closing = ("received", "late") if kind == "scheduled" else ("closed",)
        if status in closing and closed_at is None:
            raise _Bad("closed_at", t("import.closed_at"))
        if closed_at is not None and status not in (None, *closing):
            raise _Bad("status", t("import.status_closed"))
        return {"status": status or (closing[0] if closed_at else None), "closed_at": closed_at,
                "step": _int(d, "step", default=0, hi=MAX_STEPS), "chain": _chain(d),
                "acked_by": _str(d, "acked_by") or None, "acked_at": _when(d, "acked_at", self.tz),
                "owner": _str(d, "owner") or None, "overdue_at": _when(d, "overdue_at", self.tz),
                "ack_expires_at": _when(d, "ack_expires_at", self.tz),
                "instructions": _nested(d, "instructions", _INSTRUCTION)}

    def _report(self, d: dict) -> dict:
        raw_level = d.get("level") or "unknown"
        try:
            if not isinstance(raw_level, (str, int)) or isinstance(raw_level, bool):
                raise ValueError(raw_level)
            level = rules.level_of(raw_level)
        except ValueError:
            raise _Bad("level", t("import.choice", choices="I/II/III/IV/unknown",
                                  got=_shown(d.get("level")))) from None
        out = self._common(d, "report")
        out.update({
            "ref": _str(d, "ref", max_len=40) or None,
            "received_at": _when(d, "received_at", self.tz, required=True),
            "occurred_at": _when(d, "occurred_at", self.tz),
            "place": _str(d, "place", max_len=200),
            "category": _choice(d, "category", ("natural", "accident", "health", "security"),
                                CATEGORY_ALIASES),
            "subtype": _str(d, "subtype", max_len=32) or "other", "level": level,
            "sensitive": str(d.get("sensitive", "")).lower() in ("1", "true", "yes", "是"),
            "title": _str(d, "title", required=True, max_len=200), "summary": _str(d, "summary"),
            "dead": _int(d, "dead"), "injured": _int(d, "injured"), "missing": _int(d, "missing"),
            "area": _str(d, "area"), "trend": _str(d, "trend"), "measures": _str(d, "measures"),
            "requests": _str(d, "requests"), "source_unit": _str(d, "source_unit", max_len=100),
            "reporter": _str(d, "reporter", max_len=64),
            "reporter_phone": _str(d, "reporter_phone", max_len=40),
            "recorder": _str(d, "recorder", max_len=64),
            "reported_at": _when(d, "reported_at", self.tz),
            "updates": _nested(d, "updates", _UPDATE),
            "activations": _nested(d, "activations", _ACTIVATION),
        })
        return out

    def _work_order(self, d: dict) -> dict:
        out = self._common(d, "work_order")
        sat = _int(d, "satisfaction", default=None, lo=1, hi=5)
        out.update({
            "ticket": _str(d, "ticket", required=True, max_len=40),
            "received_at": _when(d, "received_at", self.tz, required=True),
            "channel": _str(d, "channel", max_len=16) or "phone",
            "caller": _str(d, "caller", max_len=64), "phone": _str(d, "phone", max_len=40),
            "address": _str(d, "address", max_len=200),
            "type": _choice(d, "type", tuple(self.settings.wo_type_days), WO_TYPE_ALIASES),
            "category": _category(d),  # a code or a name of config/categories.yaml
            "content": _str(d, "content", required=True),
            "urgency": _choice(d, "urgency", ("normal", "urgent", "very_urgent"),
                               URGENCY_ALIASES, default="normal"),
            "department": _str(d, "department") or None,
            "assisting": _texts(d, "assisting"),
            "due_at": _when(d, "due_at", self.tz), "satisfaction": sat,
            "reply": _str(d, "reply"), "extensions": _int(d, "extensions"),
            "assigned_at": _when(d, "assigned_at", self.tz),
            **self._unit_desk(d),
        })
        return _late(out)

    def _unit_desk(self, d: dict) -> dict:
        """The unit desk's columns (0007): 签收, 退单, 问题工单, 发回重办."""
        return {"accept_due_at": _when(d, "accept_due_at", self.tz),
                "accepted_at": _when(d, "accepted_at", self.tz),
                "accepted_by": _str(d, "accepted_by", max_len=64) or None,
                "accept_overdue_at": _when(d, "accept_overdue_at", self.tz),
                "return_asked_at": _when(d, "return_asked_at", self.tz),
                "returns": _int(d, "returns"), "dept_count": _int(d, "dept_count"),
                "redo_count": _int(d, "redo_count"),
                "dept_trail": _texts(d, "dept_trail") or None,
                "problem_ref": _str(d, "problem_ref", max_len=40) or None}

    def _scheduled(self, d: dict) -> dict:
        """定期报送: one department's expected report, as ``dutyroom export`` writes it."""
        out = self._common(d, "scheduled")
        out.update({
            "ref": _str(d, "ref", required=True, max_len=40),
            "department": _str(d, "department", required=True, max_len=32),
            "topic": _str(d, "topic", required=True, max_len=32),
            "cadence": _choice(d, "cadence", SEVERITY_VALUES["scheduled"]),
            "period": _str(d, "period", required=True, max_len=16),
            "due_at": _when(d, "due_at", self.tz, required=True),
            "grace": _int(d, "grace", hi=10**6),
            "received_at": _when(d, "received_at", self.tz),
            "received_by": _str(d, "received_by", max_len=64) or None,
            "file_path": _str(d, "file_path"),
            "file_sha256": _str(d, "file_sha256", max_len=64),
            "deadline_at": _when(d, "deadline_at", self.tz),
            "next_escalation_at": _when(d, "next_escalation_at", self.tz),
        })
        return out

    def _link(self, d: dict) -> dict:
        """A 并单/related/repeat link between two items of one kind, by reference."""
        return {"item_kind": _choice(d, "item_kind", tuple(rules.STATUSES)),
                "item_ref": _str(d, "item_ref", required=True, max_len=40),
                "other_ref": _str(d, "other_ref", required=True, max_len=40),
                "relation": _choice(d, "relation", LINK_RELATIONS),
                "at": _when(d, "at", dt.UTC, required=True, micro=True),
                "actor": _str(d, "actor", max_len=64),
                "ended_at": _when(d, "ended_at", dt.UTC, micro=True)}

    def _supervision(self, d: dict) -> dict:
        out = self._common(d, "supervision")
        out.update({
            "ref": _str(d, "ref", max_len=40) or None,
            "title": _str(d, "title", required=True, max_len=200),
            "content": _str(d, "content"),
            "klass": _choice(d, "klass", SV_CLASSES, KLASS_ALIASES, default="normal"),
            "source_ref": _str(d, "source_ref", max_len=40),
            "source_kind": _str(d, "source_kind", max_len=16),
            "department": _str(d, "department") or None,
            "registered_at": _when(d, "registered_at", self.tz, required=True),
            "due_at": _when(d, "due_at", self.tz), "result": _str(d, "result"),
        })
        return _late(out)

    def _event(self, d: dict) -> dict:
        out = {"at": _when(d, "at", dt.UTC, required=True)}
        for key in ("actor", "item_kind", "action", "prev_hash", "hash"):
            out[key] = _str(d, key, required=True)
        for key in ("actor_name", "console", "item_ref", "note"):
            out[key] = _str(d, key)
        for key in ("intent", "state"):  # digest v2 fields (tamper evidence, exactly once)
            out[key] = _str(d, key) or None
        for key in ("before", "after", "children"):
            value = d.get(key)
            if isinstance(value, str) and value:
                try:
                    value = _json_loads(value)
                except ValueError:
                    raise _Bad(key, t("import.json")) from None
                _check_shape(value, key)
            out[key] = value if value not in ("",) else None
        return out


_KEY_FIELDS = {"work_order": "ticket", "report": "ref", "supervision": "ref", "scheduled": "ref",
               "department": "code", "person": "login", "plan": "code", "shift": "ref"}


def _identity(record: Record) -> tuple[str, Any, Any]:
    """(field named in the error, key) that makes two records of a file the same one.
    A report or supervision item without a reference is known by its time and title
    (what actions' import skips on a re-import), so the same one twice is refused."""
    data = record.data
    key_field = _KEY_FIELDS.get(record.kind)
    key = data.get(key_field) if key_field else None
    if not key and record.kind in ("report", "supervision"):
        start = data.get("received_at") or data.get("registered_at")
        return "title", (start, data["title"]), data["title"]
    return key_field or "", key, key


def load_file(path: str | Path, settings: Settings, fmt: str | None = None,
              progress: Callable[[int], None] | None = None) -> list[Record]:
    """Read and validate every record into a list (small files, tests); an import of
    any size streams instead (``stream_file``, ``file_source``)."""
    return list(stream_file(path, settings, fmt, progress))


def file_source(path: str | Path, settings: Settings, fmt: str | None = None,
                progress: Callable[[int], None] | None = None) -> Callable[[], Iterator[Record]]:
    """The file's records as a source ``actions.import_records`` can read again (a
    retried transaction starts the file over)."""
    return lambda: stream_file(path, settings, fmt, progress)


def stream_file(path: str | Path, settings: Settings, fmt: str | None = None,
                progress: Callable[[int], None] | None = None) -> Iterator[Record]:
    """Read and validate record by record; raise ImportRejected at the first bad one.

    The same record twice in a file is refused.  Memory stays flat in the file's
    size: only a hash of each record's key is kept; on a hash seen before, the file
    is read again up to that line to name the first occurrence (or find none)."""
    path = Path(path)
    check = Validator(settings)
    seen: set[int] = set()
    for n, (line, raw) in enumerate(read_raw(path, fmt), 1):
        try:
            record = check(line, raw)
        except _Bad as bad:
            raise ImportRejected(f"{path.name}:{line}: {one_line(bad.field)}: {bad.reason}") \
                from None
        key_field, key, shown = _identity(record)
        if key:
            h = hash((record.kind, key))
            if h in seen:
                first = _first_line(path, check, fmt, (record.kind, key), line)
                if first is not None:
                    raise ImportRejected(f"{path.name}:{line}: {key_field}: "
                                         + t("import.duplicate", key=_shown(shown), line=first))
            seen.add(h)
        yield record
        if progress and n % 5000 == 0:
            progress(n)


def _first_line(path: Path, check: Validator, fmt: str | None, ident: tuple[str, Any],
                before: int) -> int | None:
    """The line of the first record with ``ident`` before line ``before`` (None: the
    hash matched another key)."""
    for line, raw in read_raw(path, fmt):
        if line >= before:
            return None
        _key_field, key, _shown_key = _identity(check(line, raw))
        if key and (raw.get("kind"), key) == ident:
            return line
    return None
