"""Export for the archive: roster, plans, items (with their stages) and the event log.

JSON Lines (one record a line, the import format) or CSV (one header for all
kinds; nested values as JSON).  Exported → imported into an empty database
gives the same items and the same, still verifiable, event log.  Rows are read
in pages, never a whole table at once, all in one read transaction (a consistent
snapshot: no item without its events because a console wrote in between).

A file is written to a temporary file beside it (0600: citizens' phone numbers)
and renamed into place at the end, so a failed export leaves no partial file.
JSON Lines keeps the text as stored (it is the archive); CSV, opened in a
spreadsheet or printed, goes through textsafe.csv_cell.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from . import db as dbmod
from . import models
from .errors import DutyError
from .i18n import t
from .models import (
    ITEM_MODELS,
    ActivationMeasure,
    Department,
    Event,
    Instruction,
    JSONText,
    Person,
    Plan,
    PlanActivation,
    ReportUpdate,
    Shift,
)
from .textsafe import csv_cell, one_line

PAGE = 5000  # rows a keyset page reads (a range of the primary key: flat memory)

# SQLite keeps a DateTimeField as str(datetime): "2026-11-27 02:00:00[.123456]"
_STORED_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?")


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat() + "Z"  # stored as naive UTC
    return value


def _converter(field: Any) -> Callable[[Any], Any] | None:
    """How a raw column value becomes what the export writes (None: as it is).

    The fast path: a time stored in peewee's own form is rewritten as a string
    ("2026-11-27 02:00:00" → "2026-11-27T02:00:00Z", what ``_iso`` of the parsed
    value gives) instead of being parsed into a datetime and formatted back; any
    other form goes through the field as before."""
    if isinstance(field, DateTimeField):
        def when(raw: Any, python_value=field.python_value) -> Any:
            if isinstance(raw, str) and _STORED_TIME.fullmatch(raw):
                return raw[:10] + "T" + raw[11:] + "Z"
            return _iso(python_value(raw)) if raw is not None else None
        return when
    if isinstance(field, ForeignKeyField | IntegerField) or type(field) in (CharField, TextField):
        return None  # the driver's value already is the Python one
    if isinstance(field, JSONText):  # chains repeat item after item: decode each text once
        return _JSONCache(field.python_value)
    return lambda raw, python_value=field.python_value: (
        None if raw is None else python_value(raw))


class _JSONCache(dict):
    """Stored JSON text → its value, decoded once while the same texts recur (the values
    are only read, never changed); bounded, so memory stays flat."""

    def __init__(self, decode: Callable[[Any], Any]) -> None:
        super().__init__()
        self.decode = decode

    def __call__(self, raw: Any) -> Any:
        if raw is None:
            return None
        value = self.get(raw, _MISSING)
        if value is _MISSING:
            if len(self) >= 4096:
                self.clear()
            value = self[raw] = self.decode(raw)
        return value


_MISSING = object()


def _raw_pages(model: Any) -> Iterator[list[dict[str, Any]]]:
    """Keyset pages of ``model``'s rows as {name: value} (foreign keys as ``<name>_id``),
    read as plain tuples: no model object per row."""
    fields = list(model._meta.sorted_fields)
    names = [f.column_name if isinstance(f, ForeignKeyField) else f.name for f in fields]
    convert = [(i, c) for i, c in enumerate(map(_converter, fields)) if c is not None]
    at = names.index("id")
    last = 0
    while True:
        query = model.select(*fields).where(model.id > last).order_by(model.id).limit(PAGE)
        rows = models.database.execute(query).fetchall()
        if not rows:
            return
        page = []
        for raw in rows:
            values = list(raw)
            for i, conv in convert:
                try:
                    values[i] = conv(values[i])
                except (ValueError, TypeError, OverflowError):  # a chain stored as {broken
                    raise DutyError(t("health.damaged_export", table=model._meta.table_name,
                                      id=raw[at], field=names[i])) from None
            page.append(dict(zip(names, values, strict=True)))
        yield page
        last = rows[-1][at]


def _children(kind: str, ids: list[int]) -> dict[str, dict[int, list]]:
    """A page's instructions, stages and activations: one query each, not one per item."""
    out: dict[str, dict[int, list]] = {"instructions": {}, "updates": {}, "activations": {}}
    when = _converter(Instruction.at)
    # a page is every item of its id range: the children of the range, as plain tuples
    rows = models.database.execute(
        Instruction.select(Instruction.item_id, Instruction.leader, Instruction.text,
                           Instruction.at, Instruction.recorded_by, Instruction.leader_login,
                           Instruction.leader_title)
        .where((Instruction.item_kind == kind) & Instruction.item_id.between(ids[0], ids[-1]))
        .order_by(Instruction.id))
    for item_id, leader, text, at, recorded_by, login, title in rows.fetchall():
        out["instructions"].setdefault(item_id, []).append(
            {"leader": leader, "text": text, "at": when(at), "recorded_by": recorded_by,
             **({"leader_login": login} if login is not None else {}),
             **({"leader_title": title} if title is not None else {})})
    if kind != "report":
        return out
    u = ReportUpdate
    rows = models.database.execute(
        u.select(u.report, u.stage, u.seq, u.at, u.text, u.dead, u.injured, u.missing, u.author)
        .where(u.report.between(ids[0], ids[-1])).order_by(u.seq, u.id))
    for report_id, stage, seq, at, text, dead, injured, missing, author in rows.fetchall():
        out["updates"].setdefault(report_id, []).append(
            {"stage": stage, "seq": seq, "at": when(at), "text": text, "dead": dead,
             "injured": injured, "missing": missing, "author": author})
    acts = list(PlanActivation.select(PlanActivation, Plan).join(Plan)
                .where(PlanActivation.report.in_(ids)).order_by(PlanActivation.id))
    measures: dict[int, list] = {}
    if acts:
        for m in (ActivationMeasure.select()
                  .where(ActivationMeasure.activation.in_([a.id for a in acts]))
                  .order_by(ActivationMeasure.idx)):
            measures.setdefault(m.activation_id, []).append(
                {"text": m.text, "done_at": _iso(m.done_at), "done_by": m.done_by})
    for a in acts:
        out["activations"].setdefault(a.report_id, []).append(
            {"plan": a.plan.code, "level": a.level, "declared_by": a.declared_by,
             "activated_by": a.activated_by, "activated_at": _iso(a.activated_at),
             "deactivated_by": a.deactivated_by, "deactivated_at": _iso(a.deactivated_at),
             "measures": measures.get(a.id, [])})
    return out


