"""One Whoosh hit → ``SearchHit`` with highlighted snippets from its stored fields."""

from __future__ import annotations

import html

from .analysis import name_pinyin, segment
from .highlight import fragments, mark_all, mask_id
from .interface import Highlight, SearchHit
from .query import Node, Word, classify, words
from .whoosh_schema import unpack_texts

MAX_HIGHLIGHTS = 3


def _needles(ws: list[Word]) -> list[str]:
    """Literal strings to mark in titles and texts."""
    out: list[str] = []
    for w in ws:
        if w.field in (None, "text", "title", "name", "item", "agency") or w.phrase:
            if w.phrase or classify(w.text) in ("text", "code"):
                out.append(w.text)
                if not w.phrase:
                    out.extend(t for t in segment(w.text) if len(t) > 1)
            elif classify(w.text) in ("suffix", "id"):
                out.append(w.text)
    return list(dict.fromkeys(n for n in out if n))


def _shown_id(number: str, matched: str | None) -> str:
    """The ID as displayed: masked, except the part the clerk typed, which is marked."""
    if matched is None:
        return mask_id(number)
    if matched == number:
        return f"<em>{number}</em>"
    head = mask_id(number)[: len(number) - len(matched)]
    if "*" not in head and len(number) == 18:
        head = number[:6] + "*" * (len(number) - 6 - len(matched))
    return f"{head}<em>{matched}</em>"


def _party_highlights(parties: list[dict], ws: list[Word]) -> list[Highlight]:
    """Which party the query matched: by name, pinyin, full ID or ID suffix."""
    out: list[Highlight] = []
    for p in parties:
        name, number = str(p.get("name") or ""), str(p.get("id_number") or "")
        keys = name_pinyin(name, person=p.get("kind") != "unit")
        hit_name: list[str] = []
        matched: str | None = None
        for w in ws:
            v = w.text
            kind = w.field or classify(v)
            if kind in ("pinyin", "name", "text") and (v == name or v.lower() in keys):
                hit_name.append(name)
            elif kind in ("name", "text") and len(v) >= 2 and v in name:
                hit_name.append(v)
            if kind in ("suffix", "idsuffix", "id") and number and number.endswith(v.upper()):
                matched = v.upper()
        if hit_name or matched:
            shown = mark_all(name, hit_name) or html.escape(name)
            if number:
                shown += f"（{_shown_id(number, matched)}）"
            out.append(Highlight("names", shown))
    return out


def hit_of(f: dict, score: float, tree: Node | None, *, scored: bool = True) -> SearchHit:
    """A hit from the stored fields ``f`` of one item."""
    ws = words(tree)
    needles = _needles(ws)
    highlights = _party_highlights(f.get("parties") or [], ws)
    title_mark = mark_all(f.get("title", ""), needles) if needles else None
    if title_mark:
        highlights.append(Highlight("title", title_mark))
    if needles:
        for file_id, _title, text in unpack_texts(f.get("texts_z")):
            for frag in fragments(text, needles, limit=1):
                highlights.append(Highlight("content", frag, file_id))
            if len(highlights) >= MAX_HIGHLIGHTS:
                break
    return SearchHit(
        aip_id=f["aip_id"], archival_code=f.get("archival_code", ""),
        case_id=f.get("case_id", ""), title=f.get("title", ""),
        score=round(float(score or 0.0), 4) if scored else 0.0, highlights=highlights[:MAX_HIGHLIGHTS],
        year=int(f["year"]) if f.get("year") else None,
        service_item_name=f.get("item_name", ""), agency_name=f.get("agency_name", ""),
        completed_at=f.get("completed_s", ""),
    )
