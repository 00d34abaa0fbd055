"""Restrictions (facet filters, access rules) evaluated as sets of document numbers.

A filter such as ``year:2020 item:SB002`` plus the access rule is a conjunction of
exact terms. Whoosh evaluates it by stepping Python matchers document by document and
re-aligning every branch of the clerk's query at each step. Here the restriction is
computed once per segment with set operations over whole posting blocks (in C), and
handed to Whoosh as one sorted list: the intersection with the clerk's query is then
driven by the few admitted documents.
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh.matching import ListMatcher, NullMatcher

from .whoosh_phrase import GramPhrase, deleted_set, posting_ids


def _live(reader) -> set[int]:
    """Every undeleted document number of a leaf reader."""
    everything = set(range(reader.doc_count_all()))
    deleted = deleted_set(reader)
    return everything - deleted if deleted else everything


def docset(q: wq.Query, searcher) -> set[int]:
    """Document numbers of one leaf searcher that ``q`` matches (scores ignored)."""
    reader = searcher.reader()
    if q is wq.NullQuery or isinstance(q, wq.NullQuery.__class__):
        return set()
    if isinstance(q, wq.Every):
        return _live(reader)
    if isinstance(q, wq.Term):
        return posting_ids(reader, q.fieldname, q.text)
    if isinstance(q, GramPhrase):
        return set(q.docnums(reader))
    if isinstance(q, wq.Not):
        return _live(reader) - docset(q.query, searcher)
    if isinstance(q, wq.And):
        parts = sorted(q.subqueries, key=lambda s: _size(s, reader))
        acc: set[int] | None = None
        for sub in parts:
            s = docset(sub, searcher)
            acc = s if acc is None else acc & s
            if not acc:
                return set()
        return acc if acc is not None else set()
    if isinstance(q, wq.Or):
        out: set[int] = set()
        for sub in q.subqueries:
            out |= docset(sub, searcher)
        return out
    if isinstance(q, wq.NumericRange):  # DateRange too: an OR of trie terms
        return docset(q._compile_query(reader), searcher)
    if isinstance(q, wq.WrappingQuery):  # e.g. the constant-score wrapper of a range
        return docset(q.child, searcher)
    if isinstance(q, wq.MultiTerm) and hasattr(q, "_btexts"):  # Prefix, TermRange
        # the raw term bytes: a numeric trie term cannot be decoded back to a value
        out = set()
        for btext in q._btexts(reader):
            out |= posting_ids(reader, q.fieldname, btext)
        return out
    return set(q.docs(searcher))


def _size(q: wq.Query, reader) -> int:
    try:
        return q.estimate_size(reader)
    except (NotImplementedError, AttributeError, TypeError):
        return reader.doc_count_all()


class DocSetQuery(wq.Query):
    """Matches what ``child`` matches, computed as a set; constant score ``boost``."""

    def __init__(self, child: wq.Query, boost: float = 0.0) -> None:
        self.child = child
        self.boost = boost

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DocSetQuery) and other.child == self.child

    def __hash__(self) -> int:
        return hash(("docset", self.child))

    def __repr__(self) -> str:
        return f"DocSetQuery({self.child!r})"

    def __unicode__(self) -> str:
        return f"<{self.child}>"

    __str__ = __unicode__

    def is_leaf(self) -> bool:
        return True

    def copy(self) -> DocSetQuery:
        return DocSetQuery(self.child, self.boost)

    def estimate_size(self, ixreader) -> int:
        return _size(self.child, ixreader)

    def estimate_min_size(self, ixreader) -> int:
        return 0

    def matcher(self, searcher, context=None):
        ids = sorted(docset(self.child, searcher))
        if not ids:
            return NullMatcher()
        return ListMatcher(ids, all_weights=self.boost)
