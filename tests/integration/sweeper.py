"""A console's sweep in its own process, at a fixed moment: python sweeper.py URL ISO."""

from __future__ import annotations

import datetime as dt
import json
import sys

from console import db, i18n, settings
from console.clock import FrozenClock
from console.context import Context
from console.sweep import auto_escalate


def main() -> None:
    url, at = sys.argv[1:3]
    i18n.set_language("en")
    cfg = settings.load()
    db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    ctx = Context(cfg, FrozenClock(dt.datetime.fromisoformat(at)), console="sweeper")
    try:
        result = auto_escalate(ctx)
        print(json.dumps({"escalated": len(result), "errors": []}))
    except Exception as exc:  # noqa: BLE001
        print(json.dumps({"escalated": 0, "errors": [f"{type(exc).__name__}: {exc}"]}))


if __name__ == "__main__":
    main()
