"""Sealing a checked submission into its AIP, ahead of the filing window when possible.

Building, checking and signing an AIP takes most of a filing's time, and the AIP must
carry its archival code, which only the serialised filing window may allocate. So the
AIP is first sealed as a *draft* outside the window (``seal_draft``), under the code the
window is expected to allocate (the series' next number, read without the lock). Inside
the window the real code is allocated (``allocate``): when it, the version and the
superseded AIP are those of the draft, and the catalogue rows read back equal those the
draft was checked against, the draft is filed as it is (``confirm``); otherwise (another
filing took that number meanwhile) it is taken apart and the AIP is sealed again inside
the window (``seal_in_window``). The draft never decides anything on its own: a draft
whose checks fail is discarded, and the window's own sealing gives the authoritative
verdict.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dangan.archive import catalogue
from dangan.archive.instance import Archive
from dangan.archive.store import remove_tree
from dangan.archive.timeutil import utcnow
from dangan.packages.aip import AIPInput, build_aip, reseal_with_report
from dangan.packages.aip.model import payload_path
from dangan.packages.checks import CheckReport, Stage, run_checks

from . import records
from .errors import PackageRejected
from .filing import Filing, Placement, Sealed

__all__ = ["PackageRejected", "Placement", "Sealed", "allocate", "confirm", "expected",
           "seal_draft", "seal_in_window", "unseal"]


def expected(archive: Archive, session: Session, case: dict[str, Any]) -> Placement:
    """The place the window is expected to give the case, read without taking a number."""
    return _place(archive, session, case, lambda series: catalogue.peek_item_no(session, series))


def allocate(archive: Archive, session: Session, case: dict[str, Any]) -> Placement:
    """The case's place, taking its item number: only inside the filing window."""
    return _place(archive, session, case,
                  lambda series: catalogue.allocate_item_no(session, series))


def _place(archive: Archive, session: Session, case: dict[str, Any],
           item_no: Callable[[Any], int]) -> Placement:
    target = (catalogue.resolve_reference(session, case["supersedes"])
              if case.get("supersedes") else None)
    if target is not None:
        return Placement(target.archival_code, target.version + 1, {
            "aip_id": target.aip_id, "archival_code": target.archival_code,
            "version": target.version, "reason": case.get("correction_reason", "")})
    filing = archive.filing_config.get(case["service_item"]["code"])
    year = datetime.fromisoformat(case["completed_at"]).year
    series = archive.code_rule.series(year, filing.retention, filing.category_code)
    code = archive.code_rule.format(year, filing.retention, filing.category_code,
                                    item_no(series))
    return Placement(code, 1, None)


def seal_draft(filing: Filing) -> Sealed | None:
    """Seal ahead of the window under the expected code; None when that cannot help.

    The catalogue rows are checked (GD-3-2) as built; ``confirm`` compares them with
    the rows read back inside the window.
    """
    archive, case = filing.archive, filing.case
    with archive.db.session() as session:
        if catalogue.find_identical(session, case["source_system"], case["case_id"],
                                    filing.sub.case_sha256) is not None:
            return None  # a resubmission: the window answers with the first receipt
        placement = expected(archive, session, case)
    try:
        return _seal(filing, placement, None)
    except PackageRejected:
        return None


def seal_in_window(filing: Filing, session: Session, placement: Placement) -> Sealed:
    """Seal inside the window: the catalogue rows are written and read back for GD-3-2.

    Raises ``PackageRejected`` when a blocking check fails (the AIP is taken apart).
    """
    return _seal(filing, placement, session)


def _seal(filing: Filing, placement: Placement, session: Session | None) -> Sealed:
    """Build, check and sign the AIP at ``filing.dest``; rows written only with a session."""
    archive, sub = filing.archive, filing.sub
    service_item = archive.filing_config.get(sub.case["service_item"]["code"])
    archived_at = utcnow()
    archive_event = records.archive_event(sub.case, archive.settings.organization, archived_at)
    inp = AIPInput(
        aip_id=filing.aip_id,
        archival_code=placement.archival_code,
        version=placement.version,
        submission_root=sub.root,
        case=sub.case,
        case_bytes=sub.case_bytes,
        file_digests={rel: sub.digests[rel] for rel in sub.files},
        identified=filing.identified,
        filing=records.filing_dict(service_item, archive.settings),
        archive_event=archive_event,
        check_results=filing.report.to_list(),
        received_at=filing.received_at,
        archived_at=archived_at,
        supersedes=placement.supersedes,
    )
    key = archive.key
    built = build_aip(inp, filing.dest, key.private_key, key.key_id)
    full = CheckReport(filing.report.stage, list(filing.report.results))
    try:
        ctx = filing.ctx.for_aip(built.path, placement.archival_code, key.public_pem)
        full.extend(run_checks(ctx, Stage.GD, group="package", registry=archive.checks))
        item = records.build_item(sub, inp, filing.identified, built.aip_digest,
                                  archive.store.key_for(filing.aip_id), {}, service_item,
                                  archive_event)
        if session is not None:
            catalogue.add_item(session, item)
            record = catalogue.read_back(session, filing.aip_id)
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


def confirm(filing: Filing, session: Session, placement: Placement) -> Sealed | None:
    """Inside the window: the draft as it will be filed, if it holds the allocated place.

    Writes the draft's catalogue rows and reads them back; when they differ from those
    the draft was checked against, GD-3-2 runs again on what was read and, if its
    verdict changed, the report in the AIP is resealed. None (nothing written, the draft
    taken apart) when there is no draft or its place was taken; ``PackageRejected``
    when the rows fail GD-3-2.
    """
    draft = filing.draft
    if draft is None:
        return None
    if draft.placement != placement:
        unseal(draft.inp, draft.built.path)
        return None
    catalogue.add_item(session, draft.item)
    record = catalogue.read_back(session, draft.inp.aip_id)
    if record == draft.record:
        return draft
    key = filing.archive.key
    ctx = filing.ctx.for_aip(draft.built.path, placement.archival_code, key.public_pem,
                             catalogue_record=record)
    rerun = run_checks(ctx, Stage.GD, group="catalogue", registry=filing.archive.checks)
    rerun_codes = {x.code for x in rerun.results}
    report = CheckReport(draft.report.stage,
                         [r for r in draft.report.results if r.code not in rerun_codes]
                         + rerun.results)
    if not report.accepted:
        raise PackageRejected(report)
    built = reseal_with_report(draft.built.path, report.to_list(), key.private_key, key.key_id)
    return replace(draft, built=built, report=report, record=record)


def unseal(inp: AIPInput, aip_path: Path) -> None:
    """Take an AIP that will not be filed apart: content files back, the rest removed."""
    for rel in inp.file_digests:
        target = Path(aip_path) / payload_path(rel)
        src = inp.submission_root / rel
        if target.is_file() and not src.exists():
            src.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(os.fspath(target), os.fspath(src))
    remove_tree(Path(aip_path))
