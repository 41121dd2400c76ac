"""Where shipped data (config/, plans, demo data, locales) and user data live."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

_HERE = Path(__file__).resolve().parent


def config_dir() -> Path:
    """The shipped config/ folder: package data when installed, ../config in a checkout."""
    for candidate in (_HERE / "config", _HERE.parent / "config"):
        if (candidate / "default.yaml").is_file():
            return candidate
    raise FileNotFoundError("dutyroom: the shipped config/default.yaml is missing — reinstall dutyroom")


def default_config_file() -> Path:
    return config_dir() / "default.yaml"


def plans_dir() -> Path:
    return config_dir() / "plans"


def demo_dir() -> Path:
    return config_dir() / "demo"


def locales_dir() -> Path:
    return config_dir() / "locales"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("dutyroom", appauthor=False))


def default_database_file() -> Path:
    return user_data_dir() / "dutyroom.db"


def make_private_dirs(directory: Path, gid: int | None = None) -> None:
    """Create ``directory`` and missing parents 0700 (2770 with a group); existing ones stay.

    For everything dutyroom keeps (the database, logs): citizens' details are in it.
    """
    missing = []
    for d in (directory, *directory.parents):
        if d.exists():
            break
        missing.append(d)
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            d.mkdir(mode=0o700)
            if gid is not None:
                os.chown(d, -1, gid)
            os.chmod(d, 0o2770 if gid is not None else 0o700)  # mkdir's mode passes the umask
