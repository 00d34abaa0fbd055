"""Filing one case: receive → check (GD) → identify → seal a draft → the filing window
(allocate, confirm the draft or seal again, log, receipt, store, catalogue) → follow-ups.
The case travels as one ``Filing`` (``ingest/filing.py``) through these named steps.

Heavy work (copying, hashing, decoding every file) happens before the filing window.
The window — a serialised transaction — allocates the archival code, finishes and signs
the AIP, moves it into the write-once store and writes the catalogue rows; if anything
fails inside it, the code is not consumed and the AIP is removed, so the archive holds
the whole case or nothing of it.
"""

from __future__ import annotations

import shutil
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dangan.archive import audit_log, catalogue, crosscheck, failpoints, replica, tree_heads
from dangan.archive.actor import default_actor
from dangan.archive.instance import Archive
from dangan.archive.keys import trusted_keys_for
from dangan.archive.models import Rejection
from dangan.archive.receipts import make_receipt
from dangan.archive.store import remove_tree
from dangan.archive.timeutil import iso, utcnow
from dangan.packages.aip.model import payload_path
from dangan.packages.case_limits import CaseLimits
from dangan.packages.checks import CheckContext, CheckReport, Stage, run_checks
from dangan.packages.checks.ahead import decode_ahead
from dangan.packages.formats.pdf import PdfLimits
from dangan.packages.safezip import ZipLimits

from . import followup, records, sealing
from .filing import Filing, Sealed
from .intake import PendingSubmission, ReceivedSubmission, receiving
from .outcome import IngestOutcome
from .technical import identify_files


def _limits(archive: Archive) -> ZipLimits:
    s = archive.settings
    return ZipLimits(
        max_entries=s.max_entries,
        max_total_bytes=s.max_submission_bytes,
        max_entry_bytes=s.max_submission_bytes,
        max_ratio=s.max_ratio,
    )


def _case_limits(archive: Archive) -> CaseLimits:
    s = archive.settings
    return CaseLimits(max_bytes=s.max_case_json_bytes, max_events=s.max_case_events,
                      max_parties=s.max_case_parties, max_files=s.max_case_files)


def _pdf_limits(archive: Archive) -> PdfLimits:
    return archive.settings.pdf_limits


def recover(archive: Archive) -> list[str]:
    """Remove what a crashed filing left: unacknowledged AIPs, dead staging folders."""
    removed: list[str] = []
    if archive.store.has_pending():
        with archive.db.filing_session() as session:
            removed = archive.store.recover(
                lambda aip_id: session.get(records.Item, aip_id) is not None
            )
    archive.store.sweep_staging()
    return removed


def ingest(
    archive: Archive,
    source: Path,
    *,
    actor: str | None = None,
    index: bool = True,
    ocr: bool | None = None,
) -> IngestOutcome:
    """File one submission (directory or .zip). Raises ``UnusableSubmission`` (exit 2).

    With ``index`` (the embedded default) an archived case is indexed for search right
    after it is committed, scans OCRed per ``[search] ocr_at_ingest`` unless ``ocr`` says
    otherwise (skipped scans wait for ``dangan search reindex``); batch filing passes ``index=False`` and indexes in one pass afterwards.
    An indexing failure never undoes the filing: the index is derived data.
    """
    received_at = utcnow()
    recover(archive)
    followup.drain(archive)
    index_ocr = (archive.settings.ocr_on_ingest if ocr is None else ocr) if index else None
    staging = archive.store.new_staging()
    replica_staging = _replica_staging(archive)
    flusher: threading.Thread | None = None
    try:
        with receiving(Path(source), staging, _limits(archive), _case_limits(archive),
                       replica_dir=replica_staging) as pending:
            if pending.trailing_bytes >= OVERLAP_MIN_BYTES:
                flusher = _flush_behind(archive)
            memo = _ahead(archive, pending)
            sub = pending.complete()
        outcome = _file(archive, sub, staging, received_at, actor or default_actor(), index_ocr,
                        memo)
    finally:
        if flusher is not None:
            flusher.join()
        remove_tree(staging)
        if replica_staging is not None:
            remove_tree(replica_staging.parent)
    if outcome.status == "archived":
        if index_ocr is not None:
            followup.index_filed(archive, outcome, index_ocr)
        followup.finish(archive, outcome)
    return outcome


# Below this much SM3 left to compute, overlapping buys less than an extra flush costs.
OVERLAP_MIN_BYTES = 16 << 20


def _flush_behind(archive: Archive) -> threading.Thread:
    """Start writing the staged bytes back now, on a thread (``syncfs`` releases the GIL),
    so that the flush before the window (``_file``) finds little left to write.

    Only a head start: durability still comes from that flush and the store's own.
    """
    def run() -> None:
        try:
            archive.store.flush()
        except OSError:
            pass  # the flush before the window reports it
    thread = threading.Thread(target=run, name="flush-behind", daemon=True)
    thread.start()
    return thread


