"""``dutyroom serve --board``: the token, a self-contained page, and the board in Chromium.

The end-to-end test drives Debian's headless Chromium over the DevTools protocol
(aiohttp, which textual-serve brings, is the websocket client): it loads the page
with the token, reads the terminal bytes the board sends to it, takes a
screenshot, and records every request the page made.  Without Chromium it tries
``apt-get install chromium`` (as root, where apt works) and otherwise skips,
saying why.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("textual_serve", reason="textual-serve is not installed (dutyroom[serve])")

from console import i18n, kiosk, serve  # noqa: E402

TOKEN = "wall-token-7f3a"
ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)")


# --------------------------------------------------------------------------- the page, offline


def test_textual_serve_page_loads_a_font_from_outside_and_ours_does_not():
    """Found: textual-serve's page loads a web font from the internet."""
    import textual_serve

    original = (Path(textual_serve.__file__).parent / "templates" / "app_index.html").read_text(
        encoding="utf-8")
    assert serve._EXTERNAL.search(original)  # fonts.googleapis.com
    page = serve.page_template()
    assert serve._EXTERNAL.search(page) is None
    assert "fonts/RobotoMono-VariableFont_wght.ttf" in page
    font = Path(textual_serve.__file__).parent / "static" / "fonts" / "RobotoMono-VariableFont_wght.ttf"
    assert font.is_file()  # what the page now asks for is served from here


def test_the_page_speaks_the_interface_language():
    """Tried in Chromium after an unlock: 'Session ended.' and 'Restart' on a zh-CN wall."""
    before = i18n.language()
    i18n.set_language("zh-CN")
    try:
        page = serve.page_template()
    finally:
        i18n.set_language(before)
    assert "值班大屏已结束。" in page and ">重新打开</button>" in page and ">开始</button>" in page
    assert "Session ended." not in page and ">Restart<" not in page


def test_loopback_by_default():
    assert serve.is_loopback("127.0.0.1") and serve.is_loopback("::1")
    assert serve.is_loopback("localhost") and not serve.is_loopback("0.0.0.0")
    from console import settings

    assert settings.load().board.host == "127.0.0.1"


def test_serve_without_a_token_hash_refuses_to_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'duty.db'}"
    subprocess.run([sys.executable, "-m", "console.cli", "--db", url, "init"], check=True,
                   capture_output=True, cwd=ROOT)
    done = subprocess.run([sys.executable, "-m", "console.cli", "--db", url, "--lang", "en",
                           "serve", "--board"], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 1 and "serve.token_hash is not set" in done.stderr
    assert "Traceback" not in done.stderr


# --------------------------------------------------------------------------- a live server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    url = f"sqlite:///{tmp / 'duty.db'}"
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    subprocess.run([sys.executable, "-m", "console.cli", "--db", url, "demo", "--days", "2"],
                   check=True, capture_output=True, cwd=ROOT, env=env, timeout=300)
    site = tmp / "site.yaml"
    site.write_text(f'serve:\n  token_hash: "{kiosk.hash_secret(TOKEN)}"\n', encoding="utf-8")
    port = _free_port()
    log = open(tmp / "serve.log", "w+b")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--config", str(site), "--db", url,
         "--lang", "en", "serve", "--board", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        else:
            pytest.fail("dutyroom serve did not start listening")
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"dutyroom serve exited: {log.read().decode()[-2000:]}")
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # the server stops its board sessions
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_requests_without_the_token_get_403(server):
    assert _get(f"{server}/")[0] == 403
    assert _get(f"{server}/?token=wrong")[0] == 403
    assert _get(f"{server}/static/js/textual.js")[0] == 403
    assert _get(f"{server}/ws")[0] == 403
    assert _get(f"{server}/", {"Cookie": "dutyroom_board=wrong"})[0] == 403


def test_the_token_admits_and_the_page_names_no_outside_host(server):
    status, html, headers = _get(f"{server}/?token={TOKEN}")
    assert status == 200
    assert "HttpOnly" in headers.get("Set-Cookie", "") and "dutyroom_board=" in headers["Set-Cookie"]
    assert _get(f"{server}/", {serve.HEADER: TOKEN})[0] == 200
    assert _get(f"{server}/static/js/textual.js", {"Cookie": f"dutyroom_board={TOKEN}"})[0] == 200
    host = urlsplit(server).netloc
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)|url\(["']?([^"')]+)""", html)
    loaded = [a or b for a, b in urls]
    assert loaded, "the page loads its script and styles"
    for u in loaded:
        assert urlsplit(u).netloc in ("", host), u
    assert "googleapis" not in html and serve._EXTERNAL.search(html) is None


# --------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        for cmd in (["apt-get", "install", "-y", "-q", "chromium"],
                    ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(cmd, capture_output=True, timeout=900, check=False,
                               env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            found = shutil.which("chromium")
            if found:
                break
    if not found:
        pytest.skip("no chromium on PATH and `apt-get install chromium` was not possible here")
    return found


async def _cdp_session(port: int, page_url: str, want: bytes, seconds: float = 40.0) -> dict:
    """Load ``page_url`` in the browser's tab; collect websocket bytes, requests, a screenshot."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        targets = await (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        page = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 10_000))
            replies: dict[int, dict] = {}

            async def call(method: str, **params) -> int:
                n = next(ids)
                await ws.send_str(json.dumps({"id": n, "method": method, "params": params}))
                return n

            await call("Network.enable")
            await call("Page.enable")
            await call("Page.navigate", url=page_url)
            received, requests, shot_id = b"", [], None
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    msg = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                data = json.loads(msg.data)
                method = data.get("method")
                if method == "Network.requestWillBeSent":
                    requests.append(data["params"]["request"]["url"])
                elif method == "Network.webSocketFrameReceived":
                    frame = data["params"]["response"]
                    payload = frame["payloadData"]
                    received += base64.b64decode(payload) if frame.get("opcode") == 2 else (
                        payload.encode())
                    if shot_id is None and want in ANSI.sub(b"", received):
                        await asyncio.sleep(1.0)  # let xterm paint the rest of the screen
                        shot_id = await call("Page.captureScreenshot", format="png")
                elif "id" in data:
                    replies[data["id"]] = data
                    if shot_id is not None and data["id"] == shot_id:
                        break
            shot = replies.get(shot_id, {}).get("result", {}).get("data") if shot_id else None
            return {"text": ANSI.sub(b"", received).decode("utf-8", "replace"),
                    "requests": requests, "screenshot": base64.b64decode(shot) if shot else b""}


def test_board_in_headless_chromium(server, chromium, tmp_path):
    profile = tmp_path / "profile"
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile}",
         "--remote-debugging-port=0", "--window-size=1280,800", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(150):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        got = asyncio.run(_cdp_session(port, f"{server}/?token={TOKEN}", b"Most urgent"))
    finally:
        os.killpg(browser.pid, signal.SIGTERM)
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(browser.pid, signal.SIGKILL)
    text = got["text"]
    assert "Most urgent" in text and "u: unlock" in text  # the board drew itself in the page
    assert "BG-2026-" in text or "12345-2026" in text  # with items from the database
    host = urlsplit(server).netloc
    assert got["requests"], "the page made requests"
    outside = [u for u in got["requests"] if urlsplit(u).netloc not in (host, "")
               and not u.startswith(("data:", "about:", "blob:"))]
    assert outside == []  # no font, script or style from anywhere else
    assert got["screenshot"].startswith(b"\x89PNG") and len(got["screenshot"]) > 20_000
    (tmp_path / "board.png").write_bytes(got["screenshot"])
