"""Scores computed term by term from cached postings (``whoosh_scoring``) are the scores
Whoosh's own matchers give, and a facet term typed into the query (``参保 year:2021``)
finds and ranks what the same facet chosen as a filter does."""

from __future__ import annotations

import random

import numpy as np
import pytest
from whoosh import scoring
from whoosh.searching import Searcher

from dangan.search import whoosh_cache
from dangan.search.interface import Access
from dangan.search.query import parse
from dangan.search.whoosh_engine import WhooshEngine
from dangan.search.whoosh_query import split_facet_terms, to_whoosh
from dangan.search.whoosh_scoring import _np_scores, leaf_scores
from tests.search.corpus import ZHANG, make_doc

PHRASES = ("申请人到窗口办理参保登记", "缴费基数为每月六千元", "职工在工作时间受到事故伤害",
           "经审核材料齐全，准予登记", "失业保险金按月发放", "劳动合同期满终止", "参保缴费满十五年")
NAMES = ("张三", "李四", "王小明", "张伟", "刘芳")


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> WhooshEngine:
    rng = random.Random(3)
    docs = [make_doc(n, rng.choice(NAMES), ZHANG,
                     body="".join(rng.choice(PHRASES) for _ in range(rng.randrange(1, 8))),
                     completed=f"{rng.choice((2021, 2022, 2023))}-05-0{rng.randrange(1, 9)}T10:00:00+08:00",
                     security=rng.choice(("public", "internal", "restricted")),
                     channel=rng.choice(("window", "online")))
            for n in range(1, 121)]
    eng = WhooshEngine(tmp_path_factory.mktemp("scoring") / "index")
    eng.index_many(docs[:70])  # two segments
    eng.index_many(docs[70:])
    return eng


def _stepped(q, sub, candidates: list[int]) -> dict[int, float]:
    m = q.matcher(sub, sub.context())
    out: dict[int, float] = {}
    for c in candidates:
        if not m.is_active():
            break
        if m.id() < c:
            m.skip_to(c)
        if m.is_active() and m.id() == c:
            out[c] = m.score()
    return out


@pytest.mark.parametrize("text", ["参保", "张三", "参保 登记", "失业保险金 OR 劳动合同",
                                  "参保 NOT 工伤", "name:张伟", "channel:online 参保"])
def test_term_by_term_scores_are_whoosh_scores(engine: WhooshEngine, text: str) -> None:
    s = engine._searcher()
    q = to_whoosh(parse(text))
    compared = 0
    with whoosh_cache.using(engine.segments):
        for sub, _offset in s.leaf_searchers():
            every = list(range(sub.reader().doc_count_all()))
            for candidates in (every, every[::3]):
                for _ in range(2):  # the second time from the cached postings and lengths
                    fast = leaf_scores(q, sub, candidates)
                    assert fast is not None, text
                    assert fast == pytest.approx(_stepped(q, sub, candidates), rel=1e-12)
                    compared += len(fast)
    assert compared > 0


def test_a_typed_facet_term_ranks_like_the_same_filter(engine: WhooshEngine) -> None:
    clerk = Access.of(["public", "internal"])
    scored, terms = split_facet_terms(to_whoosh(parse("参保 year:2022")))
    assert [str(t) for t in terms] == ["year:2022"] and "year" not in str(scored)
    typed = engine.search("参保 year:2022", access=clerk, page_size=50)
    chosen = engine.search("参保", filters={"year": "2022"}, access=clerk, page_size=50)
    assert typed.total == chosen.total > 10
    assert [h.aip_id for h in typed.hits] == [h.aip_id for h in chosen.hits]
    assert typed.facets == chosen.facets
    # a query of facet terms alone is left whole (nothing else to rank by)
    assert split_facet_terms(to_whoosh(parse("year:2022 channel:online")))[1] == []


