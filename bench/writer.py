"""The other console, for the propagation rows: commits changes and says when.

``python -m bench.writer URL KIND IDS INTERVAL_MS [bare]`` — for each id, wait a
random 0.5–1.5 × interval, commit one ``actions.note`` (or, with ``bare``, a
bare Peewee update + commit), then print ``id monotonic_time`` (CLOCK_MONOTONIC
is system-wide on Linux, so the reader compares it with its own clock).
"""

from __future__ import annotations

import random
import sys
import time


def main(argv: list[str]) -> int:
    url, kind, ids, interval = argv[0], argv[1], argv[2], float(argv[3]) / 1000
    bare = len(argv) > 4 and argv[4] == "bare"
    from console import actions, db, settings
    from console.context import Actor, Context
    from console.models import ITEM_MODELS

    database = db.open_database(url)
    ctx = Context(settings.load(), console="bench:writer")
    actor = Actor("duty", "值班员", "officer")
    model = ITEM_MODELS[kind]
    database.connect(reuse_if_open=True)
    print("ready", flush=True)
    for item_id in (int(x) for x in ids.split(",")):
        time.sleep(interval * random.uniform(0.5, 1.5))
        if bare:
            with database.atomic():
                model.update(version=model.version + 1).where(model.id == item_id).execute()
        else:
            actions.note(ctx, actor, (kind, item_id), "bench: propagation")
        print(item_id, time.monotonic(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
