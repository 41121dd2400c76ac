"""``dutyroom verify``: the event log and the rows it accounts for.

- the hash chain: each event links to the one before it and its hash covers every
  stored field (events before migration 0004 by the older digest);
- each event's ``item_id`` names the row whose reference is its ``item_ref``;
- each item's version equals its number of events, and its status, step, level,
  owner, deadlines… are what its events' ``after`` values lead to; the same for
  department, person, plan and shift rows;
- each row equals the digest its last event recorded (a column changed without an
  event), and each report update and instruction is one its item's events wrote;
- ``anchor`` (a chain head printed earlier, ``ID:HASH`` or ``HASH``) is still in the
  chain: deleting the last events, or the whole log, is seen.

Every problem is one line naming the table, the row and the field.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .actions.plumbing import (
    DIGEST_FROM,
    GENESIS,
    LOGGED,
    _jsonable,
    child_digest,
    event_digest,
    legacy_digest,
    row_digest,
)
from .models import (
    ITEM_MODELS,
    Counter,
    Department,
    Event,
    Instruction,
    ReportUpdate,
    database,
)

PAGE = 5000
# events about activations carry plan fields ("level" is the plan's): not row columns
_NOT_ROW_CHANGES = ("activate_plan", "tick_measure", "untick_measure", "deactivate_plan")
_SKIP_REPLAY = ("updated_at", "rank", "sort_key", "version")


@dataclass(frozen=True)
class Problem:
    table: str
    row: Any
    field: str
    what: str

    def __str__(self) -> str:
        return f"{self.table}#{self.row} {self.field}: {self.what}"


def chain_head() -> tuple[int, str]:
    """(last event id, its hash) — (0, GENESIS) for an empty log.  Printed outside the
    database (handover reports, exports) it anchors the log: ``verify --anchor``."""
    last = Event.select(Event.id, Event.hash).order_by(Event.id.desc()).first()
    return (last.id, last.hash) if last else (0, GENESIS)


def format_head(head: tuple[int, str] | None = None) -> str:
    event_id, digest = head or chain_head()
    return f"{event_id}:{digest}"


def _fields(e: Event) -> dict[str, Any]:
    return {k: getattr(e, k) for k in ("at", "actor", "actor_name", "console", "item_kind",
                                       "item_ref", "action", "before", "after", "note",
                                       "intent", "state", "children")}


def _decoded(model: Any, problems: list[Problem]) -> Iterator[Any]:
    """Every row of ``model`` by id, a page at a time, each column converted by its own
    field: a value that cannot be decoded (a chain stored as ``{broken``) is left None and
    reported in ``problems`` — a damaged row is a finding, never a crash."""
    fields = list(model._meta.sorted_fields)
    at_id = fields.index(model._meta.primary_key)
    last_id = 0
    while True:
        query = model.select(*fields).where(model.id > last_id).order_by(model.id).limit(PAGE)
        raw_rows = database.execute(query).fetchall()
        for raw in raw_rows:
            values = {}
            for f, value in zip(fields, raw, strict=True):
                try:
                    values[f.name] = f.python_value(value)
                except (ValueError, TypeError, OverflowError):
                    values[f.name] = None
                    problems.append(Problem(model._meta.table_name, raw[at_id],
                                            f.name, "stored value cannot be decoded (damaged)"))
            yield model(__no_default__=1, **values)
        if len(raw_rows) < PAGE:
            return
        last_id = raw_rows[-1][at_id]


def _events(problems: list[Problem]) -> Iterator[Event]:
    return _decoded(Event, problems)


def _chain_problem(e: Event, prev: str, legacy_until: int) -> str:
    if e.prev_hash != prev:
        return "prev_hash does not match the event before it (an event removed or inserted)"
    data = _fields(e)
    if event_digest(prev, data) == e.hash:
        return ""
    if e.id < legacy_until and legacy_digest(prev, data) == e.hash:
        return ""
    return "content does not match its hash (altered)"


def verify_chain() -> tuple[bool, int, int | None, str]:
    """(ok, events checked, first bad event id, problem) — the chain alone."""
    legacy_until = _legacy_until()
    prev, n = GENESIS, 0
    damaged: list[Problem] = []
    for e in _events(damaged):
        problem = f"{damaged[0].field}: {damaged[0].what}" if damaged else \
            _chain_problem(e, prev, legacy_until)
        if problem:
            return False, n, e.id, problem
        prev = e.hash
        n += 1
    return True, n, None, ""


def _legacy_until() -> int:
    value = Counter.select(Counter.value).where(Counter.name == DIGEST_FROM).scalar()
    return int(value or 1)


@dataclass
class _Seen:
    """What the log says about one row."""

    count: int = 0
    tracked: bool = False  # written since 0004: its events record state and children
    state: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    children: Tally = field(default_factory=Tally)


def _walk(problems: list[Problem], anchor: str | None) -> tuple[int, dict]:
    legacy_until = _legacy_until()
    seen: dict[tuple[str, int], _Seen] = {}
    refs: dict[tuple[str, int], str] = {}
    prev, n, anchored = GENESIS, 0, anchor is None
    want_id, want_hash = _parse_anchor(anchor)
    for e in _events(problems):
        problem = _chain_problem(e, prev, legacy_until)
        if problem:
            problems.append(Problem("event", e.id, "hash", problem))
        prev, n = e.hash, n + 1
        if not anchored and e.hash == want_hash and want_id in (None, e.id):
            anchored = True
        if e.item_kind in LOGGED:
            _account(seen.setdefault((e.item_kind, e.item_id), _Seen()), e)
            refs.setdefault((e.item_kind, e.item_id), e.item_ref)
            if refs[(e.item_kind, e.item_id)] != e.item_ref:
                problems.append(Problem("event", e.id, "item_id",
                                        f"names {e.item_kind}#{e.item_id}, which earlier "
                                        f"events call {refs[(e.item_kind, e.item_id)]}, "
                                        f"not {e.item_ref}"))
    if not anchored:
        problems.append(Problem("event", want_id or "?", "hash",
                                f"the anchor {anchor} is not in the log: events after it were "
                                "removed or the log was rewritten"))
    _check_refs(problems, refs)
    return n, seen


def _parse_anchor(anchor: str | None) -> tuple[int | None, str]:
    if not anchor:
        return None, ""
    text = anchor.strip()
    if ":" in text:
        head, digest = text.split(":", 1)
        return (int(head) if head.isdigit() else None), digest.strip()
    return None, text


def _account(s: _Seen, e: Event) -> None:
    s.count += 1
    if e.state is not None:
        s.state, s.tracked = e.state, True
    if e.action == "import":  # an import's event is a snapshot: its row and its children
        s.children, s.values = Tally(), {}
    s.children.update(e.children or [])
    if e.action == "create" and e.item_kind in ITEM_MODELS:
        s.values.update(_created(e))
    if e.action not in _NOT_ROW_CHANGES:
        s.values.update(e.after or {})


def _created(e: Event) -> dict[str, Any]:
    """What every new item starts with (actions.create): its creator owns it."""
    after = e.after or {}
    status = {"report": "new", "supervision": "registered", "scheduled": "due",
              "work_order": "assigned" if after.get("department") else "received"}
    return {"status": status[e.item_kind], "step": 0, "closed_at": None, "acked_by": None,
            "acked_at": None, "overdue_at": None,
            "owner": e.actor if e.actor != "system" else None}


def _check_refs(problems: list[Problem], refs: dict[tuple[str, int], str]) -> None:
    """Each event's item_id names the row whose reference is its item_ref."""
    by_kind: dict[str, list[int]] = {}
    for kind, item_id in refs:
        by_kind.setdefault(kind, []).append(item_id)
    for kind, ids in by_kind.items():
        model, column = LOGGED[kind]
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            query = model.select(model.id, getattr(model, column)).where(
                model.id.in_(ids[start:start + 500]))
            found.update(query.tuples())
        for item_id in ids:
            if found.get(item_id) != refs[(kind, item_id)]:
                problems.append(Problem("event", f"{kind}:{item_id}", "item_id",
                                        f"events name {refs[(kind, item_id)]} but "
                                        f"{model._meta.table_name}#{item_id} is "
                                        f"{found.get(item_id, 'missing')}"))


def _stored(row: Any, name: str, dept_codes: dict[int, str]) -> Any:
    value = row.__data__.get(name)
    if name == "department" and not isinstance(value, str):  # a person's is its code already
        return dept_codes.get(value) if value is not None else None
    return _jsonable(value)


def _check_rows(problems: list[Problem], seen: dict) -> None:
    dept_codes = dict(Department.select(Department.id, Department.code).tuples())
    for kind, (model, _column) in LOGGED.items():
        table = model._meta.table_name
        columns = set(model._meta.fields)
        for row in _decoded(model, problems):
            s = seen.get((kind, row.id))
            if s is None:
                problems.append(Problem(table, row.id, "version",
                                        "no event accounts for this row"))
                continue
            if kind in ITEM_MODELS and s.count != row.version:
                problems.append(Problem(table, row.id, "version",
                                        f"is {row.version} but the row has {s.count} events"))
            wrong = [name for name, value in s.values.items()
                     if name in columns and name not in _SKIP_REPLAY
                     and _stored(row, name, dept_codes) != value]
            problems.extend(Problem(table, row.id, name,
                                    f"is {_stored(row, name, dept_codes)!r} but its events "
                                    f"lead to {s.values[name]!r}") for name in wrong)
            if not wrong and s.state is not None and row_digest(row) != s.state:
                problems.append(Problem(table, row.id, "row",
                                        "differs from what its last event recorded "
                                        "(changed without an event)"))


def _check_children(problems: list[Problem], seen: dict) -> None:
    actual: dict[tuple[str, int], Tally] = {}
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for u in ReportUpdate.select().iterator():
        digest = child_digest(u)
        actual.setdefault(("report", u.report_id), Tally())[digest] += 1
        rows.setdefault(("report", u.report_id), {})[digest] = ("report_update", u.id)
    for ins in Instruction.select().iterator():
        digest = child_digest(ins)
        actual.setdefault((ins.item_kind, ins.item_id), Tally())[digest] += 1
        rows.setdefault((ins.item_kind, ins.item_id), {})[digest] = ("instruction", ins.id)
    for key in set(actual) | {k for k, s in seen.items() if s.children}:
        s = seen.get(key)
        if s is not None and not s.tracked:  # written before 0004: nothing recorded
            continue
        recorded = s.children if s is not None else Tally()
        have = actual.get(key, Tally())
        for digest in have - recorded:
            table, row_id = rows[key][digest]
            problems.append(Problem(table, row_id, "row",
                                    f"not written by any event of {key[0]}#{key[1]} "
                                    "(added or changed without an event)"))
        for digest in recorded - have:
            table = "report_update" if digest.startswith("report_update:") else "instruction"
            problems.append(Problem(table, f"{key[0]}:{key[1]}", "row",
                                    "an event wrote this row, which is missing or changed"))


def run(anchor: str | None = None) -> int:
    """The command: one line per problem on stderr; exit 0 when there is none."""
    import sys

    from .i18n import t

    n, problems = verify_all(anchor)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(t("cli.verify_ok", n=n))
        return 0
    return 1


def verify_all(anchor: str | None = None) -> tuple[int, list[Problem]]:
    """(events checked, problems): the chain, the rows it accounts for, the anchor."""
    problems: list[Problem] = []
    n, seen = _walk(problems, anchor)
    _check_rows(problems, seen)
    _check_children(problems, seen)
    return n, problems
