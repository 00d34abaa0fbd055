"""Fixity audits (固定性检查, stage BC): re-prove every copy of an AIP, repair from a good one.

Why: bytes rot and insiders edit; only re-reading proves that what is kept is what was
filed. For each item chosen (a rolling sample, least recently audited first, or every
item due in the cycle) and for each copy (primary store, replica): every payload byte is
re-hashed (SHA-256 and SM3 in one read) against the manifests, the AIP signature is
verified with the archive key, the BC-stage package checks run, and the manifest-set
digest must equal the one the audit log recorded at filing. The content checks (format,
decoding, viruses) and the catalogue checks run once per item on a copy that verified.
A damaged or missing copy is replaced from the other copy only when that copy verified
completely (``replica.repair`` verifies it again while copying). When no copy verifies
the item is reported and nothing is "repaired". Every result is a ``fixity_results``
row and a ``fixity:audit`` entry of the audit log.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dangan.packages import vocabulary as V
from dangan.packages.aip import inspect_aip
from dangan.packages.aip.bag import CASE_JSON
from dangan.packages.aip.validate import AIPValidation
from dangan.packages.aip.validate_parts import BagView
from dangan.packages.checks import CheckContext, CheckRegistry, Result, Stage, run_checks
from dangan.packages.digests import sha256_hex
from dangan.packages.problem import Problem

from . import audit_log, catalogue, chain, crosscheck, replica
from .errors import NotFound
from .fixity_measure import MEASURE_BATCH, Measured, measure
from .fixity_models import FixityResult, FixityRun
from .instance import Archive
from .models import Item
from .replica import COPY_NAMES, ReplicaError
from .timeutil import iso, utcnow
from .transfer_records import sealing_key

SYSTEM_ACTOR = "system:fixity"
Inspection = tuple[AIPValidation, BagView | None]
BOTH_DAMAGED = "两个副本均损坏，无法自动修复"
GOOD_OUTCOMES = ("ok", "repaired")
OUTCOME_NAMES = V.FIXITY_OUTCOMES
STATUS_NAMES = V.COPY_STATES


@dataclass
class CopyAudit:
    name: str
    status: str  # ok | damaged | missing
    path: str
    aip_digest: str | None = None
    bytes: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    repaired_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"copy": self.name, "status": self.status, "path": self.path,
                "aip_digest": self.aip_digest, "bytes": self.bytes, "problems": self.problems,
                "checks": self.checks, "repaired_from": self.repaired_from}


@dataclass
class ItemAudit:
    aip_id: str
    archival_code: str
    reference_digest: str | None
    copies: dict[str, CopyAudit]
    outcome: str = "ok"
    message: str = ""
    catalogue_status: str = "unchecked"
    catalogue_problems: list[dict[str, Any]] = field(default_factory=list)
    content_checks: list[dict[str, Any]] = field(default_factory=list)
    repairs: list[dict[str, Any]] = field(default_factory=list)
    audit_index: int | None = None

    @property
    def bytes(self) -> int:
        return sum(c.bytes for c in self.copies.values())

    def to_dict(self) -> dict[str, Any]:
        return {"aip_id": self.aip_id, "archival_code": self.archival_code, "outcome": self.outcome,
                "message": self.message, "reference_digest": self.reference_digest,
                "copies": {n: c.to_dict() for n, c in self.copies.items()},
                "catalogue": {"status": self.catalogue_status, "problems": self.catalogue_problems},
                "content_checks": self.content_checks, "repairs": self.repairs,
                "audit_index": self.audit_index, "bytes": self.bytes}


@dataclass
class AuditRun:
    run_id: int
    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    items: list[ItemAudit] = field(default_factory=list)

    @property
    def bytes_hashed(self) -> int:
        return sum(i.bytes for i in self.items)

    @property
    def ok(self) -> bool:
        return all(i.outcome in GOOD_OUTCOMES for i in self.items)

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in OUTCOME_NAMES}
        for i in self.items:
            out[i.outcome] = out.get(i.outcome, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        secs = (self.finished_at - self.started_at).total_seconds() if self.finished_at else None
        return {"run_id": self.run_id, "mode": self.mode, "status": "ok" if self.ok else "failed",
                "started_at": iso(self.started_at),
                "finished_at": iso(self.finished_at) if self.finished_at else None,
                "seconds": secs, "bytes_hashed": self.bytes_hashed, "counts": self.counts(),
                "items": [i.to_dict() for i in self.items]}


def _compact(results: list[Any]) -> list[dict[str, Any]]:
    """Check results as stored: every code and verdict; evidence only for non-passes."""
    return [{"code": r.code, "name": r.name, "result": str(r.result), "blocking": r.blocking,
             "message": r.message, **({"evidence": r.evidence[:20]} if r.result is not Result.PASS
                                      else {})} for r in results]


def _inspect_copies(archive: Archive, aip_id: str, pem: bytes,
                    measured: Measured | None = None) -> dict[str, Inspection | None]:
    """Validate every copy, the copies in parallel (hashing releases the GIL).

    Payload files in ``measured`` were hashed by this audit a moment ago
    (``measure``); the rest are read and hashed here.
    """
    paths = {name: store.path(aip_id) for name, store in replica.stores(archive).items()}
    present = {n: p for n, p in paths.items() if p.is_dir()}
    with ThreadPoolExecutor(max_workers=max(len(present), 1)) as pool:
        futures = {n: pool.submit(inspect_aip, p, pem, (measured or {}).get(n))
                   for n, p in present.items()}
        return {n: futures[n].result() if n in futures else None for n in paths}


def _examine(archive: Archive, session: Session, item: Item, name: str, expected: str | None,
             pem: bytes, inspection: Inspection | None) -> tuple[CopyAudit, CheckContext | None]:
    path = replica.stores(archive)[name].path(item.aip_id)
    if inspection is None:
        return CopyAudit(name, "missing", str(path), problems=[
            Problem("copy.missing", str(path), expected="AIP 目录",
                    note=f"{COPY_NAMES[name]}中没有该 AIP（目录被删除或移走）").to_dict()]), None
    validation, view = inspection
    ctx = chain.stored_context(archive, session, item, path, validation, view, pem)
    report = run_checks(ctx, Stage.BC, group="package", registry=archive.checks)
    problems = list(validation.problems)
    if validation.aip_digest != expected:
        problems.append(Problem(
            "reference.digest_mismatch", "tagmanifest-sha256.txt", expected=expected,
            found=validation.aip_digest,
            note="清单集摘要与审计日志记录的归档时摘要不符（信息包被整体替换或重新封装）").to_dict())
    if not problems:
        problems = [Problem(f"check.{r.code}", None, expected=V.RESULTS["pass"], found=str(r.result),
                            note=f"{r.code} {r.name}：{r.message}").to_dict()
                    for r in report.blocking_failures]
    copy = CopyAudit(name, "damaged" if problems else "ok", str(path), validation.aip_digest,
                     sum(d.size for d in view.actual.values()) if view is not None else 0,
                     problems, _compact(report.results))
    return copy, ctx


def _check_catalogue(session: Session, item: Item, audit: ItemAudit, ctx: CheckContext,
                     checks: CheckRegistry) -> None:
    """GD-3-2 on the rows read back, and every catalogue value against the AIP description."""
    ctx.catalogue_record = catalogue.read_back(session, item.aip_id)
    report = run_checks(ctx, Stage.BC, group="catalogue", registry=checks)
    validation, view = ctx.aip_inspection
    case_sha = sha256_hex(view.read(CASE_JSON)) if CASE_JSON in view.files else None
    problems = chain.catalogue_differences(catalogue.get_item(session, item.aip_id),
                                           validation.description or {}, validation.aip_digest,
                                           case_sha)
    problems += [Problem(f"check.{r.code}", None, field=r.code,
                         note=f"{r.code} {r.name}：{r.message}").to_dict()
                 for r in report.blocking_failures]
    audit.catalogue_problems = problems
    audit.catalogue_status = "mismatch" if problems else "ok"
    audit.content_checks += _compact(report.results)


def _notes(problems: list[dict[str, Any]], n: int = 3) -> str:
    return "；".join(str(p.get("note")) for p in problems[:n]) + (
        f" 等 {len(problems)} 处" if len(problems) > n else "")


def _decide(archive: Archive, audit: ItemAudit, actor: str) -> None:
    copies = audit.copies
    good = [n for n, c in copies.items() if c.status == "ok"]
    bad = [n for n, c in copies.items() if c.status != "ok"]
    states = "，".join(f"{COPY_NAMES[n]}{STATUS_NAMES[c.status]}" for n, c in copies.items())
    if not good:
        digests = {c.aip_digest for c in copies.values()}
        only_ref = all(c.problems and all(p["code"] == "reference.digest_mismatch" for p in c.problems)
                       for c in copies.values())
        if only_ref and len(digests) == 1:
            audit.outcome = "reference_mismatch"
            audit.message = ("各副本一致且签名有效，但与审计日志记录的归档时摘要不符：信息包被重新封装或"
                             "记录被改写，需人工核查，未自动修复")
        else:
            audit.outcome = "unrepairable"
            audit.message = f"{BOTH_DAMAGED}（{states}）：" + "；".join(
                f"{COPY_NAMES[n]}：{_notes(c.problems)}" for n, c in copies.items())
        return
    source = good[0]
    for name in bad:
        damaged = copies[name]
        try:
            done = replica.repair(archive, audit.aip_id, damaged=name, source=source,
                                  expected=audit.reference_digest or "",
                                  damaged_digest=damaged.aip_digest, problems=damaged.problems,
                                  actor=actor)
        except ReplicaError as exc:
            audit.outcome = "repair_failed"
            audit.message = f"{COPY_NAMES[name]}{STATUS_NAMES[damaged.status]}，修复失败：{exc.message}"
            return
        damaged.repaired_from = source
        audit.repairs.append(done.to_dict())
    if audit.catalogue_status == "mismatch":
        audit.outcome = "catalogue_mismatch"
        audit.message = (f"信息包完好（{states}），但目录记录与 AIP 不符：{_notes(audit.catalogue_problems)}"
                         "（目录可能被改动，需人工核查）")
    elif content_fail := [c for c in audit.content_checks
                          if c["result"] == "fail" and c["blocking"]]:
        audit.outcome = "content_problem"
        audit.message = "信息包完好，但长期保存阶段的内容检测未通过：" + "；".join(
            f"{c['code']} {c['message']}" for c in content_fail[:3])
    elif bad:
        audit.outcome = "repaired"
        audit.message = "；".join(
            f"{COPY_NAMES[n]}{STATUS_NAMES[copies[n].status]}（{_notes(copies[n].problems)}），"
            f"已用校验通过的{COPY_NAMES[source]}修复" for n in bad)
    else:
        audit.message = "主存储与副本均完好，与归档时一致；目录记录相符"


def audit_item(archive: Archive, item_id: str, *, content: bool = True,
               actor: str = SYSTEM_ACTOR, measured: Measured | None = None) -> ItemAudit:
    """Examine every copy of one item, check the catalogue, repair if a copy verified."""
    pem = sealing_key(archive, item_id)  # the sender's key for an AIP received by transfer
    with archive.db.session() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"目录中没有 AIP {item_id}")
        expected, _ = chain.reference_digest(session, item)
        copies: dict[str, CopyAudit] = {}
        contexts: dict[str, CheckContext] = {}
        for name, inspection in _inspect_copies(archive, item_id, pem, measured).items():
            copies[name], ctx = _examine(archive, session, item, name, expected, pem, inspection)
            if ctx is not None and copies[name].status == "ok":
                contexts.setdefault("good", ctx)
        audit = ItemAudit(item.aip_id, item.archival_code, expected, copies)
        good = contexts.get("good")
        if good is not None:
            _check_catalogue(session, item, audit, good, archive.checks)
            if content:
                audit.content_checks = _compact(run_checks(good, Stage.BC, group="submission",
                                                           registry=archive.checks)
                                                .results) + audit.content_checks
    _decide(archive, audit, actor)
    return audit


def crosscheck_audits(archive: Archive) -> list[ItemAudit]:
    """Log, catalogue and stores against each other: what a per-item audit cannot see
    (an AIP or ``aip:file`` entry whose catalogue record is gone), one audit per AIP id."""
    found: dict[str, list[crosscheck.Problem]] = {}
    for p in crosscheck.check(archive):
        if p.kind != "aip_missing":  # the item's own audit reports a missing copy
            found.setdefault(p.aip_id or "", []).append(p)
    out = []
    for aip_id, problems in found.items():
        copies = {n: CopyAudit(n, "unchecked" if s.exists(aip_id) else "missing", str(s.path(aip_id)))
                  for n, s in replica.stores(archive).items()}
        lost = any(p.kind in ("catalogue_missing", "uncatalogued_aip") for p in problems)
        out.append(ItemAudit(
            aip_id, next((p.archival_code for p in problems if p.archival_code), "") or "", None,
            copies, outcome="catalogue_missing" if lost else "log_mismatch",
            message="；".join(p.message for p in problems),
            catalogue_status="missing" if lost else "mismatch",
            catalogue_problems=[p.to_dict() for p in problems]))
    return out


def _record(archive: Archive, run_id: int, audit: ItemAudit, actor: str) -> None:
    details = {"run": run_id, "outcome": audit.outcome,
               "copies": {n: c.status for n, c in audit.copies.items()},
               "catalogue": audit.catalogue_status,
               "repairs": [r["audit_index"] for r in audit.repairs],
               "problems": [{k: p.get(k) for k in ("code", "path", "field")}
                            for c in audit.copies.values() for p in c.problems[:10]]}
    now = utcnow()
    with archive.db.filing_session() as session:
        entry = audit_log.append(session, actor=actor, action="fixity:audit",
                                 object_id=audit.aip_id, object_digest=audit.reference_digest,
                                 details=details)
        audit.audit_index = entry.index
        copies = audit.copies
        session.add(FixityResult(
            run_id=run_id, aip_id=audit.aip_id, checked_at=now, outcome=audit.outcome,
            primary_status=copies[replica.PRIMARY].status,
            replica_status=copies[replica.REPLICA].status,
            catalogue_status=audit.catalogue_status, aip_digest=audit.reference_digest,
            bytes_hashed=audit.bytes, message=audit.message, details=audit.to_dict(),
            audit_index=entry.index))


def _last_audits():
    return (select(FixityResult.aip_id, func.max(FixityResult.checked_at).label("last"))
            .group_by(FixityResult.aip_id).subquery())


def _is_due(last, cutoff: datetime):
    return or_(last.c.last.is_(None), last.c.last < cutoff)


def choose(session: Session, *, sample: int | None, cycle_days: int,
           now: datetime | None = None) -> list[str]:
    """Least recently audited first (never audited before all); all due unless ``sample``."""
    last = _last_audits()
    q = (select(Item.aip_id).outerjoin(last, last.c.aip_id == Item.aip_id)
         .order_by(last.c.last.is_not(None), last.c.last, Item.archived_at, Item.aip_id))
    if sample is not None:
        return list(session.scalars(q.limit(max(sample, 0))))
    cutoff = (now or utcnow()) - timedelta(days=cycle_days)
    return list(session.scalars(q.where(_is_due(last, cutoff))))


def audit(archive: Archive, *, sample: int | None = None, cycle_days: int = 365,
          aip_ids: list[str] | None = None, content: bool = True,
          actor: str = SYSTEM_ACTOR) -> AuditRun:
    """Run one fixity audit: ``aip_ids``, else a sample of ``sample`` items, else all due.

    ``cycle_days=0`` makes every item due. ``content=False`` skips the content checks
    (format decoding, virus scan), leaving the fixity proper.
    """
    mode = "explicit" if aip_ids is not None else "sample" if sample is not None else "cycle"
    started = utcnow()
    with archive.db.session() as session:
        ids = list(aip_ids) if aip_ids is not None else choose(
            session, sample=sample, cycle_days=cycle_days, now=started)
        unknown = sorted(set(ids) - set(session.scalars(select(Item.aip_id).where(
            Item.aip_id.in_(ids))))) if aip_ids is not None else []
        if unknown:
            raise NotFound(f"目录中没有 AIP {'、'.join(unknown[:5])}", [{"aip_id": u} for u in unknown])
        row = FixityRun(started_at=started, mode=mode, actor=actor, items=len(ids), ok=0,
                        repaired=0, failed=0, bytes_hashed=0)
        session.add(row)
        session.flush()
        run = AuditRun(row.id, mode, started)
    for start in range(0, len(ids), MEASURE_BATCH):
        batch = ids[start:start + MEASURE_BATCH]
        measured = measure(archive, batch)
        for aip_id in batch:
            item_audit = audit_item(archive, aip_id, content=content, actor=actor,
                                    measured=measured.get(aip_id))
            _record(archive, run.run_id, item_audit, actor)
            run.items.append(item_audit)
    if mode == "cycle":  # a full cycle also proves nothing is filed that is not catalogued
        for item_audit in crosscheck_audits(archive):
            _record(archive, run.run_id, item_audit, actor)
            run.items.append(item_audit)
    run.finished_at = utcnow()
    counts = run.counts()
    with archive.db.session() as session:
        row = session.get(FixityRun, run.run_id)
        row.finished_at, row.bytes_hashed = run.finished_at, run.bytes_hashed
        row.ok, row.repaired = counts["ok"], counts["repaired"]
        row.failed = len(run.items) - counts["ok"] - counts["repaired"]
    return run


def report(archive: Archive, *, cycle_days: int = 365, runs: int = 10,
           problems: int = 100) -> dict[str, Any]:
    """Where the archive stands: latest result per item, what is overdue, open problems.

    Counted in the database (the archive may hold millions of items); at most
    ``problems`` open problems are listed, oldest first, with their total.
    """
    now = utcnow()
    with archive.db.session() as session:
        latest_ids = select(func.max(FixityResult.id)).group_by(FixityResult.aip_id)
        latest = select(FixityResult).where(FixityResult.id.in_(latest_ids)).subquery()
        by_outcome = dict(session.execute(
            select(latest.c.outcome, func.count()).group_by(latest.c.outcome)).all())
        oldest = session.scalar(select(func.min(latest.c.checked_at)))
        open_rows = (select(FixityResult).where(FixityResult.id.in_(latest_ids))
                     .where(FixityResult.outcome.not_in(GOOD_OUTCOMES)))
        open_total = session.scalar(select(func.count()).select_from(open_rows.subquery()))
        open_list = list(session.scalars(open_rows.order_by(FixityResult.checked_at)
                                         .limit(problems)))
        total = session.scalar(select(func.count()).select_from(Item)) or 0
        cutoff = now - timedelta(days=cycle_days)
        last = _last_audits()
        due = session.scalar(select(func.count()).select_from(Item).outerjoin(
            last, last.c.aip_id == Item.aip_id).where(_is_due(last, cutoff))) or 0
        recent = list(session.scalars(select(FixityRun).order_by(FixityRun.id.desc()).limit(runs)))
    audited = sum(by_outcome.values())
    return {
        "items": total, "audited": audited, "never_audited": total - audited,
        "due": due, "cycle_days": cycle_days, "latest_outcomes": by_outcome,
        "oldest_audit": iso(oldest) if oldest else None,
        "open_problems_total": open_total or 0,
        "open_problems": [
            {"aip_id": r.aip_id, "checked_at": iso(r.checked_at), "outcome": r.outcome,
             "primary": r.primary_status, "replica": r.replica_status,
             "catalogue": r.catalogue_status, "message": r.message, "audit_index": r.audit_index}
            for r in open_list],
        "runs": [{"run_id": r.id, "mode": r.mode, "started_at": iso(r.started_at),
                  "finished_at": iso(r.finished_at) if r.finished_at else None, "items": r.items,
                  "ok": r.ok, "repaired": r.repaired, "failed": r.failed,
                  "bytes_hashed": r.bytes_hashed} for r in recent],
    }
