"""批示 on the command line: ``:ins REF [@LEADER] [HH:MM] TEXT`` (and ``dutyroom act ins``).

``@zhaoqiang`` names a roster leader by login; ``@张市长/副市长`` a leader outside the
roster by name and title.  Without ``@`` the one typing must be a leader (their own
instruction).  ``HH:MM`` (or ``MM-DD HH:MM``) is when it was given, local time; else
now.  The action (console.actions.items.instruct) checks all of it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .clock import to_local, to_utc_naive
from .errors import DomainError
from .i18n import t

_TIME = re.compile(r"^(?:(\d{1,2})-(\d{1,2})\s+)?(\d{1,2}):(\d{2})\s+")


def parse_line(ctx: Any, value: str) -> dict[str, Any]:
    """{leader, title, at, text} from the argument of ``:ins REF …``."""
    rest = str(value or "").strip()
    leader = title = ""
    if rest.startswith("@"):
        word, _, rest = rest.partition(" ")
        leader, _, title = word[1:].partition("/")
        if not leader:
            raise DomainError(t("instruction.leader_required"), field="leader")
        leader = leader if title else "@" + leader  # @login must be on the roster
        rest = rest.strip()
    at = None
    match = _TIME.match(rest + " ")
    if match:
        at = _local(ctx, match)
        rest = rest[match.end():].strip() if match.end() <= len(rest) else ""
    return {"leader": leader, "title": title, "at": at, "text": rest}


def _local(ctx: Any, match: re.Match[str]) -> dt.datetime:
    month, day, hour, minute = match.groups()
    today = to_local(ctx.now(), ctx.settings.tz)
    try:
        when = today.replace(month=int(month) if month else today.month,
                             day=int(day) if day else today.day, hour=int(hour),
                             minute=int(minute), second=0, microsecond=0, tzinfo=None)
    except ValueError:
        raise DomainError(t("instruction.bad_time", value=match.group(0).strip()),
                          field="at") from None
    return to_utc_naive(when, ctx.settings.tz)
