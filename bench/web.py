"""Web benchmark: requests/s and p95 latency of the search and case pages under
``dangan serve`` (gunicorn) with a load generator on loopback, over 100,000 items.

Rerun: ``.venv/bin/python bench/web.py [--items 100000] [--clients 8] [--seconds 20]
[--workers 2] [--threads 2] [--client auto|wrk|python] [--rebuild]``
(``--items 2000`` for a quick run).

What it does, in one run:
1. takes a copy of the ``--items`` instance built and cached by bench/web_corpus.py
   (real instance and catalogue rows, index from bench/search_corpus.py; the first run
   builds it, in minutes; later runs copy it in seconds);
2. starts ``dangan serve`` (gunicorn, ``--workers`` processes × ``--threads`` threads;
   two workers suit two cores: the pages are CPU-bound under one GIL per process),
   signs a clerk in through the login form (CSRF token and session cookie, as a browser);
3. per page kind, ``--clients`` keep-alive connections send requests back to back for
   ``--seconds`` (searches: names, ID number suffixes, a word with a year filter; case
   pages: random visible items): ``wrk`` (Debian package) when it is installed, else
   Python threads with ``http.client``. Each full response is timed;
4. reads the gunicorn workers' CPU time (``/proc``) before and after each page kind:
   CPU ms per request served, a figure the neighbours of a shared machine disturb less
   than latency. The load average at the start is printed with the results.
The table is printed first; the last line is one JSON object with unit-suffixed keys.
Goals (issue 11): p95 ≤ 150 ms for search, ≤ 80 ms for a case page, on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import web_corpus  # noqa: E402
import web_load  # noqa: E402

RERUN = (".venv/bin/python bench/web.py [--items N] [--clients C] [--seconds S] "
         "[--workers W] [--threads T] [--client auto|wrk|python]")
GOALS_MS = {"search": 150, "case": 80}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_cpu_s(master: int) -> float:
    """User + system CPU seconds of the gunicorn workers (children of ``master``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def start_server(home: Path, port: int, workers: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "dangan.web.cli", "--home", str(home), "serve", "--port",
         str(port), "--workers", str(workers), "--threads", str(threads), "--insecure-cookies"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"dangan serve exited with {server.returncode}") from None
            time.sleep(0.2)
    raise SystemExit("dangan serve did not start listening")


def request_paths(meta: dict, n: int) -> dict[str, list[str]]:
    rng = random.Random(9)
    return {"search": [f"/search?q={urllib.parse.quote(rng.choice(meta['queries']))}"
                       for _ in range(n)],
            "case": [f"/case/{rng.choice(meta['refs'])}" for _ in range(n)]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=f"rerun: {RERUN}")
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=8, help="concurrent client connections")
    ap.add_argument("--seconds", type=float, default=20, help="load duration per page kind")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached instance")
    args = ap.parse_args(argv)
    print(f"rerun: {RERUN}")
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    work = Path(tempfile.mkdtemp(prefix="dangan-bench-web-"))
    try:
        meta = web_corpus.instance(args.items, work, rebuild=args.rebuild)
        port = free_port()
        load_avg = os.getloadavg()[0]
        server = start_server(work / "home", port, args.workers, args.threads)
        try:
            cookie = web_load.sign_in(port, "clerk", web_corpus.PASSWORD)
            todo = request_paths(meta, 2000)
            web_load.warm(port, cookie, todo["search"][:40] + todo["case"][:40],
                          args.workers * args.threads)
            results = {}
            for kind in ("search", "case"):
                cpu0 = worker_cpu_s(server.pid)
                r = web_load.run(client, port, cookie, todo[kind], args.clients, args.seconds,
                                 work)
                r["server_cpu_ms"] = (worker_cpu_s(server.pid) - cpu0) * 1000 / max(
                    1, r["requests"])
                results[kind] = r
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.items:,} items; gunicorn {args.workers} workers × {args.threads} threads; "
          f"{args.clients} {client} connections for {args.seconds:g} s per page; "
          f"{os.cpu_count()} cores, load average {load_avg:.1f} at start")
    print(f"{'page':<8}{'requests':>9}{'req/s':>8}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}"
          f"{'goal p95':>12}{'CPU ms/req':>12}{'errors':>8}")
    out: dict[str, object] = {"items": args.items, "workers": args.workers,
                              "threads": args.threads, "clients": args.clients,
                              "client": client, "cores": os.cpu_count(),
                              "load_avg_at_start": round(load_avg, 1)}
    for kind, r in results.items():
        ok = "ok" if r["p95_ms"] <= GOALS_MS[kind] else "MISS"
        print(f"{kind:<8}{r['requests']:>9}{r['rps']:>8.1f}{r['median_ms']:>11.1f}"
              f"{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}{f'≤{GOALS_MS[kind]} {ok}':>12}"
              f"{r['server_cpu_ms']:>12.1f}{r['errors']:>8}")
        out.update({f"{kind}_rps": round(r["rps"], 1), f"{kind}_median_ms": round(r["median_ms"], 1),
                    f"{kind}_p95_ms": round(r["p95_ms"], 1), f"{kind}_max_ms": round(r["max_ms"], 1),
                    f"{kind}_server_cpu_ms": round(r["server_cpu_ms"], 2),
                    f"{kind}_requests": r["requests"], f"{kind}_errors": r["errors"],
                    f"{kind}_goal_p95_ms": GOALS_MS[kind]})
    print(f"rerun: {RERUN}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
