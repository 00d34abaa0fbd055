"""Filing throughput against raw SHA-256 of the same bytes, measured in the same run.

Rerun: ``.venv/bin/python bench/ingest.py [--cases 100] [--large-mb 256] [--large-only]
[--large-ab N] [--large-repeat N] [--draft-ab N]`` (``--large-only``: the large-file workload alone;
``--large-repeat N``: the scan made once, filed N times, the median round reported;
``--large-ab N``: it N times with and without the replica written from intake's read).

``--draft-ab N`` instead measures whether sealing a draft ahead of the filing window
pays for itself: the typical workload, serial and with two workers, N times with and
without the draft, alternating in one run (the machine's load changes over minutes).
Without the draft every AIP is sealed inside the serialised window.

Two workloads, each on a fresh instance (SQLite, local folder):
- typical: demo cases (about 5 files each: PDFs, scans, XML, OFD) filed one after another
  with every check → cases/s and MB/s; and the same load with two worker processes
  (``ingest_many``), as a 2-core machine runs a batch;
- large: one case carrying one large scanned PDF (JPEG pages) → MB/s, against
  single-stream SM3 of the same bytes (one file's SM3 is one sequential stream: the
  floor of filing it) and one-thread SHA-256 + SM3; ``large_cpu_s`` is the filing
  process's CPU time.
The baseline is one thread hashing the same content bytes with SHA-256 (read from the
page cache). Ingest also copies the bytes, computes SM3, decodes every file, writes the
AIP durably, logs and signs the audit entry. Indexing for search is a separate task after
filing (bench/search.py measures it).
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
from typing import Any

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from dangan.archive import keys
from dangan.archive.instance import Archive
from dangan.ingest import service
from dangan.ingest.batch import ingest_many
from dangan.ingest.demo.generator import generate_batch, generate_submission
from dangan.ingest.service import ingest
from dangan.packages import signing
from dangan.packages.digests import digest_file, new_sm3

SYSTEM, KEY_ID = "jbxt-bench", "bench-1"


def _sha256_rate(paths: list[Path]) -> tuple[float, int]:
    total = 0
    start = time.perf_counter()
    for p in paths:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                total += len(chunk)
    return total / (time.perf_counter() - start), total


def _sha256_sm3_rate(paths: list[Path]) -> float:
    """One thread, one read: SHA-256 and SM3 (OpenSSL) of each chunk, as intake must."""
    total = 0
    start = time.perf_counter()
    for p in paths:
        sha, sm3 = hashlib.sha256(), new_sm3()
        with open(p, "rb") as f:
            while chunk := f.read(1 << 20):
                sha.update(chunk)
                sm3.update(chunk)
                total += len(chunk)
    return total / (time.perf_counter() - start)


def _content_files(submissions: list[Path]) -> list[Path]:
    return [p for s in submissions for p in sorted((s / "files").rglob("*")) if p.is_file()]


def _new_archive(root: Path) -> tuple[Archive, signing.PrivateKey]:
    archive = Archive.init(root / "home", demo_passphrase=True)
    key = signing.generate_private_key()
    keys.trust_add(archive.db, SYSTEM, KEY_ID, signing.public_key_pem(key), actor="bench")
    return archive, key


def _noise_jpeg(rng: random.Random, px: tuple[int, int]) -> bytes:
    img = Image.frombytes("L", px, rng.randbytes(px[0] * px[1]))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92, dpi=(300, 300))
    return buf.getvalue()


def _large_scan_pdf(path: Path, megabytes: int, rng: random.Random) -> None:
    """An image-only PDF (a scanner's output) of about ``megabytes`` MB."""
    c = canvas.Canvas(str(path), pagesize=A4)
    written = 0
    while written < megabytes << 20:
        data = _noise_jpeg(rng, (1654, 2339))  # 200 dpi on A4; every page its own scan
        c.drawImage(ImageReader(io.BytesIO(data)), 0, 0, *A4)
        c.showPage()
        written += len(data)
    c.save()


def _replace_with_large_scan(sub: Path, key: signing.PrivateKey, megabytes: int) -> None:
    case = json.loads((sub / "case.json").read_text("utf-8"))
    entry = next(f for f in case["files"] if f["media_type"] == "application/pdf")
    target = sub / "files" / entry["path"]
    target.unlink()
    _large_scan_pdf(target, megabytes, random.Random(7))
    d = digest_file(target)
    entry.update(size=d.size, sha256=d.sha256, origin="digitized")
    entry.pop("pages", None)
    entry["sm3"] = d.sm3
    (sub / "case.json").write_text(json.dumps(case, ensure_ascii=False, indent=2), "utf-8")
    (sub / "case.json.sig").write_bytes(
        signing.sign(key, KEY_ID, (sub / "case.json").read_bytes()).to_json()
    )


def _sm3_rate(paths: list[Path]) -> float:
    """One thread, one stream: SM3 (OpenSSL) alone, the floor of filing one large file."""
    total = 0
    start = time.perf_counter()
    for p in paths:
        sm3 = new_sm3()
        with open(p, "rb") as f:
            while chunk := f.read(1 << 20):
                sm3.update(chunk)
                total += len(chunk)
    return total / (time.perf_counter() - start)


def _large_item(archive: Archive) -> Any:
    return next(i for i in archive.filing_config.items if i.name == "企业职工基本养老保险参保登记")


def _large_submission(root: Path, megabytes: int, archive: Archive,
                      key: signing.PrivateKey) -> Path:
    sub = generate_submission(root / "large-sub", rng=random.Random(5), signing_key=key,
                              key_id=KEY_ID, source_system=SYSTEM, service_item=_large_item(archive))
    _replace_with_large_scan(sub, key, megabytes)
    return sub


def _large_repeated(rounds: int, megabytes: int) -> None:
    """The scan generated once (minutes of JPEG noise), then filed ``rounds`` times, each
    into a fresh archive with its own same-run baselines; the median round is reported."""
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        maker, key = _new_archive(root / "maker")
        sub = _large_submission(root, megabytes, maker, key)
        results = []
        for n in range(rounds):
            with tempfile.TemporaryDirectory(dir=root) as round_dir:
                results.append(_large(Path(round_dir), megabytes, prepared=(sub, key)))
            r = results[-1]
            print(f"round {n + 1}: {float(r['mb_per_s']):.1f} MB/s filing, single-stream SM3 "
                  f"{float(r['sm3_mb_per_s']):.1f} MB/s, ratio "
                  f"{float(r['mb_per_s']) / float(r['sm3_mb_per_s']):.1%}, CPU "
                  f"{float(r['cpu_s']):.2f} s", flush=True)
    ratios = sorted(float(r["mb_per_s"]) / float(r["sm3_mb_per_s"]) for r in results)
    median = sorted(results, key=lambda r: float(r["mb_per_s"]) / float(r["sm3_mb_per_s"]))[
        len(results) // 2]
    print(f"median of {rounds} rounds: {_large_json(median)['large_ratio_vs_sm3']:.1%} of "
          f"single-stream SM3 (min {ratios[0]:.1%}, max {ratios[-1]:.1%})")
    print(json.dumps({**_large_json(median), "rounds": rounds,
                      "large_ratio_vs_sm3_min": round(ratios[0], 4),
                      "large_ratio_vs_sm3_max": round(ratios[-1], 4)}))


def _large(root: Path, megabytes: int, one_read: bool = True,
           prepared: tuple[Path, signing.PrivateKey] | None = None) -> dict[str, float | str]:
    """Filing one case with one large scan, against its same-run baselines.

    ``one_read=False``: as before 2026-11-30, intake does not write the replica's
    content and the replica copies and hashes the stored files again (``--large-ab``).
    ``prepared``: a submission made by ``_large_submission`` (and its signing key), filed
    into this round's fresh archive instead of generating the scan again.
    """
    if prepared is None:
        large_archive, large_key = _new_archive(root / "large")
        sub = _large_submission(root, megabytes, large_archive, large_key)
    else:
        sub, large_key = prepared
        large_archive = Archive.init(root / "large" / "home", demo_passphrase=True)
        keys.trust_add(large_archive.db, SYSTEM, KEY_ID, signing.public_key_pem(large_key),
                       actor="bench")
    item = _large_item(large_archive)
    warm = generate_submission(root / "warm-sub", rng=random.Random(6), signing_key=large_key,
                               key_id=KEY_ID, source_system=SYSTEM, service_item=item)
    ingest(large_archive, warm, index=False)  # one-time costs (jieba dictionary) not timed
    files = _content_files([sub])
    sha_rate_l, total_l = _sha256_rate(files)
    both_rate_l = _sha256_sm3_rate(files)
    sm3_rate_l = _sm3_rate(files)
    real = service._replica_staging
    if not one_read:
        service._replica_staging = lambda _archive: None
    try:
        os.sync()  # the earlier rounds' writeback is not this round's to pay
        cpu0 = time.process_time()
        start = time.perf_counter()
        outcome = ingest(large_archive, sub, index=False)
        elapsed_l = time.perf_counter() - start
    finally:
        service._replica_staging = real
    return {"mb": total_l / 1e6, "status": outcome.status,
            "mb_per_s": total_l / 1e6 / elapsed_l, "sha256_mb_per_s": sha_rate_l / 1e6,
            "sha256_sm3_mb_per_s": both_rate_l / 1e6, "sm3_mb_per_s": sm3_rate_l / 1e6,
            "cpu_s": time.process_time() - cpu0, "seconds": elapsed_l}


def _large_json(large: dict[str, float | str]) -> dict[str, float]:
    mbps = float(large["mb_per_s"])
    return {
        "large_mb": round(float(large["mb"]), 1),
        "large_mb_per_s": round(mbps, 2),
        "large_sha256_mb_per_s": round(float(large["sha256_mb_per_s"]), 2),
        "large_ratio_vs_sha256": round(mbps / float(large["sha256_mb_per_s"]), 4),
        "large_sha256_sm3_mb_per_s": round(float(large["sha256_sm3_mb_per_s"]), 2),
        "large_ratio_vs_sha256_sm3": round(mbps / float(large["sha256_sm3_mb_per_s"]), 4),
        "large_sm3_mb_per_s": round(float(large["sm3_mb_per_s"]), 2),
        "large_ratio_vs_sm3": round(mbps / float(large["sm3_mb_per_s"]), 4),
        "large_cpu_s": round(float(large["cpu_s"]), 2),
        "large_seconds": round(float(large["seconds"]), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--large-mb", type=int, default=256)
    parser.add_argument("--large-only", action="store_true",
                        help="only the large-file workload (its JSON keys alone)")
    parser.add_argument("--large-ab", type=int, default=0, metavar="ROUNDS",
                        help="large workload with and without the replica written at intake, "
                             "alternating, one JSON line per filing")
    parser.add_argument("--large-repeat", type=int, default=0, metavar="ROUNDS",
                        help="the scan made once and filed ROUNDS times (fresh archive each); "
                             "median reported")
    parser.add_argument("--draft-ab", type=int, default=0, metavar="ROUNDS",
                        help="compare filing with and without draft sealing instead")
    args = parser.parse_args()
    if args.draft_ab:
        print(f"rerun: .venv/bin/python bench/ingest.py --cases {args.cases} "
              f"--draft-ab {args.draft_ab}", file=sys.stderr)
        from ingest_draft import draft_ab  # imports this module: load it only when asked

        draft_ab(args.draft_ab, args.cases)
        return
    print("rerun: .venv/bin/python bench/ingest.py "
          f"--cases {args.cases} --large-mb {args.large_mb}"
          + (" --large-only" if args.large_only else ""), file=sys.stderr)
    if args.large_repeat:
        _large_repeated(args.large_repeat, args.large_mb)
        return
    if args.large_ab:
        for n in range(args.large_ab):
            for one_read in (True, False):
                with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
                    large = _large(Path(tmp), args.large_mb, one_read)
                print(json.dumps({"round": n, "replica_from_intake_read": one_read,
                                  **_large_json(large)}), flush=True)
        return
    if args.large_only:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            large = _large(Path(tmp), args.large_mb)
        print(f"large: {large['mb_per_s']:.1f} MB/s filing one {large['mb']:.0f} MB scan; "
              f"single-stream SM3 {large['sm3_mb_per_s']:.0f} MB/s, SHA-256 + SM3 one thread "
              f"{large['sha256_sm3_mb_per_s']:.0f} MB/s")
        print(json.dumps(_large_json(large)))
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        archive, key = _new_archive(root / "typical")
        subs = generate_batch(root / "subs", args.cases, seed=11, signing_key=key, key_id=KEY_ID,
                              source_system=SYSTEM, config=archive.filing_config)
        sha_rate, total = _sha256_rate(_content_files(subs))
        start = time.perf_counter()
        statuses = [ingest(archive, s, index=False).status for s in subs]
        elapsed = time.perf_counter() - start
        archived = statuses.count("archived")
        typical_files = len(_content_files(subs)) / len(subs)
        typical = {
            "cases": len(subs), "archived": archived, "files_per_case": typical_files,
            "mb": total / 1e6, "cases_per_s": len(subs) / elapsed,
            "mb_per_s": total / 1e6 / elapsed, "sha256_mb_per_s": sha_rate / 1e6,
        }

        parallel_archive, parallel_key = _new_archive(root / "parallel")
        psubs = generate_batch(root / "psubs", args.cases, seed=12, signing_key=parallel_key,
                               key_id=KEY_ID, source_system=SYSTEM,
                               config=parallel_archive.filing_config)
        ptotal = sum(p.stat().st_size for p in _content_files(psubs))
        done_at: list[float] = []
        start = time.perf_counter()
        presults = ingest_many(parallel_archive.home, psubs, workers=2,
                               progress=lambda _i: done_at.append(time.perf_counter()))
        pelapsed = time.perf_counter() - start
        warm = 8  # the first two chunks include starting the worker processes
        steady = (len(done_at) - warm) / (done_at[-1] - done_at[warm - 1])
        parallel = {"cases": len(psubs), "mb": ptotal / 1e6,
                    "archived": sum(1 for r in presults if r.outcome and
                                    r.outcome.status == "archived"),
                    "cases_per_s": len(psubs) / pelapsed, "mb_per_s": ptotal / 1e6 / pelapsed,
                    "steady_cases_per_s": steady}

        large = _large(root, args.large_mb)

    rows = [
        ("typical cases", f"{typical['cases']} ({archived} archived)",
         f"{typical['files_per_case']:.1f}", f"{typical['mb']:.1f}",
         f"{typical['cases_per_s']:.1f}", f"{typical['mb_per_s']:.1f}",
         f"{typical['sha256_mb_per_s']:.0f}", f"{typical['mb_per_s'] / typical['sha256_mb_per_s']:.1%}"),
        ("typical, 2 workers", f"{parallel['cases']} ({parallel['archived']} archived)",
         f"{typical['files_per_case']:.1f}", f"{parallel['mb']:.1f}",
         f"{parallel['cases_per_s']:.1f}", f"{parallel['mb_per_s']:.1f}",
         f"{typical['sha256_mb_per_s']:.0f}", f"{parallel['mb_per_s'] / typical['sha256_mb_per_s']:.1%}"),
        ("large scan PDF", f"1 ({large['status']})", "5", f"{large['mb']:.1f}",
         f"{1 / (large['mb'] / large['mb_per_s']):.2f}", f"{large['mb_per_s']:.1f}",
         f"{large['sha256_mb_per_s']:.0f}", f"{large['mb_per_s'] / large['sha256_mb_per_s']:.1%}"),
    ]
    header = ("workload", "cases", "files/case", "MB", "cases/s", "ingest MB/s",
              "SHA-256 MB/s", "ratio")
    widths = [max(len(str(r[i])) for r in [*rows, header]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print(f"two workers once running (as Celery workers are): "
          f"{parallel['steady_cases_per_s']:.1f} cases/s")
    print(f"large: raw SHA-256 and SM3 of the same bytes (one thread, one read) "
          f"{large['sha256_sm3_mb_per_s']:.0f} MB/s; ingest at "
          f"{large['mb_per_s'] / large['sha256_sm3_mb_per_s']:.1%} of that; single-stream SM3 "
          f"{large['sm3_mb_per_s']:.0f} MB/s, ingest at {large['mb_per_s'] / large['sm3_mb_per_s']:.1%}"
          " (goal >= 80%)")
    print("goals: large files >= 40% of SHA-256 throughput; typical >= 20 cases/s")
    print(json.dumps({
        "typical_cases": typical["cases"],
        "typical_cases_per_s": round(typical["cases_per_s"], 2),
        "typical_mb_per_s": round(typical["mb_per_s"], 2),
        "typical_ratio_vs_sha256": round(typical["mb_per_s"] / typical["sha256_mb_per_s"], 4),
        "typical_2_workers_cases_per_s": round(parallel["cases_per_s"], 2),
        "typical_2_workers_steady_cases_per_s": round(parallel["steady_cases_per_s"], 2),
        **_large_json(large),
    }))


if __name__ == "__main__":
    main()
