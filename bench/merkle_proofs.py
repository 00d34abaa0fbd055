"""Merkle audit log benchmark: append rate, proof sizes and verify times at 1M entries.

Rerun: .venv/bin/python bench/merkle_proofs.py [--entries N] [--sample S] [--seed X]

Why: the audit log (issue 4) appends one leaf per state change and must answer
inclusion and consistency proofs for any past tree size. This measures, for a log of
N entries of 64 random bytes each (dangan.packages.merkle.MerkleLog, in-memory store):
- raw SHA-256 of the entries (baseline), RFC 6962 leaf hashing, and appending;
- inclusion proofs (random leaf i, random size n > i) and consistency proofs (random
  0 < m < n <= N): size in hashes and bytes, generation and verification time.
Every proof is verified; a failing one aborts the run. The last line of output is one
JSON object with all figures (units in the key names).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable

from dangan.packages.merkle import (
    HASH_SIZE,
    MerkleLog,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

RERUN = ".venv/bin/python bench/merkle_proofs.py [--entries N] [--sample S] [--seed X]"
ENTRY_BYTES = 64


def _pct(values_ms: list[float], q: float) -> float:
    ordered = sorted(values_ms)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    t0 = time.perf_counter_ns()
    out = fn()
    return out, (time.perf_counter_ns() - t0) / 1e6


def run(entries: int, sample: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    blob = rng.randbytes(entries * ENTRY_BYTES)
    data = [blob[i : i + ENTRY_BYTES] for i in range(0, len(blob), ENTRY_BYTES)]
    del blob

    sha = hashlib.sha256
    t0 = time.perf_counter()
    for e in data:
        sha(e).digest()
    raw_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    leaves = [leaf_hash(e) for e in data]
    leaf_s = time.perf_counter() - t0

    log = MerkleLog()
    t0 = time.perf_counter()
    log.extend(leaves)
    append_s = time.perf_counter() - t0

    root, root_ms = _timed(log.root)
    assert isinstance(root, bytes)

    inc_hashes: list[int] = []
    inc_gen: list[float] = []
    inc_ver: list[float] = []
    con_hashes: list[int] = []
    con_gen: list[float] = []
    con_ver: list[float] = []
    roots: dict[int, bytes] = {entries: root}
    for _ in range(sample):
        n = rng.randint(1, entries)
        i = rng.randrange(n)
        r = roots.setdefault(n, log.root(n))
        proof, ms = _timed(lambda i=i, n=n: log.inclusion_proof(i, n))
        assert isinstance(proof, list)
        inc_gen.append(ms)
        ok, ms = _timed(lambda i=i, n=n, p=proof, r=r: verify_inclusion(leaves[i], i, n, p, r))
        if not ok:
            sys.exit(f"inclusion proof failed to verify: i={i} n={n}")
        inc_ver.append(ms)
        inc_hashes.append(len(proof))

        n = rng.randint(2, entries)
        m = rng.randrange(1, n)
        r1, r2 = roots.setdefault(m, log.root(m)), roots.setdefault(n, log.root(n))
        proof, ms = _timed(lambda m=m, n=n: log.consistency_proof(m, n))
        assert isinstance(proof, list)
        con_gen.append(ms)
        ok, ms = _timed(lambda m=m, n=n, p=proof, r1=r1, r2=r2: verify_consistency(m, n, r1, r2, p))
        if not ok:
            sys.exit(f"consistency proof failed to verify: m={m} n={n}")
        con_ver.append(ms)
        con_hashes.append(len(proof))

    full_proof = log.inclusion_proof(entries // 3)
    return {
        "entries": entries,
        "entry_bytes": ENTRY_BYTES,
        "sample": sample,
        "sha256_raw_per_s": round(entries / raw_s),
        "leaf_hash_per_s": round(entries / leaf_s),
        "append_per_s": round(entries / append_s),
        "leaf_hash_and_append_per_s": round(entries / (leaf_s + append_s)),
        "ratio_vs_sha256": round((leaf_s + append_s) / raw_s, 2),
        "append_total_s": round(leaf_s + append_s, 2),
        "root_ms": round(root_ms, 4),
        "inclusion_proof_hashes": len(full_proof),  # one leaf in the full log
        "inclusion_proof_bytes": len(full_proof) * HASH_SIZE,
        "inclusion_proof_hashes_median": statistics.median(inc_hashes),
        "inclusion_proof_hashes_max": max(inc_hashes),
        "inclusion_proof_bytes_max": max(inc_hashes) * HASH_SIZE,
        "inclusion_gen_median_ms": round(statistics.median(inc_gen), 4),
        "inclusion_gen_p95_ms": round(_pct(inc_gen, 0.95), 4),
        "inclusion_verify_median_ms": round(statistics.median(inc_ver), 4),
        "inclusion_verify_p95_ms": round(_pct(inc_ver, 0.95), 4),
        "consistency_proof_hashes_median": statistics.median(con_hashes),
        "consistency_proof_hashes_max": max(con_hashes),
        "consistency_proof_bytes_max": max(con_hashes) * HASH_SIZE,
        "consistency_gen_median_ms": round(statistics.median(con_gen), 4),
        "consistency_gen_p95_ms": round(_pct(con_gen, 0.95), 4),
        "consistency_verify_median_ms": round(statistics.median(con_ver), 4),
        "consistency_verify_p95_ms": round(_pct(con_ver, 0.95), 4),
        "proofs_verified": 2 * sample,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=6962)
    args = parser.parse_args(argv)
    if args.entries < 2 or args.sample < 1:
        parser.error("--entries must be >= 2 and --sample >= 1")
    print(f"Merkle audit log benchmark. Rerun: {RERUN}")
    print(f"building a log of {args.entries:,} entries of {ENTRY_BYTES} bytes ...", flush=True)
    r = run(args.entries, args.sample, args.seed)
    rows = [
        ("raw SHA-256 of entries", f"{r['sha256_raw_per_s']:,} /s"),
        ("RFC 6962 leaf hash", f"{r['leaf_hash_per_s']:,} /s"),
        ("append (leaf hash given)", f"{r['append_per_s']:,} /s"),
        ("leaf hash + append", f"{r['leaf_hash_and_append_per_s']:,} /s "
         f"({r['ratio_vs_sha256']}x the raw SHA-256 time)"),
        ("root of the full log", f"{r['root_ms']} ms"),
        ("inclusion proof size", f"median {r['inclusion_proof_hashes_median']} hashes, "
         f"max {r['inclusion_proof_hashes_max']} ({r['inclusion_proof_bytes_max']} bytes)"),
        ("inclusion proof generate", f"median {r['inclusion_gen_median_ms']} ms, "
         f"p95 {r['inclusion_gen_p95_ms']} ms"),
        ("inclusion proof verify", f"median {r['inclusion_verify_median_ms']} ms, "
         f"p95 {r['inclusion_verify_p95_ms']} ms"),
        ("consistency proof size", f"median {r['consistency_proof_hashes_median']} hashes, "
         f"max {r['consistency_proof_hashes_max']} ({r['consistency_proof_bytes_max']} bytes)"),
        ("consistency proof generate", f"median {r['consistency_gen_median_ms']} ms, "
         f"p95 {r['consistency_gen_p95_ms']} ms"),
        ("consistency proof verify", f"median {r['consistency_verify_median_ms']} ms, "
         f"p95 {r['consistency_verify_p95_ms']} ms"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\n{'measure'.ljust(width)}  value  (sample of {r['sample']} random proofs of each kind)")
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")
    print(json.dumps(r, sort_keys=True))


if __name__ == "__main__":
    main()
