"""``dutyroom status``: what an operator checks before and after an upgrade or a restore.

It reads only, works on a database of any schema version (that is when it is
needed), and never loads a table: the chain head and the last sweep are one
indexed row each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from peewee import Database

from . import db as dbmod
from . import models, schema
from .backup import sqlite_path
from .clock import to_local
from .i18n import label, t
from .textsafe import one_line


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def log_file(settings) -> str:
    """The log file console/logs.py writes to."""
    from . import logs

    return str(logs.log_path())


def _head(database: Database, tables: set[str]) -> str:
    if "event" not in tables:
        return t("ops.status_no_events")
    head = models.Event.select(models.Event.id, models.Event.hash).order_by(
        models.Event.id.desc()).first()
    if head is None:
        return t("ops.status_no_events")
    return t("ops.status_head_value", id=head.id, hash=one_line(head.hash))


def _last_sweep(settings, tables: set[str]) -> str:
    from .context import Actor

    if "event" not in tables:
        return t("ops.status_never")
    event = (models.Event.select(models.Event.at, models.Event.action, models.Event.item_ref)
             .where(models.Event.actor == Actor.system().login)
             .order_by(models.Event.id.desc()).first())
    if event is None:
        return t("ops.status_never")
    at = to_local(event.at, settings.tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    return t("ops.status_sweep_value", at=at, action=one_line(label("done", event.action)),
             ref=one_line(event.item_ref))


def _disk(url: str) -> str:
    path = sqlite_path(url)
    if path is None:
        return t("ops.status_disk_server")
    folder = path.parent if path.parent.exists() else Path.cwd()
    free = shutil.disk_usage(folder).free
    size = path.stat().st_size if path.exists() else 0
    wal = Path(f"{path}-wal")
    size += wal.stat().st_size if wal.exists() else 0
    return t("ops.status_disk_value", free=human_size(free), folder=str(folder), size=human_size(size))


def status_lines(database: Database, url: str, settings,
                 command: str = "dutyroom migrate") -> list[str]:
    """One ``label: value`` line per fact; the models are bound to ``database``."""
    st = schema.state(database)
    tables = set(database.get_tables())
    if st.unknown:
        version = t("ops.status_schema_newer", db=st.version, app=schema.code_version())
    else:
        version = t("ops.status_schema_value", db=st.version, app=schema.code_version())
    pending = ", ".join(st.pending) if st.pending else t("ops.status_none")
    if st.pending and not st.empty:
        pending += "  → " + t("ops.status_run", command=command)
    rows = [
        ("database", dbmod.describe(url)),
        ("schema", version),
        ("pending", pending),
        ("head", _head(database, tables)),
        ("log", log_file(settings)),
        ("sweep", _last_sweep(settings, tables)),
        ("disk", _disk(url)),
    ]
    return [t("ops.status_line", label=t("ops.status_" + key), value=value) for key, value in rows]
