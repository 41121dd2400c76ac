"""Benchmark datasets, built with SQL-level bulk inserts.

The item tables are filled by one ``INSERT … SELECT`` each over a generated
series (a recursive CTE on SQLite, ``generate_series`` on PostgreSQL): no
Python loop per row, no ORM call per row.  Random numbers are drawn once per
row in a MATERIALIZED CTE, so one draw can decide several columns
consistently (open or closed → status, closed_at, deadline, rank, sort_key).
``rank``/``sort_key`` follow ``console.rules.queue_position`` exactly.

Distributions (per 1,000,000 work orders; everything scales with the size):
- 12345 work orders spread evenly over N / 600,000 years (600k a year), ids
  ascending with time; content, type, category, lead department, assisting
  departments and address from config/demo/work_orders.yaml; callers from
  config/demo/names.yaml; urgency 80% normal / 14% urgent / 4% very urgent.
- ~92% closed (closed 1 h–15 days after receipt, 7% of them late, satisfaction
  1–5 weighted to 5).  Open: 75% of the last 15 days plus 7% of older ones
  ("still in hand"); their deadlines spread from 3 days ago to 12 days ahead
  (about a fifth overdue, already marked by an earlier sweep); statuses
  received/assigned/in progress/extended/replied/returned; unacknowledged ones
  escalate within the next 8 hours or sit at the top of their chain.
- Reports (突发事件) from config/demo/reports.yaml (levels weighted I < II <
  待核 < III < IV), ~10% open, deadlines from 2 h ago to 6 h ahead.
- Supervision items (督办) N/50, a quarter open.
- References in the configured formats, numbered per year (12345-2026000001,
  BG-2026-0042, SV-2026-0007).
- Roster, departments (config/demo/departments.yaml), the plan library and
  shifts around the build time go through console.actions (a few hundred
  rows).  One ``create`` event per open item and one ``close`` event per item
  closed in the last 30 days (hashes are random: ``dutyroom verify`` does not
  pass on a bench database; nothing here measures it).

SQLite files are cached under bench/data/ (gitignored), keyed by the sizes, a
hash of the migrations and of this file; a cache older than ``MAX_AGE`` is
rebuilt (the open items' deadlines are spread around the build time).  Every
measurement runs on a *working copy* (``prepare_copy``), normalised for the
time elapsed since the build, so the cache itself is never written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from console import rules
from console.paths import config_dir

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MIGRATIONS = HERE.parent / "console" / "migrations"
BUILD_VERSION = 3
MAX_AGE = 2 * 86400
DAY = 86400

OFFICERS = ("duty", "liming", "wangjing", "zhangtao", "liuyang", "chenxue", "yangfan",
            "zhaolei", "sunli", "zhoubin", "wuyan", "zhengkai")
BENCH_USER = "duty"  # the roster login the console processes run as (an officer)


@dataclass(frozen=True)
class Sizes:
    work_orders: int
    reports: int

    @property
    def supervision(self) -> int:
        return max(50, self.work_orders // 50)

    @property
    def tag(self) -> str:
        return f"wo{self.work_orders}-rp{self.reports}"


def schema_key() -> str:
    import inspect

    h = hashlib.sha256()
    for path in sorted(MIGRATIONS.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    # this file, less the PostgreSQL-only parts (they do not change the SQLite cache)
    own = Path(__file__).read_text(encoding="utf-8")
    for pg_only in (PgDialect, build_postgres, drop_postgres):
        own = own.replace(inspect.getsource(pg_only), "")
    h.update(own.encode())
    h.update(str(BUILD_VERSION).encode())
    return h.hexdigest()[:10]


def cache_path(sizes: Sizes) -> Path:
    return DATA / f"dutyroom-{sizes.tag}-{schema_key()}.db"


def _yaml(name: str):
    with open(config_dir() / "demo" / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _epoch(at: dt.datetime) -> int:
    return rules.epoch(at)


# --------------------------------------------------------------------------- dialects


class Dialect:
    pg = False
    param = "?"

    def series(self, n: int) -> str:
        return f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})"

    def rnd(self) -> str:
        return "(abs(random()) % 1000000)"

    def ts(self, x: str) -> str:
        return f"datetime({x}, 'unixepoch')"

    def least(self, a: str, b: str) -> str:
        return f"min({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"max({a}, {b})"

    def year(self, x: str) -> str:
        return f"strftime('%Y', {x}, 'unixepoch')"

    def pad(self, x: str, width: int) -> str:
        return f"printf('%0{width}d', {x})"

    def hexhash(self) -> str:
        return "lower(hex(randomblob(32)))"


class PgDialect(Dialect):
    pg = True
    param = "%s"

    def series(self, n: int) -> str:
        return f"WITH n AS (SELECT generate_series(1::bigint, {n}::bigint) AS i)"

    def rnd(self) -> str:
        return "(floor(random() * 1000000)::bigint)"

    def ts(self, x: str) -> str:
        return f"(to_timestamp({x}) AT TIME ZONE 'UTC')"

    def least(self, a: str, b: str) -> str:
        return f"least({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"greatest({a}, {b})"

    def year(self, x: str) -> str:
        return f"to_char(to_timestamp({x}) AT TIME ZONE 'UTC', 'YYYY')"

    def pad(self, x: str, width: int) -> str:
        # lpad truncates a longer string: pad only up to the width
        return f"lpad(({x})::text, greatest({width}, length(({x})::text)), '0')"

    def hexhash(self) -> str:
        return "(md5(random()::text) || md5(random()::text))"


# --------------------------------------------------------------------------- seeding


def _seed_reference(ctx, now: dt.datetime) -> None:
    """Departments, the roster, the plan library and shifts (through console.actions)."""
    from console import actions
    from console.context import Actor
    from console.demo import load_plans

    admin = Actor("admin", "系统管理员", "admin")
    for d in _yaml("departments.yaml"):
        actions.upsert_department(ctx, admin, code=d["code"], name=d["name"],
                                  phone=str(d.get("phone", "")))
    for p in _yaml("people.yaml"):
        actions.upsert_person(ctx, admin, login=p["login"], name=p["name"], role=p["role"],
                              title=p.get("title", ""), phone=str(p.get("phone", "")),
                              department=p.get("department"))  # a unit liaison's (issue 11)
    for p in load_plans():
        actions.upsert_plan(ctx, admin, code=p["code"], title=p["title"], kind=p["plan_kind"],
                            category=p["category"], subtype=p.get("subtype", "other"),
                            owner=p.get("owner", ""), summary=p.get("summary", ""),
                            levels=p.get("levels", {}), contacts=p.get("contacts", []),
                            related=p.get("related", []), shelters=p.get("shelters", []))
    ensure_shift(ctx, now)


def ensure_shift(ctx, now: dt.datetime) -> None:
    """A 24-hour shift covering ``now`` (the header shows the duty team)."""
    from console import actions, queries
    from console.context import Actor

    if queries.duty_team(now).shift is not None:
        return
    start = now.replace(minute=0, second=0) - dt.timedelta(hours=2)
    actions.upsert_shift(ctx, Actor("admin", "系统管理员", "admin"), starts_at=start,
                         ends_at=start + dt.timedelta(days=1), leader="wangjianmin",
                         primary="duty", secondary="zhaolei")


def _templates(cur, dialect: Dialect, settings) -> dict[str, int]:
    """Small lookup tables the bulk inserts join with (temporary on SQLite, unlogged on PG)."""
    temp = "TEMP " if not dialect.pg else "TEMP "
    p = dialect.param
    cur.execute("SELECT id, code FROM department")
    dept = {code: i for i, code in cur.fetchall()}
    wos = _yaml("work_orders.yaml")
    reports = _yaml("reports.yaml")
    names = _yaml("names.yaml")
    cur.execute(f"CREATE {temp}TABLE _wtpl (idx INTEGER PRIMARY KEY, type TEXT, category TEXT, "
                "content TEXT, dept_id INTEGER, assisting TEXT, address TEXT)")
    rows = [(i, w["type"], w.get("category", ""), w["content"], dept.get(w.get("department")),
             json.dumps(list(w.get("assisting") or []), ensure_ascii=False, sort_keys=True),
             w.get("address") or names["streets"][i % len(names["streets"])])
            for i, w in enumerate(wos)]
    cur.executemany(f"INSERT INTO _wtpl VALUES ({', '.join([p] * 7)})", rows)
    # reports, repeated by weight so the level distribution is realistic
    weight = {"I": 1, "II": 2, "unknown": 3, "III": 6, "IV": 10}
    expanded = [r for r in reports for _ in range(weight.get(r.get("level", "IV"), 1))]
    cur.execute(f"CREATE {temp}TABLE _rtpl (idx INTEGER PRIMARY KEY, category TEXT, subtype TEXT, "
                "level TEXT, sev INTEGER, title TEXT, place TEXT, summary TEXT, dead INTEGER, "
                "injured INTEGER, missing INTEGER, area TEXT, trend TEXT, measures TEXT, "
                "requests TEXT, source_unit TEXT)")
    rows = [(i, r["category"], r.get("subtype", "other"), r.get("level", "unknown"),
             rules.REPORT_SEVERITY[r.get("level", "unknown")], r["title"], r.get("place", ""),
             r.get("summary", ""), r.get("dead", 0), r.get("injured", 0), r.get("missing", 0),
             r.get("area", ""), r.get("trend", ""), r.get("measures", ""),
             r.get("requests", ""), r.get("source_unit", ""))
            for i, r in enumerate(expanded)]
    cur.executemany(f"INSERT INTO _rtpl VALUES ({', '.join([p] * 16)})", rows)
    cur.execute(f"CREATE {temp}TABLE _chain (kind TEXT, name TEXT, json TEXT, len INTEGER)")
    chains = []
    for kind, sevs in (("report", ("I", "II", "III", "IV", "unknown")),
                       ("work_order", ("very_urgent", "urgent", "normal")),
                       ("supervision", ("urgent", "normal", "complex"))):
        for sev in sevs:
            chain = rules.chain_snapshot(settings, kind, sev)
            chains.append((kind, sev, json.dumps(chain, ensure_ascii=False, sort_keys=True),
                           len(chain)))
    cur.executemany(f"INSERT INTO _chain VALUES ({p}, {p}, {p}, {p})", chains)
    cur.execute(f"CREATE {temp}TABLE _names (idx INTEGER PRIMARY KEY, name TEXT)")
    people = [s + g for s in names["surnames"] for g in names["given"]]
    cur.executemany(f"INSERT INTO _names VALUES ({p}, {p})", list(enumerate(people)))
    cur.execute(f"CREATE {temp}TABLE _officers (idx INTEGER PRIMARY KEY, login TEXT)")
    cur.executemany(f"INSERT INTO _officers VALUES ({p}, {p})", list(enumerate(OFFICERS)))
    return {"nw": len(wos), "nr": len(expanded), "nn": len(people), "no": len(OFFICERS),
            "nd": len(dept), "dmin": min(dept.values())}


# --------------------------------------------------------------------------- bulk SQL


def _work_orders_sql(d: Dialect, n: int, now: int, k: dict) -> str:
    span = max(DAY, round(n / 600_000 * 365 * DAY))
    start = now - span
    step = max(1, span // n)
    recent = min(15 * DAY, span // 40 + DAY)
    ts = d.ts
    return f"""
