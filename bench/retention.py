"""The due list (到期鉴定清单) over a million catalogued items, and a destruction batch of
10,000 items (``bench/retention_destruction.py``), on SQLite.

Rerun: ``.venv/bin/python bench/retention.py [--items 1000000] [--holds 50]
[--as-of 2026-12-01]`` (``BENCH_TMP=/some/disk`` puts the instance elsewhere than the
system temp folder; ``--help`` for all options). About two minutes at 10^6 items on two
cores, most of it the bulk insert.

A fresh instance (``Archive.init``: the real schema through Alembic, with the
``ix_items_due`` index) gets ``--items`` catalogue rows and one party each, inserted in
bulk with ``executemany`` (no AIPs: the due list reads only the catalogue). Service items
are drawn from the filing configuration, completion years 1990–2025, so the due dates and
periods follow the real rule (``archive.schedule.due_on``). ``--holds`` person holds plus
one case hold are active (rows inserted directly), so the held-item join is exercised.
The due list is then measured in a separate process (fresh memory, warm page cache as on
a running server): the grouped list with the first 1,000 items (what ``dangan retention
due`` prints), then every due item id. Peak RSS is that process's own maximum resident set (VmHWM).
Then the destruction batch (``--destroy-items``, 0 skips it; ``--destroy-chunk`` items
per transaction and index commit) runs on its own fresh instance: its items/s (goal
>= 200), CPU ms per item and peak RSS go into the same JSON line (``destruction_*``).
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

GOAL_S = 2.0
sys.path.insert(0, str(Path(__file__).parent))  # the destruction batch beside this script
from retention_destruction import GOAL_ITEMS_PER_S  # noqa: E402
from retention_destruction import run as destruction_run  # noqa: E402


def _build(home: Path, n: int, n_holds: int, seed: int) -> dict[str, float]:
    from dangan.archive.instance import Archive
    from dangan.archive.schedule import due_on

    archive = Archive.init(home, fonds="Z001", organization="基准测试社会保险事业管理中心")
    services = archive.filing_config.items
    db_path = archive.settings.db_url.removeprefix("sqlite:///")
    archive.close()
    rng = random.Random(seed)
    t0 = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA synchronous=OFF")  # a scratch catalogue: durability is not measured
    conn.execute("PRAGMA cache_size=-400000")  # 400 MB of page cache for the index inserts
    cols = ("aip_id", "archival_code", "version", "status", "source_system", "case_id",
            "case_sha256", "aip_sha256", "title", "service_item_code", "service_item_name",
            "insurance", "category", "category_code", "retention", "classification_code",
            "agency_code", "agency_name", "channel", "outcome", "accepted_at", "completed_at",
            "year", "due_on", "security_classification", "personal_info", "file_count",
            "total_bytes", "received_at", "archived_at", "store_key", "receipt")
    # Bulk load as a DBA would: drop the catalogue's indexes, insert in key order, rebuild
    # the very same indexes (their SQL is read back from the schema Alembic created).
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                           "tbl_name IN ('items', 'parties') AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    item_sql = f"INSERT INTO items ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    party_sql = ("INSERT INTO parties (aip_id, role, seq, kind, name, id_type, id_number) "
                 "VALUES (?, 'applicant', 1, 'person', '张三', 'resident_id', ?)")
    people: list[str] = []
    chunk = 50_000
    for start in range(0, n, chunk):
        items, parties = [], []
        for k in range(start, min(n, start + chunk)):
            s = services[rng.randrange(len(services))]
            year = rng.randint(1990, 2025)
            aip = f"aip-{k:012d}"
            when = f"{year}-06-15 02:00:00.000000"
            items.append((
                aip, f"Z001-WS·{year}-{s.retention}-{s.category_code}-{k:06d}", 1, "active",
                "jbxt", f"CASE-{k:09d}", "0" * 64, "1" * 64, f"{s.name}（第 {k} 件）", s.code,
                s.name, "[]", s.category, s.category_code, s.retention, s.classification_code,
                "A01", "某市社保中心", "window", "approved", when, when, year,
                (d.isoformat() if (d := due_on(year, s.retention)) else None), "public", 1, 5,
                250_000, when, when, f"store/{aip}", "{}"))
            person = f"11010119{rng.randint(50, 99)}0101{k % 10000:04d}"
            if len(people) < n_holds and rng.random() < 0.001:
                people.append(person)
            parties.append((aip, person))
        conn.executemany(item_sql, items)
        conn.executemany(party_sql, parties)
        conn.commit()
    t_index = time.perf_counter()
    for _, sql in indexes:
        conn.execute(sql)
    conn.commit()
    index_s = time.perf_counter() - t_index
    hold_sql = ("INSERT INTO retention_holds (kind, scope, target, reason, authority, placed_by,"
                " placed_at) VALUES ('legal', ?, ?, '基准测试', '基准测试', 'bench', "
                "'2026-01-01 00:00:00.000000')")
    conn.executemany(hold_sql, [("person", p) for p in people] + [("case", "CASE-000000007")])
    conn.commit()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # steady state, as a running server's
    conn.close()
    return {"insert_s": time.perf_counter() - t0, "index_s": index_s, "holds": len(people) + 1}


def _peak_rss_mb() -> float:
    """This process's own peak resident set (VmHWM; unlike ru_maxrss it is reset at exec,
    so the bulk loader that started this process is not counted)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(home: Path, as_of: date) -> dict[str, float]:
    from dangan.archive.instance import Archive
    from dangan.retention.schedule import due_list

    archive = Archive.open(home, upgrade=False)
    config = archive.filing_config
    with archive.db.session() as s:  # imports, connection, statement compilation
        due_list(s, config, date(1900, 1, 1), limit=10)
    baseline = _peak_rss_mb()
    t0 = time.perf_counter()
    with archive.db.session() as s:
        page = due_list(s, config, as_of, limit=1000)
    listed = time.perf_counter() - t0
    t0 = time.perf_counter()
    with archive.db.session() as s:
        full = due_list(s, config, as_of, limit=None)
    everything = time.perf_counter() - t0
    assert len(full.items) == page.total
    return {"due_list_s": listed, "due_all_items_s": everything, "due": page.total,
            "held_due": page.held, "groups": len(page.groups),
            "peak_rss_mb": _peak_rss_mb(),
            "baseline_rss_mb": baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="catalogued items")
    parser.add_argument("--holds", type=int, default=50, help="active person holds")
    parser.add_argument("--as-of", default="2026-12-01", help="due-list date (YYYY-MM-DD)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--destroy-items", type=int, default=10_000,
                        help="items in the destruction batch (0: skip it)")
    parser.add_argument("--destroy-chunk", type=int, default=500,
                        help="items per destruction transaction and index commit")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    if args.measure:
        print(json.dumps(_measure(args.measure, as_of)))
        return
    print(f"rerun: .venv/bin/python bench/retention.py --items {args.items} --holds "
          f"{args.holds} --as-of {args.as_of}", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        home = Path(tmp) / "home"
        built = _build(home, args.items, args.holds, args.seed)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(home), "--as-of", args.as_of],
            check=True, capture_output=True, text=True)
        m = json.loads(child.stdout.strip().splitlines()[-1])
        db_mb = (home / "catalogue.sqlite3").stat().st_size / 1e6
    d = destruction_run(args.destroy_items, args.destroy_chunk) if args.destroy_items else {}
    rows = [("measure", "value"),
            ("items catalogued", f"{args.items:,}"),
            ("bulk load (items + parties)", f"{built['insert_s']:.1f} s, of which "
                                            f"{built['index_s']:.1f} s index builds"),
            ("catalogue size", f"{db_mb:.0f} MB"),
            ("active holds", f"{built['holds']:.0f}"),
            (f"due on {args.as_of}", f"{m['due']:,} items in {m['groups']} groups, "
                                     f"{m['held_due']} held"),
            ("due list (groups + first 1,000)", f"{m['due_list_s']:.3f} s (goal <= {GOAL_S} s)"),
            ("every due item", f"{m['due_all_items_s']:.3f} s"),
            ("peak RSS of the due-list process", f"{m['peak_rss_mb']:.0f} MB ("
             f"{m['baseline_rss_mb']:.0f} MB before the first measured query)")]
    if d:
        rows += [("destruction batch", f"{d['destroyed']:,} items: {d['items_per_s']:.0f} items/s "
                  f"(goal >= {GOAL_ITEMS_PER_S:.0f}), {d['cpu_ms_per_item']:.2f} ms CPU per item"),
                 ("  then its register filed", f"{d['register_wall_s']:.1f} s "
                  f"({d['items_per_s_with_register']:.0f} items/s with it)"),
                 ("  peak RSS of the destruction", f"{d['peak_rss_before_register_mb']:.0f} MB,"
                  f" {d['peak_rss_mb']:.0f} MB with the register")]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    print(json.dumps({"items": args.items, "due": m["due"], "held_due": m["held_due"],
                      "due_list_s": round(m["due_list_s"], 3),
                      "due_all_items_s": round(m["due_all_items_s"], 3),
                      "peak_rss_mb": round(m["peak_rss_mb"], 1),
                      "baseline_rss_mb": round(m["baseline_rss_mb"], 1),
                      "insert_s": round(built["insert_s"], 1), "goal_s": GOAL_S,
                      **({f"destruction_{k}": round(v, 3) if isinstance(v, float) else v
                          for k, v in d.items()} | {"destruction_goal_items_per_s":
                                                    GOAL_ITEMS_PER_S} if d else {})}))


if __name__ == "__main__":
    main()
