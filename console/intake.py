"""Import: read JSON Lines, a YAML list or CSV; validate every record; then write all or nothing.

Validation happens here, before anything is written: the first bad record
rejects the whole file with ``FILE:LINE: FIELD: reason``.  The write itself is
``actions.import_records`` (one transaction, one event per record).  The format
is documented in docs/formats.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import rules
from .clock import to_utc_naive
from .errors import ImportRejected
from .i18n import t
from .settings import ROLES, SV_CLASSES, Settings

KINDS = ("department", "person", "plan", "shift", "report", "work_order", "supervision", "event")

WO_TYPE_ALIASES = {"咨询": "enquiry", "求助": "help", "投诉": "complaint", "举报": "report",
                   "建议": "suggestion"}
URGENCY_ALIASES = {"一般": "normal", "紧急": "urgent", "特急": "very_urgent"}
CATEGORY_ALIASES = {"自然灾害": "natural", "事故灾难": "accident", "公共卫生事件": "health",
                    "公共卫生": "health", "社会安全事件": "security", "社会安全": "security"}
KLASS_ALIASES = {"紧急": "urgent", "一般": "normal", "复杂": "complex", "3": "urgent",
                 "7": "normal", "15": "complex"}
PLAN_KINDS = ("master", "special", "department", "unit")


@dataclass
class Record:
    kind: str
    line: int
    data: dict[str, Any] = field(default_factory=dict)


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


# --------------------------------------------------------------------------- reading


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    raise ImportRejected(f"{path.name}: " + t("import.unknown_format"))


def read_raw(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, raw record) pairs; a malformed line rejects the file."""
    name = path.name
    fmt = detect_format(path, fmt)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportRejected(f"{name}: " + t("import.cannot_read", why=exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise ImportRejected(f"{name}: " + t("import.not_utf8")) from None
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportRejected(f"{name}:{number}: " + t("import.bad_json", why=exc.msg)) from None
            if not isinstance(value, dict):
                raise ImportRejected(f"{name}:{number}: " + t("import.json_object"))
            yield number, value
    elif fmt == "yaml":
        yield from _read_yaml(name, text)
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "kind" not in reader.fieldnames:
            raise ImportRejected(f"{name}:1: " + t("import.csv_kind"))
        for row in reader:
            record = {k: v for k, v in row.items() if k is not None and v != ""}
            extra = record.pop("extra", None)  # dutyroom export's nested fields, as JSON
            if extra:
                try:
                    record.update(json.loads(extra))
                except json.JSONDecodeError:
                    raise ImportRejected(f"{name}:{reader.line_num}: extra: " + t("import.json")) \
                        from None
            yield reader.line_num, record
    else:
        raise ImportRejected(f"{name}: " + t("import.unknown_format"))


def _read_yaml(name: str, text: str) -> Iterator[tuple[int, dict]]:
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ImportRejected(f"{name}{where}: " + t("import.bad_yaml", why=getattr(exc, "problem", exc))) \
            from None
    if node is None:
        return
    if not isinstance(node, yaml.SequenceNode):
        raise ImportRejected(f"{name}:1: " + t("import.yaml_list"))
    data = yaml.safe_load(text)
    for item_node, value in zip(node.value, data, strict=True):
        line = item_node.start_mark.line + 1
        if not isinstance(value, dict):
            raise ImportRejected(f"{name}:{line}: " + t("import.mapping"))
        yield line, value


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


def _int(d: dict, key: str, *, default: int | None = 0, lo: int = 0,
         hi: int | None = None) -> int | None:
    value = d.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _Bad(key, t("import.number", got=repr(value))) from None
    if number < lo or (hi is not None and number > hi):
        raise _Bad(key, t("import.range", lo=lo, hi=hi if hi is not None else "…", got=number))
    return number


def _when(d: dict, key: str, tz: dt.tzinfo, *, required: bool = False) -> dt.datetime | None:
    """ISO 8601; a time without an offset is in the site time zone.  Stored as naive UTC."""
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
            raise _Bad(key, t("import.datetime", got=repr(value))) from None
    if parsed.tzinfo is not None:
        return to_utc_naive(parsed).replace(microsecond=0)
    return (parsed - _utcoffset(tz, parsed.replace(minute=0, second=0, microsecond=0))
            ).replace(microsecond=0)


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
        raise _Bad(key, t("import.choice", choices="/".join(choices), got=repr(value)))
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
                parsed = json.loads(text)
            except json.JSONDecodeError:
                raise _Bad(key, t("import.list")) from None
            if isinstance(parsed, list):
                return parsed
        return [p.strip() for p in text.replace("；", ";").split(";") if p.strip()]
    raise _Bad(key, t("import.list"))


def _json(d: dict, key: str, kind: type) -> Any:
    value = d.get(key)
    if value is None or value == "":
        return kind()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _Bad(key, t("import.json")) from None
    if not isinstance(value, kind):
        raise _Bad(key, t("import.json"))
    return value


def _status(d: dict, kind: str) -> str | None:
    value = d.get("status")
    if value in (None, ""):
        return None
    if value not in rules.STATUSES[kind]:
        raise _Bad("status", t("import.choice", choices="/".join(rules.STATUSES[kind]),
                                        got=repr(value)))
    return value


class Validator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tz = settings.tz

    def __call__(self, line: int, raw: dict) -> Record:
        kind = raw.get("kind")
        if kind not in KINDS:
            raise _Bad("kind", t("import.choice", choices="/".join(KINDS), got=repr(kind)))
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
                "role": _choice(d, "role", ROLES, default="officer")}

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
                "secondary": _str(d, "secondary") or None}

    def _common(self, d: dict, kind: str) -> dict:
        status = _status(d, kind)
        closed_at = _when(d, "closed_at", self.tz)
        if status == "closed" and closed_at is None:
            raise _Bad("closed_at", t("import.closed_at"))
        if closed_at is not None and status not in (None, "closed"):
            raise _Bad("status", t("import.status_closed"))
        chain = _json(d, "chain", list) or None
        return {"status": status or ("closed" if closed_at else None), "closed_at": closed_at,
                "step": _int(d, "step", default=0), "chain": chain,
                "acked_by": _str(d, "acked_by") or None, "acked_at": _when(d, "acked_at", self.tz),
                "owner": _str(d, "owner") or None, "overdue_at": _when(d, "overdue_at", self.tz),
                "instructions": _json(d, "instructions", list)}

    def _report(self, d: dict) -> dict:
        try:
            level = rules.level_of(d.get("level") or "unknown")
        except ValueError:
            raise _Bad("level", t("import.choice", choices="I/II/III/IV/unknown",
                                       got=repr(d.get("level")))) from None
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
            "updates": _json(d, "updates", list), "activations": _json(d, "activations", list),
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
            "category": _str(d, "category", max_len=64),
            "content": _str(d, "content", required=True),
            "urgency": _choice(d, "urgency", ("normal", "urgent", "very_urgent"),
                               URGENCY_ALIASES, default="normal"),
            "department": _str(d, "department") or None,
            "assisting": [str(x) for x in _list(d, "assisting")],
            "due_at": _when(d, "due_at", self.tz), "satisfaction": sat,
            "reply": _str(d, "reply"), "extensions": _int(d, "extensions"),
            "assigned_at": _when(d, "assigned_at", self.tz),
        })
        return out

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
        return out

    def _event(self, d: dict) -> dict:
        out = {"at": _when(d, "at", dt.UTC, required=True)}
        for key in ("actor", "item_kind", "action", "prev_hash", "hash"):
            out[key] = _str(d, key, required=True)
        for key in ("actor_name", "console", "item_ref", "note"):
            out[key] = _str(d, key)
        for key in ("before", "after"):
            value = d.get(key)
            if isinstance(value, str) and value:
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    raise _Bad(key, t("import.json")) from None
            out[key] = value if value not in ("",) else None
        return out


def load_file(path: str | Path, settings: Settings, fmt: str | None = None,
              progress: Callable[[int], None] | None = None) -> list[Record]:
    """Read and validate every record; raise ImportRejected at the first bad one."""
    path = Path(path)
    check = Validator(settings)
    records: list[Record] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in read_raw(path, fmt):
        try:
            record = check(line, raw)
        except _Bad as bad:
            raise ImportRejected(f"{path.name}:{line}: {bad.field}: {bad.reason}") from None
        key_field = {"work_order": "ticket", "report": "ref", "supervision": "ref",
                     "department": "code", "person": "login", "plan": "code"}.get(record.kind)
        key = record.data.get(key_field) if key_field else None
        if key:
            first = seen.setdefault((record.kind, key), line)
            if first != line:
                raise ImportRejected(f"{path.name}:{line}: {key_field}: " + t("import.duplicate", key=key, line=first))
        records.append(record)
        if progress and len(records) % 5000 == 0:
            progress(len(records))
    return records