INSERT INTO work_order (ref, status, owner, created_at, updated_at, closed_at, chain, step,
    acked_by, acked_at, next_escalation_at, deadline_at, overdue_at, rank, sort_key, version,
    received_at, channel, caller, phone, address, type, category, content, urgency,
    department_id, assisting, assigned_at, extensions, satisfaction, reply)
{d.series(n)},
r AS MATERIALIZED (SELECT i, {d.rnd()} AS a, {d.rnd()} AS b, {d.rnd()} AS c, {d.rnd()} AS e,
                          {d.rnd()} AS f, {d.rnd()} AS g FROM n),
t AS (SELECT r.*, {start} + (i - 1) * {span} / {n} + a % {step} AS recv,
             CASE WHEN c % 100 < 4 THEN 0 WHEN c % 100 < 18 THEN 1 ELSE 2 END AS sev FROM r),
u AS (SELECT t.*, CASE WHEN {now} - recv < {recent} AND b % 100 < 75 THEN 1
                       WHEN b % 1000 < 68 THEN 1 ELSE 0 END AS is_open FROM t),
v AS (SELECT u.*,
        CASE WHEN is_open = 0 THEN 'closed'
             WHEN e % 100 < 10 THEN 'received' WHEN e % 100 < 35 THEN 'assigned'
             WHEN e % 100 < 75 THEN 'in_progress' WHEN e % 100 < 80 THEN 'extended'
             WHEN e % 100 < 95 THEN 'replied' ELSE 'returned' END AS status,
        CASE WHEN is_open = 0 THEN {d.least(f"recv + 3600 + g % {15 * DAY}", str(now - 60))}
             END AS closed_e,
        CASE WHEN is_open = 1 THEN {d.greatest("recv + 3600", f"{now - 3 * DAY} + g % {15 * DAY}")}
             END AS deadline_e,
        CASE sev WHEN 0 THEN 'very_urgent' WHEN 1 THEN 'urgent' ELSE 'normal' END AS urg
      FROM u),