QUERIES = ["参保", "张三", "参保 登记", "失业保险金 OR 劳动合同", "参保 NOT 工伤",
           "name:张伟", "channel:online 参保", "参保 登记 NOT 工伤 NOT 失业",
           "(参保 OR 伤害) 缴费", "没有这个词"]


@pytest.fixture(scope="module")
def pruned(tmp_path_factory) -> WhooshEngine:
    """Three segments, with deleted items in two of them."""
    rng = random.Random(7)
    docs = [make_doc(n, rng.choice(NAMES), ZHANG,
                     body="".join(rng.choice(PHRASES) for _ in range(rng.randrange(1, 9))),
                     channel=rng.choice(("window", "online")))
            for n in range(1, 151)]
    eng = WhooshEngine(tmp_path_factory.mktemp("pruned") / "index")
    for lo, hi in ((0, 60), (60, 110), (110, 150)):
        eng.index_many(docs[lo:hi])
    assert eng.remove_many([d.aip_id for d in docs[5:60:4] + docs[100:140:3]]) > 10
    return eng


def _compare(searcher, text: str, *, vectorised: bool) -> int:
    q = to_whoosh(parse(text))
    compared = 0
    for sub, _offset in searcher.leaf_searchers():
        # candidates are live items, as the restriction that admits them yields them
        every = [d for d in range(sub.reader().doc_count_all()) if not sub.reader().is_deleted(d)]
        for candidates in (every, every[1::2], every[::7]):
            if vectorised:  # the plain BM25F takes the numpy kernel, not the fallback
                assert _np_scores(q, sub, np.asarray(candidates, dtype=np.int64)) is not None
            fast = leaf_scores(q, sub, candidates)
            assert fast is not None, text
            assert fast == pytest.approx(_stepped(q, sub, candidates), rel=1e-9)
            compared += len(fast)
    return compared


@pytest.mark.parametrize("text", QUERIES)
def test_vectorised_scores_with_deletions_and_segments(pruned: WhooshEngine, text: str) -> None:
    s = pruned._searcher()
    assert len(s.leaf_searchers()) >= 2
    assert any(sub.reader().has_deletions() for sub, _ in s.leaf_searchers())
    with whoosh_cache.using(pruned.segments):
        n = _compare(s, text, vectorised=True) + _compare(s, text, vectorised=True)
    assert n > 0 or text == "没有这个词"


@pytest.mark.parametrize("text", QUERIES[:7])
def test_field_specific_b_and_k1(pruned: WhooshEngine, text: str) -> None:
    """BM25F with per-field B (and another K1) is read from the scorer, not assumed."""
    weighting = scoring.BM25F(B=0.6, K1=1.7, content_B=0.2, title_B=0.9, name_B=0.0)
    s = Searcher(pruned._searcher().reader(), weighting=weighting, closereader=False)
    with whoosh_cache.using(pruned.segments):
        _compare(s, text, vectorised=True)


def test_other_scorers_fall_back_to_the_per_item_path(pruned: WhooshEngine) -> None:
    """A length scorer other than BM25F (PL2) is scored item by item; one without a
    length (TF-IDF) is left to Whoosh's matchers (None)."""
    reader = pruned._searcher().reader()
    q = to_whoosh(parse("参保 登记"))
    pl2 = Searcher(reader, weighting=scoring.PL2(), closereader=False)
    for sub, _offset in pl2.leaf_searchers():
        every = [d for d in range(sub.reader().doc_count_all()) if not sub.reader().is_deleted(d)]
        assert _np_scores(q, sub, np.asarray(every, dtype=np.int64)) is None
        assert leaf_scores(q, sub, every) == pytest.approx(_stepped(q, sub, every), rel=1e-9)
    tfidf = Searcher(reader, weighting=scoring.TF_IDF(), closereader=False)
    for sub, _offset in tfidf.leaf_searchers():
        assert leaf_scores(q, sub, [0, 1, 2]) is None
