"""Fixity-audit throughput against raw SHA-256 of the same bytes, measured in the same run.

Rerun: ``.venv/bin/python bench/fixity.py [--cases 60] [--large-mb 64] [--large-files 8]``
(``BENCH_TMP=/some/disk`` puts the instance elsewhere than the system temp folder).

Two stores, each a fresh instance (SQLite, local folders, primary + replica):
- typical: demo cases (about 5 files each: PDFs, scans, XML, OFD);
- large: cases each carrying one large scanned PDF (JPEG pages).
For each, ``fixity.audit(cycle_days=0)`` re-proves every copy (both copies): SHA-256 and
SM3 of every payload byte in one read (the copies of 16 items hashed together:
multi-buffer SM3 beside SHA-256, ``sm3_multi.digest_files``; the kernel in use is printed),
tag manifests, XSD, archive signature, BC package checks, catalogue comparison, one audit
log entry and one result row per item. "fixity" skips the content checks (format
decoding, virus scan); "full BC" runs them once per item. Baselines, over the same files
from the page cache in the same run, one thread: SHA-256 alone; SM3 alone; SHA-256 then
SM3 (two passes, what a naive audit does). MB is 10^6 bytes of payload hashed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

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


def _payload_files(archive: Archive) -> list[Path]:
    """Every payload file of every copy: exactly the bytes an audit re-hashes."""
    out = []
    for store in replica.stores(archive).values():
        out += sorted(p for p in store.aips.rglob("data/**/*") if p.is_file())
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


def _measure(archive: Archive, label: str) -> dict[str, float]:
    files = _payload_files(archive)
    _rate(files, [hashlib.sha256])  # warm the page cache
    sha, total = _rate(files, [hashlib.sha256])
    sm3, _ = _rate(files, [new_sm3])
    seq, _ = _rate(files, [hashlib.sha256, new_sm3])
    out: dict[str, float] = {"items": 0, "mb": total / 1e6, "sha256": sha / 1e6, "sm3": sm3 / 1e6,
                             "seq": seq / 1e6}
    for mode, content in (("fixity", False), ("full", True)):
        start = time.perf_counter()
        run = fixity.audit(archive, cycle_days=0, content=content, actor="bench")
        elapsed = time.perf_counter() - start
        assert run.ok and run.bytes_hashed == total, (label, run.counts(), run.bytes_hashed, total)
        out["items"] = len(run.items)
        out[mode] = total / 1e6 / elapsed
        out[f"{mode}_items_per_s"] = len(run.items) / elapsed
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--large-mb", type=int, default=64)
    parser.add_argument("--large-files", type=int, default=8)
    args = parser.parse_args()
    print(f"rerun: .venv/bin/python bench/fixity.py --cases {args.cases} --large-mb "
          f"{args.large_mb} --large-files {args.large_files}", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        typical_archive, key = _new_archive(root / "typical")
        subs = generate_batch(root / "subs", args.cases, seed=21, signing_key=key, key_id=KEY_ID,
                              source_system=SYSTEM, config=typical_archive.filing_config)
        for s in subs:
            ingest(typical_archive, s, ocr=False)
        replica.backfill(typical_archive)
        large_archive, lkey = _new_archive(root / "large")
        for n in range(args.large_files):
            ingest(large_archive, _large_case(root, n, large_archive, lkey, args.large_mb), ocr=False)
        replica.backfill(large_archive)
        fixity.audit(large_archive, sample=1, content=False)  # one-time costs (XSD, imports)
        typical = _measure(typical_archive, "typical")
        large = _measure(large_archive, "large")

    header = ("store", "items", "MB hashed", "fixity MB/s", "full BC MB/s", "SHA-256 MB/s",
              "SM3 MB/s", "SHA+SM3 seq MB/s", "fixity/SHA-256", "fixity/seq")
    rows = [header] + [
        (name, f"{w['items']:.0f} x 2 copies", f"{w['mb']:.1f}", f"{w['fixity']:.1f}",
         f"{w['full']:.1f}", f"{w['sha256']:.0f}", f"{w['sm3']:.0f}", f"{w['seq']:.0f}",
         f"{w['fixity'] / w['sha256']:.1%}", f"{w['fixity'] / w['seq']:.1%}")
        for name, w in (("typical cases", typical), (f"large scans ({args.large_mb} MB)", large))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print(f"typical: {typical['fixity_items_per_s']:.1f} items/s fixity, "
          f"{typical['full_items_per_s']:.1f} items/s full BC (both copies each)")
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
        "typical_items": int(typical["items"]), "typical_mb": round(typical["mb"], 1),
        "typical_audit_mb_per_s": round(typical["fixity"], 2),
        "typical_full_audit_mb_per_s": round(typical["full"], 2),
        "typical_items_per_s": round(typical["fixity_items_per_s"], 2),
        "typical_full_items_per_s": round(typical["full_items_per_s"], 2),
        "typical_sha256_mb_per_s": round(typical["sha256"], 2),
        "typical_ratio_vs_sha256": round(typical["fixity"] / typical["sha256"], 4),
    }))


if __name__ == "__main__":
    main()
