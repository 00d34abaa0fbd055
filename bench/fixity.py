"""Fixity-audit throughput against raw SHA-256 of the same bytes, measured in the same run.

Rerun: ``.venv/bin/python bench/fixity.py [--cases 60] [--items 100000] [--large-mb 64]
[--large-files 8] [--workers N]`` (``BENCH_TMP=/some/disk`` puts the instances elsewhere
than the system temp folder; 100,000 items need about 6 GB there and 1 GB of memory;
``--store DIR`` keeps the stores in DIR for later runs, ``--build-only`` only builds them).

Two stores, each a fresh instance (SQLite, local folders, primary + replica):
- typical: demo cases (about 5 files each: PDFs, scans, XML, OFD): ``--cases`` filed
  through ``ingest``, then cloned in bulk up to ``--items`` (``fixity_bulk``: each clone
  its own case, AIP, catalogue rows and log entry; content files hard-linked);
- large: cases each carrying one large scanned PDF (JPEG pages).
For each, ``fixity.audit(cycle_days=0)`` re-proves every copy (both copies): SHA-256 and
SM3 of every payload byte in one read (the copies of 16 items hashed together:
multi-buffer SM3 beside SHA-256, ``sm3_multi.digest_files``; the kernel in use is printed),
tag manifests, XSD, archive signature, BC package checks, catalogue comparison, one audit
log entry and one result row per item. "fixity" skips the content checks (format
decoding, virus scan); "full BC" runs them once per item. Baselines, over the same files
from the page cache in the same run, one thread: SHA-256 alone; SM3 alone; SHA-256 then
SM3 (two passes, what a naive audit does). MB is 10^6 bytes of payload hashed. With
more than ``--baseline-items`` typical items the baselines read the files of that many
items chosen at random (a full pass of each baseline over 100,000 items would take
longer than the audit), and the full-BC pass audits ``--full-items`` of them.
The audit uses ``--workers`` processes (default: one per core); peak memory is the
largest resident set of this process and of any worker during the audits (VmHWM).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import fixity_bulk
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from dangan.archive import fixity, keys, replica
from dangan.archive.instance import Archive
from dangan.ingest.demo.generator import generate_batch, generate_submission
from dangan.ingest.service import ingest
from dangan.packages import signing
from dangan.packages.digests import digest_file, new_sm3
from dangan.packages.sm3_multi import kernel as multi_sm3_kernel


def sm3_kernel() -> str:
    name = multi_sm3_kernel()
    return f"multi-buffer {name}" if name else "OpenSSL, one file at a time (no kernel built)"

SYSTEM, KEY_ID = "jbxt-bench", "bench-1"
CHUNK = 1 << 20


def _new_archive(root: Path) -> tuple[Archive, signing.PrivateKey]:
    archive = Archive.init(root / "home", demo_passphrase=True)
    key = signing.generate_private_key()
    keys.trust_add(archive.db, SYSTEM, KEY_ID, signing.public_key_pem(key), actor="bench")
    return archive, key


def _large_scan_pdf(path: Path, megabytes: int, rng: random.Random) -> None:
    """An image-only PDF (a scanner's output) of about ``megabytes`` MB, unique pages."""
    c = canvas.Canvas(str(path), pagesize=A4)
    written = 0
    while written < megabytes << 20:
        img = Image.frombytes("L", (1654, 2339), rng.randbytes(1654 * 2339))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=92, dpi=(200, 200))
        c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, *A4)
        c.showPage()
        written += buf.tell()
    c.save()


def _large_case(root: Path, n: int, archive: Archive, key: signing.PrivateKey, mb: int) -> Path:
    item = next(i for i in archive.filing_config.items if i.name == "企业职工基本养老保险参保登记")
    sub = generate_submission(root / f"large-{n}", rng=random.Random(50 + n), signing_key=key,
                              key_id=KEY_ID, source_system=SYSTEM, service_item=item)
    case = json.loads((sub / "case.json").read_text("utf-8"))
    entry = next(f for f in case["files"] if f["media_type"] == "application/pdf")
    target = sub / "files" / entry["path"]
    target.unlink()
    _large_scan_pdf(target, mb, random.Random(700 + n))
    d = digest_file(target)
    entry.update(size=d.size, sha256=d.sha256, sm3=d.sm3, origin="digitized")
    entry.pop("pages", None)
    (sub / "case.json").write_text(json.dumps(case, ensure_ascii=False, indent=2), "utf-8")
    (sub / "case.json.sig").write_bytes(
        signing.sign(key, KEY_ID, (sub / "case.json").read_bytes()).to_json())
    return sub


