"""Field parsers shared by the actions, the intake and the forms: each turns a raw value
into the stored one or raises a DomainError whose ``field`` names the field, with a
one-line message (the label of the field, then what is wrong).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from .errors import DomainError
from .i18n import label, t

MAX_TEXT = 20000
LOGIN_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
PHONE_RE = re.compile(r"^[0-9+()\- ]{3,40}$")


def fail(field: str, message: str) -> DomainError:
    """A problem with one field, as a one-line error that names it."""
    return DomainError(f"{label('field', field)}: {message}", field=field)


def text(value: Any, field: str, *, required: bool = False, max_len: int = MAX_TEXT) -> str:
    out = "" if value is None else str(value).strip()
    if required and not out:
        raise DomainError(t("error.required", field=label("field", field)), field=field)
    if len(out) > max_len:
        raise DomainError(t("error.too_long", field=label("field", field), max=max_len),
                          field=field)
    return out


def choice(value: Any, field: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if value not in options:
        raise DomainError(t("error.choice", field=label("field", field), value=value,
                            choices="/".join(options)), field=field)
    return value


def _matching(value: Any, field: str, regex: re.Pattern[str], key: str, *,
              required: bool) -> str:
    out = text(value, field, required=required)
    if out and not regex.match(out):
        raise fail(field, t(key))
    return out


def login(value: Any, field: str = "login", *, required: bool = True) -> str:
    return _matching(value, field, LOGIN_RE, "ui.admin.bad_login", required=required)


def code(value: Any, field: str = "code", *, required: bool = True) -> str:
    return _matching(value, field, CODE_RE, "ui.admin.bad_code", required=required)


def phone(value: Any, field: str = "phone") -> str:
    return _matching(value, field, PHONE_RE, "ui.admin.bad_phone", required=False)


def count(value: Any, field: str) -> int | None:
    """A non-negative whole number (casualty figures); None when not given."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(t("error.number", field=label("field", field), value=value),
                          field=field) from None
    if number < 0 or isinstance(value, float) and value != number:
        raise DomainError(t("error.number", field=label("field", field), value=value),
                          field=field)
    return number


def score(value: Any, field: str = "satisfaction") -> int:
    """Satisfaction 1–5."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(t("error.satisfaction", value=value), field=field) from None
    if not 1 <= number <= 5:
        raise DomainError(t("error.satisfaction", value=value), field=field)
    return number


def day(value: Any, field: str) -> dt.date | None:
    """A local calendar day typed as YYYY-MM-DD (the queue filter's dates); "" is none."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DomainError(t("error.date", field=label("field", field), value=text[:40]),
                          field=field) from None


def day_range(since: Any, until: Any) -> tuple[dt.date | None, dt.date | None]:
    """From and to days (either may be empty); from after to is refused, not an empty list."""
    first, last = day(since, "since"), day(until, "until")
    if first and last and first > last:
        raise DomainError(t("error.date_order", since=first, until=last), field="since")
    return first, last


def when(value: Any, field: str, default: dt.datetime | None = None) -> dt.datetime | None:
    """A datetime already parsed by the caller (naive UTC); None/"" gives ``default``."""
    if value in (None, ""):
        return default
    if isinstance(value, dt.datetime):
        return value
    raise DomainError(t("error.datetime", field=label("field", field), value=value), field=field)


def distinct_people(posts: dict[str, str | None]) -> None:
    """One person cannot hold two posts of one shift: the second post is named."""
    seen: set[str] = set()
    for post, who in posts.items():
        if who and who in seen:
            raise fail(post, t("ui.admin.same_person"))
        if who:
            seen.add(who)
