"""The few private parts of Whoosh the engine relies on for speed, fenced in one place.

Decoding a posting list block by block through Whoosh's public ``Matcher`` API costs
about 0.7 µs per document in Python; reading the decoded id arrays of each block
directly is several times faster. Numeric and prefix queries are expanded into their
raw term bytes, since a numeric trie term cannot be decoded back to a value through
the public API. These names are private to Whoosh, so the dependency is pinned
(``whoosh-reloaded==2.7.5`` in pyproject.toml) and ``tests/search/test_whoosh_internals.py``
fails when an upgrade changes them; every function here falls back to the public API
when an attribute is missing, so a changed Whoosh is slower, never wrong.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher

TESTED_VERSION = (2, 7, 5)
BLOCK_MATCHER_ATTRS = ("_read_ids", "_next_block", "_i", "_ids")


def posting_ids(reader, fieldname: str, term: str | bytes) -> array:
    """Every document number of a term in one segment, deleted ones included."""
    m = reader.postings(fieldname, term)
    if isinstance(m, FilterMatcher):  # the deletion filter: deletions are the caller's
        m = m.child
    ids = array("I")
    if all(hasattr(m, a) for a in BLOCK_MATCHER_ATTRS):
        while m.is_active():
            if m._ids is None:
                m._read_ids()
            ids.extend(m._ids[m._i:])
            m._next_block()
    else:
        ids.extend(m.all_ids())
    return ids


def numeric_terms(q: wq.NumericRange, reader) -> wq.Query:
    """A numeric (or date) range as the OR of its trie terms in ``reader``."""
    return q._compile_query(reader)


def term_bytes(q: wq.MultiTerm, reader) -> Iterable[bytes] | None:
    """The raw term bytes a prefix or term-range query expands to (None: not known)."""
    expand = getattr(q, "_btexts", None)
    return expand(reader) if callable(expand) else None


def missing() -> list[str]:
    """The private names this module needs that the installed Whoosh lacks."""
    from whoosh.codec.whoosh3 import W3LeafMatcher

    out = [f"W3LeafMatcher.{a}" for a in ("_read_ids", "_next_block")
           if not hasattr(W3LeafMatcher, a)]
    if not hasattr(wq.NumericRange, "_compile_query"):
        out.append("NumericRange._compile_query")
    for cls in (wq.Prefix, wq.TermRange):
        if not hasattr(cls, "_btexts"):
            out.append(f"{cls.__name__}._btexts")
    return out
