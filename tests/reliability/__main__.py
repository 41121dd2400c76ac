"""python -m tests.reliability [--full] [pytest args…]: run the reliability suite."""

from __future__ import annotations

import os
import sys

import pytest


def main() -> int:
    args = sys.argv[1:]
    if "--full" in args:
        args.remove("--full")
        os.environ["DUTYROOM_RELIABILITY"] = "full"
    return pytest.main(["-q", "-s", "-p", "no:cacheprovider", os.path.dirname(__file__), *args])


if __name__ == "__main__":
    sys.exit(main())