w AS (SELECT v.*, CASE WHEN status IN ('received', 'assigned', 'returned') THEN 0 ELSE 1 END
                  AS acked FROM v)
SELECT '12345-' || {d.year("recv")}
       || {d.pad(f"row_number() OVER (PARTITION BY {d.year('recv')} ORDER BY i)", 6)}, status,
       CASE WHEN acked = 1 THEN o.login END,
       {ts("recv")}, {ts("coalesce(closed_e, recv + 600)")}, {ts("closed_e")}, ch.json,
       g % ch.len,
       CASE WHEN acked = 1 THEN o.login END,
       CASE WHEN acked = 1 THEN {ts(d.least("recv + 1800 + a % 7200", str(now)))} END,
       CASE WHEN is_open = 1 AND acked = 0 AND b % 2 = 0 THEN {ts(f"{now + 300} + e % 28800")}
            END,
       {ts("deadline_e")},
       CASE WHEN is_open = 1 AND deadline_e <= {now} THEN {ts("deadline_e")}
            WHEN is_open = 0 AND f % 100 < 7 THEN {ts("closed_e - 3600")} END,
       CASE WHEN is_open = 1 THEN sev ELSE 10 + sev END,
       CASE WHEN is_open = 1 THEN deadline_e ELSE -closed_e END,
       CASE WHEN is_open = 1 THEN 2 ELSE 6 END,
       {ts("recv")},
       CASE b % 10 WHEN 0 THEN 'web' WHEN 1 THEN 'wechat' WHEN 2 THEN 'app' ELSE 'phone' END,
       nm.name, '13' || {d.pad("(g % 100000) * 10000 + a % 10000", 9)}, p.address, p.type,
       p.category, p.content, urg,
       CASE WHEN status IN ('received', 'returned') THEN NULL
            ELSE coalesce(p.dept_id, {k["dmin"]} + f % {k["nd"]}) END,
       CASE WHEN status IN ('received', 'returned') THEN '[]' ELSE p.assisting END,
       CASE WHEN status IN ('received', 'returned') THEN NULL ELSE {ts("recv + 600")} END,
       CASE WHEN status = 'extended' THEN 1 ELSE 0 END,
       CASE WHEN is_open = 1 THEN NULL WHEN e % 100 < 50 THEN 5 WHEN e % 100 < 80 THEN 4
            WHEN e % 100 < 90 THEN 3 WHEN e % 100 < 96 THEN 2 ELSE 1 END,
       CASE WHEN is_open = 0 OR status = 'replied'
            THEN '承办单位已现场处理，已向市民答复办理结果。' ELSE '' END
