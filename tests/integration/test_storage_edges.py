"""Storage edges on both databases: far deadlines (BIGINT sort key), LIKE wildcards."""

from __future__ import annotations

import datetime as dt

from console import actions
from tests.conftest import OFFICER


def test_deadline_after_2038_is_stored_and_sorted(db, ctx):
    far = dt.datetime(2045, 1, 1)
    order = actions.create_work_order(ctx, OFFICER, content="长期建议", type="suggestion",
                                      due_at=far)
    report = actions.create_report(ctx, OFFICER, title="一般事件", category="natural", level="IV")
    report = actions.escalate(ctx, OFFICER, report.ref)
    report = actions.follow_up(ctx, OFFICER, report.ref, "续报：已处置")  # IV: no next deadline
    assert actions.find_item(order.ref).deadline_at == far
    assert actions.find_item(report.ref).deadline_at is None
    assert actions.find_item(order.ref).sort_key > 2**31  # past int4: needs the BIGINT


def test_search_treats_wildcards_as_text(db, ctx):
    from console import queries

    actions.create_work_order(ctx, OFFICER, content="水费多收了50%", type="complaint")
    actions.create_work_order(ctx, OFFICER, content="水费多收了50元", type="complaint")
    f = queries.QueueFilter("work_order", search="50%")
    assert [r.title for r in queries.window(f, 0, 10)] == ["水费多收了50%"]
    assert queries.count(queries.QueueFilter("work_order", search="_")) == 0


def test_sensitive_report_ranks_with_serious_ones(db, ctx):
    """敏感信息 is reported as fast as a Ⅱ (reporting.sensitive_as) and so sorts with them."""
    from console import queries

    plain = actions.create_report(ctx, OFFICER, title="一般事件", category="security", level="IV")
    hot = actions.create_report(ctx, OFFICER, title="敏感事件", category="security", level="IV",
                                sensitive=True)
    refs = [r.ref for r in queries.window(queries.QueueFilter("report"), 0, 10)]
    assert refs.index(hot.ref) < refs.index(plain.ref)
    assert hot.deadline_at < plain.deadline_at


# -- storage hygiene (issue 9 §6) ------------------------------------------------------------

