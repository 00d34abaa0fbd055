"""Multi-buffer SM3 and ``sm3_multi.digest_files`` against single-thread SHA-256, same run.

Rerun: ``.venv/bin/python bench/sm3.py [--files 16] [--file-mb 64] [--msg-mb 16] [--repeat 3]``
(``BENCH_TMP=/some/disk`` puts the files elsewhere than the system temp folder).

Measures, best of ``--repeat`` runs, MB = 10^6 bytes hashed:
- SHA-256 (hashlib/OpenSSL, one thread, in memory): the baseline of every ratio;
- SM3 from OpenSSL (one thread, in memory);
- the multi-buffer kernel, each one this CPU runs, over 16 in-memory messages
  (``sm3_hex_many``: padding and finalisation included);
- SHA-256 + SM3 of ``--files`` files from the page cache (read once and warmed first):
  ``digest_files`` (two threads), and ``digests.digest_file`` per file for comparison.
Other busy processes skew every figure: the share of CPU time they took is reported.
Prints a table, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dangan.packages import sm3_multi
from dangan.packages.digests import digest_file


def _best_rate(nbytes: int, run: Callable[[], object], repeat: int) -> float:
    """MB/s of the fastest of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return nbytes / best / 1e6


def _write_files(folder: Path, count: int, megabytes: int) -> list[Path]:
    paths = []
    block = os.urandom(1 << 20)
    for i in range(count):
        path = folder / f"payload-{i:02d}.bin"
        with open(path, "wb") as f:
            for k in range(megabytes):
                # Distinct content per file and MiB, cheap to make.
                f.write(i.to_bytes(4, "big") + k.to_bytes(4, "big") + block[8:])
        paths.append(path)
    return paths


def _warm(paths: list[Path]) -> None:
    buf = bytearray(1 << 20)
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass


def _cpu_sample() -> tuple[float, float, float] | None:
    """(all CPUs' time, their idle time, this process's CPU time), seconds; Linux only."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    own = os.times()
    return sum(fields) / tick, (fields[3] + fields[4]) / tick, own.user + own.system


def _others_share(before: tuple | None, after: tuple | None) -> float | None:
    """Share of all CPU time between two samples that other processes used."""
    if before is None or after is None:
        return None
    total, idle, own = (b - a for a, b in zip(before, after, strict=True))
    return max(0.0, total - idle - own) / max(total, 1e-9)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--file-mb", type=int, default=64, help="MiB per file")
    parser.add_argument("--msg-mb", type=int, default=16, help="MiB per in-memory message")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    start = _cpu_sample()
    time.sleep(0.5)
    busy = _others_share(start, start := _cpu_sample())
    lanes = 16
    message = os.urandom(args.msg_mb << 20)
    messages = [bytes([i]) + message[1:] for i in range(lanes)]
    one = lanes * len(message) // 4  # a quarter of the multi-buffer volume, one stream
    big = b"".join(messages)[:one]
    sha = _best_rate(one, lambda: hashlib.sha256(big).digest(), args.repeat)
    openssl_sm3 = _best_rate(one, lambda: hashlib.new("sm3", big).digest(), args.repeat)

    kernel_rates: dict[str, float] = {}
    ext = sm3_multi._sm3mb
    if ext is not None:
        default = ext.kernel()
        try:
            for name in ext.kernels():
                ext.set_kernel(name)
                kernel_rates[name] = _best_rate(
                    lanes * len(message), lambda: sm3_multi.sm3_hex_many(messages),
                    args.repeat)
        finally:
            ext.set_kernel(default)

    with tempfile.TemporaryDirectory(prefix="bench-sm3-", dir=os.environ.get("BENCH_TMP")) as tmp:
        paths = _write_files(Path(tmp), args.files, args.file_mb)
        total = sum(p.stat().st_size for p in paths)
        _warm(paths)
        files_rate = _best_rate(total, lambda: sm3_multi.digest_files(paths), args.repeat)
        per_file = _best_rate(total, lambda: [digest_file(p) for p in paths], 1)
        assert sm3_multi.digest_files(paths[:3]) == [digest_file(p) for p in paths[:3]]

    others = _others_share(start, _cpu_sample())
    result = {
        "cpus": os.cpu_count(),
        "cpu_share_of_others_before": None if busy is None else round(busy, 3),
        "cpu_share_of_others_during": None if others is None else round(others, 3),
        "kernel": sm3_multi.kernel(),
        "files": args.files,
        "file_mib": args.file_mb,
        "sha256_mb_per_s": round(sha),
        "openssl_sm3_mb_per_s": round(openssl_sm3),
        "sm3mb_mb_per_s": {k: round(v) for k, v in kernel_rates.items()},
        "digest_files_mb_per_s": round(files_rate),
        "digest_file_each_mb_per_s": round(per_file),
        "openssl_sm3_ratio_vs_sha256": round(openssl_sm3 / sha, 3),
        "sm3mb_ratio_vs_sha256": {k: round(v / sha, 3) for k, v in kernel_rates.items()},
        "sm3mb_ratio_vs_openssl_sm3": {k: round(v / openssl_sm3, 2)
                                       for k, v in kernel_rates.items()},
        "digest_files_ratio_vs_sha256": round(files_rate / sha, 3),
        "digest_file_each_ratio_vs_sha256": round(per_file / sha, 3),
    }
    rows = [("SHA-256, 1 thread (baseline)", sha),
            ("SM3 OpenSSL, 1 thread", openssl_sm3)]
    rows += [(f"SM3 multi-buffer {k}, 16 messages", v) for k, v in kernel_rates.items()]
    rows += [(f"digest_files, {args.files} x {args.file_mb} MiB (SHA-256+SM3)", files_rate),
             ("digest_file per file (SHA-256+SM3)", per_file)]
    if max(busy or 0, others or 0) > 0.05:
        print(f"note: other processes took {busy or 0:.0%} of the CPUs before the run and "
              f"{others or 0:.0%} during it: figures are low", file=sys.stderr, flush=True)
    print(f"{'what':<52} {'MB/s':>8} {'vs SHA-256':>11}")
    for name, rate in rows:
        print(f"{name:<52} {rate:8.0f} {rate / sha:10.0%}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