def _payload_files(archive: Archive, aip_ids: list[str] | None = None) -> list[Path]:
    """Every payload file of every copy (of ``aip_ids``): exactly the bytes an audit re-hashes."""
    out = []
    for store in replica.stores(archive).values():
        if aip_ids is None:
            out += sorted(p for p in store.aips.rglob("data/**/*") if p.is_file())
        else:
            for aip_id in aip_ids:
                out += sorted(p for p in store.path(aip_id).rglob("data/**/*") if p.is_file())
    return out


def _rate(paths: list[Path], make_hashes: list) -> tuple[float, int]:
    """One thread, ``len(make_hashes)`` passes over the files (one hash per pass)."""
    total = 0
    start = time.perf_counter()
    for make in make_hashes:
        for p in paths:
            h = make()
            with open(p, "rb") as f:
                while chunk := f.read(CHUNK):
                    h.update(chunk)
                    total += len(chunk)
            h.digest()
    elapsed = time.perf_counter() - start
    return (total / len(make_hashes)) / elapsed, total // len(make_hashes)


def _all_ids(archive: Archive) -> list[str]:
    from sqlalchemy import select

    from dangan.archive.models import Item
    with archive.db.session() as s:
        return list(s.scalars(select(Item.aip_id).order_by(Item.aip_id)))


def _vm_hwm_mb(pid: str | int) -> float:
    """Peak resident memory of a process since it started or since ``_reset_peak``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: restart VmHWM from now
    except OSError:
        pass


PEAKS: dict[str, float] = {"caller": 0.0, "worker": 0.0}


def _timed_audit(archive: Archive, **kw) -> tuple[fixity.AuditRun, float, float, dict[str, float]]:
    """The run, its wall seconds, the CPU seconds of this process and its workers, and
    the peak memory of each during this audit (also kept in ``PEAKS`` over all audits;
    workers sampled every 0.2 s: ru_maxrss of a spawned child would report this
    process's size at the fork)."""
    peaks = {"caller": 0.0, "worker": 0.0}
    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.2):
            for child in multiprocessing.active_children():
                peaks["worker"] = max(peaks["worker"], _vm_hwm_mb(child.pid or 0))
    watcher = threading.Thread(target=watch, daemon=True)
    _reset_peak()
    watcher.start()
    c0, start = cpu(), time.perf_counter()
    try:
        run = fixity.audit(archive, actor="bench", keep_items=False, **kw)
    finally:
        stop.set()
        watcher.join()
    elapsed = time.perf_counter() - start
    peaks["caller"] = _vm_hwm_mb("self")
    for k, v in peaks.items():
        PEAKS[k] = max(PEAKS[k], v)
    return run, elapsed, cpu() - c0, peaks


def _measure(archive: Archive, label: str, args: argparse.Namespace) -> dict[str, float]:
    ids = _all_ids(archive)
    sample = (sorted(random.Random(5).sample(ids, args.baseline_items))
              if len(ids) > args.baseline_items else None)
    files = _payload_files(archive, sample)
    _rate(files, [hashlib.sha256])  # warm the page cache
    sha, sample_total = _rate(files, [hashlib.sha256])
    sm3, _ = _rate(files, [new_sm3])
    seq, _ = _rate(files, [hashlib.sha256, new_sm3])
    out: dict[str, float] = {"items": len(ids), "sha256": sha / 1e6, "sm3": sm3 / 1e6,
                             "seq": seq / 1e6, "baseline_items": len(sample or ids)}
    full_ids = (sorted(random.Random(6).sample(ids, args.full_items))
                if len(ids) > args.full_items else None)
    for mode, content, chosen in (("fixity", False, None), ("full", True, full_ids)):
        kw = {"aip_ids": chosen} if chosen is not None else {"cycle_days": 0}
        run, elapsed, cpu, peaks = _timed_audit(archive, content=content, workers=args.workers,
                                                **kw)
        expect = len(chosen) if chosen is not None else len(ids)
        assert run.ok and run.audited == expect, (label, run.counts(), run.audited, expect)
        if chosen is None and sample is None:
            assert run.bytes_hashed == sample_total, (label, run.bytes_hashed, sample_total)
        out[mode] = run.bytes_hashed / 1e6 / elapsed
        out[f"{mode}_items"] = run.audited
        out[f"{mode}_items_per_s"] = run.audited / elapsed
        out[f"{mode}_cpu_ms_per_item"] = cpu / run.audited * 1000
        out[f"{mode}_peak_rss_mb"] = peaks["caller"]
        out[f"{mode}_peak_worker_rss_mb"] = peaks["worker"]
        if mode == "fixity":
            out["mb"] = run.bytes_hashed / 1e6
    return out


