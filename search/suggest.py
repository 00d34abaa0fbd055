""""Did you mean": a corrected query when a name (typed in pinyin or Chinese) finds nothing.

Candidates come from the index's own vocabulary: pinyin keys within a small edit
distance of what was typed, Chinese names with the same pinyin (张山 → 张三) or one
character away. A candidate is offered only if the corrected query finds something for
this user, so a suggestion never reveals a name the user may not see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whoosh import query as wq

from .analysis import has_cjk, name_pinyin
from .interface import Access
from .query import Node, Word, classify, words

MAX_TRIES = 4


def _pinyin_candidates(reader, typed: str) -> list[str]:
    typed = typed.lower()
    maxdist = 1 if len(typed) <= 5 else 2
    found: list[tuple[int, int, str]] = []
    for dist in range(1, maxdist + 1):
        for term in reader.terms_within("pinyin", typed, dist, prefix=1):
            t = term.decode() if isinstance(term, bytes) else term
            if t != typed:
                found.append((dist, -reader.doc_frequency("pinyin", t), t))
        if found:
            break
    return [t for _d, _f, t in sorted(set(found))]


def _name_candidates(searcher, typed: str, access_q: wq.Query | None) -> list[str]:
    """Chinese names that sound like ``typed`` or differ by one character."""
    out: list[str] = []
    keys = name_pinyin(typed)
    if keys:
        q = wq.Term("pinyin", keys[0])
        if access_q is not None:
            q = wq.And([q, access_q])
        for hit in searcher.search(q, limit=5):
            for p in hit.get("parties") or []:
                name = str(p.get("name") or "")
                if name != typed and keys[0] in name_pinyin(name) and name not in out:
                    out.append(name)
    for term in searcher.reader().terms_within("name", typed, 1, prefix=1):
        t = term.decode() if isinstance(term, bytes) else term
        if t != typed and t not in out:
            out.append(t)
    return out


def suggest(engine, searcher, query: str, tree: Node, filters: Mapping[str, Any] | None,
            access: Access) -> str | None:
    """A corrected ``query`` that finds something for ``access``, or None."""
    from .whoosh_query import access_query

    access_q = access_query(access)
    reader = searcher.reader()
    tries = 0
    for w in _name_words(words(tree)):
        if has_cjk(w.text) and w.field is None and any(
                reader.doc_frequency(f, w.text) for f in ("content", "title")):
            continue  # an ordinary word of the documents, not a mistyped name
        if has_cjk(w.text):
            candidates = _name_candidates(searcher, w.text, access_q)
        else:
            candidates = _pinyin_candidates(searcher.reader(), w.text)
        for cand in candidates:
            fixed = query.replace(w.text, cand, 1)
            if fixed == query:
                continue
            tries += 1
            if engine.total_for(searcher, fixed, filters, access) > 0:
                return fixed
            if tries >= MAX_TRIES:
                return None
    return None


def _name_words(ws: list[Word]) -> list[Word]:
    """Words that may be mistyped names: pinyin, short Chinese words, name: fields."""
    out = []
    for w in ws:
        if w.phrase:
            continue
        if w.field in ("name", "pinyin"):
            out.append(w)
        elif w.field is None and classify(w.text) == "pinyin" and len(w.text) >= 2:
            out.append(w)
        elif w.field is None and has_cjk(w.text) and 2 <= len(w.text) <= 4:
            out.append(w)
    return out
