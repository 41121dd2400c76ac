"""``dutyroom import``: validated records (console.intake) written all or nothing."""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable
from typing import Any

from peewee import fn

from .. import fields, repeats, rules, search
from ..context import Actor, Context
from ..db import is_postgres
from ..errors import DomainError, DutyError, ImportRejected, PermissionDenied
from ..i18n import label, t
from ..models import (
    ITEM_MODELS,
    ActivationMeasure,
    Counter,
    Department,
    Event,
    Instruction,
    ItemLink,
    Person,
    Plan,
    PlanActivation,
    Report,
    ReportUpdate,
    Shift,
    database,
)
from .bulkwrite import DeferredIndexes, _full_row, _head, _ids_by_ref, _insert_rows, _state
from .import_rows import _import_row, _parse_dt
from .plumbing import (
    DIGEST_FROM,
    LOGGED,
    _notify,
    _require,
    _transaction,
    child_digest,
    event_digest,
    row_digest,
    take_intent,
)
from .roster import _write_row, department_values, person_values
from .roundtrip import handed_items, restore_links, unflag


class ImportResult(dict):
    """Counts per kind of what was created, plus "skipped" (already present)."""


CHUNK = 2000  # item records written (and their events chained) per batch
ANALYZE_FROM = CHUNK  # PostgreSQL: rows an import adds to a table before its first ANALYZE
Records = Iterable[Any] | Callable[[], Iterable[Any]]


def import_records(ctx: Context, actor: Actor, records: Records, *, source: str,
                   progress: Callable[[int], None] | None = None,
                   intent: str | None = None) -> ImportResult:
    """Write validated records (console.intake) all or nothing, one event per record.

    ``records``: a list, or a function giving the records afresh (``intake.file_source``:
    a file read as a stream, written in batches of CHUNK with its events chained as it
    goes, so memory stays flat in the file's size; a retried transaction reads it again).
    Items whose reference already exists are skipped (re-importing a file does
    not duplicate it).  Archived events (kind: event, from ``dutyroom export``)
    are restored verbatim, hash chain intact, only into an empty event log.
    """
    _require(actor, "admin")  # a maintenance write: only an admin of the roster imports
    read = _source(records)

    def body() -> ImportResult:
        _roster_admin(actor)
        run = _Run(ctx, actor, source, progress)
        for r in read():
            run.add(r)
        return run.finish()

    # replayed (its COMMIT's answer was lost): every record is in the database already
    return _transaction(ctx, body, intent=intent,
                        replay=lambda e: ImportResult(skipped=sum(1 for _ in read())))


def _source(records: Records) -> Callable[[], Iterable[Any]]:
    """Records as a function giving them afresh; a one-shot iterator may be read once
    (a retry must not see it empty and commit an import of nothing)."""
    if callable(records):
        return records
    if iter(records) is not records:
        return lambda: records
    used: list[bool] = []

    def once() -> Iterable[Any]:
        if used:
            raise DutyError(t("error.not_saved", why="the records cannot be read again"))
        used.append(True)
        return records

    return once


def _roster_admin(actor: Actor) -> None:
    """The roster, not the caller, says who is an admin: once it has one, the actor must
    be an active admin in it.  ``Actor.system()`` (the demo, restores by the system) and
    the first import into a roster without an admin (setting one up) are let through."""
    if actor.login == "system":
        return
    admins = Person.select().where((Person.role == "admin") & (Person.active == True))  # noqa: E712
    if admins.exists() and not admins.where(Person.login == actor.login).exists():
        raise PermissionDenied(t("error.role", who=actor.name, role=label("role", actor.role),
                                 action=label("action", "admin")))