FROM w
JOIN _wtpl p ON p.idx = w.f % {k["nw"]}
JOIN _chain ch ON ch.kind = 'work_order' AND ch.name = w.urg
JOIN _names nm ON nm.idx = w.g % {k["nn"]}
JOIN _officers o ON o.idx = w.a % {k["no"]}
ORDER BY i
"""


def _reports_sql(d: Dialect, n: int, now: int, k: dict, span: int) -> str:
    start = now - span
    step = max(1, span // n)
    recent = min(3 * DAY, span // 40 + DAY)
    ts = d.ts
    return f"""
INSERT INTO report (ref, status, owner, created_at, updated_at, closed_at, chain, step,
    acked_by, acked_at, next_escalation_at, deadline_at, overdue_at, rank, sort_key, version,
    received_at, occurred_at, place, category, subtype, level, sensitive, title, summary, dead,
    injured, missing, area, trend, measures, requests, source_unit, reporter, reporter_phone,
    recorder, reported_at, followups)
{d.series(n)},
r AS MATERIALIZED (SELECT i, {d.rnd()} AS a, {d.rnd()} AS b, {d.rnd()} AS e,
                          {d.rnd()} AS f, {d.rnd()} AS g FROM n),
t AS (SELECT r.*, {start} + (i - 1) * {span} / {n} + a % {step} AS recv FROM r),
u AS (SELECT t.*, CASE WHEN {now} - recv < {recent} AND b % 100 < 70 THEN 1
                       WHEN b % 1000 < 95 THEN 1 ELSE 0 END AS is_open FROM t),
