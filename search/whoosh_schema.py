"""The Whoosh schema of one archived item and the conversion of an IndexDocument into it.

Identifiers are stored upper-cased as single tokens (exact match); the last 4 and 6
characters of every ID number get a field of their own; names carry their pinyin (full
and initials); facets are sortable ID columns; dates are DATETIME (UTC) for ranges; the
full text is indexed twice: jieba words (ranking) and character bigrams with positions
(quoted phrases as exact substrings). Texts are stored zlib-compressed for highlights.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from typing import Any

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from .analysis import BigramTokenizer, JiebaTokenizer, name_pinyin
from .document import ExtractedText, IndexDocument
from .interface import SECURITY_LEVELS

# facet name (interface.FACETS) → index field
FACET_FIELDS = {
    "item": "item", "category": "category", "retention": "retention", "year": "year",
    "agency": "agency", "channel": "channel", "outcome": "outcome",
    "classification": "classification", "security": "security",
}
# Fields searched for plain words, with their weight.
TEXT_FIELDS = {"title": 3.0, "name_text": 3.0, "item_name": 1.5, "agency_name": 1.0,
               "content": 1.0}


def build_schema() -> Schema:
    jieba_index = JiebaTokenizer(search_mode=True)
    return Schema(
        aip_id=ID(stored=True, unique=True),
        archival_code=ID(stored=True),
        case_id=ID(stored=True),
        decision=ID(stored=True),
        source=ID(stored=True),
        version=STORED(),
        ids=KEYWORD(lowercase=False, scorable=True),
        idsuffix=KEYWORD(lowercase=False, scorable=True),
        name=KEYWORD(commas=True, lowercase=False, scorable=True),
        name_text=TEXT(analyzer=jieba_index, phrase=False),
        pinyin=KEYWORD(lowercase=True, scorable=True),
        title=TEXT(analyzer=jieba_index, phrase=False, stored=True),
        content=TEXT(analyzer=jieba_index, phrase=False),
        grams=TEXT(analyzer=BigramTokenizer(), phrase=True),
        item=ID(stored=True, sortable=True),
        item_name=TEXT(analyzer=jieba_index, phrase=False, stored=True),
        agency=ID(stored=True, sortable=True),
        agency_name=TEXT(analyzer=jieba_index, phrase=False, stored=True),
        category=ID(sortable=True),
        retention=ID(sortable=True),
        classification=ID(sortable=True),
        channel=ID(sortable=True),
        outcome=ID(sortable=True),
        security=ID(sortable=True),
        year=ID(stored=True, sortable=True),
        completed=DATETIME(sortable=True),
        accepted=DATETIME(),
        completed_s=STORED(),
        parties=STORED(),
        texts_z=STORED(),
    )


def utc_naive(dt: datetime) -> datetime:
    """Whoosh DATETIME wants naive datetimes: store UTC."""
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(UTC).replace(tzinfo=None)


def suffixes(id_number: str) -> list[str]:
    n = id_number.strip().upper()
    return [s for s in dict.fromkeys([n[-4:], n[-6:]]) if len(n) > len(s) >= 4]


def pack_texts(texts: list[ExtractedText]) -> bytes:
    rows = [[t.file_id, t.title, t.text] for t in texts if t.text]
    return zlib.compress(json.dumps(rows, ensure_ascii=False).encode("utf-8"), 6)


def unpack_texts(blob: bytes | None) -> list[tuple[str, str, str]]:
    if not blob:
        return []
    return [tuple(r) for r in json.loads(zlib.decompress(blob).decode("utf-8"))]


def to_fields(doc: IndexDocument) -> dict[str, Any]:
    """The Whoosh field values of one item."""
    ids = doc.id_numbers
    names = doc.names
    pinyin: list[str] = []
    for p in doc.parties:
        for key in name_pinyin(str(p.get("name") or ""), person=p.get("kind") != "unit"):
            if key not in pinyin:
                pinyin.append(key)
    body = "\n".join(t.text for t in doc.texts if t.text)
    grams_text = "\n".join([doc.title, *names, *[t.title for t in doc.texts], body])
    fields: dict[str, Any] = {
        "aip_id": doc.aip_id,
        "archival_code": doc.archival_code.strip().upper(),
        "case_id": doc.case_id.strip().upper(),
        "source": doc.source_system,
        "version": doc.version,
        "ids": " ".join(ids),
        "idsuffix": " ".join(s for n in ids for s in suffixes(n)),
        "name": ",".join(n.replace(",", " ") for n in names),
        "name_text": " ".join(names),
        "pinyin": " ".join(pinyin),
        "title": doc.title,
        "content": "\n".join([*[t.title for t in doc.texts], body]),
        "grams": grams_text,
        "item": doc.service_item_code,
        "item_name": doc.service_item_name,
        "agency": doc.agency_code,
        "agency_name": doc.agency_name,
        "category": doc.category,
        "retention": doc.retention,
        "classification": doc.classification_code,
        "channel": doc.channel,
        "outcome": doc.outcome,
        "security": (doc.security_classification if doc.security_classification in SECURITY_LEVELS
                     else "restricted"),
        "year": str(doc.year),
        "completed": utc_naive(doc.completed_at),
        "accepted": utc_naive(doc.accepted_at),
        "completed_s": doc.completed_at.isoformat(),
        "parties": [{"role": p.get("role"), "kind": p.get("kind"), "name": p.get("name"),
                     "id_number": str(p.get("id_number") or "").upper()} for p in doc.parties],
        "texts_z": pack_texts(doc.texts),
    }
    if doc.decision_no:
        fields["decision"] = doc.decision_no.strip().upper()
    return {k: v for k, v in fields.items() if v not in ("", None)}