class _Run:
    """One import's state: its counts, its time, the batch being gathered and the head
    of the hash chain.  Items are written CHUNK at a time with their events; the
    roster (few rows) is written as it comes and its events chained at the end."""

    def __init__(self, ctx: Context, actor: Actor, source: str,
                 progress: Callable[[int], None] | None) -> None:
        self.ctx, self.actor, self.source, self.progress = ctx, actor, source, progress
        self.now = ctx.now()
        self.result = ImportResult(skipped=0)
        self.pending: list[dict] = []  # the roster's events
        self.done = 0
        self.chunks: dict[str, list] = {}
        self.deferred: list = []  # items naming a department or plan not yet seen
        self.shifts: list = []
        self.links: list = []
        self.archived: list = []
        self.ids: dict[str, array] = {kind: array("q") for kind in ITEM_MODELS}
        self.log_was_empty = not Event.select().exists()
        self.intent = take_intent()
        self.key = self.intent  # carried by the first event written
        self.prev = _head()
        self.written = 0
        self.grown: dict[str, tuple[int, int]] = {}  # table → (rows added, at the last ANALYZE)
        self.indexes = DeferredIndexes()
        self.depts: dict[str, int] = {}
        self.dept_codes: dict[int, str] = {}
        for d in Department.select(Department.id, Department.code, Department.name):
            self._known_department(d.id, d.code, d.name)
        self.plans = {code for (code,) in Plan.select(Plan.code).tuples()}

    def _known_department(self, dept_id: int, code: str, name: str) -> None:
        self.depts[code] = self.depts[name] = dept_id
        self.dept_codes[dept_id] = code

    def reject(self, record: Any, field: str, reason: str) -> ImportRejected:
        return ImportRejected(f"{self.source}:{record.line}: {field}: {reason}")

    def event(self, kind: str, item_id: int, ref: str, action: str, after: dict | None,
              **extra: Any) -> dict:
        return {"at": self.now, "actor": self.actor.login, "actor_name": self.actor.name,
                "console": self.ctx.console, "item_kind": kind, "item_id": item_id,
                "item_ref": ref, "action": action, "before": None, "after": after,
                "note": self.source, "intent": None, "state": None, "children": None,
                **extra}

    def log(self, kind: str, item_id: int, ref: str, action: str, after: dict | None) -> None:
        self.pending.append(self.event(kind, item_id, ref, action, after))

    def checked(self, r: Any, check: Callable[..., dict]) -> dict:
        """The record's values through the roster actions' own field checks."""
        try:
            return {**r.data, **check(**r.data)}
        except DomainError as exc:
            raise self._field_error(r, exc) from None

    def _field_error(self, r: Any, exc: DomainError) -> ImportRejected:
        message, prefix = str(exc), f"{label('field', exc.field or '')}: "
        return self.reject(r, exc.field or "", message.removeprefix(prefix))

    # ------------------------------------------------------------------ the stream

    def add(self, r: Any) -> None:
        kind = r.kind
        if kind in ITEM_MODELS:
            chunk = self.chunks.setdefault(kind, [])
            chunk.append(r)
            if len(chunk) >= CHUNK:
                self.write(kind, self.chunks.pop(kind))
        elif kind == "department":
            try:
                values = self.checked(r, department_values)
                row = _import_upsert(Department, "code", values, "department", self.log,
                                     self.result)
            except DomainError as exc:  # the name is another department's
                raise self._field_error(r, exc) from None
            self._known_department(row.id, row.code, row.name)
        elif kind == "person":
            _import_upsert(Person, "login", self.checked(r, person_values), "person", self.log,
                           self.result)
        elif kind == "plan":
            _import_upsert(Plan, "code", r.data, "plan", self.log, self.result)
            self.plans.add(r.data["code"])
        elif kind == "shift":
            self.shifts.append(r)  # after every person of the file
        elif kind == "link":
            self.links.append(r)  # after every item of the file
        else:
            self.archived.append(r)

    def finish(self) -> ImportResult:
        for kind in list(self.chunks):
            self.write(kind, self.chunks.pop(kind))
        deferred, self.deferred = self.deferred, []
        for kind in ITEM_MODELS:  # now every department and plan of the file is known
            self.write(kind, [r for r in deferred if r.kind == kind], final=True)
        self.indexes.rebuild()  # before the restore and the links read by them
        for r in self.shifts:
            _import_upsert(Shift, "ref", self.shift_values(r), "shift", self.log, self.result)
        if self.links:  # an export: its links are the source's, flagged and dismissed as
            # there; the repeat flags this import made would double them
            unflag(list(self.ids["work_order"]), self.now, self.actor.login)  # there
            restore_links(self.links, self.result, self.reject)
        if self.archived and self.log_was_empty:
            self.restore()
        elif self.archived:
            self.result["events_skipped"] = len(self.archived)
        _rebuild_counters(self.ctx)
        _attach_states(self.pending)
        self.chain(self.pending)
        if self.written:
            _notify(0)
        return self.result

    def shift_values(self, r: Any) -> dict:
        values = dict(r.data)
        self.checked(r, lambda **d: fields.distinct_people(
            {k: d.get(k) for k in ("leader", "primary", "secondary")}) or {})
        for role in ("leader", "primary", "secondary"):
            login = values[role]
            if login:
                pid = Person.select(Person.id).where(Person.login == login).scalar()
                if pid is None:
                    raise self.reject(r, role, t("import.no_person", login=login))
                values[role] = pid
        values["ref"] = values["ref"] or rules.shift_ref(values["starts_at"], self.ctx.settings.tz)
        if values.get("handed_items"):
            values["handed_items"] = handed_items(values["handed_items"])
        return values

    def _later(self, r: Any) -> bool:
        """The item names a department or plan the file has not given yet."""
        d = r.data
        names = [d["department"]] if d.get("department") else []
        names += d.get("assisting") or []
        if any(n not in self.depts for n in names):
            return True
        return any(a.get("plan") not in self.plans for a in d.get("activations") or [])

    def new_rows(self, kind: str, batch: list) -> tuple[list[dict], list]:
        """The rows to insert, skipping items already present."""
        model = ITEM_MODELS[kind]
        rows, extras = [], []
        refs = [_record_ref(kind, r.data) for r in batch]
        existing = set(_ids_by_ref(model, [x for x in refs if x]))
        for r, ref in zip(batch, refs, strict=True):
            if ref and ref in existing:
                self.result["skipped"] += 1
                continue
            if not ref and kind == "report" and Report.select().where(
                    (Report.received_at == r.data["received_at"])
                    & (Report.title == r.data["title"])).exists():
                self.result["skipped"] += 1  # no reference: the same title at the same time
                continue
            row = _import_row(self.ctx, kind, r, ref, self.now, self.depts, self.reject)
            rows.append(_full_row(model, row))
            extras.append(r)
        return rows, extras

    def write(self, kind: str, batch: list, *, final: bool = False) -> None:
        """One batch of items: rows, their children, their events (chained now)."""
        if not final:
            later = [r for r in batch if self._later(r)]
            if later:
                self.deferred.extend(later)
                batch = [r for r in batch if not self._later(r)]
        model = ITEM_MODELS[kind]
        rows, extras = self.new_rows(kind, batch)
        if not rows:
            return
        with search.bulk_indexed(model) as index:  # the search index in one statement
            _insert_rows(model, rows)
            ids = _ids_by_ref(model, [row["ref"] for row in rows])
            if not self.indexes.deferred(model._meta.table_name):  # else: rebuilt at the end
                index(list(ids.values()))
        events = []
        for row, r in zip(rows, extras, strict=True):
            item_id = ids[row["ref"]]
            self.ids[kind].append(item_id)
            children = _import_children(kind, item_id, row, r, self.actor, self.reject)
            dept = row.get("department")
            after = {"status": row["status"],
                     "department": self.dept_codes.get(dept) if dept else None}
            events.append(self.event(kind, item_id, row["ref"], "import", after,
                                     state=_state(model, row),
                                     children=sorted(children) or None))
        self.chain(events)
        if kind == "work_order":  # 重复投诉: flag the new orders (issue 11)
            orders = [repeats.NewOrder(ids[row["ref"]], row["phone"], row["address"],
                                       row["category"], row["received_at"]) for row in rows]
            links = repeats.flag_many(self.ctx.settings, orders, self.now, self.actor.login)
            self.indexes.grew(ItemLink._meta.table_name, links)
        self.result[kind] = self.result.get(kind, 0) + len(rows)
        self.done += len(rows)
        self.analyze_if_grown(model, len(rows))
        self.indexes.grew(model._meta.table_name, len(rows))
        if self.progress:
            self.progress(self.done)

    def analyze_if_grown(self, model: type, added: int) -> None:
        """PostgreSQL: ANALYZE a table once the import has added a batch to it and as
        many rows as the statistics knew of, then at each doubling.  The rows are one
        transaction, so autovacuum never sees them and the planner kept the statistics
        of the table it started from (often empty): the ref look-ups scanned the growing
        table (100,000 orders at 258 rec/s, measured).  A first ANALYZE at 20,000 rows
        still left the look-ups of the second 10,000 scanning: 71 s of a 99 s import
        (measured).  ANALYZE of a small table takes milliseconds; a table the statistics
        already describe is analyzed only once the import has doubled it."""
        if not is_postgres():
            return
        name = model._meta.table_name
        if name not in self.grown:  # what the planner believes the table holds
            known = database.execute_sql("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                                         (name,)).fetchone()[0]
            self.grown[name] = (0, max(0, int(known)) // 2)
        total, last = self.grown[name]
        total += added
        if total >= max(2 * last, ANALYZE_FROM):
            database.execute_sql(f'ANALYZE "{name}"')
            last = total
        self.grown[name] = (total, last)

    def chain(self, events: list[dict]) -> None:
        """Append events to the hash chain (the import's key on its first one)."""
        if not events:
            return
        if self.key is not None:
            events[0]["intent"], self.key = self.key, None
        for e in events:
            e["prev_hash"] = self.prev
            e["hash"] = self.prev = event_digest(self.prev, e)
        _insert_rows(Event, events)
        self.written += len(events)
        self.analyze_if_grown(Event, len(events))  # the chain's head is read by id order
        self.indexes.grew(Event._meta.table_name, len(events))

    def restore(self) -> None:
        """An archive into an empty log: its events must start the chain.  The import's
        own item events written so far are taken back and written again after them,
        from the rows as the restore leaves them (their versions count the archive)."""
        Event.delete().execute()  # the log was empty: these are this import's own
        _restore_events(self.archived, self.reject)
        self.result["event"] = len(self.archived)
        self.archived = []
        self.prev, self.key = _head(), self.intent
        for kind, ids in self.ids.items():
            model = ITEM_MODELS[kind]
            for start in range(0, len(ids), 500):
                chunk = list(ids[start:start + 500])
                rows = {row.id: row for row in model.select().where(model.id.in_(chunk))}
                children = _children_of(kind, chunk)
                events = []
                for item_id in chunk:
                    row = rows[item_id]
                    dept = getattr(row, "department_id", None)
                    after = {"status": row.status,
                             "department": self.dept_codes.get(dept) if dept else None}
                    events.append(self.event(kind, item_id, row.ref, "import", after,
                                             state=row_digest(row),
                                             children=sorted(children.get(item_id, []))
                                             or None))
                self.chain(events)


def _record_ref(kind: str, data: dict) -> str | None:
    return data.get("ticket") if kind == "work_order" else data.get("ref")


def _import_upsert(model: type, key: str, values: dict, kind: str, log: Callable,
                   result: ImportResult) -> Any:
    row, action, _before, after = _write_row(model, key, values)
    if action is None:
        result["skipped"] += 1
        return row
    log(kind, row.id, values[key], action, after)
    result[kind] = result.get(kind, 0) + 1
    return row


def _import_children(kind: str, item_id: int, row: dict, r: Any, actor: Actor,
                     reject: Callable) -> list[str]:
    """The item's child rows; returns their digests (listed by its import event)."""
    d = r.data
    digests = []
    for ins in d.get("instructions") or []:
        digests.append(child_digest(Instruction.create(item_kind=kind, item_id=item_id, leader=str(ins.get("leader", "")),
                           text=str(ins.get("text", "")),
                           at=_parse_dt(ins.get("at")) or row["created_at"],
                           recorded_by=str(ins.get("recorded_by") or actor.login),
                           leader_login=ins.get("leader_login"),
                           leader_title=ins.get("leader_title"))))
    if kind != "report":
        return digests
    updates = d.get("updates") or [{"stage": "initial", "seq": 0, "at": row["received_at"],
                                    "text": row["summary"] or row["title"],
                                    "author": actor.login, "dead": row["dead"],
                                    "injured": row["injured"], "missing": row["missing"]}]
    for u in updates:
        if u.get("stage") not in ("initial", "followup", "final"):
            raise reject(r, "updates.stage", t("import.choice", choices="initial/followup/final",
                                             got=repr(u.get("stage"))))
        digests.append(child_digest(ReportUpdate.create(report=item_id, stage=u["stage"], seq=int(u.get("seq") or 0),
                            at=_parse_dt(u.get("at")) or row["received_at"],
                            text=str(u.get("text", "")), author=str(u.get("author", actor.login)),
                            dead=u.get("dead"), injured=u.get("injured"), missing=u.get("missing"))))
    for a in d.get("activations") or []:
        plan_id = Plan.select(Plan.id).where(Plan.code == a.get("plan")).scalar()
        if plan_id is None:
            raise reject(r, "activations.plan", t("import.no_plan", plan=a.get("plan")))
        act = PlanActivation.create(
            plan=plan_id, report=item_id, level=a.get("level", "IV"),
            declared_by=a.get("declared_by", ""), activated_by=a.get("activated_by", actor.login),
            activated_at=_parse_dt(a.get("activated_at")) or row["created_at"],
            deactivated_by=a.get("deactivated_by"),
            deactivated_at=_parse_dt(a.get("deactivated_at")))
        for i, m in enumerate(a.get("measures") or []):
            ActivationMeasure.create(activation=act.id, idx=i, text=str(m.get("text", "")),
                                     done_at=_parse_dt(m.get("done_at")), done_by=m.get("done_by"))
    return digests


def _ref_pattern(fmt: str) -> re.Pattern[str]:
    """A reference format ("BG-{year}-{seq:04d}") as a pattern giving year and seq."""
    parts = re.split(r"(\{year[^}]*\}|\{seq[^}]*\})", fmt)
    out = []
    for part in parts:
        if part.startswith("{year"):
            out.append(r"(?P<year>\d{4})")
        elif part.startswith("{seq"):
            out.append(r"(?P<seq>\d+)")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$")


def _rebuild_counters(ctx: Context) -> None:
    """Numbering continues after a restore: each year's counter is at least the highest
    number among the items' references (an export restored into an empty database
    has the items but not the counters)."""
    refs = dict(ctx.settings.references)
    if getattr(ctx.settings, "scheduled", None) is not None:  # its own format (scheduled.py)
        refs["scheduled"] = ctx.settings.scheduled.reference
    for kind, fmt in refs.items():
        model = ITEM_MODELS[kind]
        pattern = _ref_pattern(fmt)
        top: dict[int, int] = {}
        for (ref,) in model.select(model.ref).tuples().iterator():
            m = pattern.match(ref)
            if m:
                year, seq = int(m["year"]), int(m["seq"])
                top[year] = max(top.get(year, 0), seq)
        for year, seq in top.items():
            name = f"{kind}:{year}"
            current = Counter.select(Counter.value).where(Counter.name == name).scalar()
            if current is None:
                Counter.create(name=name, value=seq)
            elif current < seq:
                Counter.update(value=seq).where(Counter.name == name).execute()


def _restore_events(archived: list, reject: Callable) -> None:
    """Append archived events verbatim; their item ids are looked up by reference."""
    cache: dict[tuple[str, str], int] = {}
    rows = []
    for r in archived:
        e = dict(r.data)
        key = (e["item_kind"], e["item_ref"])
        if key not in cache:
            model, column = LOGGED.get(e["item_kind"], (None, ""))
            found = (model.select(model.id).where(getattr(model, column) == e["item_ref"])
                     .scalar() if model else None)
            cache[key] = found or 0
        e["item_id"] = cache[key]
        rows.append(e)
    for start in range(0, len(rows), 2000):
        _insert_rows(Event, rows[start:start + 2000])
    # archived events may predate digest v2: they verify by the formula of their time
    top = Event.select(fn.MAX(Event.id)).scalar() or 0
    Counter.insert(name=DIGEST_FROM, value=top + 1).on_conflict(
        conflict_target=[Counter.name], update={Counter.value: top + 1}).execute()
    # an item's version counts its events: the archived ones and the import's own
    for kind, model in ITEM_MODELS.items():
        table = model._meta.table_name
        database.execute_sql(
            f'UPDATE "{table}" SET version = 1 + (SELECT COUNT(*) FROM event '
            f"WHERE event.item_kind = {database.param} AND event.item_id = \"{table}\".id)",
            (kind,))


def _attach_states(pending: list[dict]) -> None:
    """Each of the import's own events gets the digest of its row as stored, and an
    item's import event lists all the item's child rows (a full snapshot)."""
    by_kind: dict[str, list[dict]] = {}
    for e in pending:
        by_kind.setdefault(e["item_kind"], []).append(e)
    for kind, events in by_kind.items():
        model, _column = LOGGED[kind]
        for start in range(0, len(events), 500):
            chunk = events[start:start + 500]
            ids = [e["item_id"] for e in chunk]
            rows = {row.id: row for row in model.select().where(model.id.in_(ids))}
            children = _children_of(kind, ids) if kind in ITEM_MODELS else {}
            for e in chunk:
                e["state"] = row_digest(rows[e["item_id"]])
                if e["action"] == "import":
                    e["children"] = sorted(children.get(e["item_id"], [])) or None


def _children_of(kind: str, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if kind == "report":
        for u in ReportUpdate.select().where(ReportUpdate.report.in_(ids)):
            out.setdefault(u.report_id, []).append(child_digest(u))
    for ins in Instruction.select().where((Instruction.item_kind == kind)
                                          & Instruction.item_id.in_(ids)):
        out.setdefault(ins.item_id, []).append(child_digest(ins))
    return out