def _ahead(archive: Archive, pending: PendingSubmission) -> dict[str, Any]:
    """While a large file's SM3 is still hashing (on the other core), decode the staged
    files for the checks; the checks themselves run once every digest is known.

    Little or nothing pending (a typical case of small files): nothing is done ahead, the
    checks decode as they always did.
    """
    memo: dict[str, Any] = {}
    if pending.trailing_bytes >= OVERLAP_MIN_BYTES:
        failpoints.reach("overlap")
        decode_ahead(memo, pending.content_paths(), pdf_limits=_pdf_limits(archive))
    return memo


def _context(archive: Archive, sub: ReceivedSubmission,
             memo: dict[str, Any] | None = None) -> CheckContext:
    case = sub.case
    system = case.get("source_system") if isinstance(case.get("source_system"), str) else ""
    with archive.db.session() as session:
        keys = trusted_keys_for(session, system) if system else []
        facts = catalogue.facts_for(session, case)
    s = archive.settings
    return CheckContext(
        stage=Stage.GD,
        root=sub.root,
        case_bytes=sub.case_bytes,
        case=case,
        case_error=None,
        signature_bytes=sub.signature_bytes,
        files=sub.files,
        extra_entries=sub.extra_entries,
        trusted_keys=keys,
        filing_rules=archive.filing_config.rules(),
        catalogue=facts,
        allowed_media_types=frozenset(s.allowed_media_types),
        min_scan_dpi=s.min_scan_dpi,
        pdf_limits=_pdf_limits(archive),
        archival_code_rule=archive.code_rule,
        memo=memo if memo is not None else {},
    )


def _replica_staging(archive: Archive) -> Path | None:
    """Where intake writes the replica's content files from its one read (beside the
    replica store, so they are moved, not copied, into the replica); None when the
    replica store cannot be written now: then the replica copies them later, as before."""
    try:
        return replica.replica_store(archive).new_staging() / "content"
    except OSError:
        return None


def _prepared(sub: ReceivedSubmission) -> replica.Prepared:
    return {payload_path(rel): (path, sub.digests[rel]) for rel, path in sub.replica_copies.items()}


def _file(
    archive: Archive, sub: ReceivedSubmission, staging: Path, received_at: datetime, actor: str,
    index_ocr: bool | None, memo: dict[str, Any] | None = None,
) -> IngestOutcome:
    """Check, identify and seal the case ahead of the window, then file it in the window."""
    _refuse_lost_filing(archive, sub)
    ctx = _context(archive, sub, memo)
    report = run_checks(ctx, Stage.GD, group="submission", registry=archive.checks)
    filing = Filing(archive, sub, ctx, report, staging, received_at, actor, index_ocr)
    if not report.accepted:
        return _reject(filing, report)
    filing.identified = identify_files(ctx)
    filing.draft = sealing.seal_draft(filing)
    archive.store.flush()
    try:
        return _register(filing)
    except sealing.PackageRejected as rejected:
        return _reject(filing, rejected.report)


def _register(filing: Filing) -> IngestOutcome:
    """The filing window, then what follows a commit (acknowledge, replicate)."""
    archive, aip_id = filing.archive, filing.aip_id
    try:
        with archive.db.filing_session() as session:
            outcome = _in_window(filing, session)
    except BaseException:
        # The catalogue did not commit: an AIP already moved into the store is undone.
        if archive.store.exists(aip_id):
            archive.store.abandon(aip_id)
        raise
    if outcome.status == "archived":
        failpoints.reach("committed")
        archive.store.acknowledge(aip_id)
        followup.replicate_filed(archive, outcome, filing.actor, _prepared(filing.sub))
    return outcome


def _refuse_lost_filing(archive: Archive, sub: ReceivedSubmission) -> None:
    """Before any work: a case the log says was filed must still be in the catalogue.

    The filing window asks again (authoritatively); this early read spares the sealing.
    """
    system, case_id = sub.case.get("source_system"), sub.case.get("case_id")
    if isinstance(system, str) and isinstance(case_id, str):
        with archive.db.session() as session:
            crosscheck.refuse_if_catalogue_lost(session, system, case_id)


def _in_window(filing: Filing, session: Session) -> IngestOutcome:
    """Inside the serialised window: allocate, confirm or reseal, log, store, catalogue."""
    case, case_sha256 = filing.case, filing.sub.case_sha256
    # The log, not the catalogue alone, says whether this case was filed before.
    crosscheck.refuse_if_catalogue_lost(session, case["source_system"], case["case_id"])
    first = catalogue.find_identical(session, case["source_system"], case["case_id"],
                                     case_sha256)
    if first is not None:
        return _duplicate(first, filing)
    placement = sealing.allocate(filing.archive, session, case)
    sealed = (sealing.confirm(filing, session, placement)
              or sealing.seal_in_window(filing, session, placement))
    failpoints.reach("sealed")
    entry = _log(filing, session, sealed)
    receipt = _receipt(filing, session, sealed, entry.index)
    _store(filing, session, sealed, receipt)
    return _archived(filing, sealed, receipt)


def _supersedes(sealed: Sealed) -> str | None:
    return sealed.inp.supersedes["aip_id"] if sealed.inp.supersedes else None


