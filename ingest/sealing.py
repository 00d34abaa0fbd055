"""Sealing a checked submission into its AIP, ahead of the filing window when possible.

Building, checking and signing an AIP takes most of a filing's time, and the AIP must
carry its archival code, which only the serialised filing window may allocate. So the
AIP is first sealed as a *draft* outside the window, under the code the window is
expected to allocate (the series' next number, read without the lock). Inside the
window the real code is allocated: when it, the version and the superseded AIP are
those of the draft, and the catalogue rows read back equal those the draft was checked
against, the draft is filed as it is; otherwise (another filing took that number
meanwhile) it is taken apart and the AIP is sealed again inside the window. The draft
never decides anything on its own: a draft whose checks fail is discarded, and the
window's own sealing gives the authoritative verdict.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dangan.archive import catalogue
from dangan.archive.instance import Archive
from dangan.archive.store import remove_tree
from dangan.archive.timeutil import utcnow
from dangan.packages.aip import AIPInput, BuiltAIP, build_aip, reseal_with_report
from dangan.packages.aip.model import payload_path
from dangan.packages.checks import CheckContext, CheckReport, Stage, run_checks

from . import records
from .errors import PackageRejected
from .intake import ReceivedSubmission


@dataclass(frozen=True)
class Placement:
    """Where a case goes in the catalogue: its archival code, version, superseded AIP."""

    archival_code: str
    version: int
    supersedes: dict[str, Any] | None


@dataclass
class Sealed:
    inp: AIPInput
    built: BuiltAIP
    item: records.Item
    report: CheckReport
    record: dict[str, Any] | None
    placement: Placement


def place(archive: Archive, session: Session, case: dict[str, Any], *,
          allocate: bool) -> Placement:
    """The case's archival code and version; ``allocate`` only inside the filing window."""
    target = (catalogue.resolve_reference(session, case["supersedes"])
              if case.get("supersedes") else None)
    if target is not None:
        return Placement(target.archival_code, target.version + 1, {
            "aip_id": target.aip_id, "archival_code": target.archival_code,
            "version": target.version, "reason": case.get("correction_reason", "")})
    filing = archive.filing_config.get(case["service_item"]["code"])
    year = datetime.fromisoformat(case["completed_at"]).year
    series = archive.code_rule.series(year, filing.retention, filing.category_code)
    item_no = (catalogue.allocate_item_no(session, series) if allocate
               else catalogue.peek_item_no(session, series))
    code = archive.code_rule.format(year, filing.retention, filing.category_code, item_no)
    return Placement(code, 1, None)


def seal(archive: Archive, sub: ReceivedSubmission, ctx: CheckContext, report: CheckReport,
         identified: dict[str, dict[str, Any]], dest: Path, received_at: datetime,
         aip_id: str, placement: Placement, session: Session | None) -> Sealed:
    """Build, check and sign the AIP at ``dest``.

    With ``session`` (inside the window) the catalogue rows are written and read back
    for GD-3-2; without, they are checked as built (a draft) and confirmed at filing.
    Raises ``PackageRejected`` when a blocking check fails (the AIP is removed).
    """
    filing = archive.filing_config.get(sub.case["service_item"]["code"])
    archived_at = utcnow()
    archive_event = records.archive_event(sub.case, archive.settings.organization, archived_at)
    inp = AIPInput(
        aip_id=aip_id,
        archival_code=placement.archival_code,
        version=placement.version,
        submission_root=sub.root,
        case=sub.case,
        case_bytes=sub.case_bytes,
        file_digests={rel: sub.digests[rel] for rel in sub.files},
        identified=identified,
        filing=records.filing_dict(filing, archive.settings),
        archive_event=archive_event,
        check_results=report.to_list(),
        received_at=received_at,
        archived_at=archived_at,
        supersedes=placement.supersedes,
    )
    key = archive.key
    built = build_aip(inp, dest, key.private_key, key.key_id)
    full = CheckReport(report.stage, list(report.results))
    try:
        ctx.use_aip(built.path, placement.archival_code, key.public_pem)
        full.extend(run_checks(ctx, Stage.GD, group="package", registry=archive.checks))
        item = records.build_item(sub, inp, identified, built.aip_digest,
                                  archive.store.key_for(aip_id), {}, filing, archive_event)
        if session is not None:
            catalogue.add_item(session, item)
            record = catalogue.read_back(session, aip_id)
        else:
            record = catalogue.record_of(item)
        ctx.catalogue_record = record
        full.extend(run_checks(ctx, Stage.GD, group="catalogue", registry=archive.checks))
        if not full.accepted:
            raise PackageRejected(full)
        built = reseal_with_report(built.path, full.to_list(), key.private_key, key.key_id)
    except BaseException:
        unseal(inp, built.path)
        raise
    return Sealed(inp, built, item, full, record, placement)


def draft(archive: Archive, sub: ReceivedSubmission, ctx: CheckContext, report: CheckReport,
          identified: dict[str, dict[str, Any]], dest: Path, received_at: datetime,
          aip_id: str) -> Sealed | None:
    """Seal ahead of the window under the expected code; None when that cannot help."""
    with archive.db.session() as session:
        if catalogue.find_identical(session, sub.case["source_system"], sub.case["case_id"],
                                    sub.case_sha256) is not None:
            return None  # a resubmission: the window answers with the first receipt
        placement = place(archive, session, sub.case, allocate=False)
    try:
        return seal(archive, sub, ctx, report, identified, dest, received_at, aip_id,
                    placement, None)
    except PackageRejected:
        return None


def confirm(session: Session, draft_: Sealed, placement: Placement, ctx: CheckContext,
            archive: Archive) -> bool:
    """Inside the window: file the draft if it holds the allocated place.

    Writes the draft's catalogue rows and reads them back; when they differ from those
    the draft was checked against, GD-3-2 runs again on what was read and, if its
    verdict changed, the report in the AIP is resealed. False (nothing written) when
    the draft's place was taken; ``PackageRejected`` when the rows fail GD-3-2.
    """
    if draft_.placement != placement:
        return False
    catalogue.add_item(session, draft_.item)
    record = catalogue.read_back(session, draft_.inp.aip_id)
    if record == draft_.record:
        return True
    ctx.use_aip(draft_.built.path, placement.archival_code, archive.key.public_pem)
    ctx.catalogue_record = record
    rerun = run_checks(ctx, Stage.GD, group="catalogue", registry=archive.checks)
    report = CheckReport(draft_.report.stage,
                         [r for r in draft_.report.results if r.code not in
                          {x.code for x in rerun.results}] + rerun.results)
    if not report.accepted:
        raise PackageRejected(report)
    key = archive.key
    draft_.built = reseal_with_report(draft_.built.path, report.to_list(), key.private_key,
                                      key.key_id)
    draft_.report, draft_.record = report, record
    return True


def unseal(inp: AIPInput, aip_path: Path) -> None:
    """Take an AIP that will not be filed apart: content files back, the rest removed."""
    for rel in inp.file_digests:
        target = Path(aip_path) / payload_path(rel)
        src = inp.submission_root / rel
        if target.is_file() and not src.exists():
            src.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(os.fspath(target), os.fspath(src))
    remove_tree(Path(aip_path))
