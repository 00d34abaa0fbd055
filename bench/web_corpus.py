"""The archive instance behind bench/web.py: ``--items`` cases, built in bulk and cached.

Why bulk: filing 100,000 cases one by one (checks, sealing, signatures) takes hours on two
cores, and neither measured page reads an AIP: the search page reads the index, the case
page reads the catalogue. So the instance is a real one (``Archive.init``: schema through
Alembic, key, audit log), its index is built from the synthetic items of
bench/search_corpus.py by ``WhooshEngine.reindex`` in two processes, as bench/search.py
does, and its catalogue rows (items, parties, files, process trail) are inserted with
``executemany`` in one transaction (one durable commit). No AIP is stored: the rows' ``store_key`` names none.

Why a cache: the build takes minutes at 100,000 items. A built instance is kept under
``$BENCH_CACHE`` (default ``~/.cache/dangan-bench``) in a folder named after the item
count and a digest of the code that shapes it (this file, the corpus generator, the
search schema and analysers, the catalogue models and migrations); each run works on a
copy, so sessions and log entries of one run never leak into the next.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from datetime import UTC, timedelta
from pathlib import Path

from search_corpus import generate

PASSWORD = "bench-password-2026"
PASSPHRASE = "bench-only-passphrase"
ROOT = Path(__file__).resolve().parent.parent
SHAPING = ("bench/web_corpus.py", "bench/search_corpus.py", "search/whoosh_schema.py",
           "search/analysis.py", "search/document.py", "archive/models.py",
           "archive/migrations/versions")


def code_version() -> str:
    """A digest of every source file whose change would change the built instance."""
    h = hashlib.sha256()
    for rel in SHAPING:
        p = ROOT / rel
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
            h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def cache_root() -> Path:
    return Path(os.environ.get("BENCH_CACHE") or Path.home() / ".cache" / "dangan-bench")


def _rows(docs: list, rng: random.Random) -> tuple[list, list, list, list]:
    rows, parties, files, events = [], [], [], []
    for d in docs:
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
    return rows, parties, files, events


def build(home: Path, items: int, procs: int = 2) -> dict:
    """A fresh instance at ``home`` with ``items`` cases; returns refs, queries, timings."""
    from sqlalchemy import insert, text

    from dangan.archive import accounts
    from dangan.archive.instance import Archive
    from dangan.archive.models import Item, ItemEvent, ItemFile, Party
    from dangan.search.feed import index_dir
    from dangan.search.whoosh_engine import WhooshEngine

    timings: dict[str, float] = {}
    archive = Archive.init(home, fonds="Z109", organization="基准测试社会保险事业管理中心")
    accounts.create_user(archive.db, "clerk", "基准查阅员", password=PASSWORD, by=None)
    accounts.grant_role(archive.db, "clerk", "clerk", by=None)
    t = time.perf_counter()
    docs = generate(items)
    timings["generate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    WhooshEngine(index_dir(archive)).reindex(iter(docs), procs=procs)
    timings["index_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rng = random.Random(5)
    with archive.db.engine.begin() as conn:
        for start in range(0, len(docs), 5000):
            rows, parties, files, events = _rows(docs[start:start + 5000], rng)
            conn.execute(insert(Item), rows)
            conn.execute(insert(Party), parties)
            conn.execute(insert(ItemFile), files)
            conn.execute(insert(ItemEvent), events)
    with archive.db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    timings["catalogue_s"] = time.perf_counter() - t
    visible = [d for d in docs if d.security_classification != "restricted"]
    refs = [d.aip_id for d in rng.sample(visible, min(500, len(visible)))]
    queries = []
    for d in rng.sample(visible, min(300, len(visible))):
        person = d.parties[0] if d.parties else {}
        queries += [person.get("name", d.title), person.get("id_number", d.case_id)[-6:],
                    f"参保 year:{d.year}"]
    archive.close()
    return {"refs": refs, "queries": queries, "timings": timings}


def instance(items: int, dest: Path, *, rebuild: bool = False) -> dict:
    """A working copy at ``dest/home`` of the cached instance (built first if missing)."""
    os.environ["DANGAN_KEY_PASSPHRASE"] = PASSPHRASE
    cached = cache_root() / f"web-{items}-{code_version()}"
    meta_path = cached / "bench-web.json"
    if rebuild and cached.exists():
        shutil.rmtree(cached)
    if not meta_path.exists():
        shutil.rmtree(cached, ignore_errors=True)
        building = cached.with_name(cached.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        meta = build(building / "home", items)
        (building / "bench-web.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        building.rename(cached)
        meta["cached"] = False
        print(f"built {items:,} items in {sum(meta['timings'].values()):.0f} s "
              f"({', '.join(f'{k} {v:.1f}' for k, v in meta['timings'].items())}); "
              f"cached in {cached}")
    else:
        meta = json.loads(meta_path.read_text("utf-8"))
        meta["cached"] = True
        print(f"reusing the {items:,}-item instance cached in {cached}")
    shutil.copytree(cached / "home", dest / "home", symlinks=True)
    return meta