def _log(filing: Filing, session: Session, sealed: Sealed) -> audit_log.AuditEntry:
    """The audit entry, its crosscheck index, and the follow-ups planned in the same commit."""
    case, placement = filing.case, sealed.placement
    entry = audit_log.append(
        session, actor=filing.actor, action="aip:file", object_id=filing.aip_id,
        object_digest=sealed.built.aip_digest,
        details={"archival_code": placement.archival_code, "version": placement.version,
                 "case_id": case["case_id"], "source_system": case["source_system"],
                 "case_sha256": filing.sub.case_sha256, "supersedes": _supersedes(sealed)},
    )
    crosscheck.index_filed(session, entry.index, filing.aip_id, case["source_system"],
                           case["case_id"], filing.sub.case_sha256)
    followup.plan(session, filing.aip_id, actor=filing.actor, index_ocr=filing.index_ocr,
                  replaces=_supersedes(sealed))
    return entry


def _receipt(filing: Filing, session: Session, sealed: Sealed, entry_index: int) -> dict[str, Any]:
    """The signed receipt, with the audit evidence of the entry just logged."""
    archive, case = filing.archive, filing.case
    head = tree_heads.sign_head(session, archive, anchor=False)
    return make_receipt(
        {
            "aip_id": filing.aip_id,
            "archival_code": sealed.placement.archival_code,
            "version": sealed.placement.version,
            "source_system": case["source_system"],
            "case_id": case["case_id"],
            "case_sha256": filing.sub.case_sha256,
            "sha256": sealed.built.aip_digest,
            "received_at": iso(filing.received_at),
            "archived_at": iso(sealed.inp.archived_at),
            "archive": {"fonds": archive.settings.fonds,
                        "organization": archive.settings.organization},
            "audit": tree_heads.receipt_evidence(session, entry_index, head),
        },
        archive.key,
    )


def _store(filing: Filing, session: Session, sealed: Sealed, receipt: dict[str, Any]) -> None:
    """Catalogue the digest and receipt, and move the AIP into the write-once store."""
    sealed.item.aip_sha256 = sealed.built.aip_digest
    sealed.item.receipt = receipt
    session.flush()
    filing.archive.store.commit(sealed.built.path, filing.aip_id)
    failpoints.reach("stored")
    session.flush()
    failpoints.reach("catalogued")


def _archived(filing: Filing, sealed: Sealed, receipt: dict[str, Any]) -> IngestOutcome:
    case = filing.case
    return IngestOutcome(
        status="archived",
        checks=sealed.report.to_list(),
        received_at=filing.received_at,
        aip_id=filing.aip_id,
        archival_code=sealed.placement.archival_code,
        version=sealed.placement.version,
        sha256=sealed.built.aip_digest,
        receipt=receipt,
        case_id=case["case_id"],
        source_system=case["source_system"],
        extra={"supersedes_aip_id": _supersedes(sealed)} if sealed.inp.supersedes else {},
    )


def _duplicate(first: records.Item, filing: Filing) -> IngestOutcome:
    return IngestOutcome(
        status="duplicate",
        checks=filing.report.to_list(),
        received_at=filing.received_at,
        aip_id=first.aip_id,
        archival_code=first.archival_code,
        version=first.version,
        sha256=first.aip_sha256,
        receipt=first.receipt,
        case_id=first.case_id,
        source_system=first.source_system,
    )


def _reject(filing: Filing, report: CheckReport) -> IngestOutcome:
    """Record the rejection (catalogue and log) and drop the received copy."""
    archive, sub, received_at, actor = (filing.archive, filing.sub, filing.received_at,
                                        filing.actor)
    failures = report.blocking_failures
    reason = "；".join(f"{r.code} {r.name}" for r in failures[:5]) + (
        f" 等 {len(failures)} 项未通过" if len(failures) > 5 else " 未通过"
    )
    system = sub.case.get("source_system")
    case_id = sub.case.get("case_id")
    with archive.db.filing_session() as session:
        rejection_id = catalogue.add_rejection(
            session,
            Rejection(
                received_at=received_at,
                source_system=system if isinstance(system, str) else None,
                case_id=case_id[:128] if isinstance(case_id, str) else None,
                case_sha256=sub.case_sha256,
                submission_name=sub.name,
                reason=reason,
                checks=report.to_list(),
            ),
        )
        audit_log.append(
            session, actor=actor, action="aip:reject", object_id=f"rejection:{rejection_id}",
            object_digest=sub.case_sha256,
            details={"case_id": case_id if isinstance(case_id, str) else None,
                     "source_system": system if isinstance(system, str) else None,
                     "failed": [r.code for r in report.blocking_failures]},
        )
    shutil.rmtree(sub.root, ignore_errors=True)
    return IngestOutcome(
        status="rejected",
        checks=report.to_list(),
        received_at=received_at,
        rejection_id=rejection_id,
        reason=reason,
        case_id=case_id if isinstance(case_id, str) else None,
        source_system=system if isinstance(system, str) else None,
    )
