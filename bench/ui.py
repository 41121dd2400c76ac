"""UI rows (sections 1–3 of issue 5) and the Textual baselines.

Each sample runs in a fresh process (bench/ui_child.py) so start-up and memory
are measured cold; the pseudo-terminal rows start the real ``dutyroom``
console (or an empty Textual app) on a pty and wait for the first frame bytes
that carry a known row reference.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

from bench import dataset
from bench.core import Config
from bench.report import Row, at_most, median, pct, ratio_at_most

ROOT = Path(__file__).resolve().parent.parent
COLS, LINES = 120, 40
EMPTY_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class Empty(App):\n"
    "    def compose(self):\n"
    "        yield Static('BENCH-READY-7731')\n"
    "Empty().run()\n")


def child(*args: str, timeout: float = 900, budget: float | None = None) -> dict:
    env = dict(os.environ, TEXTUAL_ANIMATIONS="none")
    if budget is not None:
        env["BENCH_CHILD_BUDGET"] = str(budget)
        timeout = budget + 60
    proc = subprocess.run([sys.executable, "-m", "bench.ui_child", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"ui_child {args[0]} failed: {tail}")
    return json.loads(lines[-1])


def _vm(pid: int, field: str = "VmHWM") -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def pty_first_frame(cmd: list[str], marker: bytes, env: dict, timeout: float = 60,
                    keys: list[bytes] | None = None) -> tuple[float | None, float | None]:
    """Start ``cmd`` on a pseudo-terminal; ms until ``marker`` appears in its output, and
    the child's VmHWM (MB) then (after sending ``keys``, if any)."""
    import fcntl
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLS, 0, 0))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    buf = b""
    found = None
    hwm = None
    try:
        end = t0 + timeout
        while time.perf_counter() < end:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                if found is None and marker in buf:
                    found = (time.perf_counter() - t0) * 1000
                    if not keys:
                        break
                    for k in keys:
                        os.write(master, k)
                        time.sleep(0.02)
                    keys = None
                    end = time.perf_counter() + 3
            if proc.poll() is not None:
                break
        hwm = _vm(proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        os.close(master)
    if found is None:  # say what the terminal showed instead, for the row's note
        LAST_MISS[:] = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", " ",
                               buf[-4000:].decode("utf-8", "replace"))[-300:].strip()]
    return found, hwm


LAST_MISS: list[str] = []  # the screen's tail when the last marker was not seen


def _first_ref(path: Path) -> str:
    """The reference on the first row of the queue the console opens on (reports, open)."""
    from console import queries
    from console.queries import QueueFilter

    database, _ctx = dataset.open_copy(path)
    try:
        return queries.window(QueueFilter("report"), 0, 1)[0].ref
    finally:
        database.close()


def start_rows(cfg: Config, path: Path) -> list[Row]:
    url = f"sqlite:///{path}"
    n = cfg.r(5, 2)
    empty = [child("empty") for _ in range(n)]
    duty = [child("start", url) for _ in range(n)]
    floor = median([e["first_paint_ms"] for e in empty])
    sec = "1 · start → first painted queue"
    size = cfg.size_label
    rows = [Row(sec, f"headless run_test, {size} db (after imports)",
                median([d["first_paint_ms"] for d in duty]), baseline=floor,
                baseline_name="empty app", target=ratio_at_most(2), samples=n)]

    ref = _first_ref(path)[:12].encode()  # the ref column is 13 cells: never truncated at 12
    exe = Path(sys.executable).parent / "dutyroom"
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", LANG="zh_CN.UTF-8")
    # the operator comes from the OS login or an allowed --as (never a variable): a
    # training-room config that allows --as, and the bench's roster officer
    site = path.parent / "bench-site.yaml"
    site.write_text("operators:\n  allow_as: true\n", encoding="utf-8")
    as_officer = ["--config", str(site), "--as", dataset.BENCH_USER]
    env.pop("TEXTUAL_ANIMATIONS", None)
    p_empty, p_duty, hwm_pty = [], [], []
    for _ in range(cfg.r(5, 1)):
        ms, _h = pty_first_frame([sys.executable, "-c", EMPTY_APP], b"BENCH-READY-7731", env)
        p_empty.append(ms)
        ms, h = pty_first_frame([str(exe), *as_officer, "--db", url], ref, env)
        p_duty.append(ms)
        hwm_pty.append(h)
    ok_e = [x for x in p_empty if x is not None]
    ok_d = [x for x in p_duty if x is not None]
    rows.append(Row(sec, f"real process on a pty (`dutyroom --db …`), {size} db",
                    median(ok_d) if ok_d else None, baseline=median(ok_e) if ok_e else None,
                    baseline_name="empty app on a pty", target=ratio_at_most(2),
                    samples=len(ok_d),
                    note="" if ok_d else f"first frame not seen: {LAST_MISS[-1:]}"))
    hw = [h for h in hwm_pty if h]
    rows.append(Row("3 · memory", "RSS peak of the pty console at its first frame",
                    median(hw) if hw else None, unit="MB"))
    return rows


