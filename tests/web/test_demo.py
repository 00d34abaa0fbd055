"""``dangan demo``: the demo archive, one account per role that really signs in, the OCR
progress on the home page, and — in a real process — the UI served by gunicorn."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner

from dangan.archive.instance import Archive
from dangan.search import ocr_background
from dangan.search.feed import mark_ocr_pending
from dangan.web.app import create_app
from dangan.web.cli import main
from tests.web.webkit import csrf

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _sign_in(client, login: str, password: str, uri: str):
    page = client.get("/auth/login")
    r = client.post("/auth/login", data={"login": login, "password": password,
                                          "csrf_token": csrf(page.get_data(as_text=True))})
    if r.headers.get("Location", "").endswith("/auth/totp"):
        page = client.get("/auth/totp")
        r = client.post("/auth/totp", data={"code": pyotp.parse_uri(uri).now(),
                                             "csrf_token": csrf(page.get_data(as_text=True))})
    return r


def test_demo_no_serve_creates_accounts_that_sign_in_and_shows_ocr_progress(tmp_path):
    home = tmp_path / "demo-home"
    r = CliRunner().invoke(main, ["--home", str(home), "demo", "--no-serve", "--cases", "3"])
    assert r.exit_code == 0, r.output
    accounts = dict(re.findall(r"^  (demo-[a-z]+)\s+角色 \S+\s+口令 (\S+)$", r.output, re.M))
    uris = dict(re.findall(r"^  (demo-[a-z]+): (otpauth://\S+)$", r.output, re.M))
    assert set(accounts) == {f"demo-{x}" for x in ("clerk", "archivist", "appraiser",
                                                   "inspector", "sysadmin", "secadmin",
                                                   "auditor")}
    archive = Archive.open(home)
    try:
        app = create_app({"DANGAN_ARCHIVE": archive, "SECRET_KEY": "k",
                          "SESSION_COOKIE_SECURE": False})
        for login, page in (("demo-inspector", "/inspect/"), ("demo-clerk", "/search"),
                            ("demo-archivist", "/search")):
            client = app.test_client()
            assert _sign_in(client, login, accounts[login], uris[login]).status_code == 302
            assert client.get(page).status_code == 200, login
        client = app.test_client()
        _sign_in(client, "demo-clerk", accounts["demo-clerk"], uris["demo-clerk"])
        ocr_background.write_progress(archive, "running", 1, 3)
        html = client.get("/search").get_data(as_text=True)
        assert "扫描件 OCR 正在后台进行：已完成 1/3 件" in html
        assert ocr_background.run(archive) == 3  # the real pass, as the demo runs it
        assert ocr_background.progress(archive)["state"] == "done"
        assert "OCR 正在后台进行" not in client.get("/search").get_data(as_text=True)
        assert "尚未做 OCR" not in client.get("/search").get_data(as_text=True)
        mark_ocr_pending(archive, "filed-in-a-hurry", True)  # e.g. filed with OCR off
        assert "有 1 件档案的扫描件尚未做 OCR" in client.get("/search").get_data(as_text=True)
    finally:
        archive.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_ends_by_serving_the_ui_under_gunicorn(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DANGAN_KEY_PASSPHRASE"}
    proc = subprocess.Popen([sys.executable, "-m", "dangan.web.cli", "--home",
                             str(tmp_path / "h"), "demo", "--cases", "2", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        seen = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen += line
            if f"http://127.0.0.1:{port}/" in line or proc.poll() is not None:
                break
        assert f"http://127.0.0.1:{port}/" in seen, seen
        assert "demo-inspector" in seen and "otpauth://" in seen
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login", timeout=5) as r:
                    assert r.status == 200 and "登录" in r.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not answer")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