def records(*, events: bool = True, items: bool = True) -> Iterator[dict[str, Any]]:
    """Every exported record, in the order import needs them."""
    dept_code = {d.id: d.code for d in Department.select(Department.id, Department.code)}
    for d in Department.select().order_by(Department.id):
        yield {"kind": "department", "code": d.code, "name": d.name, "phone": d.phone}
    logins = {}
    for p in Person.select().order_by(Person.id):
        logins[p.id] = p.login
        yield {"kind": "person", "login": p.login, "name": p.name, "title": p.title,
               "phone": p.phone, "role": p.role,
               **({"department": p.department} if p.department else {})}  # role unit
    for p in Plan.select().order_by(Plan.id):
        yield {"kind": "plan", "code": p.code, "title": p.title, "plan_kind": p.kind,
               "category": p.category, "subtype": p.subtype, "owner": p.owner,
               "summary": p.summary, "levels": p.levels, "contacts": p.contacts,
               "related": p.related, "shelters": p.shelters}
    for s in Shift.select().order_by(Shift.id):
        yield {"kind": "shift", "ref": s.ref, "starts_at": _iso(s.starts_at),
               "ends_at": _iso(s.ends_at), "leader": logins.get(s.leader_id),
               "primary": logins.get(s.primary_id), "secondary": logins.get(s.secondary_id),
               **_set(s, _SHIFT_LATE)}
    if items:
        for kind, model in ITEM_MODELS.items():
            for page in _raw_pages(model):
                children = _children(kind, [item["id"] for item in page])
                for item in page:
                    yield _item(kind, item, dept_code, children)
    if items:
        yield from _links()
    if events:
        for page in _raw_pages(Event):
            for e in page:
                yield {"kind": "event", "at": e["at"], "actor": e["actor"],
                       "actor_name": e["actor_name"], "console": e["console"],
                       "item_kind": e["item_kind"], "item_ref": e["item_ref"],
                       "action": e["action"], "before": e["before"], "after": e["after"],
                       "note": e["note"], "prev_hash": e["prev_hash"], "hash": e["hash"],
                       "intent": e["intent"], "state": e["state"], "children": e["children"]}