KEY_ORDER = ("cursor down", "page down", "jump to end", "open detail (Enter)",
             "switch queue (1/2)", "filter: overdue only (!)", "filter: scope (z)",
             "incremental search (per key)")


# issue 14's table: key → its goal against the empty app's key echo, measured in this run
ISSUE14 = (("page down", "PageDown, settled", 2), ("open detail (Enter)", "Enter → detail", 3),
           ("switch queue (1/2)", "switch queue 1/2", 3), ("cursor down", "j/Down", 2))


def key_rows(cfg: Config, path: Path) -> list[Row]:
    out = child("keys", f"sqlite:///{path}", str(cfg.r(12, 2)), budget=cfg.r(300, 40))
    floor_xs = [x for x in child("emptykeys", str(cfg.r(40, 10)))["key echo"] if x is not None]
    floor = median(floor_xs) if floor_xs else None
    sec = f"2 · key → paint on the work-order queue ({cfg.size_label} db), headless"
    rows = _issue14_key_rows(cfg, out, floor, len(floor_xs))
    for name in KEY_ORDER:
        xs = out.get(name) or []
        ok = [x for x in xs if x is not None]
        note = f"{len(xs) - len(ok)} timed out" if len(ok) < len(xs) else ""
        rows.append(Row(sec, f"{name} p50", median(ok) if ok else None, samples=len(ok),
                        note=note))
        rows.append(Row(sec, f"{name} p95", pct(ok, 95) if ok else None,
                        target=at_most(30, "ms"), samples=len(ok), note=note))
    return rows


def _issue14_key_rows(cfg: Config, out: dict, floor: float | None, n_floor: int) -> list[Row]:
    sec = f"9 · issue 14, SQLite {cfg.size_label}: each key against its same-run floor"
    rows = [Row(sec, "floor: empty app, key → echoed frame (p50)", floor, samples=n_floor)]
    for name, label, times in ISSUE14:
        ok = [x for x in out.get(name) or [] if x is not None]
        rows.append(Row(sec, f"{label} (p50)", median(ok) if ok else None, baseline=floor,
                        baseline_name="empty app key", target=ratio_at_most(times),
                        samples=len(ok), note="" if ok else "not measured"))
    ok = [x for x in out.get("search: 2nd character → filtered count") or [] if x is not None]
    rows.append(Row(sec, "search: 2nd character → filtered count on screen (p95)",
                    pct(ok, 95) if ok else None, baseline=floor, baseline_name="empty app key",
                    target=at_most(50, "ms"), samples=len(ok),
                    note="" if ok else "not measured"))
    return rows


def rss_rows(cfg: Config, path: Path) -> list[Row]:
    empty = child("empty")
    out = child("rss", f"sqlite:///{path}", str(cfg.r(40, 10)))
    return [Row("3 · memory",
                f"RSS peak after a full scroll ({out['total']:,} rows, scope all; "
                f"{out['rows_fetched']:,} rows fetched)", out["hwm_mb"], unit="MB",
                baseline=empty["hwm_mb"], baseline_name="empty app",
                target=at_most(150, "MB"))]


def datatable_rows(cfg: Config, path: Path) -> list[Row]:
    n = cfg.r(100_000, 2_000)
    empty = child("empty")
    dt_ = child("datatable", f"sqlite:///{path}", str(n))
    sec = "0 · baselines: the naive way"
    return [Row(sec, f"DataTable with all {n:,} rows: start → first paint",
                dt_["first_paint_ms"], baseline=empty["first_paint_ms"],
                baseline_name="empty app",
                note=f"of which the query {dt_['query_ms']:.0f} ms"),
            Row(sec, f"DataTable with all {n:,} rows: RSS peak", dt_["hwm_mb"], unit="MB",
                baseline=empty["hwm_mb"], baseline_name="empty app"),
            Row(sec, f"DataTable with all {n:,} rows: End key", dt_["end_ms"])]


