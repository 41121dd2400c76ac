"""A console doing random actions on shared items for a while, sweeping as it goes.

Usage: python stormer.py URL LOGIN SEED SECONDS REF[,REF…] BASE_ISO WALL0 SPEED
Its clock runs SPEED times faster than the wall from BASE at wall time WALL0 (the same
for every process), so items come due and the sweeps escalate them.  Prints one JSON
line: accepted actions, events the sweeps wrote, refusals and any other error.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time

from console import actions, db, i18n, settings
from console.clock import Clock
from console.context import Actor, Context
from console.errors import DomainError, StaleVersion
from console.sweep import auto_escalate


class Fast(Clock):
    def __init__(self, base: dt.datetime, wall0: float, speed: float) -> None:
        self.base, self.wall0, self.speed = base, wall0, speed

    def now(self) -> dt.datetime:
        return self.base + dt.timedelta(seconds=(time.time() - self.wall0) * self.speed)


def _act(ctx: Context, actor: Actor, rng: random.Random, refs: list[str]) -> None:
    roll = rng.random()
    if roll < 0.08:
        refs.append(actions.create_report(ctx, actor, title="风暴", category="accident",
                                          level="III").ref)
        return
    if roll < 0.14:
        refs.append(actions.create_work_order(ctx, actor, content="诉求", type="help").ref)
        return
    ref = rng.choice(refs)
    item = actions.find_item(ref)
    v = item.version
    if roll < 0.3 and item.acked_at is None:
        actions.acknowledge(ctx, actor, ref, expected_version=v)
    elif roll < 0.42 and item.step + 1 < len(item.chain):
        actions.escalate(ctx, actor, ref, expected_version=v)
    elif roll < 0.47:
        actions.urge(ctx, actor, ref, expected_version=v)
    else:
        actions.note(ctx, actor, ref, f"{actor.login} note", expected_version=v)


def main() -> None:
    url, login, seed, seconds, refs, base, wall0, speed = sys.argv[1:9]
    i18n.set_language("en")
    cfg = settings.load()
    db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    ctx = Context(cfg, Fast(dt.datetime.fromisoformat(base), float(wall0), float(speed)),
                  console=f"storm:{login}")
    actor = Actor(login, login, "leader")
    rng = random.Random(int(seed))
    items = refs.split(",")
    out = {"accepted": 0, "swept": 0, "sweeps": 0, "stale": 0, "refused": 0, "errors": []}
    end = time.monotonic() + float(seconds)
    next_sweep = 0.0
    while time.monotonic() < end:
        try:
            if time.monotonic() >= next_sweep:
                out["swept"] += len(auto_escalate(ctx))
                out["sweeps"] += 1
                next_sweep = time.monotonic() + rng.uniform(0.1, 0.5)
                continue
            _act(ctx, actor, rng, items)
            out["accepted"] += 1
        except StaleVersion:
            out["stale"] += 1
        except DomainError:
            out["refused"] += 1
        except Exception as exc:  # noqa: BLE001 - the test asserts there are none
            out["errors"].append(f"{type(exc).__name__}: {exc}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
