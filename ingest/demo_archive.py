"""``dangan demo``: a demo archive built from realistic generated cases.

A demo case-handling system (its own key, registered in the trust store) signs a few
hundred generated submissions across many service items, channels and outcomes, plus a
handful that must be rejected; each is filed through the real ingest path.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from dangan.archive import catalogue, keys
from dangan.archive.config import resolve_home
from dangan.archive.instance import Archive
from dangan.archive.permissions import ROLES
from dangan.packages import signing
from dangan.search.feed import reindex

from .batch import ingest_many
from .demo.generator import generate_batch, generate_flawed
from .service import IngestOutcome, ingest

DEMO_SYSTEM = "jbxt-demo"
DEMO_KEY_ID = "demo-2026"


def _demo_source_key(archive: Archive) -> signing.PrivateKey:
    """The demo sender's key: created once, kept in the instance, registered as trusted."""
    key_path = archive.home / "demo" / "source-key.pem"
    if key_path.exists():
        return signing.load_private_key(key_path.read_bytes(), None)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = signing.generate_private_key(signing.ED25519)
    key_path.write_bytes(signing.private_key_to_pem(key, None))
    key_path.chmod(0o600)
    keys.trust_add(archive.db, DEMO_SYSTEM, DEMO_KEY_ID, signing.public_key_pem(key),
                   actor="dangan demo")
    return key


def build_demo(
    home: str | Path | None,
    *,
    cases: int = 300,
    seed: int = 20261123,
    workers: int = 2,
    ocr: bool = True,
    echo: Callable[[str], None] = print,
) -> dict[str, int]:
    """Build the demo archive; ``ocr=False`` indexes without OCR (the caller OCRs later)."""
    root = resolve_home(home)
    archive = (Archive.open(root) if (root / "dangan.toml").exists()
               else Archive.init(root, demo_passphrase=True))
    with archive.db.session() as s:
        existing = catalogue.counts(s)
    if existing["items"]:
        echo(f"演示档案已存在：{root}（{existing['items']} 件已归档，{existing['rejections']} 件拒收记录）")
        return existing
    echo(f"创建演示档案：{root}")
    key = _demo_source_key(archive)
    work = archive.home / "demo" / "submissions"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.perf_counter()
    good = generate_batch(work / "good", cases, seed=seed, signing_key=key, key_id=DEMO_KEY_ID,
                          source_system=DEMO_SYSTEM, config=archive.filing_config)
    flawed = generate_flawed(work / "flawed", seed=seed, signing_key=key, key_id=DEMO_KEY_ID,
                             source_system=DEMO_SYSTEM, config=archive.filing_config)
    generated = time.perf_counter()
    echo(f"  生成 {len(good)} 件正常办件、{len(flawed)} 件有缺陷的办件，用时 {generated - started:.1f} 秒")
    results = ingest_many(archive.home, good, workers=workers, actor="dangan demo",
                          progress=lambda i: echo(f"  已提交 {i}/{len(good)}") if i % 50 == 0
                          else None)
    outcomes: list[IngestOutcome] = [r.outcome for r in results if r.outcome is not None]
    flawed_outcomes = [(ingest(archive, path, actor="dangan demo", index=False), flaw)
                       for path, flaw in flawed]
    elapsed = time.perf_counter() - generated
    statuses = Counter(o.status for o in outcomes)
    echo(f"  归档 {statuses['archived']} 件，重复 {statuses['duplicate']} 件，"
         f"拒收 {statuses['rejected']} 件；用时 {elapsed:.1f} 秒"
         f"（{len(outcomes) / max(elapsed, 1e-9):.1f} 件/秒，含缺陷件）")
    for o in outcomes:
        if o.status == "rejected":
            echo(f"  ！正常办件被拒收：{o.case_id}：{o.reason}")
    echo("  有缺陷的办件：")
    for o, flaw in flawed_outcomes:
        verdict = "已拒收" if o.status == "rejected" else f"未被拒收（{o.status}）"
        echo(f"    {flaw} → {verdict}" + (f"：{o.reason}" if o.reason else ""))
    started = time.perf_counter()
    echo("  建立全文索引（含扫描件 OCR）…" if ocr else "  建立全文索引（扫描件 OCR 稍后在后台进行）…")
    indexed = reindex(archive, ocr=ocr, workers=workers,
                      progress=lambda n, total: echo(f"  已索引 {n}/{total}") if n % 50 == 0
                      else None)
    echo(f"  索引 {indexed} 件，用时 {time.perf_counter() - started:.1f} 秒")
    archived = [o for o in outcomes if o.status == "archived"]
    if archived:
        sample = archived[0]
        echo("  试一试：")
        echo(f"    dangan show {sample.archival_code}")
        echo(f"    dangan show {sample.case_id}")
        echo(f"    dangan export {sample.aip_id} /tmp/{sample.aip_id}.zip")
        echo(f"    dangan search {sample.case_id}")
    shutil.rmtree(work, ignore_errors=True)
    with archive.db.session() as s:
        return catalogue.counts(s)


DEMO_ROLES = ("clerk", "archivist", "appraiser", "inspector", "sysadmin", "secadmin", "auditor")


def demo_password(role: str) -> str:
    return f"Demo-{role}-2026"


def create_demo_accounts(home: str | Path | None) -> list[dict[str, str]]:
    """One demo account per role (login = role name) with a known password and a freshly
    enrolled TOTP secret; for demos only (the passwords are printed and documented)."""
    from dangan.archive import accounts, second_factor
    from dangan.archive.account_models import User

    archive = Archive.open(resolve_home(home))
    out = []
    try:
        with archive.db.session() as s:
            existing = set(s.scalars(select(User.login)))
        for role in DEMO_ROLES:
            login = f"demo-{role}"
            if login not in existing:
                accounts.create_user(archive.db, login, f"演示{ROLES[role]}",
                                     password=demo_password(role), by=None)
                accounts.grant_role(archive.db, login, role, by=None)
            uri = second_factor.enrol_totp_at_console(archive.db, login, by=None)
            out.append({"login": login, "role": role, "password": demo_password(role),
                        "otpauth": uri})
    finally:
        archive.close()
    return out
