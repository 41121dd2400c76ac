"""A console process for the concurrency tests: acts on shared items as fast as it can.

Usage: python worker.py URL LOGIN SEED ACTIONS REF[,REF…]
Prints one JSON line: accepted actions, stale/illegal refusals, and any other
error text (a "database is locked" reaching the officer would show up there).
"""

from __future__ import annotations

import json
import random
import sys

from console import actions, db, i18n, settings
from console.context import Actor, Context
from console.errors import DomainError, StaleVersion


def main() -> None:
    url, login, seed, count, refs = sys.argv[1:6]
    i18n.set_language("en")
    cfg = settings.load()
    db.migrate(db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms))
    ctx = Context(cfg, console=f"worker:{login}")
    actor = Actor(login, login, "leader")
    rng = random.Random(int(seed))
    refs = refs.split(",")
    out = {"accepted": 0, "stale": 0, "refused": 0, "errors": [], "by_ref": {}}
    for _ in range(int(count)):
        ref = rng.choice(refs)
        try:
            item = actions.find_item(ref)
            roll = rng.random()
            if roll < 0.2 and item.acked_at is None:
                actions.acknowledge(ctx, actor, ref, expected_version=item.version)
            elif roll < 0.35 and item.step + 1 < len(item.chain):
                actions.escalate(ctx, actor, ref, expected_version=item.version)
            else:
                actions.note(ctx, actor, ref, f"{login} note", expected_version=item.version)
            out["accepted"] += 1
            out["by_ref"][ref] = out["by_ref"].get(ref, 0) + 1
        except StaleVersion:
            out["stale"] += 1
        except DomainError:
            out["refused"] += 1
        except Exception as exc:  # noqa: BLE001 - the test asserts there are none
            out["errors"].append(f"{type(exc).__name__}: {exc}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
