"""What the browser tests share: Debian's Chromium launched by Playwright, the app served
on a loopback port, sign-in through the real forms (password, then TOTP), screenshots
written to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dangan.web.app import create_app
from tests.web.webkit import PASSWORD, WebArchive

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def serve(web: WebArchive, secret: str) -> Iterator[str]:
    """The app over ``web`` on 127.0.0.1 (threaded werkzeug); yields its base URL."""
    from werkzeug.serving import make_server

    app = create_app({"DANGAN_ARCHIVE": web.archive, "SECRET_KEY": secret,
                      "SESSION_COOKIE_SECURE": False})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (no browser download); skips when absent."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run .ci/install-system-packages as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def new_page(browser: Any, height: int = 860) -> Any:
    """A fresh browser context (its own cookies: another person, or another device)."""
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": height},
                              accept_downloads=True)
    return ctx.new_page()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, server: str, web: WebArchive, login: str,
            password: str = PASSWORD) -> None:
    page.goto(f"{server}/auth/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    if page.url.endswith("/auth/totp"):
        page.fill("input[name=code]", web.code(login))
        page.click("main button[type=submit]")
