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

from whoosh import query as wq
from whoosh.matching import ListMatcher, NullMatcher

VERIFY_LIMIT = 3000


def _adjacent(reader, fieldname: str, grams: list[str], candidates: list[int]) -> list[int]:
    """Candidates where the bigrams occur at consecutive positions."""
    matchers = [reader.postings(fieldname, g) for g in grams]
    out: list[int] = []
    for doc in candidates:
        starts: set[int] | None = None
        for k, m in enumerate(matchers):
            m.skip_to(doc)
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
        """Matching document numbers of one (segment) reader, ascending."""
        grams = list(dict.fromkeys(self.grams))
        freqs = {g: reader.doc_frequency(self.fieldname, g) for g in grams}
        if not grams or any(f == 0 for f in freqs.values()):
            return []
        acc: set[int] | None = None
        for g in sorted(grams, key=freqs.__getitem__):
            ids = reader.postings(self.fieldname, g).all_ids()
            acc = set(ids) if acc is None else acc.intersection(ids)
            if not acc:
                return []
        candidates = sorted(acc or ())
        if len(self.grams) > 1 and len(candidates) <= VERIFY_LIMIT:
            candidates = _adjacent(reader, self.fieldname, self.grams, candidates)
        return candidates

    def matcher(self, searcher, context=None):
        ids = self.docnums(searcher.reader())
        if not ids:
            return NullMatcher()
        return ListMatcher(ids, all_weights=self.boost)
