"""CPU milliseconds per request of the search and case pages, in process (no server).

Rerun: ``.venv/bin/python bench/web_cpu.py [--items 100000] [--requests 200] [--passes 3]
[--profile search|case] [--sort tottime]``

Why in process: on a shared machine wall-clock latency measures the neighbours; the CPU
time one request costs (``time.process_time``, this process only) does not. The app is
built by ``create_app`` over a copy of the instance bench/web.py serves (bench/web_corpus,
cached), a clerk signs in through the login form with Flask's test client, the pages are
warmed (the first search loads jieba and opens the index), then ``--requests`` requests
per page kind, the same paths bench/web.py sends, are timed one after the other, in
``--passes`` passes; the pass with the least CPU is reported.
``--profile KIND`` prints the cProfile of that page's requests (cumulative time, top 40).
The last line is one JSON object: ``search_cpu_ms``, ``case_cpu_ms`` (mean per request).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import web_corpus  # noqa: E402

RERUN = (".venv/bin/python bench/web_cpu.py [--items N] [--requests R] [--passes P] "
         "[--profile search|case]")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def paths(meta: dict, n: int) -> dict[str, list[str]]:
    """The request paths bench/web.py sends (same seed, same order)."""
    rng = random.Random(9)
    search = [f"/search?q={urllib.parse.quote(rng.choice(meta['queries']))}" for _ in range(n)]
    case = [f"/case/{rng.choice(meta['refs'])}" for _ in range(n)]
    return {"search": search, "case": case}


def signed_in_client(home: Path):  # noqa: ANN201 (Flask's test client)
    from dangan.web.app import create_app

    app = create_app({"DANGAN_HOME": str(home), "SESSION_COOKIE_SECURE": False})
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    r = client.post("/auth/login", data={"login": "clerk", "password": web_corpus.PASSWORD,
                                         "csrf_token": token})
    assert r.status_code == 302, f"sign-in failed: {r.status_code}"
    return client


def query_class(path: str) -> str:
    """The kind of search bench/web_corpus asks: a name, an ID suffix, a word + year."""
    q = urllib.parse.unquote(path.partition("q=")[2])
    return "id_suffix" if q.isdigit() else "word_year" if "year:" in q else "name"


def measure(client, todo: list[str], profiler: cProfile.Profile | None = None) -> dict:
    cpu: list[float] = []
    by_class: dict[str, list[float]] = {}
    for path in todo:
        t = time.process_time()
        if profiler is not None:
            profiler.enable()
        r = client.get(path)
        if profiler is not None:
            profiler.disable()
        ms = (time.process_time() - t) * 1000
        cpu.append(ms)
        if path.startswith("/search"):
            by_class.setdefault(query_class(path), []).append(ms)
        assert r.status_code == 200, f"{path}: {r.status_code}"
    cpu.sort()
    return {"cpu_ms": sum(cpu) / len(cpu), "cpu_p95_ms": cpu[int(0.95 * (len(cpu) - 1))],
            "classes": {k: sum(v) / len(v) for k, v in sorted(by_class.items())}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=f"rerun: {RERUN}")
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200, help="requests per page kind")
    ap.add_argument("--passes", type=int, default=3,
                    help="passes over the requests; the least CPU per pass is reported "
                         "(the neighbours of a shared machine only ever add to it)")
    ap.add_argument("--profile", choices=("search", "case"))
    ap.add_argument("--sort", default="cumulative", help="cProfile order (tottime, ...)")
    args = ap.parse_args(argv)
    print(f"rerun: {RERUN}")
    work = Path(tempfile.mkdtemp(prefix="dangan-bench-webcpu-"))
    try:
        meta = web_corpus.instance(args.items, work)
        client = signed_in_client(work / "home")
        todo = paths(meta, args.requests)
        warm = paths(meta, 20)
        for kind in ("search", "case"):
            measure(client, warm[kind][::-1])
        out: dict[str, object] = {"items": args.items, "requests": args.requests,
                                "passes": args.passes}
        for kind in ("search", "case"):
            prof = cProfile.Profile() if args.profile == kind else None
            r = min((measure(client, todo[kind], prof) for _ in range(args.passes)),
                    key=lambda m: m["cpu_ms"])
            out.update({f"{kind}_cpu_ms": round(r["cpu_ms"], 2),
                        f"{kind}_cpu_p95_ms": round(r["cpu_p95_ms"], 2)})
            out.update({f"search_{c}_cpu_ms": round(v, 2) for c, v in r["classes"].items()})
            if prof is not None:
                pstats.Stats(prof).sort_stats(args.sort).print_stats(40)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'page':<8}{'CPU ms/request':>16}{'CPU p95 ms':>12}")
    for kind in ("search", "case"):
        print(f"{kind:<8}{out[f'{kind}_cpu_ms']:>16}{out[f'{kind}_cpu_p95_ms']:>12}")
    for c in ("name", "id_suffix", "word_year"):
        if f"search_{c}_cpu_ms" in out:
            print(f"  search, {c:<10}{out[f'search_{c}_cpu_ms']:>9}")
    print(f"rerun: {RERUN}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
