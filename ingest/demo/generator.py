"""Writing demo case submissions: one, a batch, or a set of realistic flawed ones.

A submission directory holds ``case.json`` (UTF-8, indented), ``case.json.sig`` (the
source system's detached signature over those exact bytes, via
``dangan.packages.signing.sign``) and ``files/…``. Everything is drawn from a seeded
``random.Random``; each case of a batch gets its own generator derived from the batch
seed and its index, so a seed always yields the same case.json files (Ed25519 is
deterministic, so the signatures repeat too).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

from dangan.archive.filing_config import FilingConfig, ServiceItem
from dangan.packages.signing import PrivateKey, sign

from .cases import BuiltCase, render_case
from .plan import plan_case

# How often each kind of business occurs at a typical agency (per classification step).
STEP_WEIGHTS = {"DJ": 14, "BG": 10, "ZX": 5, "ZC": 6, "ZR": 6, "JS": 6, "FL": 2, "HJ": 1,
                "BJ": 4, "TF": 2, "QY": 4, "ZH": 3, "ZM": 8, "HD": 12, "ZT": 3, "FY": 4,
                "RZ": 8, "CY": 2,
                "XH": 0}  # XH: the archive files its own destruction registers


def case_bytes(case: dict[str, Any]) -> bytes:
    return (json.dumps(case, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build_case(item: ServiceItem, rng: random.Random, source_system: str, *,
               outcome: str | None = None, year: int | None = None,
               case_id: str | None = None, case_seq: int | None = None) -> BuiltCase:
    """Plan and render one case in memory (nothing written yet)."""
    plan = plan_case(item, rng, outcome=outcome, year=year, case_id=case_id, case_seq=case_seq)
    return render_case(plan, rng, source_system)


def write_submission(out_dir: Path, built: BuiltCase, signing_key: PrivateKey, key_id: str,
                     *, name: str | None = None) -> Path:
    """Write the files, case.json and its signature into ``out_dir/<case_id>``."""
    root = Path(out_dir) / (name or built.case["case_id"])
    if root.exists():
        shutil.rmtree(root)
    (root / "files").mkdir(parents=True)
    for bf in built.files:
        target = root / "files" / bf.entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bf.data)
    data = case_bytes(built.case)
    (root / "case.json").write_bytes(data)
    (root / "case.json.sig").write_bytes(sign(signing_key, key_id, data).to_json())
    return root


def generate_submission(out_dir: Path, *, rng: random.Random, signing_key: PrivateKey,
                        key_id: str, source_system: str, service_item: ServiceItem,
                        outcome: str | None = None, year: int | None = None,
                        case_id: str | None = None) -> Path:
    """Write one realistic, signed submission directory and return its path."""
    built = build_case(service_item, rng, source_system, outcome=outcome, year=year,
                       case_id=case_id)
    return write_submission(out_dir, built, signing_key, key_id)


def demo_items(config: FilingConfig) -> list[ServiceItem]:
    """The service items a case-handling system sends (not those the archive files itself,
    such as its destruction registers)."""
    return [i for i in config.items if STEP_WEIGHTS.get(i.classification_code[-2:], 3) > 0]


def pick_item(config: FilingConfig, rng: random.Random) -> ServiceItem:
    items = demo_items(config)
    weights = [STEP_WEIGHTS.get(i.classification_code[-2:], 3) for i in items]
    return rng.choices(items, weights)[0]


def _one(args: tuple) -> Path:
    out_dir, seed, index, key, key_id, source_system, config = args
    rng = random.Random(f"{seed}:{index}")
    item = pick_item(config, rng)
    built = build_case(item, rng, source_system, case_seq=index)  # unique ids within a batch
    return write_submission(out_dir, built, key, key_id)


def generate_batch(out_dir: Path, n: int, *, seed: int, signing_key: PrivateKey, key_id: str,
                   source_system: str, config: FilingConfig, workers: int | None = None) -> list[Path]:
    """``n`` submissions under ``out_dir``; the same seed gives the same case.json files.

    With ``workers`` > 1 (default: the CPU count for batches of 40 or more) the cases are
    made in parallel processes; each case's randomness depends only on (seed, index), so
    the result does not depend on the number of workers.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(out_dir, seed, i, signing_key, key_id, source_system, config) for i in range(n)]
    workers = workers if workers is not None else ((os.cpu_count() or 1) if n >= 40 else 1)
    workers = min(workers, n)
    if workers > 1 and _in_daemon():  # e.g. a Celery prefork worker may not start children
        workers = 1
    if workers <= 1:
        return [_one(job) for job in jobs]
    return _parallel(jobs, workers)


def _in_daemon() -> bool:
    import multiprocessing as mp

    return bool(mp.current_process().daemon)


def _parallel(jobs: list[tuple], workers: int) -> list[Path]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from dangan.packages.signing import private_key_to_pem

    pem = private_key_to_pem(jobs[0][3], None)
    portable = [(j[0], j[1], j[2], pem, *j[4:]) for j in jobs]
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(_one_pem, portable, chunksize=max(1, len(jobs) // (workers * 4))))


def _one_pem(args: tuple) -> Path:
    from dangan.packages.signing import load_private_key

    key = load_private_key(args[3], None)
    return _one((*args[:3], key, *args[4:]))


def generate_flawed(out_dir: Path, *, seed: int, signing_key: PrivateKey, key_id: str,
                    source_system: str, config: FilingConfig) -> list[tuple[Path, str]]:
    """Realistic submissions that Dangan must reject, each with a one-line description."""
    from .flaws import make_flawed

    return make_flawed(Path(out_dir), seed=seed, signing_key=signing_key, key_id=key_id,
                       source_system=source_system, config=config)
