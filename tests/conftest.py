"""Shared fixtures: settings, a frozen clock, and a database on SQLite and PostgreSQL.

The ``db`` fixture is parametrised: every storage/action test runs on an SQLite
file and on PostgreSQL (a fresh schema per test in the ``test`` database on
127.0.0.1:5432).  Where no PostgreSQL answers, those cases are skipped with the
reason printed; CI starts the server first, so there they always run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from console import db as dbmod  # noqa: E402
from console import i18n, settings  # noqa: E402
from console.clock import FrozenClock  # noqa: E402
from console.context import Actor, Context  # noqa: E402

PG_URL = os.environ.get("DUTYROOM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# Friday 27 November 2026, 10:00 in Asia/Shanghai
T0 = dt.datetime(2026, 11, 27, 2, 0, 0)

_pg_state: dict[str, str | None] = {}


def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if "reason" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect(PG_URL.replace("postgresql://", "postgresql://", 1),
                                 connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_state["reason"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means "skip with the reason"
            _pg_state["reason"] = f"PostgreSQL at {PG_URL} not reachable: {str(exc).splitlines()[0]}"
    return _pg_state["reason"]


def make_pg_schema() -> tuple[str, str]:
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return schema, f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop_pg_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def pytest_report_header(config):
    reason = pg_available()
    return "postgresql: " + ("available at " + PG_URL if reason is None else "SKIPPED — " + reason)


@pytest.fixture(autouse=True)
def _language():
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="session")
def cfg():
    return settings.load()


@pytest.fixture
def clock():
    return FrozenClock(T0)


@contextlib.contextmanager
def fresh_url(kind: str, tmp_path, name: str = "duty.db"):
    """A database nothing has touched: a new SQLite file, or a new PostgreSQL schema
    (skipped with the reason when no server answers)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / name}"
        return
    reason = pg_available()
    if reason:
        pytest.skip(reason)
    schema, url = make_pg_schema()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    with fresh_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def db(db_url):
    database = dbmod.open_database(db_url)
    dbmod.migrate(database)
    yield database
    database.close()


@pytest.fixture
def sqlite_db(tmp_path):
    database = dbmod.open_database(f"sqlite:///{tmp_path / 'duty.db'}")
    dbmod.migrate(database)
    yield database
    database.close()


@pytest.fixture
def ctx(cfg, clock):
    return Context(cfg, clock, "test:console")


OFFICER = Actor("liming", "李明", "officer")
OFFICER2 = Actor("wangfang", "王芳", "officer")
LEADER = Actor("zhaoqiang", "赵强", "leader")
ADMIN = Actor("admin", "管理员", "admin")
VIEWER = Actor("wallboard", "大屏", "viewer")


@pytest.fixture
def roster(ctx, db):
    """A small roster and two departments."""
    from console import actions

    for a in (OFFICER, OFFICER2, LEADER, ADMIN, VIEWER):
        actions.upsert_person(ctx, ADMIN, login=a.login, name=a.name, role=a.role)
    actions.upsert_department(ctx, ADMIN, code="ZJJ", name="市住建局")
    actions.upsert_department(ctx, ADMIN, code="GRB", name="市供热办")
    return ctx
