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

A large audit examines its batches in one worker process per core (``fixity_pool``);
the results of a batch are recorded together, in one filing-window transaction: each
item still gets its own log entry (its own leaf, provable by an inclusion proof), only
the commit, the lock and the log's tree state are shared. Every byte of every copy is
read and hashed on every pass; nothing is skipped for having been verified before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from . import audit_log, crosscheck, failpoints, fixity_lock, replica
from .errors import NotFound
from .fixity_item import (
    BOTH_DAMAGED,
    GOOD_OUTCOMES,
    OUTCOME_NAMES,
    STATUS_NAMES,
    CopyAudit,
    ItemAudit,
    decide,
    examine_batch,
)
from .fixity_lock import AuditRunning
from .fixity_measure import MEASURE_BATCH
from .fixity_models import FixityLatest, FixityResult, FixityRun
from .fixity_pool import default_workers, examined
from .instance import Archive
from .models import Item
from .timeutil import iso, utcnow

__all__ = ["BOTH_DAMAGED", "GOOD_OUTCOMES", "OUTCOME_NAMES", "STATUS_NAMES", "AuditRun",
           "AuditRunning",
           "CopyAudit", "ItemAudit", "audit", "audit_item", "choose", "crosscheck_audits",
           "report"]

SYSTEM_ACTOR = "system:fixity"
RECORD_BATCH = 32  # results per filing-window transaction (~15 ms of the window)


@dataclass
class AuditRun:
    """One run's tally; ``items`` holds every item audited, or (``keep_items=False``)
    only those that did not come out ok (problems and repairs)."""

    run_id: int
    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    items: list[ItemAudit] = field(default_factory=list)
    tally: dict[str, int] = field(default_factory=dict)
    bytes_hashed: int = 0
    workers: int = 1  # processes that examined the batches (1: the calling process)

    def add(self, audit: ItemAudit, keep: bool = True) -> None:
        self.tally[audit.outcome] = self.tally.get(audit.outcome, 0) + 1
        self.bytes_hashed += audit.bytes
        if keep or audit.outcome != "ok":
            self.items.append(audit)

    @property
    def audited(self) -> int:
        return sum(self.tally.values())

    @property
    def ok(self) -> bool:
        return all(k in GOOD_OUTCOMES for k, n in self.tally.items() if n)

    def counts(self) -> dict[str, int]:
        return {**{k: 0 for k in OUTCOME_NAMES}, **self.tally}

    def to_dict(self) -> dict[str, Any]:
        secs = (self.finished_at - self.started_at).total_seconds() if self.finished_at else None
        return {"run_id": self.run_id, "mode": self.mode, "status": "ok" if self.ok else "failed",
                "started_at": iso(self.started_at),
                "finished_at": iso(self.finished_at) if self.finished_at else None,
                "seconds": secs, "bytes_hashed": self.bytes_hashed, "audited": self.audited,
                "workers": self.workers,
                "counts": self.counts(), "items": [i.to_dict() for i in self.items]}


def audit_item(archive: Archive, item_id: str, *, content: bool = True,
               actor: str = SYSTEM_ACTOR) -> ItemAudit:
    """Examine every copy of one item, check the catalogue, repair if a copy verified."""
    [item_audit] = examine_batch(archive, [item_id], content=content)
    decide(archive, item_audit, actor)
    return item_audit


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


def _details(run_id: int, audit: ItemAudit) -> dict[str, Any]:
    return {"run": run_id, "outcome": audit.outcome,
            "copies": {n: c.status for n, c in audit.copies.items()},
            "catalogue": audit.catalogue_status,
            "repairs": [r["audit_index"] for r in audit.repairs],
            "problems": [{k: p.get(k) for k in ("code", "path", "field")}
                         for c in audit.copies.values() for p in c.problems[:10]]}


def _passes_folded(checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"passed": [c["code"] for c in checks if c["result"] == "pass"],
            "other": [c for c in checks if c["result"] != "pass"]}