_COMMON = ("status", "step", "chain", "acked_by", "acked_at", "owner", "overdue_at", "closed_at")
# columns added after the format was first written: exported only when set, so an export
# of a database that never used them reads as before (and old exports still import)
_SHIFT_LATE = ("handed_over_at", "handed_over_by", "taken_over_by", "handover_note",
               "situation", "problems", "tasks", "handed_items", "accepted_at",
               "takeover_reason")
_ORDER_LATE = ("accept_due_at", "accepted_at", "accepted_by", "accept_overdue_at",
               "return_asked_at", "returns", "dept_trail", "dept_count", "problem_ref",
               "redo_count")
_SCHEDULED = ("topic", "cadence", "period", "due_at", "grace", "received_at", "received_by",
              "file_path", "file_sha256", "deadline_at", "next_escalation_at")


def _set(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The columns of ``row`` (a model or a ``_raw_pages`` dict) that hold a value."""
    get = row.get if isinstance(row, dict) else lambda n: getattr(row, n)
    out = {}
    for name in names:
        value = get(name)
        if value not in (None, "", 0):
            out[name] = _iso(value)
    return out


def _links() -> Iterator[dict[str, Any]]:
    """并单/related/repeat links (item_link), by reference: ids differ after a restore."""
    refs: dict[tuple[str, int], str] = {}
    for page in _raw_pages(models.ItemLink):
        want: dict[str, set[int]] = {}
        for link in page:
            for item_id in (link["item_id"], link["other_id"]):
                if (link["kind"], item_id) not in refs:
                    want.setdefault(link["kind"], set()).add(item_id)
        for kind, ids in want.items():
            model = ITEM_MODELS.get(kind)
            if model is not None:
                refs.update(((kind, i), ref) for i, ref in model.select(model.id, model.ref)
                            .where(model.id.in_(sorted(ids))).tuples())
        for link in page:
            item = refs.get((link["kind"], link["item_id"]))
            other = refs.get((link["kind"], link["other_id"]))
            if item and other:
                yield {"kind": "link", "item_kind": link["kind"], "item_ref": item,
                       "other_ref": other, "relation": link["relation"], "at": link["at"],
                       "actor": link["actor"], "ended_at": link["ended_at"]}


def _item(kind: str, item: dict[str, Any], dept_code: dict[int, str],
          children: dict[str, dict[int, list]]) -> dict[str, Any]:
    """One item's record from its row (``_raw_pages``: times already written out)."""
    out: dict[str, Any] = {"kind": kind}
    for name in _COMMON:
        out[name] = item[name]
    out.update(_set(item, ("ack_expires_at",)))
    item_id = item["id"]
    instructions = children["instructions"].get(item_id)
    if instructions:
        out["instructions"] = instructions
    if kind == "report":
        out["ref"] = item["ref"]
        for name in ("received_at", "occurred_at", "place", "category", "subtype", "level",
                     "sensitive", "title", "summary", "dead", "injured", "missing", "area",
                     "trend", "measures", "requests", "source_unit", "reporter",
                     "reporter_phone", "recorder", "reported_at"):
            out[name] = item[name]
        out["updates"] = children["updates"].get(item_id, [])
        acts = children["activations"].get(item_id)
        if acts:
            out["activations"] = acts
    elif kind == "work_order":
        out["ticket"] = item["ref"]
        for name in ("received_at", "channel", "caller", "phone", "address", "type", "category",
                     "content", "urgency", "assisting", "assigned_at", "extensions",
                     "satisfaction", "reply"):
            out[name] = item[name]
        out["department"] = dept_code.get(item["department_id"])
        out["due_at"] = item["deadline_at"]
        out.update(_set(item, _ORDER_LATE))
    elif kind == "scheduled":
        out["ref"] = item["ref"]
        out["department"] = dept_code.get(item["department_id"])
        for name in _SCHEDULED:
            out[name] = item[name]
    else:
        out["ref"] = item["ref"]
        for name in ("title", "content", "klass", "source_kind", "source_ref", "registered_at",
                     "result"):
            out[name] = item[name]
        out["department"] = dept_code.get(item["department_id"])
        out["due_at"] = item["deadline_at"]
    return out


CSV_FIELDS = ("kind", "ref", "ticket", "code", "login", "name", "title", "status", "level",
              "urgency", "type", "klass", "category", "subtype", "received_at", "registered_at",
              "occurred_at", "due_at", "closed_at", "department", "content", "summary", "place",
              "caller", "phone", "address", "at", "actor", "item_kind", "item_ref", "action",
              "note", "hash", "prev_hash")


@contextlib.contextmanager
def read_snapshot() -> Iterator[None]:
    """One read transaction that sees one moment: DEFERRED on SQLite (WAL: writers go
    on, and this reader is not the IMMEDIATE writer lock the database defaults to),
    REPEATABLE READ on PostgreSQL (READ COMMITTED gave each page its own moment)."""
    database = models.database.obj
    if dbmod.is_postgres(database):
        outermost = database.transaction_depth() == 0  # inside one: its snapshot it is
        with database.atomic():
            if outermost:
                database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, "
                                     "READ ONLY")
            yield
    else:
        with database.atomic(lock_type="DEFERRED"):
            yield


