"""The schema version, checked at every start.

The schema version is the last numbered migration this dutyroom ships
(``0002_queue_indexes`` → version 2).  At start a database is one of:

- empty (nothing applied, no tables): created at once, so ``dutyroom init`` and
  ``dutyroom demo --open`` work on a fresh machine;
- current: nothing to do;
- newer (it holds a migration this version does not know): refused in one line
  naming both versions — an older dutyroom must not write to it;
- behind (pending migrations): refused in one line naming ``dutyroom migrate``,
  which backs the database up first.  ``database.auto_migrate: true`` lets a
  single-host install migrate at start instead (still after the backup).

Consoles used to migrate the shared database at start, so the first officer to
open a new version ran the DDL under everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from peewee import Database

from . import db as dbmod
from .errors import DutyError
from .i18n import t

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _index(name: str) -> int:
    digits = name.split("_", 1)[0]
    return int(digits) if digits.isdigit() else 0


def known_migrations() -> list[str]:
    return sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py"))


def code_version() -> str:
    """This dutyroom's schema version, e.g. ``2 (0002_queue_indexes)``."""
    return version_label(known_migrations())


def version_label(names: list[str]) -> str:
    if not names:
        return t("ops.schema_none")
    last = max(names, key=lambda n: (_index(n), n))
    return f"{_index(last)} ({last})"


@dataclass(frozen=True)
class SchemaState:
    applied: list[str]  # recorded in the database's schema_migration table
    pending: list[str]  # shipped here, not applied there
    unknown: list[str]  # applied there, not shipped here: a newer dutyroom wrote them
    has_tables: bool

    @property
    def empty(self) -> bool:
        return not self.applied and not self.has_tables

    @property
    def version(self) -> str:
        return version_label(self.applied)


def state(database: Database) -> SchemaState:
    from playhouse.migrations import Runner

    runner = Runner(database, str(MIGRATIONS_DIR))
    rows = runner.status()
    return SchemaState(
        applied=[m.name for m in rows if m.applied],
        pending=[m.name for m in rows if not m.applied],
        unknown=[m.name for m in rows if m.applied and m.path is None],
        has_tables=bool(database.get_tables()),
    )


def refuse_newer(st: SchemaState, url: str) -> None:
    if st.unknown:
        raise DutyError(t("ops.schema_newer", url=dbmod.describe(url), db=st.version,
                          app=code_version(), unknown=", ".join(st.unknown)))


def migrate_command(args) -> str:
    """The exact command to run, with the same --config / --db as this one."""
    words = ["dutyroom"]
    if getattr(args, "config", None):
        words += ["--config", args.config]
    if getattr(args, "db", None):
        words += ["--db", dbmod.describe(args.db)]
    return " ".join(words + ["migrate"])


def at_start(database: Database, url: str, settings, args) -> list[str]:
    """The start-up check every command that uses the database goes through."""
    st = state(database)
    refuse_newer(st, url)
    if not st.pending:
        return []
    if st.empty:
        return dbmod.migrate(database)  # a new database: nothing to lose, create it now
    if getattr(settings, "auto_migrate", False):
        from .backup import backup_before_migrate

        backup_before_migrate(database, url)
        return dbmod.migrate(database)
    raise DutyError(t("ops.schema_pending", url=dbmod.describe(url), db=st.version,
                      app=code_version(), n=len(st.pending), command=migrate_command(args)))
