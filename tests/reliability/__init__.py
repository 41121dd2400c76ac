"""The reliability suite (issue 9 §8): quick inside the normal ``pytest`` run, full on demand.

    pytest tests/reliability -q -s                         # quick (CI): under a minute
    DUTYROOM_RELIABILITY=full pytest tests/reliability -q -s   # full: ≥200 kills per database…
    python -m tests.reliability --full                     # the same, one command

Each test prints one figure line and, when ``DUTYROOM_RELIABILITY_REPORT`` names a file,
appends it there as a JSON row (one object per line).
"""

from __future__ import annotations

import datetime as dt
import json
import os

FULL = os.environ.get("DUTYROOM_RELIABILITY", "quick").lower() == "full"
_SIZES = ("KILLS", "DROPS", "PROCS", "SECONDS")
# a run with a size set by hand says so in every figure line
MODE = ("full" if FULL else "quick") + (
    "+sizes" if any(os.environ.get(f"DUTYROOM_RELIABILITY_{n}") for n in _SIZES) else "")


def size(quick: int, full: int, name: str = "") -> int:
    """The trial count for this mode; ``DUTYROOM_RELIABILITY_<NAME>`` overrides it."""
    override = os.environ.get(f"DUTYROOM_RELIABILITY_{name.upper()}") if name else None
    return int(override) if override else (full if FULL else quick)


def figure(test: str, **figures: object) -> str:
    """Print the test's one-line summary and append it to the report file if one is set."""
    row = {"test": test, "mode": MODE, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           **figures}
    line = f"[reliability {MODE}] {test}: " + ", ".join(f"{k}={v}" for k, v in figures.items())
    print(line)
    path = os.environ.get("DUTYROOM_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return line
