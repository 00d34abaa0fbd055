"""Facts about a stored item that verification and fixity audits share.

The check context of a stored AIP, the differences between catalogue rows and the AIP's
own description, and the digest the audit log recorded at filing (the reference every
copy is held to, since neither the catalogue nor a re-sealed copy can be trusted alone).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dangan.packages.aip.bag import CASE_JSON, CASE_SIG, FILES_PREFIX, SUBMISSION_PREFIX
from dangan.packages.aip.fields import PARTY_KEYS
from dangan.packages.aip.validate import AIPValidation
from dangan.packages.aip.validate_parts import BagView
from dangan.packages.archival_code import ArchivalCodeRule
from dangan.packages.checks.context import CheckContext, FileFacts, TrustedKey
from dangan.packages.checks.engine import Stage
from dangan.packages.problem import Problem

from . import audit_log, catalogue_fields, keys, transfer_records
from .instance import Archive
from .models import Item
from .timeutil import iso, parse_iso


def stored_context(archive: Archive, session: Session, item: Item, path: Path,
                   validation: AIPValidation, view: BagView | None, public_pem: bytes,
                   stage: Stage = Stage.BC,
                   trusted_keys: list[TrustedKey] | None = None,
                   code_rule: ArchivalCodeRule | None = None) -> CheckContext:
    """A check context over a stored AIP, reusing its validation (content is read once).

    ``trusted_keys``, ``code_rule``: the source system's keys and the AIP's archival-code
    rule when the caller read them already (a fixity batch reads them once per batch).
    """
    case_bytes = view.read(CASE_JSON) if view is not None and CASE_JSON in view.files else None
    case, case_error = None, None
    if case_bytes is not None:
        try:
            case = json.loads(case_bytes.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            case_error = str(exc)
    files: dict[str, FileFacts] = {}
    for rel, dg in (view.actual.items() if view is not None else []):
        if rel.startswith(FILES_PREFIX):
            sub_rel = rel.removeprefix(SUBMISSION_PREFIX)
            files[sub_rel] = FileFacts(sub_rel, path / rel, dg.size, dg.sha256, dg.sm3)
    ctx = CheckContext(
        stage=stage, root=path / SUBMISSION_PREFIX, case_bytes=None,
        case=case if isinstance(case, dict) else None, case_error=case_error,
        signature_bytes=view.read(CASE_SIG) if view is not None and CASE_SIG in view.files else None,
        files=files, extra_entries=[],
        trusted_keys=(trusted_keys if trusted_keys is not None
                      else keys.trusted_keys_for(session, item.source_system)),
        filing_rules=archive.filing_config.rules(),
        allowed_media_types=frozenset(archive.settings.allowed_media_types),
        min_scan_dpi=archive.settings.min_scan_dpi, pdf_limits=archive.settings.pdf_limits,
        archival_code=item.archival_code,
        archival_code_rule=(code_rule if code_rule is not None
                            else transfer_records.code_rule(session, item.aip_id, archive.code_rule)),
        aip_root=path, archive_public_key_pem=public_pem,
        aip_inspection=(validation, view),
    )
    return ctx


def dig(d: Any, *keys_: str) -> Any:
    """``d[k1][k2]…``, or None where a level is missing or not a dict."""
    for k in keys_:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def _when(text: Any) -> Any:
    try:
        return parse_iso(text)
    except (TypeError, ValueError):
        return text


def catalogue_differences(item: Item, desc: dict[str, Any], aip_digest: str | None,
                          case_sha256: str | None) -> list[dict[str, Any]]:
    """Every catalogue value (item, files, parties, events) that differs from the AIP's
    signed description; ``expected`` is the AIP's value, ``found`` the catalogue's."""
    so = desc.get("signed_object") or {}
    d = dig(so, "content", "record", "description") or {}
    docs = dig(so, "content", "record", "documents") or []
    out: list[dict[str, Any]] = []

    def cmp(fld: str, label: str, want: Any, have: Any) -> None:
        if want != have:
            out.append(Problem("catalogue.mismatch", None, field=fld,
                               expected=want if not hasattr(want, "isoformat") else iso(want),
                               found=have if not hasattr(have, "isoformat") else iso(have),
                               note=f"目录中{label}为 {have!r}，AIP 中为 {want!r}").to_dict())

    for fld, label, want, have in (
        ("aip_id", "AIP 标识", so.get("aip_id"), item.aip_id),
        ("version", "版本", so.get("aip_version"), item.version),
        *catalogue_fields.compared(item, d),
        ("aip_sha256", "AIP 摘要", aip_digest, item.aip_sha256),
        ("case_sha256", "case.json 摘要", case_sha256, item.case_sha256),
        ("file_count", "文件数", len(docs), item.file_count),
    ):
        cmp(fld, label, want, have)
    rows = {f.path: f for f in item.files}
    for doc in docs:
        path = doc.get("path")
        row = rows.pop(path, None)
        if row is None:
            out.append(Problem("catalogue.file_missing", path, field="files", expected=path,
                               note=f"目录中缺少文件 {path}").to_dict())
            continue
        for fld, label, want, have in catalogue_fields.document_compared(row, doc):
            cmp(f"files[{path}].{fld}", f"文件 {path} 的{label}", want, have)
    out += [Problem("catalogue.file_extra", p, field="files", found=p,
                    note=f"目录中多出 AIP 没有的文件 {p}").to_dict() for p in rows]
    parties = [tuple(p.get(k) for k in PARTY_KEYS) for p in dig(so, "content", "record", "parties") or []]
    cmp("parties", "当事人", parties, [tuple(getattr(p, k) for k in PARTY_KEYS) for p in item.parties])
    events = [(e.get("seq"), e.get("step"), _when(e.get("at")), dig(e, "actor", "id"), e.get("action"))
              for e in dig(so, "content", "events") or []]
    cmp("events", "业务过程", [tuple(iso(x) if hasattr(x, "isoformat") else x for x in e) for e in events],
        [(e.seq, e.step, iso(e.at), e.actor_id, e.action) for e in item.events])
    return out


def reference_digest(session: Session, item: Item) -> tuple[str | None, audit_log.AuditEntry | None]:
    """The AIP digest as the tamper-evident log recorded it at filing (else the catalogue's)."""
    entries = audit_log.find_entries(session, object_id=item.aip_id, action="aip:file")
    if entries:
        return entries[0].object_digest, entries[0]
    return item.aip_sha256, None
