"""Transfer (移交) between two instances: create, receive and confirm, per item.

Rerun: ``.venv/bin/python bench/transfer.py [--items 20]`` (``BENCH_TMP=/some/disk`` puts
the two instances elsewhere than the system temp folder). Needs nothing else: it makes a
sending instance, files ``--items`` realistic signed cases through the real ingest (real
PDFs, OFD, scans), makes a receiving instance, then measures the three steps as a user
runs them (services, not the CLI). CPU seconds (``time.process_time``, this process only)
are what to compare while other work runs on the machine; wall seconds are shown too.
Peak RSS is this process's maximum resident set. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path


def _timed(fn):  # type: ignore[no-untyped-def]
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    os.environ.setdefault("DANGAN_KEY_PASSPHRASE", "bench-only-passphrase")
    os.environ.setdefault("DANGAN_OCR_AT_INGEST", "0")
    from dangan.archive import accounts, keys
    from dangan.archive.instance import Archive
    from dangan.ingest.demo.generator import generate_submission
    from dangan.ingest.service import ingest
    from dangan.packages import signing
    from dangan.retention import transfer, transfer_confirm, transfer_receive

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        sender = Archive.init(root / "sender", fonds="Z109", organization="基准社会保险事业管理中心")
        receiver = Archive.init(root / "receiver", fonds="Z001", organization="基准市档案馆")
        for a in (sender, receiver):
            accounts.create_user(a.db, "bench-archivist", "基准档案员", password="correct-horse-9",
                                 by=None)
            accounts.grant_role(a.db, "bench-archivist", "archivist", by=None)
        key = signing.generate_private_key(signing.ED25519)
        keys.trust_add(sender.db, "jbxt-bench", "k1", signing.public_key_pem(key), actor="bench")
        items = [i for i in sender.filing_config.items if i.retention != "Y"]
        rng = random.Random(args.seed)
        refs, total_bytes = [], 0
        for n in range(args.items):
            src = generate_submission(root / "cases" / f"c{n}", rng=rng, signing_key=key,
                                      key_id="k1", source_system="jbxt-bench",
                                      service_item=rng.choice(items), year=2010 + n % 10)
            out = ingest(sender, src)
            assert out.status == "archived", out.reason
            refs.append(out.aip_id)
        with sender.db.session() as s:
            from sqlalchemy import func, select

            from dangan.archive.models import Item
            total_bytes = int(s.scalar(select(func.sum(Item.total_bytes))) or 0)
        pkg = root / "yj.zip"
        _, c_create, w_create = _timed(lambda: transfer.create(
            sender, out=pkg, receiver="基准市档案馆", actor="bench-archivist", refs=refs))
        got, c_recv, w_recv = _timed(lambda: transfer_receive.receive(
            receiver, pkg, actor="bench-archivist", sender_key=sender.public_pem))
        assert len(got.filed) == args.items
        _, c_conf, w_conf = _timed(lambda: transfer_confirm.confirm(
            sender, got.receipt, receiver_pem=receiver.public_pem, actor="bench-archivist"))
        result = {
            "bench": "transfer", "items": args.items, "payload_bytes": total_bytes,
            "package_bytes": pkg.stat().st_size,
            "create_cpu_s": round(c_create, 3), "create_wall_s": round(w_create, 3),
            "receive_cpu_s": round(c_recv, 3), "receive_wall_s": round(w_recv, 3),
            "confirm_cpu_s": round(c_conf, 3), "confirm_wall_s": round(w_conf, 3),
            "cpu_ms_per_item": {k: round(1000 * v / args.items, 1) for k, v in
                                (("create", c_create), ("receive", c_recv),
                                 ("confirm", c_conf))},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        sender.close()
        receiver.close()
    print(f"{'step':<10}{'CPU s':>10}{'wall s':>10}{'CPU ms/item':>14}")
    for step in ("create", "receive", "confirm"):
        print(f"{step:<10}{result[f'{step}_cpu_s']:>10}{result[f'{step}_wall_s']:>10}"
              f"{result['cpu_ms_per_item'][step]:>14}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