v AS (SELECT u.*,
        CASE WHEN is_open = 0 THEN 'closed' WHEN e % 100 < 15 THEN 'new'
             WHEN e % 100 < 40 THEN 'acknowledged' ELSE 'active' END AS status,
        CASE WHEN is_open = 0 THEN {d.least(f"recv + 3 * 3600 + g % {3 * DAY}", str(now - 60))}
             END AS closed_e,
        CASE WHEN is_open = 1 THEN {d.greatest("recv + 600", f"{now - 7200} + g % {8 * 3600}")}
             END AS deadline_e
      FROM u)
SELECT 'BG-' || {d.year("recv")} || '-'
       || {d.pad(f"row_number() OVER (PARTITION BY {d.year('recv')} ORDER BY i)", 4)}, status,
       CASE WHEN status <> 'new' THEN o.login END,
       {ts("recv")}, {ts("coalesce(closed_e, recv + 600)")}, {ts("closed_e")}, ch.json,
       CASE WHEN status = 'active' THEN 1 + g % (ch.len - 1) ELSE 0 END,
       CASE WHEN status <> 'new' THEN o.login END,
       CASE WHEN status <> 'new' THEN {ts(d.least("recv + 120 + a % 240", str(now)))} END,
       CASE WHEN status = 'new' AND b % 2 = 0 THEN {ts(f"{now + 120} + e % 1800")} END,
       {ts("deadline_e")},
       CASE WHEN is_open = 1 AND deadline_e <= {now} THEN {ts("deadline_e")} END,
       CASE WHEN is_open = 1 THEN p.sev ELSE 10 + p.sev END,
       CASE WHEN is_open = 1 THEN deadline_e ELSE -closed_e END,
       CASE WHEN is_open = 1 THEN 3 ELSE 8 END,
       {ts("recv")}, {ts("recv - 600 - a % 1800")}, p.place, p.category, p.subtype, p.level,
       FALSE, p.title, p.summary, p.dead, p.injured, p.missing, p.area, p.trend, p.measures,
       p.requests, p.source_unit, nm.name, '13' || {d.pad("(g % 100000) * 10000 + a % 10000", 9)},
       o.login,
       CASE WHEN status = 'active' OR is_open = 0 THEN {ts("recv + 900")} END,
       CASE WHEN status = 'active' OR is_open = 0 THEN e % 3 ELSE 0 END
