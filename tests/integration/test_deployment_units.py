"""The systemd units of docs/deployment.md, as written there, pass ``systemd-analyze verify``
(issue 13: every command in the doc is run by a test).

Each ``ini`` block headed ``# /etc/systemd/system/NAME`` is written to a folder under its
name, its ExecStart program pointed at this checkout's ``dutyroom`` (the doc's
/opt/dutyroom/bin/dutyroom is not installed here), and verified: no unknown key, no bad value,
a timer whose service exists.  What systemd then does (Restart=always, the timer firing) is
systemd's and not run here: a container has no systemd as PID 1.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployment.md"
UNIT = re.compile(r"```ini\n# /etc/systemd/system/(?P<name>[\w@.-]+)\n(?P<body>.*?)```", re.S)


def units() -> dict[str, str]:
    return {m["name"]: m["body"] for m in UNIT.finditer(DOC.read_text(encoding="utf-8"))}


def test_the_doc_has_the_board_and_the_sweep_units():
    found = units()
    assert {"dutyroom-board.service", "dutyroom-sweep.service",
            "dutyroom-sweep.timer"} <= found.keys()
    for name in (n for n in found if n.endswith(".timer")):  # verify does not check this
        assert name.removesuffix(".timer") + ".service" in found, name
    board = found["dutyroom-board.service"]
    assert "Restart=always" in board and "board" in board  # the board comes back by itself


def test_every_unit_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    exe = Path(sys.executable).parent / "dutyroom"
    for name, body in units().items():
        (tmp_path / name).write_text(body.replace("/opt/dutyroom/bin/dutyroom", str(exe)),
                                     encoding="utf-8")
    for name in units():
        res = subprocess.run([analyze, "verify", str(tmp_path / name)], capture_output=True,
                             text=True, timeout=120)
        # users named in User= need not exist here; anything else said is a fault
        said = [line for line in res.stderr.splitlines()
                if line.strip() and "user" not in line.lower()]
        assert res.returncode == 0 and said == [], (name, res.stderr)


def test_a_bad_key_would_be_caught(tmp_path):
    """The check itself can fail: a misspelt key is reported."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    bad = tmp_path / "bad.service"
    bad.write_text("[Service]\nRestar=always\nExecStart=/bin/true\n", encoding="utf-8")
    res = subprocess.run([analyze, "verify", str(bad)], capture_output=True, text=True,
                         timeout=120)
    assert "Unknown key" in res.stderr
