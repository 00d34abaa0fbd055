"""Web benchmark: requests/s and p95 latency of the search and case pages under
``dangan serve`` (gunicorn, 2 workers) with a load generator on loopback.

Rerun: ``.venv/bin/python bench/web.py [--items 100000] [--threads 8] [--requests 400]``
(``--items 2000`` for a quick run; ``--workdir DIR`` keeps the instance for a rerun).

What it does, in one run:
1. creates an archive instance and a clerk account;
2. generates ``--items`` synthetic items (bench/search_corpus.py), builds the search index
   of that size through the search service, and inserts their catalogue rows (items,
   parties, files, process trail) in bulk, so a case page reads a real catalogue;
3. starts ``dangan serve`` (gunicorn, 2 workers × 4 threads), signs the clerk in through
   the login form (CSRF token and session cookie, as a browser does);
4. per page kind, ``--threads`` threads with keep-alive ``http.client`` connections send
   ``--requests`` requests in total (searches: names, ID numbers, words with a year
   filter; case pages: random items) and time each full response.
The table is printed first; the last line is one JSON object with unit-suffixed keys.
Goals (issue 11): p95 ≤ 150 ms for search, ≤ 80 ms for a case page, on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_corpus import generate  # noqa: E402

RERUN = ".venv/bin/python bench/web.py [--items N] [--threads T] [--requests R] [--workdir DIR]"
GOALS_MS = {"search": 150, "case": 80}
PASSWORD = "bench-password-2026"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def populate(home: Path, items: int) -> tuple[list[str], list[str]]:
    """The instance, its index and catalogue; returns (case refs, search queries)."""
    from sqlalchemy import insert

    from dangan.archive import accounts
    from dangan.archive.instance import Archive
    from dangan.archive.models import Item, ItemEvent, ItemFile, Party
    from dangan.search.feed import service_for

    archive = Archive.init(home, fonds="Z109", organization="基准测试社会保险事业管理中心")
    accounts.create_user(archive.db, "clerk", "基准查阅员", password=PASSWORD, by=None)
    accounts.grant_role(archive.db, "clerk", "clerk", by=None)
    t = time.perf_counter()
    docs = generate(items)
    print(f"generated {len(docs):,} items in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    service_for(archive).reindex(iter(docs))
    print(f"indexed in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    rng = random.Random(5)
    for start in range(0, len(docs), 5000):
        chunk = docs[start:start + 5000]
        rows, parties, files, events = [], [], [], []
        for d in chunk:
            archived = d.completed_at + timedelta(days=rng.randrange(1, 60))
            rows.append(dict(
                aip_id=d.aip_id, archival_code=d.archival_code, version=d.version,
                status="active", source_system=d.source_system, case_id=d.case_id,
                case_sha256="0" * 64, aip_sha256="0" * 64, title=d.title,
                service_item_code=d.service_item_code, service_item_name=d.service_item_name,
                insurance=["pension"], category=d.category, category_code=d.category[:4],
                retention=d.retention, classification_code=d.classification_code,
                agency_code=d.agency_code, agency_name=d.agency_name, channel=d.channel,
                outcome=d.outcome, decision_no=d.decision_no, summary=None,
                accepted_at=d.accepted_at.astimezone(UTC),
                completed_at=d.completed_at.astimezone(UTC), year=d.year,
                security_classification=d.security_classification, personal_info=True,
                file_count=2, total_bytes=200_000, page_count=3,
                received_at=archived.astimezone(UTC), archived_at=archived.astimezone(UTC),
                store_key=d.aip_id, receipt={}))
            for seq, p in enumerate(d.parties):
                parties.append(dict(aip_id=d.aip_id, role=p.get("role", "applicant"), seq=seq,
                                    kind=p.get("kind", "person"), name=p.get("name", ""),
                                    id_type=p.get("id_type", "resident_id"),
                                    id_number=p.get("id_number", "")))
            for seq, (fid, kind) in enumerate((("f1", "application_form"), ("f2", "decision"))):
                files.append(dict(aip_id=d.aip_id, seq=seq, file_id=fid,
                                  path=f"data/submission/files/{fid}.pdf", title=f"{kind}.pdf",
                                  kind=kind, origin="born_digital",
                                  declared_media_type="application/pdf",
                                  media_type="application/pdf", size=100_000, sha256="0" * 64,
                                  sm3="0" * 64, pages=1, dpi=None, created_at=None))
            for seq, step in enumerate(("accept", "handle", "feedback", "archive")):
                events.append(dict(aip_id=d.aip_id, seq=seq, step=step,
                                   at=(d.accepted_at + timedelta(hours=seq)).astimezone(UTC),
                                   actor_id="E001", actor_name="经办人", actor_role="经办",
                                   action=step, note=None, file_ids=["f1"] if seq == 0 else []))
        with archive.db.session() as s:
            s.execute(insert(Item), rows)
            s.execute(insert(Party), parties)
            s.execute(insert(ItemFile), files)
            s.execute(insert(ItemEvent), events)
    print(f"catalogue rows inserted in {time.perf_counter() - t:.1f} s")
    visible = [d for d in docs if d.security_classification != "restricted"]
    refs = [d.aip_id for d in rng.sample(visible, min(500, len(visible)))]
    queries = []
    for d in rng.sample(visible, min(300, len(visible))):
        person = d.parties[0] if d.parties else {}
        queries += [person.get("name", d.title), person.get("id_number", d.case_id)[-6:],
                    f"参保 year:{d.year}"]
    archive.close()
    return refs, queries


class Client:
    """One keep-alive connection with the clerk's session cookie."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = cookie

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, dict]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("dangan_session="):
                self.cookie = v.split(";", 1)[0]
        return r.status, data, dict(r.getheaders())


