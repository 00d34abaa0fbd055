"""Whether sealing a draft ahead of the filing window pays (``bench/ingest.py --draft-ab N``).

Typical cases filed serially and with two workers, with and without the draft,
alternating in one run; split from ``ingest.py`` to keep each file to one workload.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from dangan.ingest import batch, sealing
from dangan.ingest.demo.generator import generate_batch
from dangan.ingest.service import ingest
from ingest import KEY_ID, SYSTEM, _new_archive


def _no_draft(_filing: object) -> None:
    return None  # every AIP is then sealed inside the filing window


def _init_worker(home: str, draft: bool) -> None:
    batch._init(home)
    if not draft:
        sealing.seal_draft = _no_draft


def _typical_once(root: Path, cases: int, seed: int, draft: bool) -> tuple[float, float]:
    """Cases/s of the typical workload, filed serially and then by two workers."""
    real = sealing.seal_draft
    archive, key = _new_archive(root / "serial")
    subs = generate_batch(root / "subs", cases, seed=seed, signing_key=key, key_id=KEY_ID,
                          source_system=SYSTEM, config=archive.filing_config)
    if not draft:
        sealing.seal_draft = _no_draft
    try:
        start = time.perf_counter()
        statuses = [ingest(archive, s, index=False).status for s in subs]
        serial = len(subs) / (time.perf_counter() - start)
    finally:
        sealing.seal_draft = real
    assert statuses.count("archived") == len(subs), statuses
    parallel_archive, pkey = _new_archive(root / "parallel")
    psubs = generate_batch(root / "psubs", cases, seed=seed + 1, signing_key=pkey,
                           key_id=KEY_ID, source_system=SYSTEM,
                           config=parallel_archive.filing_config)
    todo = [(str(p), None, False) for p in psubs]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=_init_worker,
                             initargs=(str(parallel_archive.home), draft)) as pool:
        pool.submit(time.sleep, 0).result()  # workers started before the clock
        start = time.perf_counter()
        results = list(pool.map(batch._one, todo, chunksize=4))
        parallel = len(psubs) / (time.perf_counter() - start)
    assert all(r.outcome and r.outcome.status == "archived" for r in results)
    return serial, parallel


def draft_ab(rounds: int, cases: int) -> None:
    """Typical filing with and without draft sealing, alternating, in one run."""
    figures: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        for r in range(rounds):
            for draft in ((True, False) if r % 2 == 0 else (False, True)):
                got = _typical_once(Path(tmp) / f"{r}-{draft}", cases, 11 + r, draft)
                figures[draft].append(got)
                print(f"round {r + 1} draft={'on' if draft else 'off'}: serial "
                      f"{got[0]:.1f} cases/s, 2 workers {got[1]:.1f} cases/s", flush=True)
    for draft in (True, False):
        serial = sorted(s for s, _ in figures[draft])
        parallel = sorted(p for _, p in figures[draft])
        print(f"draft {'on ' if draft else 'off'}: serial median {serial[len(serial) // 2]:.1f} "
              f"(min {serial[0]:.1f}, max {serial[-1]:.1f}) cases/s; 2 workers median "
              f"{parallel[len(parallel) // 2]:.1f} (min {parallel[0]:.1f}, "
              f"max {parallel[-1]:.1f}) cases/s")