def write(out: IO[str], fmt: str = "jsonl", *, events: bool = True, items: bool = True,
          progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write the export to ``out``; returns counts of items and events written and
    ``head``, the chain head (``ID:HASH``) of the same snapshot, to print outside the
    database as the anchor of ``verify --anchor``."""
    from .verify import format_head

    with read_snapshot():
        counts: dict[str, Any] = _write(out, fmt, events=events, items=items,
                                        progress=progress)
        counts["head"] = format_head()
        return counts


# json.dumps escapes C0 controls itself; with ensure_ascii=False it leaves DEL, C1 (an
# 8-bit CSI is \x9b), the bidi controls and the line separators raw.  As \uXXXX escapes
# they decode to the same text — the archive stays exact and never drives a terminal.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # made once, not per line


def _json_line(record: dict[str, Any]) -> str:
    line = _ENCODER.encode(record)
    if _JSON_UNSAFE.search(line):
        line = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
    return line + "\n"


def _csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: nested values as JSON, every cell safe to print and never a formula."""
    flat = {k: v for k, v in record.items() if k in CSV_FIELDS}
    rest = {k: v for k, v in record.items() if k not in CSV_FIELDS}
    for k, v in list(flat.items()):
        if isinstance(v, (list, dict)):
            v = json.dumps(v, ensure_ascii=False)
        flat[k] = csv_cell(v)
    flat["extra"] = csv_cell(json.dumps(rest, ensure_ascii=False, default=str)) if rest else ""
    return flat


def _write(out: IO[str], fmt: str, *, events: bool, items: bool,
           progress: Callable[[int], None] | None) -> dict[str, int]:
    counts = {"items": 0, "events": 0, "other": 0}
    writer = None
    for n, record in enumerate(records(events=events, items=items), 1):
        kind = record["kind"]
        key = "events" if kind == "event" else "items" if kind in ITEM_MODELS else "other"
        counts[key] += 1
        if fmt == "jsonl":
            out.write(_json_line(record))
        else:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=[*CSV_FIELDS, "extra"])
                writer.writeheader()
            writer.writerow(_csv_row(record))
        if progress and n % 5000 == 0:
            progress(n)
    return counts


def export_to(path: str | Path, fmt: str | None = None, **kwargs: Any) -> dict[str, Any]:
    path = Path(path)
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    with open_atomic(path) as fh:
        return write(fh, fmt, **kwargs)


@contextlib.contextmanager
def open_atomic(path: str | Path) -> Iterator[IO[str]]:
    """A text file written beside ``path`` (0600) and renamed onto it once complete.

    Any failure — a missing folder, a full disk, a database error half-way — leaves
    ``path`` as it was and removes the temporary file; OSError is one line naming it.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                   dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise DutyError(t("error.cannot_write", file=one_line(path),
                          why=one_line(exc.strerror or exc))) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise DutyError(t("error.cannot_write", file=one_line(path),
                              why=one_line(exc.strerror or exc))) from None
        raise