def sign_in(port: int) -> str:
    c = Client(port)
    _, page, _ = c.request("GET", "/auth/login")
    token = CSRF_RE.search(page).group(1)
    status, _, _ = c.request("POST", "/auth/login", urllib.parse.urlencode(
        {"login": "clerk", "password": PASSWORD, "csrf_token": token}))
    assert status == 302, f"sign-in failed: {status}"
    return c.cookie


def load(port: int, cookie: str, paths: list[str], threads: int) -> dict[str, float]:
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    todo = iter(paths)

    def worker() -> None:
        c = Client(port, cookie)
        while True:
            with lock:
                path = next(todo, None)
            if path is None:
                return
            t = time.perf_counter()
            status, _, _ = c.request("GET", path)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                lat.append(ms)
                if status != 200:
                    errors[0] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    wall = time.perf_counter() - started
    lat.sort()
    return {"requests": len(lat), "rps": len(lat) / wall, "median_ms": statistics.median(lat),
            "p95_ms": lat[int(0.95 * (len(lat) - 1))], "max_ms": lat[-1], "errors": errors[0]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 epilog=f"rerun: {RERUN}")
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=8, help="concurrent client connections")
    ap.add_argument("--requests", type=int, default=400, help="requests per page kind")
    ap.add_argument("--workdir", type=Path, help="keep the instance here (reused if present)")
    args = ap.parse_args(argv)
    print(f"rerun: {RERUN}")
    os.environ.setdefault("DANGAN_KEY_PASSPHRASE", "bench-only-passphrase")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dangan-bench-web-"))
    home = work / "home"
    meta = work / "bench-web.json"
    if meta.exists():
        refs, queries = json.loads(meta.read_text("utf-8"))
    else:
        work.mkdir(parents=True, exist_ok=True)
        refs, queries = populate(home, args.items)
        meta.write_text(json.dumps([refs, queries], ensure_ascii=False), "utf-8")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dangan.web.cli", "--home", str(home),
                               "serve", "--port", str(port), "--workers", "2",
                               "--insecure-cookies"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        cookie = sign_in(port)
        rng = random.Random(9)
        search_paths = [f"/search?q={urllib.parse.quote(rng.choice(queries))}"
                        for _ in range(args.requests)]
        case_paths = [f"/case/{rng.choice(refs)}" for _ in range(args.requests)]
        load(port, cookie, search_paths[:20] + case_paths[:20], 2)  # warm both workers
        results = {"search": load(port, cookie, search_paths, args.threads),
                   "case": load(port, cookie, case_paths, args.threads)}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'page':<8}{'requests':>9}{'req/s':>9}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}"
          f"{'goal p95':>10}{'errors':>8}")
    out: dict[str, object] = {"items": args.items, "threads": args.threads,
                              "gunicorn_workers": 2, "cores": os.cpu_count()}
    for page, r in results.items():
        ok = "ok" if r["p95_ms"] <= GOALS_MS[page] else "MISS"
        print(f"{page:<8}{r['requests']:>9}{r['rps']:>9.1f}{r['median_ms']:>11.1f}"
              f"{r['p95_ms']:>9.1f}{f'≤{GOALS_MS[page]} {ok}':>10}{r['errors']:>8}")
        out.update({f"{page}_rps": round(r["rps"], 1), f"{page}_median_ms": round(r["median_ms"], 1),
                    f"{page}_p95_ms": round(r["p95_ms"], 1), f"{page}_max_ms": round(r["max_ms"], 1),
                    f"{page}_errors": r["errors"], f"{page}_goal_p95_ms": GOALS_MS[page]})
    print(f"rerun: {RERUN}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
