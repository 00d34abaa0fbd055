"""What the index knows about one archived item, built from the case record and its files.

The search layer never reads the catalogue: ingest hands it plain data (the case.json
dict, the filing decision, the stored content files) and this module turns it into an
``IndexDocument``. Reindexing passes the texts loaded from the derived-text file instead
of extracting again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

PARTY_ROLES = ("applicant", "subject")
TEXT_METHODS = ("pdf", "ofd", "xml", "ocr", "json", "none")


@dataclass
class ExtractedText:
    """The text of one file of the case (or of case.json itself, ``file_id`` "case.json")."""

    file_id: str
    title: str
    kind: str
    text: str
    method: str  # one of TEXT_METHODS; "none" = nothing extracted, ``note`` says why
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "title": self.title, "kind": self.kind,
                "text": self.text, "method": self.method, "note": self.note}


@dataclass
class IndexDocument:
    """One archived item (one AIP version) as the search index sees it."""

    aip_id: str
    archival_code: str
    case_id: str
    source_system: str
    version: int
    title: str
    service_item_code: str
    service_item_name: str
    category: str
    retention: str
    classification_code: str
    agency_code: str
    agency_name: str
    channel: str
    outcome: str
    decision_no: str | None
    accepted_at: datetime
    completed_at: datetime
    year: int
    security_classification: str  # public / internal / restricted
    parties: list[dict[str, Any]] = field(default_factory=list)
    texts: list[ExtractedText] = field(default_factory=list)

    @property
    def id_numbers(self) -> list[str]:
        """Every party's ID number, upper-cased, without duplicates."""
        seen: list[str] = []
        for p in self.parties:
            n = str(p.get("id_number") or "").strip().upper()
            if n and n not in seen:
                seen.append(n)
        return seen

    @property
    def names(self) -> list[str]:
        seen: list[str] = []
        for p in self.parties:
            n = str(p.get("name") or "").strip()
            if n and n not in seen:
                seen.append(n)
        return seen


def _party(p: dict[str, Any], role: str) -> dict[str, Any]:
    return {"role": role, "kind": p.get("kind", "person"), "name": p.get("name", ""),
            "id_type": p.get("id_type", ""), "id_number": p.get("id_number", "")}


def parties_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Applicant first, then the subjects (a subject equal to the applicant kept once)."""
    out: list[dict[str, Any]] = []
    if isinstance(case.get("applicant"), dict):
        out.append(_party(case["applicant"], "applicant"))
    for s in case.get("subjects") or []:
        if not isinstance(s, dict):
            continue
        p = _party(s, "subject")
        if any(q["name"] == p["name"] and q["id_number"] == p["id_number"] for q in out):
            continue
        out.append(p)
    return out


def case_record_text(case: dict[str, Any]) -> ExtractedText:
    """The searchable words of case.json itself: result summary, the trail's actions."""
    parts: list[str] = [str(case.get("title") or "")]
    result = case.get("result") or {}
    for key in ("summary", "decision_no"):
        if result.get(key):
            parts.append(str(result[key]))
    for ev in case.get("events") or []:
        for key in ("action", "note"):
            if isinstance(ev, dict) and ev.get(key):
                parts.append(str(ev[key]))
        actor = ev.get("actor") if isinstance(ev, dict) else None
        if isinstance(actor, dict) and actor.get("name"):
            parts.append(str(actor["name"]))
    for f in case.get("files") or []:
        if isinstance(f, dict) and f.get("title"):
            parts.append(str(f["title"]))
    return ExtractedText("case.json", "办件信息", "case_record", "\n".join(p for p in parts if p),
                         "json")


def document_from_case(aip_id: str, archival_code: str, version: int, case: dict[str, Any],
                       filing: dict[str, Any], files: dict[str, Path], *,
                       texts: list[ExtractedText] | None = None,
                       ocr: bool = True) -> IndexDocument:
    """Build the index document of one archived case.

    ``filing`` = {"category", "retention", "classification_code"} (+ optional "year", the
    archival year, default the year of completion); ``files`` maps each
    case file id to its stored content file. ``texts`` (e.g. from ``load_derived_text``)
    skips extraction; ``ocr=False`` skips OCR (such scans record method "none").
    """
    from .extract import extract_case_files

    accepted = datetime.fromisoformat(str(case["accepted_at"]))
    completed = datetime.fromisoformat(str(case["completed_at"]))
    if texts is None:
        texts = [case_record_text(case), *extract_case_files(case, files, ocr=ocr)]
    result = case.get("result") or {}
    agency = case.get("agency") or {}
    item = case.get("service_item") or {}
    security = case.get("security") or {}
    return IndexDocument(
        aip_id=aip_id,
        archival_code=archival_code,
        case_id=str(case["case_id"]),
        source_system=str(case.get("source_system", "")),
        version=version,
        title=str(case.get("title", "")),
        service_item_code=str(item.get("code", "")),
        service_item_name=str(item.get("name", "")),
        category=str(filing.get("category", "")),
        retention=str(filing.get("retention", "")),
        classification_code=str(filing.get("classification_code", "")),
        agency_code=str(agency.get("code", "")),
        agency_name=str(agency.get("name", "")),
        channel=str(case.get("channel", "")),
        outcome=str(result.get("outcome", "")),
        decision_no=result.get("decision_no") or None,
        accepted_at=accepted,
        completed_at=completed,
        year=int(filing.get("year") or completed.year),
        security_classification=str(security.get("classification", "internal")),
        parties=parties_of(case),
        texts=texts,
    )