def stored_details(audit: ItemAudit) -> dict[str, Any]:
    """What a result row keeps of an audit: all of it, except that a check that passed is
    kept as its code (its name and message are the check's own, the same for every item:
    three quarters of the row, ~4 KB an item, 400 MB per pass over 100,000 items).
    Every check that did not pass keeps its name, message and evidence."""
    d = audit.to_dict()
    for copy in d["copies"].values():
        copy["checks"] = _passes_folded(copy["checks"])
    d["content_checks"] = _passes_folded(d["content_checks"])
    return d


def _record(archive: Archive, run_id: int, audits: list[ItemAudit], actor: str) -> None:
    """Each audit's own ``fixity:audit`` entry and result row, all in one transaction."""
    if not audits:
        return
    now = utcnow()
    with archive.db.filing_session() as session:
        rows = []
        for audit in audits:
            entry = audit_log.append(session, actor=actor, action="fixity:audit",
                                     object_id=audit.aip_id, object_digest=audit.reference_digest,
                                     details=_details(run_id, audit))
            audit.audit_index = entry.index
            copies = audit.copies
            rows.append(dict(
                run_id=run_id, aip_id=audit.aip_id, checked_at=now, outcome=audit.outcome,
                primary_status=copies[replica.PRIMARY].status,
                replica_status=copies[replica.REPLICA].status,
                catalogue_status=audit.catalogue_status, aip_digest=audit.reference_digest,
                bytes_hashed=audit.bytes, message=audit.message, details=stored_details(audit),
                audit_index=entry.index))
        written = session.execute(insert(FixityResult).returning(
            FixityResult.id, FixityResult.aip_id, sort_by_parameter_order=True), rows).all()
        # Each item's latest result, replaced in the same transaction (delete and insert:
        # the same on SQLite and PostgreSQL; the filing window serialises writers).
        latest = {aip_id: dict(aip_id=aip_id, result_id=result_id, checked_at=now,
                               outcome=row["outcome"])
                  for (result_id, aip_id), row in zip(written, rows, strict=True)}
        session.execute(delete(FixityLatest).where(FixityLatest.aip_id.in_(list(latest))))
        session.execute(insert(FixityLatest), list(latest.values()))


def _last_audited(now: datetime):
    """When the item was last audited; none when never, or when the stamp lies in the
    future: a stamp moved ahead (by hand, or a clock set wrong) would otherwise keep
    the item from ever being chosen again."""
    return case((FixityLatest.checked_at > now, None), else_=FixityLatest.checked_at)


def _is_due(now: datetime, cutoff: datetime):
    last = _last_audited(now)
    return or_(last.is_(None), last < cutoff)


def choose(session: Session, *, sample: int | None, cycle_days: int,
           now: datetime | None = None) -> list[str]:
    """Least recently audited first (never audited before all); all due unless ``sample``."""
    now = now or utcnow()
    last = _last_audited(now)
    q = (select(Item.aip_id).outerjoin(FixityLatest, FixityLatest.aip_id == Item.aip_id)
         .order_by(last.is_not(None), last, Item.archived_at, Item.aip_id))
    if sample is not None:
        return list(session.scalars(q.limit(max(sample, 0))))
    return list(session.scalars(q.where(_is_due(now, now - timedelta(days=cycle_days)))))


