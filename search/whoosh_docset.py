"""Restrictions (facet filters, access rules) evaluated as sets of document numbers.

A filter such as ``year:2020 item:SB002`` plus the access rule is a conjunction of
exact terms. Whoosh evaluates it by stepping Python matchers document by document and
re-aligning every branch of the clerk's query at each step. Here the restriction is
computed once per segment with set operations over whole posting blocks (in C), and
handed to Whoosh as one sorted list (or, for exclusions, one set to skip): the
intersection with the clerk's query is then driven by the few admitted documents.
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh.matching import FilterMatcher, IntersectionMatcher, ListMatcher, NullMatcher

from . import whoosh_internals
from .whoosh_phrase import GramPhrase, deleted_set, posting_ids
from .whoosh_scoring import leaf_scores


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
        return docset(whoosh_internals.numeric_terms(q, reader), searcher)
    if isinstance(q, wq.WrappingQuery):  # e.g. the constant-score wrapper of a range
        return docset(q.child, searcher)
    if isinstance(q, wq.MultiTerm):  # Prefix, TermRange
        btexts = whoosh_internals.term_bytes(q, reader)
        if btexts is not None:
            out = set()
            for btext in btexts:
                out |= posting_ids(reader, q.fieldname, btext)
            return out
    return set(q.docs(searcher))


def _size(q: wq.Query, reader) -> int:
    try:
        return q.estimate_size(reader)
    except (NotImplementedError, AttributeError, TypeError):
        return reader.doc_count_all()


def restriction(q: wq.Query, searcher) -> tuple[bool, set[int]]:
    """``q`` as (True, admitted) or (False, excluded) document numbers of one leaf.

    Access rules are mostly exclusions (everything but the restricted items): keeping
    the polarity avoids materialising the set of every document for each query.
    """
    if isinstance(q, wq.Every):
        return False, set()
    if isinstance(q, wq.Not):
        positive, ids = restriction(q.query, searcher)
        return not positive, ids
    if isinstance(q, wq.And | wq.Or):
        parts = [restriction(sub, searcher) for sub in q.subqueries]
        pos = [ids for p, ids in parts if p]
        neg = [ids for p, ids in parts if not p]
        if isinstance(q, wq.And):
            if pos:
                acc = set.intersection(*sorted(pos, key=len))
                for n in neg:
                    acc -= n
                return True, acc
            return False, set().union(*neg)
        if not neg:
            return True, set().union(*pos)
        return False, set.intersection(*neg) - set().union(*pos)
    return True, docset(q, searcher)


class RestrictedQuery(wq.Query):
    """``child`` (scored as usual) limited to what ``restrict`` admits (not scored)."""

    def __init__(self, child: wq.Query, restrict: wq.Query) -> None:
        self.child = child
        self.restrict = restrict
        self.boost = 1.0

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, RestrictedQuery) and other.child == self.child
                and other.restrict == self.restrict)

    def __hash__(self) -> int:
        return hash((self.child, self.restrict))

    def __repr__(self) -> str:
        return f"RestrictedQuery({self.child!r}, {self.restrict!r})"

    def __unicode__(self) -> str:
        return f"{self.child} | {self.restrict}"

    __str__ = __unicode__

    def is_leaf(self) -> bool:
        return True

    def copy(self) -> RestrictedQuery:
        return RestrictedQuery(self.child, self.restrict)

    def estimate_size(self, ixreader) -> int:
        return _size(self.child, ixreader)

    def estimate_min_size(self, ixreader) -> int:
        return 0

    def matcher(self, searcher, context=None):
        positive, ids = restriction(self.restrict, searcher)
        if positive and not ids:
            return NullMatcher()
        if isinstance(self.child, wq.Every | GramPhrase):  # unscored: one set operation
            own = docset(self.child, searcher)
            own = own & ids if positive else own - ids
            return ListMatcher(sorted(own), all_weights=1.0) if own else NullMatcher()
        m = self.child.matcher(searcher, context)
        if not m.is_active():
            return m
        if positive:
            # (a weight of 0.0 reads as "unset" in ListMatcher and would add 1 to scores)
            return IntersectionMatcher(m, ListMatcher(sorted(ids), all_weights=1e-9))
        return FilterMatcher(m, frozenset(ids), exclude=True) if ids else m


SMALL_RESTRICTION = 0.2  # of a segment: below it, the restriction drives the matching


def _and_polarity(a: tuple[bool, set[int]], b: tuple[bool, set[int]]) -> tuple[bool, set[int]]:
    (pa, ia), (pb, ib) = a, b
    if pa and pb:
        return True, ia & ib
    if pa or pb:
        return True, (ia - ib) if pa else (ib - ia)
    return False, ia | ib


def _step_to(m, candidates: list[int], scores: dict[int, float] | None,
             offset: int) -> set[int]:
    """The candidates ``m`` matches, by skipping to each (``Matcher.all_ids`` rebuilds
    the matcher tree every ten documents, four times slower here); their scores too."""
    out: set[int] = set()
    for c in candidates:
        if not m.is_active():
            break
        if m.id() < c:
            m.skip_to(c)
        if m.is_active() and m.id() == c:
            out.add(c)
            if scores is not None:
                scores[c + offset] = m.score()
    return out


def _leaf_matches(q: wq.Query, sub, offset: int, context,
                  scores: dict[int, float] | None) -> tuple[set[int], bool]:
    """(matches of one segment, whether all of them were scored into ``scores``)."""
    if not isinstance(q, RestrictedQuery):
        positive, ids = restriction(q, sub)
    else:
        r = restriction(q.restrict, sub)
        small = r[0] and len(r[1]) <= SMALL_RESTRICTION * max(1, sub.reader().doc_count_all())
        if small and not isinstance(q.child, wq.Every | GramPhrase):
            # few admitted items (e.g. year + service item): step the clerk's query to
            # each of them instead of materialising every item that has the words
            if not r[1]:
                return set(), True
            candidates = sorted(r[1])
            if scores is not None:  # score term by term from cached postings when we can
                fast = leaf_scores(q.child, sub, candidates)
                if fast is not None:
                    scores.update({d + offset: v for d, v in fast.items()} if offset else fast)
                    return set(fast), True
            m = q.child.matcher(sub, context)
            return _step_to(m, candidates, scores, offset), scores is not None
        positive, ids = _and_polarity(restriction(q.child, sub), r)
    return (ids if positive else _live(sub.reader()) - ids), False


def all_matches(q: wq.Query, searcher,
                scores: dict[int, float] | None = None) -> tuple[set[int], bool]:
    """Every (global) document number ``q`` matches, computed per segment, and whether
    each match's score is in ``scores`` (then no separate ranking pass is needed)."""
    out: set[int] = set()
    all_scored = True
    context = searcher.context()
    for sub, offset in searcher.leaf_searchers():
        ids, scored = _leaf_matches(q, sub, offset, context, scores)
        all_scored = all_scored and scored
        out |= {d + offset for d in ids} if offset else ids
    return out, all_scored