FROM v
JOIN _rtpl p ON p.idx = v.f % {k["nr"]}
JOIN _chain ch ON ch.kind = 'report' AND ch.name = p.level
JOIN _names nm ON nm.idx = v.g % {k["nn"]}
JOIN _officers o ON o.idx = v.a % {k["no"]}
ORDER BY i
"""


def _supervision_sql(d: Dialect, n: int, now: int, k: dict, span: int) -> str:
    start = now - span
    step = max(1, span // n)
    ts = d.ts
    return f"""
INSERT INTO supervision_item (ref, status, owner, created_at, updated_at, closed_at, chain, step,
    acked_by, acked_at, next_escalation_at, deadline_at, overdue_at, rank, sort_key, version,
    title, content, klass, source_kind, source_ref, department_id, registered_at, result)
{d.series(n)},
r AS MATERIALIZED (SELECT i, {d.rnd()} AS a, {d.rnd()} AS b, {d.rnd()} AS c, {d.rnd()} AS e,
                          {d.rnd()} AS f FROM n),
t AS (SELECT r.*, {start} + (i - 1) * {span} / {n} + a % {step} AS recv,
             CASE WHEN c % 4 = 0 THEN 0 WHEN c % 4 = 3 THEN 2 ELSE 1 END AS sev,
             CASE WHEN b % 100 < 25 THEN 1 ELSE 0 END AS is_open FROM r),
v AS (SELECT t.*,
        CASE WHEN is_open = 0 THEN 'closed' WHEN e % 100 < 20 THEN 'registered'
             ELSE 'in_progress' END AS status,
        CASE WHEN is_open = 0 THEN {d.least(f"recv + DAY_ + f % {15 * DAY}", str(now - 60))}
             END AS closed_e,
        CASE WHEN is_open = 1 THEN {d.greatest("recv + 3600", f"{now - 5 * DAY} + f % {20 * DAY}")}
             END AS deadline_e,
        CASE sev WHEN 0 THEN 'urgent' WHEN 1 THEN 'normal' ELSE 'complex' END AS klass
      FROM t)
SELECT 'SV-' || {d.year("recv")} || '-'
       || {d.pad(f"row_number() OVER (PARTITION BY {d.year('recv')} ORDER BY i)", 4)}, status,
       CASE WHEN status <> 'registered' THEN o.login END,
       {ts("recv")}, {ts("coalesce(closed_e, recv + 600)")}, {ts("closed_e")}, ch.json,
       e % ch.len,
       CASE WHEN status <> 'registered' THEN o.login END,
       CASE WHEN status <> 'registered' THEN {ts(d.least("recv + 7200", str(now)))} END,
       CASE WHEN status = 'registered' AND b % 2 = 0 THEN {ts(f"{now + 600} + e % 86400")} END,
       {ts("deadline_e")},
       CASE WHEN is_open = 1 AND deadline_e <= {now} THEN {ts("deadline_e")} END,
       CASE WHEN is_open = 1 THEN sev ELSE 10 + sev END,
       CASE WHEN is_open = 1 THEN deadline_e ELSE -closed_e END,
       CASE WHEN is_open = 1 THEN 2 ELSE 5 END,
       '督办：' || substr(p.content, 1, 40), '按领导批示要求，限期办结并报告办理结果。', klass,
       'instruction', '', coalesce(p.dept_id, {k["dmin"]} + f % {k["nd"]}), {ts("recv")},
       CASE WHEN is_open = 0 THEN '已按期办结，责任单位书面报告办理结果，予以销号。' ELSE '' END