def audit(archive: Archive, *, sample: int | None = None, cycle_days: int = 365,
          aip_ids: list[str] | None = None, content: bool = True,
          actor: str = SYSTEM_ACTOR, workers: int | None = None,
          keep_items: bool = True) -> AuditRun:
    """Run one fixity audit: ``aip_ids``, else a sample of ``sample`` items, else all due.

    ``cycle_days=0`` makes every item due. ``content=False`` skips the content checks
    (format decoding, virus scan), leaving the fixity proper. ``workers``: processes
    examining batches (default: one per core from ``fixity_pool.WORKERS_FROM`` items on,
    else none). ``keep_items=False`` keeps only the items not ok (problems, repairs) in
    ``AuditRun.items`` (an audit of millions of items; every result is in the database
    and the log anyway). Raises ``fixity_lock.AuditRunning`` at once while another
    audit of this archive runs.
    """
    mode = "explicit" if aip_ids is not None else "sample" if sample is not None else "cycle"
    with fixity_lock.exclusive(archive, actor) as lock:
        started = utcnow()
        with archive.db.session() as session:  # reads only: no write lock taken here
            ids = list(aip_ids) if aip_ids is not None else choose(
                session, sample=sample, cycle_days=cycle_days, now=started)
            unknown = sorted(set(ids) - set(session.scalars(select(Item.aip_id).where(
                Item.aip_id.in_(ids))))) if aip_ids is not None else []
        if unknown:
            raise NotFound(f"目录中没有 AIP {'、'.join(unknown[:5])}", [{"aip_id": u} for u in unknown])
        # Writes go through the filing window (BEGIN IMMEDIATE on SQLite): a deferred
        # transaction that read first could not take the write lock once another process
        # had committed meanwhile ("database is locked", not retried by the busy timeout).
        with archive.db.filing_session() as session:
            row = FixityRun(started_at=started, mode=mode, actor=actor, items=len(ids), ok=0,
                            repaired=0, failed=0, bytes_hashed=0)
            session.add(row)
            session.flush()
            run = AuditRun(row.id, mode, started)
        lock.name_run(run.run_id)
        _examine_and_record(archive, run, ids, content=content, actor=actor, workers=workers,
                            keep_items=keep_items)
        run.finished_at = utcnow()
        counts = run.counts()
        with archive.db.filing_session() as session:
            row = session.get(FixityRun, run.run_id)
            row.finished_at, row.bytes_hashed = run.finished_at, run.bytes_hashed
            row.ok, row.repaired = counts["ok"], counts["repaired"]
            row.failed = run.audited - counts["ok"] - counts["repaired"]
    return run


def _examine_and_record(archive: Archive, run: AuditRun, ids: list[str], *, content: bool,
                        actor: str, workers: int | None, keep_items: bool) -> None:
    batches = [ids[i:i + MEASURE_BATCH] for i in range(0, len(ids), MEASURE_BATCH)]
    workers = default_workers(len(ids)) if workers is None else workers
    run.workers = workers if workers > 1 and len(batches) > 1 else 1
    done: list[ItemAudit] = []
    for audits in examined(archive, batches, content=content, workers=workers):
        for item_audit in audits:
            decide(archive, item_audit, actor)
        done += audits
        if len(done) >= RECORD_BATCH:
            _finish(archive, run, done, actor, keep_items)
            done = []
    _finish(archive, run, done, actor, keep_items)
    if run.mode == "cycle":  # a full cycle also proves nothing is filed that is not catalogued
        _finish(archive, run, crosscheck_audits(archive), actor, keep_items)


def _finish(archive: Archive, run: AuditRun, audits: list[ItemAudit], actor: str,
            keep: bool) -> None:
    _record(archive, run.run_id, audits, actor)
    for item_audit in audits:
        run.add(item_audit, keep)
    if audits:
        failpoints.reach("fixity_recorded")


def report(archive: Archive, *, cycle_days: int = 365, runs: int = 10,
           problems: int = 100) -> dict[str, Any]:
    """Where the archive stands: latest result per item, what is overdue, open problems.

    Counted in the database (the archive may hold millions of items); at most
    ``problems`` open problems are listed, oldest first, with their total.
    """
    now = utcnow()
    with archive.db.session() as session:
        by_outcome = dict(session.execute(
            select(FixityLatest.outcome, func.count()).group_by(FixityLatest.outcome)).all())
        oldest = session.scalar(select(func.min(FixityLatest.checked_at)))
        is_open = FixityLatest.outcome.not_in(GOOD_OUTCOMES)
        open_total = session.scalar(select(func.count()).select_from(FixityLatest)
                                    .where(is_open))
        open_list = list(session.scalars(
            select(FixityResult).join(FixityLatest, FixityLatest.result_id == FixityResult.id)
            .where(is_open).order_by(FixityLatest.checked_at).limit(problems)))
        total = session.scalar(select(func.count()).select_from(Item)) or 0
        cutoff = now - timedelta(days=cycle_days)
        due = session.scalar(select(func.count()).select_from(Item).outerjoin(
            FixityLatest, FixityLatest.aip_id == Item.aip_id).where(_is_due(now, cutoff))) or 0
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
