"""What the inspector's desk reads: conformity figures, audit-log proofs, evidence bytes.

Why a service: the web pages hold no SQL nor file I/O; the figures are aggregates the
database computes (the archive may hold millions of items), and every proof shown on a
page is checked here with ``dangan.packages.merkle`` before it is shown as green.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dangan.packages import merkle
from dangan.packages.checks.engine import Nature

from . import audit_log, fixity, tree_heads
from .evidence import build_evidence
from .instance import Archive
from .models import Item, Rejection

NATURE_NAMES = {Nature.AUTHENTICITY.value: "真实性", Nature.INTEGRITY.value: "完整性",
                Nature.USABILITY.value: "可用性", Nature.SECURITY.value: "安全性"}

# Days from case completion to filing, as buckets of the histogram.
_LAG_BUCKETS = [(0, 1, "1 天内"), (1, 7, "1–7 天"), (7, 30, "7–30 天"), (30, 90, "30–90 天"),
                (90, None, "90 天以上")]


def _failed_natures(checks: list[dict[str, Any]]) -> set[str]:
    return {c.get("nature", "") for c in checks or []
            if c.get("blocking", True) and c.get("result") == "fail"}


def dashboard(archive: Archive, *, rejection_limit: int = 20_000) -> dict[str, Any]:
    """The conformity dashboard: four-nature pass rates, filing lag, rejections, fixity.

    A filed case passed every blocking check of the four natures; a rejected one failed
    at least one. Rejections keep no catalogue record (service item, agency), so rates by
    service item and agency count filed cases against the rejections of the same source
    system; rejected check items are counted over the newest ``rejection_limit``.
    """
    with archive.db.session() as s:
        filed = s.scalar(select(func.count()).select_from(Item)) or 0
        by_item = s.execute(select(Item.service_item_name, func.count())
                            .group_by(Item.service_item_name)
                            .order_by(func.count().desc())).all()
        by_agency = s.execute(select(Item.agency_name, func.count())
                              .group_by(Item.agency_name).order_by(func.count().desc())).all()
        by_system = dict(s.execute(select(Item.source_system, func.count())
                                   .group_by(Item.source_system)).all())
        rejected_by_system = dict(s.execute(select(Rejection.source_system, func.count())
                                            .group_by(Rejection.source_system)).all())
        rejected = sum(rejected_by_system.values())
        checks = s.execute(select(Rejection.checks).order_by(Rejection.id.desc())
                           .limit(rejection_limit)).scalars().all()
        lag_days = func.julianday(Item.archived_at) - func.julianday(Item.completed_at) \
            if archive.db.engine.dialect.name == "sqlite" else \
            func.extract("epoch", Item.archived_at - Item.completed_at) / 86400.0
        lag_rows = s.execute(select(Item.service_item_name, func.avg(lag_days),
                                    func.max(lag_days)).group_by(Item.service_item_name)).all()
        buckets = []
        for lo, hi, label in _LAG_BUCKETS:
            cond = lag_days >= lo if hi is None else (lag_days >= lo) & (lag_days < hi)
            buckets.append({"label": label, "count": s.scalar(
                select(func.count()).select_from(Item).where(cond)) or 0})
    failed_nature: dict[str, int] = defaultdict(int)
    failed_item: dict[tuple[str, str], int] = defaultdict(int)
    for row in checks:
        for n in _failed_natures(row):
            failed_nature[n] += 1
        for c in row or []:
            if c.get("blocking", True) and c.get("result") == "fail":
                failed_item[(c.get("code", ""), c.get("name", ""))] += 1
    total = filed + rejected
    natures = [{"nature": n, "name": name, "passed": total - failed_nature.get(n, 0),
                "total": total, "rate": _rate(total - failed_nature.get(n, 0), total)}
               for n, name in NATURE_NAMES.items()]
    systems = sorted(set(by_system) | set(rejected_by_system), key=lambda x: x or "")
    return {
        "filed": filed, "rejected": rejected, "natures": natures,
        "by_service_item": [{"name": n, "filed": c} for n, c in by_item],
        "by_agency": [{"name": n, "filed": c} for n, c in by_agency],
        "by_source_system": [{"name": sname or "（未知）", "filed": by_system.get(sname, 0),
                              "rejected": rejected_by_system.get(sname, 0),
                              "rate": _rate(by_system.get(sname, 0), by_system.get(sname, 0)
                                            + rejected_by_system.get(sname, 0))}
                             for sname in systems],
        "lag_by_service_item": [{"name": n, "avg_days": round(float(a or 0), 1),
                                 "max_days": round(float(m or 0), 1)} for n, a, m in lag_rows],
        "lag_buckets": buckets,
        "rejections_by_check": [{"code": code, "name": name, "count": c} for (code, name), c in
                                sorted(failed_item.items(), key=lambda kv: -kv[1])],
        "fixity": fixity.report(archive, problems=10),
    }


def _rate(passed: int, total: int) -> float | None:
    return round(100.0 * passed / total, 1) if total else None


def inclusion(archive: Archive, index: int) -> dict[str, Any]:
    """The inclusion proof of audit entry ``index`` under the newest signed head covering
    it (else the current tree), checked here with ``merkle.verify_inclusion``."""
    with archive.db.session() as s:
        size_now = audit_log.tree_size(s)
        if not 0 <= index < size_now:
            raise audit_log.AuditLogError(f"第 {index} 条审计记录不存在（日志共 {size_now} 条）")
        stored = tree_heads.head_covering(s, index)
        if stored is not None:
            doc = tree_heads.receipt_evidence(s, index, stored.sth)
            root = bytes.fromhex(stored.head.root_hex)
            doc["head_seq"] = stored.seq
        else:
            entry = audit_log.entries(s, index, index + 1)[0]
            root = audit_log.root(s, size_now)
            doc = {"index": index, "entry": entry.body(), "leaf_hash": entry.leaf_hash.hex(),
                   "tree_size": size_now, "signed_tree_head": None, "head_seq": None,
                   "inclusion_proof": [p.hex() for p in
                                       audit_log.inclusion_proof(s, index, size_now)]}
    doc["root_hex"] = root.hex()
    doc["verified"] = merkle.verify_inclusion(
        bytes.fromhex(doc["leaf_hash"]), index, doc["tree_size"],
        [bytes.fromhex(p) for p in doc["inclusion_proof"]], root)
    return doc


def consistency(archive: Archive, old: int, new: int | None = None) -> dict[str, Any]:
    """The consistency proof that the log of ``old`` entries is a prefix of ``new``."""
    with archive.db.session() as s:
        size_now = audit_log.tree_size(s)
        new = size_now if new is None else new
        if not 0 < old <= new <= size_now:
            raise audit_log.AuditLogError(
                f"树大小应满足 0 < 旧 ≤ 新 ≤ {size_now}（当前日志条数），收到 {old} 与 {new}")
        old_root, new_root = audit_log.root(s, old), audit_log.root(s, new)
        proof = audit_log.consistency_proof(s, old, new)
        heads = [h.to_dict() for h in tree_heads.heads(s)[-10:]]
    return {"old_size": old, "new_size": new, "old_root": old_root.hex(),
            "new_root": new_root.hex(), "proof": [p.hex() for p in proof],
            "verified": merkle.verify_consistency(old, new, old_root, new_root, proof),
            "recent_heads": heads}


def evidence_zip(archive: Archive, ref: str, *, actor: str) -> tuple[str, bytes]:
    """The evidence package ``dangan evidence`` writes, as (file name, zip bytes)."""
    with tempfile.TemporaryDirectory(prefix="dangan-evidence-") as tmp:
        dest = Path(tmp) / "evidence.zip"
        done = build_evidence(archive, ref, dest, actor=actor)
        data = dest.read_bytes()
    return f"evidence-{done['aip_id']}.zip", data