FROM v
JOIN _wtpl p ON p.idx = v.f % {k["nw"]}
JOIN _chain ch ON ch.kind = 'supervision' AND ch.name = v.klass
JOIN _officers o ON o.idx = v.a % {k["no"]}
ORDER BY i
""".replace("DAY_", str(DAY))


def _events_sql(d: Dialect, now: int) -> list[str]:
    since = d.ts(str(now - 30 * DAY))
    out = []
    for kind, table in (("report", "report"), ("work_order", "work_order"),
                        ("supervision", "supervision_item")):
        cols = ("INSERT INTO event (at, actor, actor_name, console, item_kind, item_id, item_ref, "
                "action, before, after, note, prev_hash, hash) ")
        out.append(cols + f"SELECT created_at, coalesce(owner, 'duty'), '', 'bench:build', "
                   f"'{kind}', id, ref, 'create', NULL, '{{}}', '', {d.hexhash()}, {d.hexhash()} "
                   f"FROM {table} WHERE closed_at IS NULL ORDER BY id")
        out.append(cols + f"SELECT closed_at, coalesce(owner, 'duty'), '', 'bench:build', "
                   f"'{kind}', id, ref, 'close', NULL, '{{\"status\": \"closed\"}}', '', "
                   f"{d.hexhash()}, {d.hexhash()} FROM {table} "
                   f"WHERE closed_at IS NOT NULL AND closed_at >= {since} ORDER BY id")
    out.append("INSERT INTO report_update (report_id, stage, seq, at, text, dead, injured, "
               "missing, author) SELECT id, 'initial', 0, received_at, summary, dead, injured, "
               "missing, 'duty' FROM report WHERE closed_at IS NULL")
    return out


def fill(cur, dialect: Dialect, sizes: Sizes, settings, now: dt.datetime,
         log=lambda msg: None) -> None:
    """The bulk inserts (the reference rows are already there)."""
    k = _templates(cur, dialect, settings)
    n_now = _epoch(now)
    span = max(DAY, round(sizes.work_orders / 600_000 * 365 * DAY))
    steps = [("work orders", _work_orders_sql(dialect, sizes.work_orders, n_now, k)),
             ("reports", _reports_sql(dialect, sizes.reports, n_now, k, span)),
             ("supervision items", _supervision_sql(dialect, sizes.supervision, n_now, k, span))]
    steps += [("events", sql) for sql in _events_sql(dialect, n_now)]
    for what, sql in steps:
        t0 = time.perf_counter()
        cur.execute(sql)
        log(f"  {what}: {time.perf_counter() - t0:.1f} s")


# --------------------------------------------------------------------------- SQLite


ITEM_TABLES = ("work_order", "report", "supervision_item")


def build_sqlite(sizes: Sizes, *, log=print, force: bool = False) -> Path:
    """The cached SQLite file for ``sizes`` (built if missing or stale; one builder at a time)."""
    import fcntl

    DATA.mkdir(parents=True, exist_ok=True)
    with open(DATA / f".lock-{sizes.tag}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_sqlite(sizes, log=log, force=force)


def _build_sqlite(sizes: Sizes, *, log=print, force: bool = False) -> Path:
    path = cache_path(sizes)
    if path.exists() and not force:
        con = sqlite3.connect(path)
        try:
            built = con.execute("SELECT built_at FROM bench_meta").fetchone()[0]
        except sqlite3.Error:
            built = 0
        finally:
            con.close()
        if time.time() - built < MAX_AGE:
            return path
        log(f"bench: {path.name} is older than {MAX_AGE // 3600} h: rebuilding")
    DATA.mkdir(parents=True, exist_ok=True)
    for old in DATA.glob(f"dutyroom-{sizes.tag}-*.db"):
        old.unlink()
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    log(f"bench: building {path.name} ({sizes.work_orders:,} work orders, "
        f"{sizes.reports:,} reports, {sizes.supervision:,} supervision items)")

    from console import db, settings
    from console.clock import FrozenClock
    from console.context import Context

    cfg = settings.load()
    now = _now()
    database = db.open_database(f"sqlite:///{tmp}")
    db.migrate(database)
    _seed_reference(Context(cfg, FrozenClock(now), "bench:build"), now)
    database.close()

    con = sqlite3.connect(tmp, isolation_level=None)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -1000000")
    con.execute("PRAGMA temp_store = MEMORY")
    cur = con.cursor()
    cur.execute("BEGIN")
    indexes = cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
        f"tbl_name IN ({', '.join('?' * len(ITEM_TABLES))})", ITEM_TABLES).fetchall()
    # the search index's triggers too: one rebuild after the load beats a trigger per row
    triggers = cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
        f"tbl_name IN ({', '.join('?' * len(ITEM_TABLES))})", ITEM_TABLES).fetchall()
    for name, _sql in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    for name, _sql in triggers:
        cur.execute(f'DROP TRIGGER "{name}"')
    fill(cur, Dialect(), sizes, cfg, now, log)
    t1 = time.perf_counter()
    for _name, sql in indexes + triggers:
        cur.execute(sql)
    for (fts,) in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                              "AND name LIKE '%\\_fts' ESCAPE '\\'").fetchall():
        cur.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    log(f"  indexes: {time.perf_counter() - t1:.1f} s")
    cur.execute("CREATE TABLE bench_meta (built_at REAL, now TEXT, sizes TEXT)")
    cur.execute("INSERT INTO bench_meta VALUES (?, ?, ?)", (time.time(), now.isoformat(),
                                                           sizes.tag))
    cur.execute("COMMIT")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    os.replace(tmp, path)
    log(f"bench: built in {time.perf_counter() - t0:.1f} s, "
        f"{path.stat().st_size / 1e6:.0f} MB")
    return path


def prepare_copy(sizes: Sizes, name: str, *, log=print) -> Path:
    """A working copy of the cached file, normalised for the time since it was built.

    Items whose deadline passed since the build are marked overdue and past
    escalation times cleared (as a sweep would have done), so "nothing due"
    means nothing is due; a shift covering now is added if missing.
    """
    src = build_sqlite(sizes, log=log)
    dst = DATA / f"work-{os.getpid()}-{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    now = _now()
    con = sqlite3.connect(dst, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    for table in ITEM_TABLES:
        con.execute(f"UPDATE {table} SET overdue_at = deadline_at WHERE deadline_at IS NOT NULL "
                    "AND overdue_at IS NULL AND deadline_at <= ?", (stamp,))
        con.execute(f"UPDATE {table} SET next_escalation_at = NULL "
                    "WHERE next_escalation_at <= ?", (stamp,))
    con.execute("COMMIT")
    con.close()
    return dst


def open_copy(path: Path):
    """Open (and bind) a working copy; returns (database, ctx)."""
    from console import db, settings
    from console.context import Context

    database = db.open_database(f"sqlite:///{path}")
    db.migrate(database)
    ctx = Context(settings.load(), console="bench:main")
    ensure_shift(ctx, ctx.now())
    return database, ctx


def cleanup_copies() -> None:
    for p in DATA.glob(f"work-{os.getpid()}-*"):
        p.unlink(missing_ok=True)


# --------------------------------------------------------------------------- PostgreSQL


def build_postgres(base_url: str, sizes: Sizes, *, log=print) -> tuple[str, str]:
    """A fresh schema on PostgreSQL filled the same way; returns (schema, url)."""
    import uuid

    import psycopg

    from console import db, settings
    from console.clock import FrozenClock
    from console.context import Context

    schema = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options=-csearch_path%3D{schema}"
    t0 = time.perf_counter()
    log(f"bench: building PostgreSQL schema {schema} ({sizes.work_orders:,} work orders, "
        f"{sizes.reports:,} reports)")
    try:
        cfg = settings.load()
        now = _now()
        database = db.open_database(url)
        db.migrate(database)
        _seed_reference(Context(cfg, FrozenClock(now), "bench:build"), now)
        database.close()
        with psycopg.connect(**db.pg_conninfo(url)) as conn, conn.cursor() as cur:
            fill(cur, PgDialect(), sizes, cfg, now, log)
            conn.commit()
        with psycopg.connect(**db.pg_conninfo(url), autocommit=True) as conn:
            conn.execute("ANALYZE")
    except BaseException:
        drop_postgres(base_url, schema)
        raise
    log(f"bench: PostgreSQL built in {time.perf_counter() - t0:.1f} s")
    return schema, url


def drop_postgres(base_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
