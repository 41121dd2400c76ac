"""Result rows, the printed table, and the table section of docs/benchmarks.md."""

from __future__ import annotations

import math
import platform
import re
import sqlite3
import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:table:begin -->"
END = "<!-- bench:table:end -->"


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def pct(xs: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    s = sorted(xs)
    if not s:
        return math.nan
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


@dataclass(frozen=True)
class Target:
    text: str
    check: Callable[[float, float | None], bool]


def at_most(bound: float, unit: str) -> Target:
    return Target(f"≤ {bound:g} {unit}", lambda v, b: v <= bound)


def at_least(bound: float, unit: str) -> Target:
    return Target(f"≥ {bound:,g} {unit}", lambda v, b: v >= bound)


def ratio_at_most(r: float) -> Target:
    return Target(f"≤ {r:g}× baseline", lambda v, b: b is not None and v <= r * b)


@dataclass
class Row:
    section: str
    measure: str
    value: float | None  # None: not measured (note says why)
    unit: str = "ms"
    baseline: float | None = None
    baseline_name: str = ""
    target: Target | None = None
    note: str = ""
    samples: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return bool(self.target.check(self.value, self.baseline))


def fmt_value(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit == "ms":
        if v >= 10_000:
            return f"{v / 1000:.1f} s"
        return f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"
    if unit == "MB":
        return f"{v:.0f} MB"
    if unit == "rec/s":
        return f"{v:,.0f} rec/s"
    if unit in ("% core", "B/s"):
        return f"{v:,.1f} {unit}"
    return f"{v:g} {unit}"


def cells(row: Row) -> list[str]:
    value = fmt_value(row.value, row.unit)
    if row.value is None and row.note:
        value = f"n/a ({row.note})"
    base = ""
    if row.baseline is not None:
        base = fmt_value(row.baseline, row.unit)
        if row.baseline_name:
            base += f" ({row.baseline_name})"
    ratio = f"{row.ratio:.2f}×" if row.ratio is not None else ""
    target = row.target.text if row.target else ""
    met = {True: "yes", False: "**no**", None: ""}[row.met]
    return [row.measure, value, base, ratio, target, met]


HEAD = ["measure", "value", "baseline", "ratio", "target", "met?"]


def markdown(rows: list[Row]) -> str:
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            out.append(f"| **{section}** |  |  |  |  |  |")
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |")
    return "\n".join(out)


def text_table(rows: list[Row]) -> str:
    body = [cells(r) for r in rows]
    body = [[c.replace("**", "") for c in r] for r in body]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
              for i, h in enumerate(HEAD)]
    line = "  ".join(h.ljust(w) for h, w in zip(HEAD, widths, strict=True))
    out = [line, "-" * len(line)]
    section = None
    for row, c in zip(rows, body, strict=True):
        if row.section != section:
            section = row.section
            out.append(f"[{section}]")
        out.append("  ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)))
    return "\n".join(out)


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    import os

    import peewee
    import textual

    pg = ""
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True,
                            timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cores": str(os.cpu_count()), "cpu": cpu, "ram": ram,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "textual": textual.__version__, "peewee": peewee.__version__,
            "postgresql": pg, "kernel": platform.release()}


def docs_section(rows: list[Row], info: dict[str, str], header: str) -> str:
    m = info
    lines = [BEGIN, "", header, "",
             f"Machine: {m['cores']} cores ({m['cpu']}), {m['ram']} RAM, Linux {m['kernel']}; "
             f"Python {m['python']}, SQLite {m['sqlite']}, {m['postgresql'] or 'PostgreSQL ?'} "
             f"(server), Textual {m['textual']}, Peewee {m['peewee']}.", "",
             markdown(rows), "", END]
    return "\n".join(lines)


def write_docs(rows: list[Row], info: dict[str, str], header: str) -> Path:
    section = docs_section(rows, info, header)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: section, text,
                      flags=re.S)
    else:
        text = (text.rstrip() + "\n\n" if text else "# Benchmarks\n\n") + section + "\n"
    DOCS.write_text(text, encoding="utf-8")
    return DOCS
