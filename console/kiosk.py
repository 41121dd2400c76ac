"""Secrets of the wall board: the admin PIN that unlocks it, the token of its web page.

Only a salted scrypt hash is kept in config (``kiosk.pin_hash``, ``serve.token_hash``),
as one line ``scrypt$n$r$p$salt$hash`` (hex); ``dutyroom board --hash-pin`` prints it.
Checking compares in constant time.  No Textual here: ``dutyroom serve`` and the
tests use it without a terminal.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
import sys

from . import i18n
from .errors import DutyError

# scrypt cost: ~50 ms and 16 MiB per check on a small server; a PIN is checked rarely
N, R, P = 2**14, 8, 1
_MAXMEM = 64 * 1024 * 1024


def hash_secret(secret: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """The config line for ``secret`` (a fresh random salt each time)."""
    if not secret:
        raise DutyError(i18n.t("board.error.empty_secret"))
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def parse_hash(line: str) -> tuple[int, int, int, bytes, bytes] | None:
    """(n, r, p, salt, digest) of a config line, or None if it is not one."""
    parts = (line or "").strip().split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError:
        return None
    # n a power of two ≥ 2; bounded, so a hostile config cannot exhaust memory
    if n < 2 or n & (n - 1) or n > 2**20 or not (1 <= r <= 32 and 1 <= p <= 16) or not salt:
        return None
    if not digest:
        return None
    return n, r, p, salt, digest


def check_secret(secret: str, line: str) -> bool:
    """True when ``secret`` matches the hash ``line`` (False for no or a malformed hash)."""
    parsed = parse_hash(line)
    if parsed is None or not secret:
        return False
    n, r, p, salt, digest = parsed
    try:
        got = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                             maxmem=_MAXMEM, dklen=len(digest))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, digest)


# --------------------------------------------------------------------------- command line


def add_board_parser(sub, parents: list | None = None) -> None:
    """``dutyroom board``: the wall board (one line in cli._parser calls this)."""
    board = sub.add_parser("board", help="the read-only wall board (kiosk)",
                           parents=parents or [])
    board.add_argument("--hash-pin", action="store_true",
                       help="read a PIN from standard input, print its kiosk.pin_hash line")
    board.add_argument("--hash-token", action="store_true",
                       help="read a token from standard input, print its serve.token_hash line")


def hash_from_stdin(key: str) -> int:
    """Read one secret line from standard input and print the config line for ``key``."""
    if sys.stdin.isatty():
        import getpass

        secret = getpass.getpass(i18n.t("board.hash_prompt"))
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    print(f"{key}: \"{hash_secret(secret)}\"")
    return 0


def run_board_command(args: argparse.Namespace, setup, operator) -> int:
    """``dutyroom board``: hash a secret, or open the board full screen."""
    if args.hash_pin or args.hash_token:
        from . import settings

        i18n.set_language(args.lang or settings.language_of(settings.load(args.config)))
        return hash_from_stdin("pin_hash" if args.hash_pin else "token_hash")
    ctx, _url, _ = setup(args, must_exist=True)
    actor, _readonly = operator(ctx, args.as_login)
    return open_board(ctx, actor, mouse=not args.no_mouse)


def open_board(ctx, actor, *, mouse: bool = True) -> int:
    from screens.board import run_board

    return run_board(ctx, actor, mouse=mouse)
