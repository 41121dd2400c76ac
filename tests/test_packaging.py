"""What a non-editable install (the README's first line) ships: every package and every
shipped config file.  Found: console/actions/ was not listed, so `pip install .` gave a
console that died at start with ModuleNotFoundError (the suite's editable paths hid it)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_python_package_is_listed():
    found = {str(p.parent.relative_to(ROOT)).replace("/", ".")
             for top in ("console", "screens") for p in (ROOT / top).rglob("__init__.py")}
    assert found - set(TOOL["packages"]) == set()


def test_every_shipped_config_file_is_package_data():
    patterns = TOOL["package-data"]["console.config"]
    config = ROOT / TOOL["package-dir"]["console.config"]
    missed = [str(p.relative_to(config)) for p in config.rglob("*") if p.is_file()
              and not any(fnmatch.fnmatch(str(p.relative_to(config)), pat) for pat in patterns)]
    assert missed == []
    styles = {str(p.relative_to(ROOT / "screens")) for p in (ROOT / "screens").rglob("*.tcss")}
    assert all(any(fnmatch.fnmatch(s, pat) for pat in TOOL["package-data"]["screens"])
               for s in styles), styles
