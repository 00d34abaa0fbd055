"""Quoted phrases as a fast Whoosh query over the character-bigram field.

Whoosh's own ``Phrase`` walks every candidate item in Python and checks positions
through several layers of span matchers: with boilerplate phrases that occur in half of
an archive (every acceptance notice says 符合法定形式) that costs seconds at 100,000
items. ``GramPhrase`` intersects the posting lists of the phrase's bigrams as sets (in
C), and then checks that the bigrams are adjacent for up to ``VERIFY_LIMIT`` candidates.
Above that (a very common phrase), an item containing every bigram of the phrase counts
as a match without the adjacency check; with three or more bigrams this virtually never
admits an item that lacks the phrase.
"""

from __future__ import annotations

from array import array

from whoosh import query as wq
from whoosh.matching import ListMatcher, NullMatcher

from . import whoosh_cache, whoosh_internals

VERIFY_LIMIT = 1500


def _raw_ids(reader, fieldname: str, term: str) -> array:
    """All document numbers of a term in a segment, deleted ones included.

    Segments never change, so the decoded list is kept in the engine's segment cache
    for the next query. Deletions are applied by the caller, since they do change.
    """
    cache = whoosh_cache.current()
    seg = whoosh_cache.segment_id(reader) if cache is not None else None
    if cache is None or seg is None:
        return whoosh_internals.posting_ids(reader, fieldname, term)
    return cache.postings(seg, fieldname, term,
                          lambda: whoosh_internals.posting_ids(reader, fieldname, term))


def deleted_set(reader) -> frozenset[int]:
    if not reader.has_deletions():
        return frozenset()
    deleted = getattr(reader, "deleted_docs_set", None)
    if callable(deleted):
        deleted = deleted()
    if deleted is None:
        deleted = frozenset(d for d in range(reader.doc_count_all()) if reader.is_deleted(d))
    return deleted


def posting_ids(reader, fieldname: str, term: str) -> set[int]:
    """The live document numbers of a term in one segment, as a set."""
    if (fieldname, term) not in reader:
        return set()
    ids = set(_raw_ids(reader, fieldname, term))
    deleted = deleted_set(reader)
    return ids - deleted if deleted else ids


def _adjacent(reader, fieldname: str, grams: list[str], candidates: list[int]) -> list[int]:
    """Candidates where the bigrams occur at consecutive positions."""
    matchers = [reader.postings(fieldname, g) for g in grams]
    out: list[int] = []
    for doc in candidates:
        starts: set[int] | None = None
        for k, m in enumerate(matchers):
            if m.is_active() and m.id() < doc:
                m.skip_to(doc)
            if not m.is_active() or m.id() != doc:
                starts = None
                break
            positions = {p - k for p in m.value_as("positions")}
            starts = positions if starts is None else starts & positions
            if not starts:
                break
        if starts:
            out.append(doc)
    return out


class GramPhrase(wq.Query):
    """Items whose ``fieldname`` holds the bigram sequence ``grams`` (see module doc)."""

    def __init__(self, fieldname: str, grams: list[str], boost: float = 1.0) -> None:
        self.fieldname = fieldname
        self.grams = list(grams)
        self.boost = boost

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, GramPhrase) and other.fieldname == self.fieldname
                and other.grams == self.grams and other.boost == self.boost)

    def __hash__(self) -> int:
        return hash((self.fieldname, tuple(self.grams), self.boost))

    def __repr__(self) -> str:
        return f"GramPhrase({self.fieldname!r}, {self.grams!r}, boost={self.boost})"

    def __unicode__(self) -> str:
        return f'{self.fieldname}:"{"|".join(self.grams)}"'

    __str__ = __unicode__

    def is_leaf(self) -> bool:
        return True

    def has_terms(self) -> bool:
        return True

    def terms(self, phrases: bool = False):
        if phrases:
            for g in self.grams:
                yield (self.fieldname, g)

    def field(self) -> str:
        return self.fieldname

    def copy(self) -> GramPhrase:
        return GramPhrase(self.fieldname, self.grams, self.boost)

    def estimate_size(self, ixreader) -> int:
        return min((ixreader.doc_frequency(self.fieldname, g) for g in self.grams), default=0)

    def estimate_min_size(self, ixreader) -> int:
        return 0

    def docnums(self, reader) -> list[int]:
        """Matching document numbers of one (segment) reader, ascending.

        Bigrams are intersected rarest first; as soon as at most ``VERIFY_LIMIT``
        candidates remain, adjacency is checked with positions (exact). A phrase still
        that common after every bigram counts as matched.
        """
        grams = self.grams
        if not grams:
            return []
        freqs = {g: reader.doc_frequency(self.fieldname, g) for g in grams}
        if any(f == 0 for f in freqs.values()):
            return []
        if len(grams) == 1:
            return sorted(posting_ids(reader, self.fieldname, grams[0]))
        acc: set[int] | None = None
        for g in sorted(dict.fromkeys(grams), key=freqs.__getitem__):
            ids = posting_ids(reader, self.fieldname, g)
            acc = ids if acc is None else acc & ids
            if len(acc) <= VERIFY_LIMIT:
                return _adjacent(reader, self.fieldname, grams, sorted(acc))
        return sorted(acc or ())

    def matcher(self, searcher, context=None):
        ids = self.docnums(searcher.reader())
        if not ids:
            return NullMatcher()
        return ListMatcher(ids, all_weights=self.boost)