def _peak_mb() -> dict[str, float]:
    return {"self": PEAKS["caller"], "largest_worker": PEAKS["worker"]}


def _build(root: Path, args: argparse.Namespace) -> tuple[Archive, Archive]:
    """The two stores: ``--cases`` filed for real then cloned to ``--items``; large scans."""
    typical_archive, key = _new_archive(root / "typical")
    subs = generate_batch(root / "subs", args.cases, seed=21, signing_key=key, key_id=KEY_ID,
                          source_system=SYSTEM, config=typical_archive.filing_config)
    with fixity_bulk.capturing() as templates:
        for s in subs:
            ingest(typical_archive, s, ocr=False)
    replica.backfill(typical_archive)
    if args.items > args.cases:
        start = time.perf_counter()
        made = fixity_bulk.clone(typical_archive, list(templates.values()),
                                 args.items - args.cases, key, KEY_ID)
        print(f"cloned {made} items in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    large_archive, lkey = _new_archive(root / "large")
    for n in range(args.large_files):
        ingest(large_archive, _large_case(root, n, large_archive, lkey, args.large_mb), ocr=False)
    replica.backfill(large_archive)
    return typical_archive, large_archive


def _stores(root: Path, args: argparse.Namespace) -> tuple[Archive, Archive]:
    """Stores kept in ``--store`` between runs (built there first when missing or made with
    other sizes): a 100,000-item store takes ~25 min to build, which is not what is measured.
    Audits only append to a kept store (result rows, log entries), so reruns stay valid;
    a store built by an older checkout has its schema upgraded first (``dangan db upgrade``)."""
    shape = {"cases": args.cases, "items": args.items, "large_mb": args.large_mb,
             "large_files": args.large_files}
    ready = root / "bench-fixity.json"
    if ready.exists() and json.loads(ready.read_text("utf-8")) == shape:
        print(f"reusing the stores kept in {root}", file=sys.stderr)
        return (Archive.open(root / "typical" / "home", upgrade=True),
                Archive.open(root / "large" / "home", upgrade=True))
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    built = _build(root, args)
    shutil.rmtree(root / "subs", ignore_errors=True)
    ready.write_text(json.dumps(shape), "utf-8")
    return built


def _measure_both(typical_archive: Archive, large_archive: Archive,
                  args: argparse.Namespace) -> tuple[dict[str, float], dict[str, float]]:
    fixity.audit(large_archive, sample=1, content=False)  # one-time costs (XSD, imports)
    return _measure(typical_archive, "typical", args), _measure(large_archive, "large", args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60, help="typical cases filed for real")
    parser.add_argument("--items", type=int, default=0,
                        help="typical items in all, the rest cloned in bulk (0: only --cases)")
    parser.add_argument("--large-mb", type=int, default=64)
    parser.add_argument("--large-files", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None,
                        help="audit processes (default: one per core for large audits)")
    parser.add_argument("--baseline-items", type=int, default=2000)
    parser.add_argument("--full-items", type=int, default=1000)
    parser.add_argument("--store", metavar="DIR",
                        help="keep the stores in DIR and reuse them in later runs of the same sizes")
    parser.add_argument("--build-only", action="store_true",
                        help="with --store: build the stores, measure nothing")
    args = parser.parse_args()
    print(f"rerun: .venv/bin/python bench/fixity.py --cases {args.cases} --items {args.items} "
          f"--large-mb {args.large_mb} --large-files {args.large_files}"
          + (f" --workers {args.workers}" if args.workers is not None else "")
          + (f" --store {args.store}" if args.store else ""), file=sys.stderr)
    if args.store:
        root = Path(args.store).expanduser().resolve()
        typical_archive, large_archive = _stores(root, args)
        if args.build_only:
            return
        typical, large = _measure_both(typical_archive, large_archive, args)
    else:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP"),
                                         ignore_cleanup_errors=True) as tmp:
            typical_archive, large_archive = _build(Path(tmp), args)
            typical, large = _measure_both(typical_archive, large_archive, args)
    peak = _peak_mb()

    header = ("store", "items", "MB hashed", "fixity MB/s", "full BC MB/s", "SHA-256 MB/s",
              "SM3 MB/s", "SHA+SM3 seq MB/s", "fixity/SHA-256", "fixity/seq")
    rows = [header] + [
        (name, f"{w['fixity_items']:.0f} x 2 copies", f"{w['mb']:.1f}", f"{w['fixity']:.1f}",
         f"{w['full']:.1f}", f"{w['sha256']:.0f}", f"{w['sm3']:.0f}", f"{w['seq']:.0f}",
         f"{w['fixity'] / w['sha256']:.1%}", f"{w['fixity'] / w['seq']:.1%}")
        for name, w in (("typical cases", typical), (f"large scans ({args.large_mb} MB)", large))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print(f"typical: {typical['fixity_items_per_s']:.1f} items/s fixity over "
          f"{typical['fixity_items']:.0f} items, {typical['full_items_per_s']:.1f} items/s full BC "
          f"over {typical['full_items']:.0f} (both copies each); CPU "
          f"{typical['fixity_cpu_ms_per_item']:.1f} ms/item")
    print("peak RSS (this process / largest worker), MB: " + "; ".join(
        f"{name} {mode} {w[f'{mode}_peak_rss_mb']:.0f} / {w[f'{mode}_peak_worker_rss_mb']:.0f}"
        for name, w in (("typical", typical), ("large", large)) for mode in ("fixity", "full"))
        + " (workers: 0 = examined in this process)")
    print(f"SM3 for audits: {sm3_kernel()}; the baselines are one thread, one file at a time "
          "(SM3 from OpenSSL); the audit uses both cores.")
    print(json.dumps({
        "audit_mb_per_s": round(large["fixity"], 2),
        "full_audit_mb_per_s": round(large["full"], 2),
        "sha256_mb_per_s": round(large["sha256"], 2),
        "sm3_mb_per_s": round(large["sm3"], 2),
        "sha256_sm3_seq_mb_per_s": round(large["seq"], 2),
        "ratio_vs_sha256": round(large["fixity"] / large["sha256"], 4),
        "ratio_vs_sha256_sm3_seq": round(large["fixity"] / large["seq"], 4),
        "ratio_vs_sm3": round(large["fixity"] / large["sm3"], 4),
        "sm3_kernel": sm3_kernel(), "large_files": args.large_files, "large_mb": round(large["mb"], 1),
        "typical_items": int(typical["fixity_items"]), "typical_mb": round(typical["mb"], 1),
        "typical_full_items": int(typical["full_items"]),
        "typical_baseline_items": int(typical["baseline_items"]),
        "typical_cpu_ms_per_item": round(typical["fixity_cpu_ms_per_item"], 2),
        "typical_full_cpu_ms_per_item": round(typical["full_cpu_ms_per_item"], 2),
        "workers": args.workers if args.workers is not None else "auto",
        "peak_rss_mb": round(peak["self"], 1),
        "peak_worker_rss_mb": round(peak["largest_worker"], 1),
        "typical_audit_mb_per_s": round(typical["fixity"], 2),
        "typical_full_audit_mb_per_s": round(typical["full"], 2),
        "typical_items_per_s": round(typical["fixity_items_per_s"], 2),
        "typical_full_items_per_s": round(typical["full_items_per_s"], 2),
        "typical_sha256_mb_per_s": round(typical["sha256"], 2),
        "typical_ratio_vs_sha256": round(typical["fixity"] / typical["sha256"], 4),
        "typical_sm3_mb_per_s": round(typical["sm3"], 2),
        **{f"{name}_{mode}_peak_{who}_rss_mb": round(w[f"{mode}_peak{suffix}_rss_mb"], 1)
           for name, w in (("typical", typical), ("large", large)) for mode in ("fixity", "full")
           for who, suffix in (("caller", ""), ("worker", "_worker"))},
    }))


if __name__ == "__main__":
    main()
