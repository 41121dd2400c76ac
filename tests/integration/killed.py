"""A console process that commits one action, then dies mid-way through a big import.

Usage: python killed.py URL FILE — prints "committed" after the first commit and
"importing" when the import's transaction is under way; the test kills it with SIGKILL.
"""

from __future__ import annotations

import sys

from console import actions, db, i18n, intake, settings
from console.context import Actor, Context


def main() -> None:
    url, path = sys.argv[1:3]
    i18n.set_language("en")
    cfg = settings.load()
    db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    ctx = Context(cfg, console="doomed")
    actor = Actor("admin", "admin", "admin")
    actions.create_report(ctx, actor, title="断电前已提交", category="accident", level="III")
    print("committed", flush=True)
    records = intake.load_file(path, cfg)

    def progress(done: int) -> None:
        print("importing", flush=True)  # inside the open write transaction

    actions.import_records(ctx, actor, records, source="big.jsonl", progress=progress)
    print("finished", flush=True)


if __name__ == "__main__":
    main()
