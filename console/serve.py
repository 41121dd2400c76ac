"""``dutyroom serve --board``: the wall board as a web page, through textual-serve.

Loopback by default.  Every request must carry the token whose scrypt hash is
``serve.token_hash``: ``?token=…`` in the URL or the ``X-Dutyroom-Token`` header;
the page then sets an HttpOnly cookie so its own script, styles and websocket
(which cannot carry the query) are admitted too.  Anything else gets 403.

textual-serve's page loads a web font from the internet, which a duty room's
isolated network cannot reach: the page here is its template with that link
replaced by the same font served locally (textual-serve ships the file), and
it refuses to start if a later template loads anything else from outside.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import ipaddress
import re
import shlex
import sys
from html import escape as html_escape
from pathlib import Path

from . import i18n, kiosk
from .errors import DutyError

COOKIE = "dutyroom_board"
HEADER = "X-Dutyroom-Token"
_FONT_LINK = re.compile(r"<link\b[^>]*fonts\.googleapis\.com[^>]*>", re.S)
_LOCAL_FONT = """<style>
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf");
      }
    </style>"""
# what may stay in the page: the SVG namespace is a name, not something loaded
# the page's own words (its dialogs when the board is starting or has ended): in the
# interface language, not textual-serve's English
_PAGE_WORDS = ((">Start</button>", "Start", "start"), (">Session ended.</div>", "Session ended.",
               "ended"), (">Restart</button>", "Restart", "restart"))
_EXTERNAL = re.compile(r"(?:https?:)?//(?!www\.w3\.org/2000/svg)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def add_serve_parser(sub, parents: list | None = None) -> None:
    """``dutyroom serve`` (one line in cli._parser calls this)."""
    serve = sub.add_parser("serve", help="serve the wall board as a web page (textual-serve)",
                           parents=parents or [])
    serve.add_argument("--board", action="store_true", help="serve the wall board")
    serve.add_argument("--host", help="address to listen on (default serve.host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default serve.port)")


def page_template() -> str:
    """textual-serve's page, its web font served from here; nothing loaded from outside."""
    import textual_serve

    path = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    html = _FONT_LINK.sub(_LOCAL_FONT, path.read_text(encoding="utf-8"))
    for found, english, key in _PAGE_WORDS:
        words = html_escape(i18n.t(f"board.serve.page.{key}"))
        html = html.replace(found, found.replace(english, words))
    found = _EXTERNAL.search(html)
    if found:
        raise DutyError(i18n.t("board.serve.template_changed", url=found.group(0)))
    return html


def board_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve starts for each browser: this dutyroom's board."""
    argv = [sys.executable, "-m", "console.cli"]
    for flag, value in (("--config", args.config), ("--db", args.db), ("--lang", args.lang),
                        ("--as", args.as_login)):
        if value:
            argv += [flag, value]
    argv.append("board")
    if args.no_mouse:
        argv.append("--no-mouse")
    return shlex.join(argv)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TokenCheck:
    """Constant-time token check; a token once verified skips scrypt (a few kept)."""

    def __init__(self, token_hash: str) -> None:
        self.token_hash = token_hash
        self._good: list[bytes] = []

    def _known(self, token: str) -> bool:
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        return any(hmac.compare_digest(digest, good) for good in self._good)

    async def valid(self, token: str | None) -> bool:
        if not token:
            return False
        if self._known(token):
            return True
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, kiosk.check_secret, token, self.token_hash)
        if ok:
            self._good = [*self._good[-7:], hashlib.sha256(token.encode("utf-8")).digest()]
        return ok


def make_server(command: str, host: str, port: int, token_hash: str, title: str):
    """A textual-serve Server with the token guard and the self-contained page."""
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web
    from textual_serve.server import Server

    check = TokenCheck(token_hash)
    template = page_template()

    @web.middleware
    async def guard(request: web.Request, handler):
        token = (request.query.get("token") or request.headers.get(HEADER)
                 or request.cookies.get(COOKIE))
        if not await check.valid(token):
            return web.Response(status=403, text=i18n.t("board.serve.refused"))
        response = await handler(request)
        if request.path == "/" and request.cookies.get(COOKIE) != token:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    class BoardServer(Server):
        async def _make_app(self) -> web.Application:
            app = web.Application(middlewares=[guard])
            aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({"app_index.html": template}))
            app.add_routes([web.get("/", self.handle_index, name="index"),
                            web.get("/ws", self.handle_websocket, name="websocket"),
                            web.static("/static", self.statics_path, name="static")])
            return app

        async def handle_index(self, request: web.Request):
            # the page's URLs name the host the browser asked, whatever the bind address
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

    return BoardServer(command, host=host, port=port, title=title)


def run_serve_command(args: argparse.Namespace, setup, operator) -> int:
    """``dutyroom serve --board``: check everything, then serve until Ctrl+C."""
    ctx, _url, _ = setup(args, must_exist=True)  # also sets the language of the messages
    if not args.board:
        raise DutyError(i18n.t("board.serve.need_board"))
    operator(ctx, args.as_login)  # an unknown login is refused here, not in each browser
    cfg = ctx.settings.board
    if not cfg.token_hash:
        raise DutyError(i18n.t("board.serve.no_token"))
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise DutyError(i18n.t("board.serve.no_package")) from None
    host, port = args.host or cfg.host, args.port or cfg.port
    server = make_server(board_command(args), host, port, cfg.token_hash,
                         ctx.settings.site_name)
    if not is_loopback(host):
        print(i18n.t("board.serve.not_loopback", host=host), file=sys.stderr)
    print(i18n.t("board.serve.listening", host=host, port=port), file=sys.stderr)
    server.serve()
    return 0
