"""The load generators of bench/web.py: ``wrk`` (C, Debian package) driven by a Lua script,
or Python threads with keep-alive ``http.client`` connections when wrk is absent.

Both are closed loops: each connection sends its next request when the last response has
been read in full, cycling through the given paths from its own starting point. wrk costs
far less CPU per request than the Python client, which matters on two shared cores.
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

WRK_SCRIPT = """
local paths = {%(paths)s}
local cookie = %(cookie)s
local counter = 0
local i = 0
function setup(thread)
  counter = counter + 1
  thread:set("i", counter * 997)
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Cookie"] = cookie})
end
function done(summary, latency, requests)
  io.write(string.format('WRK {"requests": %%d, "duration_us": %%d, "median_us": %%d, ' ..
    '"p95_us": %%d, "max_us": %%d, "status_errors": %%d, "socket_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency.max, summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


class Client:
    """One keep-alive connection carrying a session cookie."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookie = cookie

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("dangan_session="):
                self.cookie = v.split(";", 1)[0]
        return r.status, data


def sign_in(port: int, login: str, password: str) -> str:
    """The session cookie of ``login`` signed in through the form, as a browser does."""
    c = Client(port)
    _, page = c.request("GET", "/auth/login")
    token = CSRF_RE.search(page).group(1)
    status, _ = c.request("POST", "/auth/login", urllib.parse.urlencode(
        {"login": login, "password": password, "csrf_token": token}))
    assert status == 302, f"sign-in failed: {status}"
    status, _ = c.request("GET", "/search")
    assert status == 200, f"the signed-in session is refused: {status}"
    return c.cookie


def _python(port: int, cookie: str, paths: list[str], clients: int, seconds: float) -> dict:
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(offset: int) -> None:
        c = Client(port, cookie)
        k = offset
        while time.perf_counter() < stop:
            path = paths[k % len(paths)]
            k += 1
            t = time.perf_counter()
            status, _ = c.request("GET", path)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                lat.append(ms)
                if status != 200:
                    errors[0] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n * 997,)) for n in range(clients)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    wall = time.perf_counter() - started
    lat.sort()
    return {"requests": len(lat), "rps": len(lat) / wall, "median_ms": statistics.median(lat),
            "p95_ms": lat[int(0.95 * (len(lat) - 1))], "max_ms": lat[-1], "errors": errors[0]}


def _wrk(port: int, cookie: str, paths: list[str], clients: int, seconds: float,
         work: Path) -> dict:
    script = work / "bench-web.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths),
                                    "cookie": json.dumps(cookie)}, "utf-8")
    out = subprocess.run(["wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d",
                          f"{seconds:g}s", "--timeout", "120s", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    r = json.loads(line[4:])
    return {"requests": r["requests"], "rps": r["requests"] / (r["duration_us"] / 1e6),
            "median_ms": r["median_us"] / 1000, "p95_ms": r["p95_us"] / 1000,
            "max_ms": r["max_us"] / 1000, "errors": r["status_errors"] + r["socket_errors"]}


def run(client: str, port: int, cookie: str, paths: list[str], clients: int, seconds: float,
        work: Path) -> dict:
    """Load the server with ``clients`` connections for ``seconds``; latency and rate."""
    if client == "wrk":
        return _wrk(port, cookie, paths, clients, seconds, work)
    return _python(port, cookie, paths, clients, seconds)


def warm(port: int, cookie: str, paths: list[str], clients: int) -> None:
    """Each worker loads jieba, opens the index and fills its caches before timing."""
    todo = iter(paths)
    lock = threading.Lock()

    def worker() -> None:
        c = Client(port, cookie)
        while True:
            with lock:
                path = next(todo, None)
            if path is None:
                return
            status, _ = c.request("GET", path)
            assert status == 200, f"{path}: {status}"

    pool = [threading.Thread(target=worker) for _ in range(clients)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
