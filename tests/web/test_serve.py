"""``dangan serve`` runs gunicorn with the app and prints the address it serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_and_prints_the_address(archive):
    port = free_port()
    dangan = Path(sys.executable).with_name("dangan")
    proc = subprocess.Popen([str(dangan), "--home", str(archive.home), "serve", "--port",
                             str(port), "--workers", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in first
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login",
                                            timeout=5) as r:
                    body = r.read().decode("utf-8")
                    headers = r.headers
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        assert "登录" in body and headers["X-Frame-Options"] == "DENY"
        assert "Secure" in headers["Set-Cookie"]
        assert "gunicorn" in headers.get("Server", "")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