import contextlib  # noqa: E402
import grp  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from console import db as dbmod  # noqa: E402
from tests.conftest import fresh_url, pg_available  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8",
                "PYTHONPATH": str(ROOT), "HOME": str(cwd), **(env or {})}
    lang = [] if "--lang" in args else ["--lang", "en"]  # the shipped language is zh-CN
    return subprocess.run([sys.executable, "-m", "console.cli", *lang, *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: os.umask(0o022))  # the usual umask: 0644 files


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextlib.contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def _write_something(database) -> None:
    dbmod.migrate(database)  # creates the tables: the -wal and -shm files appear


def test_new_database_files_are_private(tmp_path):
    """Found: a new database was created 0644 in a 0755 directory (phone numbers for everyone)."""
    file = tmp_path / "new" / "deeper" / "duty.db"
    with umask(0o022):
        database = dbmod.open_database(f"sqlite:///{file}", bind=False)
        try:
            _write_something(database)
            wal, shm = Path(f"{file}-wal"), Path(f"{file}-shm")
            assert wal.exists() and shm.exists()  # open: WAL mode keeps them
            assert [mode(p) for p in (file, wal, shm)] == [0o600] * 3
            assert [mode(d) for d in (file.parent, file.parent.parent)] == [0o700] * 2
        finally:
            database.close()


def test_database_files_for_a_configured_group(tmp_path):
    group = grp.getgrgid(os.getgid()).gr_name
    file = tmp_path / "shared" / "duty.db"
    with umask(0o022):
        database = dbmod.open_database(f"sqlite:///{file}", bind=False, group=group)
        try:
            _write_something(database)
            for p in (file, Path(f"{file}-wal"), Path(f"{file}-shm")):
                assert (mode(p), os.stat(p).st_gid) == (0o660, os.getgid()), p
            assert mode(file.parent) == 0o2770
        finally:
            database.close()


def test_unknown_group_is_one_line(tmp_path):
    with pytest.raises(Exception) as err:
        dbmod.open_database(f"sqlite:///{tmp_path / 'g' / 'd.db'}", bind=False,
                            group="no-such-group-xyz")
    assert str(err.value) == "database.group: no group no-such-group-xyz on this host"
    assert not (tmp_path / "g").exists()


def test_default_data_dir_is_private(tmp_path):
    res = cli("init", cwd=tmp_path, env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert res.returncode == 0, res.stderr
    assert mode(tmp_path / "xdg") == 0o700 and mode(tmp_path / "xdg" / "dutyroom") == 0o700
    assert mode(tmp_path / "xdg" / "dutyroom" / "dutyroom.db") == 0o600


def test_describe_masks_every_password():
    url = "postgresql://duty:s3cr%40t@db:5432/dutyroom?sslmode=require&password=hunter2"
    shown = dbmod.describe(url)
    assert shown == "postgresql://duty:***@db:5432/dutyroom?sslmode=require&password=***"
    assert dbmod.describe("sqlite:////var/lib/dutyroom/duty.db") == \
        "sqlite:////var/lib/dutyroom/duty.db"
    assert "s3cr" not in dbmod.mask_secrets("auth failed for s3cr@t and s3cr%40t", url)


def test_connection_error_does_not_print_the_password(tmp_path):
    """Found: a ?password= in the URL was printed in connection errors."""
    url = "postgresql://duty:s3cret@127.0.0.1:1/dutyroom?password=hunter2&connect_timeout=2"
    res = cli("--db", url, "summary", cwd=tmp_path)
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1, res.stderr
    assert "hunter2" not in res.stderr and "s3cret" not in res.stderr
    assert "127.0.0.1" in res.stderr  # still says which database
    bad = cli("--db", "mysql://duty:hunter2@db/x", "summary", cwd=tmp_path)
    assert bad.returncode == 1 and "hunter2" not in bad.stderr


def test_summary_header_does_not_print_the_password(tmp_path):
    """Found: the summary header printed the ?password= of the URL."""
    if pg_available():
        pytest.skip(pg_available())
    with fresh_url("postgres", tmp_path) as url:
        secret = url + "&password=hunter2"
        res = cli("--db", secret, "summary", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "hunter2" not in res.stdout and "password=***" in res.stdout.splitlines()[0]


def _orders(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"kind": "work_order", "ticket": f"T-{i}", "type": "help",
                                "received_at": "2026-11-26T09:00:00",
                                "content": f"路灯不亮 {i} " + "详细情况" * 60},
                               ensure_ascii=False) + "\n")
    return path


def _count(path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _mount(*args: str) -> str | None:
    """None when mounted, else why not (not root, no permission in this container)."""
    if os.geteuid() != 0:
        return "mounting needs root"
    res = subprocess.run(["mount", *args], capture_output=True, text=True)
    return None if res.returncode == 0 else f"mount {' '.join(args)}: {res.stderr.strip()}"


def test_full_disk_is_named_and_nothing_half_written(tmp_path):
    """Found: a full disk said "cannot rollback - no transaction is active"."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    why = _mount("-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mnt))
    if why:
        pytest.skip(why)
    try:
        file = mnt / "duty.db"
        assert cli("--db", f"sqlite:///{file}", "init", cwd=tmp_path).returncode == 0
        with contextlib.suppress(OSError), (mnt / "filler").open("wb") as f:
            free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
            f.write(b"\0" * max(free - 96 * 1024, 0))  # leave less than the import needs
        src = _orders(tmp_path / "orders.jsonl", 2000)
        res = cli("--db", f"sqlite:///{file}", "import", str(src), cwd=tmp_path)
        assert res.returncode == 1
        assert res.stderr == (f"dutyroom: sqlite:///{file}: disk full — nothing was saved; "
                              "free space and try again\n")
        (mnt / "filler").unlink()
        assert _count(file, "work_order") == 0 and _count(file, "event") == 0
        assert cli("--db", f"sqlite:///{file}", "verify", cwd=tmp_path).returncode == 0
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_read_only_database_is_named(tmp_path):
    """Found: import on a read-only database was a traceback."""
    src_dir, ro_dir = tmp_path / "rw", tmp_path / "ro"
    src_dir.mkdir()
    ro_dir.mkdir()
    file = src_dir / "duty.db"
    assert cli("--db", f"sqlite:///{file}", "init", cwd=tmp_path).returncode == 0
    before = file.read_bytes()
    mounted = os.geteuid() == 0
    if mounted:  # root writes through chmod: a read-only bind mount stops it
        why = _mount("--bind", str(src_dir), str(ro_dir))
        if why:
            pytest.skip(why)
        why = _mount("-o", "remount,bind,ro", str(ro_dir))
        if why:
            subprocess.run(["umount", str(ro_dir)], check=False)
            pytest.skip(why)
        target = ro_dir / "duty.db"
    else:
        file.chmod(0o400)
        src_dir.chmod(0o500)
        target = file
    try:
        orders = _orders(tmp_path / "orders.jsonl", 3)
        res = cli("--db", f"sqlite:///{target}", "import", str(orders), cwd=tmp_path)
        assert res.returncode == 1
        assert res.stderr == (f"dutyroom: sqlite:///{target}: read-only database — this account "
                              "cannot write it; nothing was saved\n")
    finally:
        if mounted:
            subprocess.run(["umount", str(ro_dir)], check=False)
        else:
            src_dir.chmod(0o700)
    assert file.read_bytes() == before


def test_read_only_postgresql_is_named(tmp_path):
    """The same one line on PostgreSQL (a hot standby, default_transaction_read_only)."""
    if pg_available():
        pytest.skip(pg_available())
    with fresh_url("postgres", tmp_path) as url:
        assert cli("--db", url, "init", cwd=tmp_path).returncode == 0
        read_only = url + "%20-cdefault_transaction_read_only%3Don"  # options=-c… -c…
        orders = _orders(tmp_path / "orders.jsonl", 3)
        res = cli("--db", read_only, "import", str(orders), cwd=tmp_path)
        assert res.returncode == 1
        assert res.stderr.startswith("dutyroom: postgresql://") and len(res.stderr.splitlines()) == 1
        assert "read-only database — this account cannot write it" in res.stderr


def test_postgresql_disk_full_is_named():
    """PostgreSQL's 53100 (a full disk on the server) is named like SQLite's, URL masked."""
    import peewee
    import psycopg

    from console.errors import DiskFull

    database = dbmod.open_database("postgresql://duty:hunter2@127.0.0.1:1/x", bind=False)
    raw = psycopg.errors.DiskFull('could not extend file "base/16384/2619"')  # no "space" text
    named = database._named(peewee.OperationalError(raw, *raw.args))  # as peewee wraps it
    assert isinstance(named, DiskFull)
    assert str(named) == ("postgresql://duty:***@127.0.0.1:1/x: disk full — nothing was saved; "
                          "free space and try again")
