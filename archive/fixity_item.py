"""Examining one item of a fixity audit: every copy, the catalogue, and the decision.

Why its own module: a batch is examined where it is hashed, in a worker process when
the audit runs on several cores (``fixity_pool``); examining only reads. What follows
from it (a repair, the result row, the audit entry) is done by ``decide`` and by the
audit in the calling process.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from dangan.packages import vocabulary as V
from dangan.packages.aip import inspect_aip
from dangan.packages.aip.bag import CASE_JSON
from dangan.packages.aip.validate import AIPValidation
from dangan.packages.aip.validate_parts import BagView
from dangan.packages.archival_code import ArchivalCodeRule
from dangan.packages.checks import (
    CheckContext,
    CheckRegistry,
    CheckReport,
    Result,
    Stage,
    TrustedKey,
    run_checks,
)
from dangan.packages.digests import sha256_hex
from dangan.packages.problem import Problem

from . import catalogue, chain, keys, replica
from .audit_models import AuditEntryRow
from .errors import NotFound
from .fixity_measure import Measured, measure
from .instance import Archive
from .models import Item
from .replica import COPY_NAMES, ReplicaError
from .transfer_records import ReceivedItem, code_rule_of, received_rows, signer_pem_of

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


def _compact(results: list[Any]) -> list[dict[str, Any]]:
    """Check results as stored: every code and verdict; evidence only for non-passes."""
    return [{"code": r.code, "name": r.name, "result": str(r.result), "blocking": r.blocking,
             "message": r.message, **({"evidence": r.evidence[:20]} if r.result is not Result.PASS
                                      else {})} for r in results]


@dataclass
class BatchFacts:
    """What the catalogue and the log say about a batch of items, read in a few queries
    (not a few per item): the rows, the digest logged at filing, GD-3-2's read-back and
    the source systems' keys."""

    items: dict[str, Item]
    references: dict[str, str | None]
    records: dict[str, dict[str, Any] | None]
    trusted: dict[str, list[TrustedKey]]
    received: dict[str, ReceivedItem] = field(default_factory=dict)


def filing_entries(aip_ids: list[str]) -> Select[tuple[str, str | None]]:
    """The ``aip:file`` entries of these AIPs, oldest first. Answered through the index on
    (object_id, action): planned through ``action`` alone it read every filing entry
    of the archive for each batch (tested by its query plan)."""
    return (select(AuditEntryRow.object_id, AuditEntryRow.object_digest)
            .where(AuditEntryRow.object_id.in_(aip_ids), AuditEntryRow.action == "aip:file")
            .order_by(AuditEntryRow.idx))


def load_facts(session: Session, aip_ids: list[str]) -> BatchFacts:
    items = {i.aip_id: i for i in session.scalars(
        select(Item).where(Item.aip_id.in_(aip_ids))
        .options(selectinload(Item.parties), selectinload(Item.files), selectinload(Item.events)))}
    logged: dict[str, str | None] = {}
    for object_id, digest in session.execute(filing_entries(aip_ids)):
        logged.setdefault(object_id, digest)  # the first filing entry, as chain.reference_digest
    return BatchFacts(
        items=items,
        references={a: logged[a] if a in logged else i.aip_sha256 for a, i in items.items()},
        records=catalogue.read_back_many(session, list(items)),
        trusted={s: keys.trusted_keys_for(session, s)
                 for s in sorted({i.source_system for i in items.values()})},
        received=received_rows(session, aip_ids))


def _inspect_copies(archive: Archive, aip_id: str, pem: bytes,
                    measured: Measured | None = None) -> dict[str, Inspection | None]:
    """Validate every copy. Payload files in ``measured`` were hashed by this audit a
    moment ago (``measure``); when a copy was not, the copies are read and hashed in
    parallel threads (hashing releases the GIL)."""
    paths = {name: store.path(aip_id) for name, store in replica.stores(archive).items()}
    present = {n: p for n, p in paths.items() if p.is_dir()}
    measured = measured or {}
    if all(n in measured for n in present):
        return {n: inspect_aip(present[n], pem, measured[n]) if n in present else None
                for n in paths}
    with ThreadPoolExecutor(max_workers=max(len(present), 1)) as pool:
        futures = {n: pool.submit(inspect_aip, p, pem, measured.get(n))
                   for n, p in present.items()}
        return {n: futures[n].result() if n in futures else None for n in paths}


def _identical(a: Inspection, b: Inspection) -> bool:
    """Two copies that validated without a problem and hold the same files with the same
    digests (payload: as hashed in this pass; tag files: through the tag manifest whose
    digest is the manifest-set digest): the same bytes, so the same check results."""
    (va, wa), (vb, wb) = a, b
    return (wa is not None and wb is not None and not va.problems and not vb.problems
            and va.aip_digest is not None and va.aip_digest == vb.aip_digest
            and wa.files == wb.files and wa.actual == wb.actual)