def _cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def pty_idle(cmd: list[str], marker: bytes, env: dict, seconds: float,
             timeout: float = 60) -> tuple[float | None, float | None]:
    """Start ``cmd`` on a pty; once ``marker`` is on screen, leave it alone for ``seconds``
    (reading what it writes, as a terminal does): its CPU then, as % of one core, and the
    bytes it wrote per second."""
    import fcntl
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLS, 0, 0))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    buf, written, start, ticks0 = b"", 0, None, None
    try:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end and proc.poll() is None:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if start is None:
                    buf += chunk
                    if marker in buf:  # painted: the idle time starts now
                        time.sleep(1)  # the first second's late paints are not idling
                        start, ticks0 = time.perf_counter(), _cpu_ticks(proc.pid)
                        end = start + seconds
                else:
                    written += len(chunk)
        ticks1 = _cpu_ticks(proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        os.close(master)
    if start is None or ticks0 is None or ticks1 is None:
        return None, None
    elapsed = time.perf_counter() - start
    cpu = (ticks1 - ticks0) / os.sysconf("SC_CLK_TCK") / elapsed * 100
    return cpu, written / elapsed


def idle_rows(cfg: Config, path: Path) -> list[Row]:
    """Issue 13: an idle console's CPU (nothing changes but the clock and the countdowns)."""
    url = f"sqlite:///{path}"
    ref = _first_ref(path)[:12].encode()
    exe = Path(sys.executable).parent / "dutyroom"
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", LANG="zh_CN.UTF-8")
    env.pop("TEXTUAL_ANIMATIONS", None)
    site = path.parent / "bench-site.yaml"
    site.write_text("operators:\n  allow_as: true\n", encoding="utf-8")
    seconds = cfg.r(30, 5)
    e_cpu, _e_out = pty_idle([sys.executable, "-c", EMPTY_APP], b"BENCH-READY-7731", env, seconds)
    d_cpu, d_out = pty_idle([str(exe), "--config", str(site), "--as", dataset.BENCH_USER,
                             "--db", url], ref, env, seconds)
    sec = "3 · idle"
    note = "" if d_cpu is not None else f"first frame not seen: {LAST_MISS[-1:]}"
    return [Row(sec, f"idle console on a pty: CPU over {seconds} s, {cfg.size_label} db",
                d_cpu, unit="% core", baseline=e_cpu, baseline_name="empty app on a pty",
                samples=1, note=note or "the feed's poll (4/s), the sweep (every 5 s), the "
                "clock and the countdowns: issue 13 asks for the figure, not a bound"),
            Row(sec, "idle console: bytes written to the terminal per second", d_out,
                unit="B/s", samples=1,
                note="the clock each second, the countdowns each minute, nothing else")]


PARITY = ("cursor down", "page down", "open detail (Enter)", "switch queue (1/2)",
          "filter: scope (z)", "incremental search (per key)")


def parity_rows(cfg: Config, pg_url: str | None) -> list[Row]:
    """Issue 14's "PostgreSQL at parity": start and keys on PostgreSQL against SQLite on
    the same data (both built by bench/dataset.py at the PostgreSQL size, in this run),
    each PostgreSQL figure with its SQLite figure as the baseline, goal ≤ 1.2×."""
    if not pg_url:
        return []
    n = cfg.pg_sizes.work_orders
    sec = f"2c · PostgreSQL at parity with SQLite, {n // 1000}k work orders each"
    sqlite_url = f"sqlite:///{dataset.prepare_copy(cfg.pg_sizes, 'parity', log=cfg.log)}"
    starts: dict[str, list[float]] = {"sqlite": [], "pg": []}
    for _ in range(cfg.r(5, 1)):  # interleaved: the two see the same load
        for name, url in (("sqlite", sqlite_url), ("pg", pg_url)):
            starts[name].append(child("start", url)["first_paint_ms"])
    rows = [Row(sec, "start → first painted queue, headless (PostgreSQL)",
                median(starts["pg"]), baseline=median(starts["sqlite"]),
                baseline_name="SQLite, same data", target=ratio_at_most(1.2),
                samples=len(starts["pg"]))]
    repeats = str(cfg.r(12, 2))
    keys = {name: child("keys", url, repeats, budget=cfg.r(300, 40))
            for name, url in (("sqlite", sqlite_url), ("pg", pg_url))}
    for key in PARITY:
        pg = [x for x in keys["pg"].get(key) or [] if x is not None]
        lite = [x for x in keys["sqlite"].get(key) or [] if x is not None]
        rows.append(Row(sec, f"{key} p50 (PostgreSQL)", median(pg) if pg else None,
                        baseline=median(lite) if lite else None,
                        baseline_name="SQLite, same data", target=ratio_at_most(1.2),
                        samples=len(pg), note="" if pg and lite else "not measured"))
    return rows
