"""The private Whoosh parts the engine reads are still there and give what the public API
gives; each engine keeps its own segment cache."""

from __future__ import annotations

from pathlib import Path

import whoosh
from whoosh import query as wq

from dangan.search import Access, whoosh_cache, whoosh_internals
from dangan.search.whoosh_engine import WhooshEngine
from tests.search.corpus import ZHANG, corpus, make_doc

ALL = Access.everything()


def _leaf(engine: WhooshEngine):
    reader = engine._searcher().reader()
    return reader if reader.is_atomic() else reader.leaf_readers()[0][0]


def test_the_pinned_whoosh_still_has_every_private_part_we_read() -> None:
    # An upgrade that renames these would silently fall back to the slow public paths:
    # keep the pin, read the new Whoosh, then move TESTED_VERSION.
    assert whoosh.__version__ == whoosh_internals.TESTED_VERSION
    assert whoosh_internals.missing() == []


def test_fenced_reads_equal_the_public_api(engine: WhooshEngine) -> None:
    reader = _leaf(engine)
    terms = list(reader.lexicon("grams"))
    assert len(terms) > 50
    for term in terms:
        fast = list(whoosh_internals.posting_ids(reader, "grams", term))
        assert fast == list(reader.postings("grams", term).all_ids())
    first = terms[0].decode("utf-8")[:1]
    expanded = set(whoosh_internals.term_bytes(wq.Prefix("grams", first), reader))
    assert expanded == {t for t in terms if t.decode("utf-8").startswith(first)}


def test_two_archives_in_one_process_share_no_cached_postings(tmp_path: Path) -> None:
    a = WhooshEngine(tmp_path / "a")
    b = WhooshEngine(tmp_path / "b")
    a.index_many(corpus())
    boiler = "本申请符合法定形式，材料齐全。" * 5
    b.index_many([make_doc(90 + n, "赵六", ZHANG, body=boiler) for n in range(80)])
    assert b.search(f'"{boiler[:8]}"', access=ALL).total == 80
    assert a.search(f'"{boiler[:8]}"', access=ALL).total == 0
    a_segments = {k[0] for k in a.segments._postings} | set(a.segments._columns)
    b_segments = {k[0] for k in b.segments._postings} | set(b.segments._columns)
    assert b_segments and not (a_segments & b_segments)
    # outside an engine's read nothing is current: no process-wide cache exists
    assert whoosh_cache.current() is None