def _examine(archive: Archive, session: Session, item: Item, name: str, expected: str | None,
             pem: bytes, inspection: Inspection | None, trusted: list[TrustedKey] | None,
             rule: ArchivalCodeRule, twin: tuple[Inspection, CheckReport] | None = None,
             ) -> tuple[CopyAudit, CheckContext | None, CheckReport | None]:
    """One copy: validation, the BC package checks, the reference digest. ``twin``: an
    earlier copy of this pass and its package-check report, reused when this copy's
    bytes are proven identical (``_identical``) instead of running the checks again."""
    path = replica.stores(archive)[name].path(item.aip_id)
    if inspection is None:
        return CopyAudit(name, "missing", str(path), problems=[
            Problem("copy.missing", str(path), expected="AIP 目录",
                    note=f"{COPY_NAMES[name]}中没有该 AIP（目录被删除或移走）").to_dict()]), None, None
    validation, view = inspection
    ctx = None
    if twin is not None and _identical(twin[0], inspection):
        report = twin[1]
    else:
        ctx = chain.stored_context(archive, session, item, path, validation, view, pem,
                                   trusted_keys=trusted, code_rule=rule)
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
    return copy, ctx, report


def _check_catalogue(item: Item, audit: ItemAudit, ctx: CheckContext, checks: CheckRegistry,
                     record: dict[str, Any] | None) -> None:
    """GD-3-2 on the rows read back, and every catalogue value against the AIP description."""
    ctx.catalogue_record = record
    report = run_checks(ctx, Stage.BC, group="catalogue", registry=checks)
    validation, view = ctx.aip_inspection
    case_sha = sha256_hex(view.read(CASE_JSON)) if CASE_JSON in view.files else None
    problems = chain.catalogue_differences(item, validation.description or {},
                                           validation.aip_digest, case_sha)
    problems += [Problem(f"check.{r.code}", None, field=r.code,
                         note=f"{r.code} {r.name}：{r.message}").to_dict()
                 for r in report.blocking_failures]
    audit.catalogue_problems = problems
    audit.catalogue_status = "mismatch" if problems else "ok"
    audit.content_checks += _compact(report.results)


def examine(archive: Archive, session: Session, facts: BatchFacts, aip_id: str, *,
            content: bool, measured: Measured | None = None) -> ItemAudit:
    """Every copy of one item, then the catalogue and (``content``) the content checks
    on a copy that verified. Nothing is written."""
    item = facts.items.get(aip_id)
    if item is None:
        raise NotFound(f"目录中没有 AIP {aip_id}")
    received = facts.received.get(aip_id)
    pem = signer_pem_of(received, archive.key.public_pem)  # a received AIP: the sender's
    rule = code_rule_of(received, archive.code_rule)
    expected = facts.references[aip_id]
    copies: dict[str, CopyAudit] = {}
    good: CheckContext | None = None
    twin: tuple[Inspection, CheckReport] | None = None
    for name, inspection in _inspect_copies(archive, aip_id, pem, measured).items():
        copies[name], ctx, report = _examine(archive, session, item, name, expected, pem,
                                             inspection, facts.trusted.get(item.source_system),
                                             rule, twin)
        if ctx is not None and copies[name].status == "ok" and good is None:
            good = ctx
            if inspection is not None and report is not None:
                twin = (inspection, report)
    audit = ItemAudit(item.aip_id, item.archival_code, expected, copies)
    if good is not None:
        _check_catalogue(item, audit, good, archive.checks, facts.records.get(aip_id))
        if content:
            audit.content_checks = _compact(run_checks(good, Stage.BC, group="submission",
                                                       registry=archive.checks)
                                            .results) + audit.content_checks
    return audit


def examine_batch(archive: Archive, aip_ids: list[str], *, content: bool) -> list[ItemAudit]:
    """Hash the copies of these items together (``measure``), then examine each."""
    measured = measure(archive, aip_ids)
    with archive.db.session() as session:
        facts = load_facts(session, aip_ids)
        return [examine(archive, session, facts, a, content=content, measured=measured.get(a))
                for a in aip_ids]


def _notes(problems: list[dict[str, Any]], n: int = 3) -> str:
    return "；".join(str(p.get("note")) for p in problems[:n]) + (
        f" 等 {len(problems)} 处" if len(problems) > n else "")


def decide(archive: Archive, audit: ItemAudit, actor: str) -> None:
    """The outcome; a damaged copy is repaired here from a copy that verified completely."""
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
