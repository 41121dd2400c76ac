"""A console writing a stream of actions until it is killed (SIGKILL) at a random moment.

Usage: python kill_writer.py URL SEED REF[,REF…]
Prints "ready" once connected, then "ok INTENT" after each action that returned (was
committed); every action carries its own intent key, so the test can find its event.
"""

from __future__ import annotations

import random
import sys

from console import actions, db, i18n, settings
from console.context import Actor, Context
from console.errors import DomainError


def _one(ctx: Context, actor: Actor, rng: random.Random, refs: list[str], key: str) -> None:
    roll = rng.random()
    if roll < 0.12:
        refs.append(actions.create_report(ctx, actor, title=f"事件 {key}", category="accident",
                                          level="III", intent=key).ref)
        return
    if roll < 0.2:
        refs.append(actions.create_work_order(ctx, actor, content=f"诉求 {key}", type="help",
                                              intent=key).ref)
        return
    ref = rng.choice(refs)
    item = actions.find_item(ref)
    if roll < 0.35 and item.acked_at is None:
        actions.acknowledge(ctx, actor, ref, expected_version=item.version, intent=key)
    elif roll < 0.5 and item.step + 1 < len(item.chain):
        actions.escalate(ctx, actor, ref, expected_version=item.version, intent=key)
    else:
        actions.note(ctx, actor, ref, f"note {key}", expected_version=item.version, intent=key)


def main() -> None:
    url, seed, refs = sys.argv[1:4]
    i18n.set_language("en")
    cfg = settings.load()
    database = db.open_database(url, busy_timeout_ms=cfg.busy_timeout_ms)
    database.connect(reuse_if_open=True)
    ctx = Context(cfg, console=f"kill-writer:{seed}")
    actor = Actor("zhaoqiang", "赵强", "leader")
    rng = random.Random(int(seed))
    items = refs.split(",")
    print("ready", flush=True)
    i = 0
    while True:
        key = f"kw{seed}-{i}"
        i += 1
        try:
            _one(ctx, actor, rng, items, key)
        except DomainError:
            continue  # refused (illegal from this status): nothing committed, nothing said
        print(f"ok {key}", flush=True)


if __name__ == "__main__":
    main()
