"""A destruction batch (销毁) of 10,000 items, on SQLite: items/s and peak memory.

Rerun alone: ``.venv/bin/python bench/retention_destruction.py [--items 10000] [--chunk 500]``;
``bench/retention.py`` runs it too and puts its figures in its JSON line. Goal: at least
200 items/s.

Peak RSS is reported before the register is filed (the destruction itself) and after
(the register's PDF of every row is rendered, checked and indexed in memory).

Set-up (not measured): a fresh instance (``Archive.init``), ``--items`` catalogue rows
(one party each) inserted in bulk, due (D10, completed 2010), each with an AIP folder in
the store, a replica folder, an extracted-text file and an index entry (one Whoosh
build), so every copy the destruction removes exists. A real appraisal through the
services (proposal, two opinions, decision), the principal's approval and the 备案.

Measured in a separate process (fresh memory): ``destruction.execute`` with two
supervisors — copies removed, index entries removed in chunks (``remove_many``),
tombstones and ``aip:destroy`` entries written, then the register (销毁清册: a signed PDF
of every row and its XML) filed through ingest. Reported: items/s for the destruction
alone and including the register, CPU seconds per item (``time.process_time``: a shared
machine's wall clock is noise), and the process's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

GOAL_ITEMS_PER_S = 200.0
AS_OF = date(2026, 6, 1)
STAFF = {"bench-archivist": "archivist", "bench-expert-1": "appraiser",
         "bench-expert-2": "appraiser", "bench-sup-1": "inspector", "bench-sup-2": "inspector"}


def _rows(home: Path, n: int) -> list[str]:
    """Catalogue rows and their copies, in bulk; returns the AIP ids."""
    from dangan.archive.instance import Archive
    from dangan.archive.replica import replica_store
    from dangan.search.document import ExtractedText, IndexDocument
    from dangan.search.extract import derived_text_path
    from dangan.search.feed import derived_dir, service_for

    archive = Archive.open(home)
    item = next(i for i in archive.filing_config.items if i.retention == "D10")
    db_path = archive.settings.db_url.removeprefix("sqlite:///")
    cols = ("aip_id", "archival_code", "version", "status", "source_system", "case_id",
            "case_sha256", "aip_sha256", "title", "service_item_code", "service_item_name",
            "insurance", "category", "category_code", "retention", "classification_code",
            "agency_code", "agency_name", "channel", "outcome", "accepted_at", "completed_at",
            "year", "due_on", "security_classification", "personal_info", "file_count",
            "total_bytes", "received_at", "archived_at", "store_key", "receipt")
    when = "2010-06-15 02:00:00.000000"
    ids = [f"{k:032x}" for k in range(1, n + 1)]
    rows = [(aip, f"Z001-SB·2010-D10-{item.category_code}-{k:05d}", 1, "active", "jbxt",
             f"CASE-{k:09d}", "0" * 64, f"{k:064x}", f"{item.name}（第 {k} 件）", item.code,
             item.name, '["pension"]', item.category, item.category_code, "D10",
             item.classification_code, "330102", "杭州市上城区社会保险管理服务中心", "window",
             "approved", when, when, 2010, "2021-01-01", "internal", 1, 1, 100, when, when,
             f"store/{aip}", "{}") for k, aip in enumerate(ids, 1)]
    conn = sqlite3.connect(db_path)
    conn.executemany(f"INSERT INTO items ({', '.join(cols)}) VALUES "
                     f"({', '.join('?' * len(cols))})", rows)
    conn.executemany("INSERT INTO parties (aip_id, role, seq, kind, name, id_type, id_number) "
                     "VALUES (?, 'applicant', 1, 'person', '张三', 'resident_id', "
                     "'110101199001011234')", [(a,) for a in ids])
    conn.commit()
    conn.close()
    replicas, derived = replica_store(archive), derived_dir(archive)
    for aip in ids:
        for root in (archive.store.path(aip), replicas.path(aip)):
            (root / "data").mkdir(parents=True, exist_ok=True)
            (root / "data" / "case.json").write_bytes(b"{}")
        text = derived_text_path(derived, aip)
        text.parent.mkdir(parents=True, exist_ok=True)
        text.write_text("申请表 张三", "utf-8")
    done = datetime(2010, 6, 15, 10, tzinfo=UTC)
    service_for(archive).reindex(IndexDocument(
        aip_id=r[0], archival_code=r[1], case_id=r[5], source_system="jbxt", version=1,
        title=r[8], service_item_code=item.code, service_item_name=item.name,
        category=item.category_code, retention="D10",
        classification_code=item.classification_code, agency_code="330102",
        agency_name=r[17], channel="window", outcome="approved", decision_no=None,
        accepted_at=done, completed_at=done, year=2010, security_classification="internal",
        parties=[{"role": "applicant", "kind": "person", "name": "张三",
                  "id_type": "resident_id", "id_number": "110101199001011234"}],
        texts=[ExtractedText("F01", "申请表", "application_form", "申请表 张三", "pdf")])
        for r in rows)
    archive.close()
    return ids


def _approve(home: Path, ids: list[str]) -> int:
    """A real appraisal, approval and 备案 through the services; returns the batch id."""
    from dangan.archive import accounts
    from dangan.archive.instance import Archive
    from dangan.retention import appraisal, destruction

    archive = Archive.open(home)
    for login, role in STAFF.items():
        accounts.create_user(archive.db, login, login, password="correct-horse-9", by=None)
        accounts.grant_role(archive.db, login, role, by=None)
    p = appraisal.propose(archive, action="destroy", refs=ids, reason="保管期限已满",
                          actor="bench-archivist", as_of=AS_OF)
    for member in ("bench-expert-1", "bench-expert-2"):
        appraisal.opinion(archive, p.id, member=member, agree=True, comment="同意销毁")
    appraisal.decide(archive, p.id, conclusion="同意销毁", actor="bench-expert-1", as_of=AS_OF)
    batch = destruction.record_approval(archive, p.id, kind="principal", approver="局长",
                                        document_no="基准〔2026〕1号", approved_on=AS_OF,
                                        actor="bench-archivist")
    destruction.record_approval(archive, p.id, kind="filing", approver="市人社局",
                                document_no="备〔2026〕1号", approved_on=AS_OF,
                                actor="bench-archivist")
    archive.close()
    return batch.id


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(home: Path, batch: int, chunk: int) -> dict[str, Any]:
    from dangan.archive.instance import Archive
    from dangan.retention import destruction, register
    from dangan.web.lifecycle import file_register

    destruction.CHUNK = chunk
    archive = Archive.open(home)
    spent = {"wall": 0.0, "cpu": 0.0, "rss_before_register": 0.0}
    complete = register.complete

    def timed(*args: Any, **kwargs: Any) -> Any:
        w, c = time.perf_counter(), time.process_time()
        spent["rss_before_register"] = _peak_rss_mb()
        try:
            return complete(*args, **kwargs)
        finally:
            spent["wall"] += time.perf_counter() - w
            spent["cpu"] += time.process_time() - c

    destruction.register.complete = timed  # type: ignore[attr-defined]
    baseline = _peak_rss_mb()
    w0, c0 = time.perf_counter(), time.process_time()
    view = destruction.execute(archive, batch, supervisors=["bench-sup-1", "bench-sup-2"],
                               method="彻底删除", actor="bench-archivist",
                               file_register=file_register, as_of=AS_OF)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert view.state == "complete" and view.register is not None
    n = len(view.items)
    assert not any(archive.store.path(i["aip_id"]).exists() for i in view.items[:50])
    archive.close()
    return {"destroyed": n, "chunk": chunk, "wall_s": wall, "cpu_s": cpu,
            "register_wall_s": spent["wall"], "register_cpu_s": spent["cpu"],
            "items_per_s": n / max(wall - spent["wall"], 1e-9),
            "items_per_s_with_register": n / wall,
            "cpu_ms_per_item": 1000 * (cpu - spent["cpu"]) / n,
            "peak_rss_mb": _peak_rss_mb(), "baseline_rss_mb": baseline,
            "peak_rss_before_register_mb": spent["rss_before_register"],
            "register": view.register["archival_code"]}


def run(n: int, chunk: int) -> dict[str, Any]:
    """Set up in this process, measure in a fresh one; the measured figures."""
    from dangan.archive.instance import Archive

    os.environ.setdefault("DANGAN_KEY_PASSPHRASE", "bench-only-passphrase")
    os.environ.setdefault("DANGAN_OCR_AT_INGEST", "0")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        home = Path(tmp) / "home"
        Archive.init(home, fonds="Z001", organization="基准测试社会保险事业管理中心").close()
        t0 = time.perf_counter()
        ids = _rows(home, n)
        batch = _approve(home, ids)
        setup_s = time.perf_counter() - t0
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(home), "--batch", str(batch),
             "--chunk", str(chunk)], check=True, capture_output=True, text=True)
        m = json.loads(child.stdout.strip().splitlines()[-1])
    return {**m, "setup_s": setup_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="items in the batch")
    parser.add_argument("--chunk", type=int, default=500,
                        help="items per tombstone transaction and index commit")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure, args.batch, args.chunk)))
        return
    m = run(args.items, args.chunk)
    print(f"destroyed {m['destroyed']:,} items: {m['items_per_s']:.0f} items/s "
          f"({m['items_per_s_with_register']:.0f} with the register, "
          f"{m['register_wall_s']:.1f} s), {m['cpu_ms_per_item']:.2f} ms CPU per item, "
          f"peak RSS {m['peak_rss_before_register_mb']:.0f} MB before the register, "
          f"{m['peak_rss_mb']:.0f} MB with it (goal >= {GOAL_ITEMS_PER_S:.0f} items/s)")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()}
                     | {"goal_items_per_s": GOAL_ITEMS_PER_S}))


if __name__ == "__main__":
    main()
