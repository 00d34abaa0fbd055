"""The embedded search engine: a Whoosh index on local disk (implements ``SearchEngine``)."""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh import query as wq
from whoosh.multiproc import MpWriter
from whoosh.util.filelock import FileLock
from whoosh.writing import SegmentWriter

from . import analysis, whoosh_cache
from .document import IndexDocument
from .errors import IndexUnavailable
from .interface import Access, SearchHit, SearchResult
from .query import parse
from .storage import IndexHome, writer_lock
from .suggest import suggest
from .whoosh_cache import SegmentCache
from .whoosh_docset import RestrictedQuery, all_matches
from .whoosh_facets import FacetColumns
from .whoosh_hits import hit_of
from .whoosh_phrase import GramPhrase
from .whoosh_query import (
    IN_INDEX,
    access_query,
    filter_query,
    split_facet_terms,
    to_whoosh,
)
from .whoosh_schema import FACET_FIELDS, build_schema, to_fields

log = logging.getLogger(__name__)

LABELLED_FACETS = {"item": "item_name", "agency": "agency_name"}


class WhooshEngine:
    """Whoosh index under ``index_dir``; safe for threads of one process and for several
    processes (writers take turns through a file lock; readers never block)."""

    def __init__(self, index_dir: Path | str, *, lock_timeout: float = 60.0,
                 limitmb: int = 256) -> None:
        self.home = IndexHome(index_dir)
        self.lock_timeout = lock_timeout
        self.limitmb = limitmb
        self._write_mutex = threading.RLock()
        self._local = threading.local()
        self.segments = SegmentCache()  # this index's decoded segment data, never shared
        analysis.configure_jieba(self.home.jieba_dir)
        if self.home.current() is None:
            self.home.root.mkdir(parents=True, exist_ok=True)
            init_lock = FileLock(str(self.home.root / "INIT.lock"))  # two processes at once
            if not init_lock.acquire(blocking=True):
                raise IndexUnavailable(f"无法初始化检索索引：{self.home.root}")
            try:
                if self.home.current() is None:
                    gen = self.home.new_generation()
                    windex.create_in(str(gen), build_schema())
                    self.home.swap(gen)
            finally:
                init_lock.release()

    # -- reading ----------------------------------------------------------------------

    def _searcher(self):
        """This thread's searcher, reopened when a commit or a reindex has happened.

        Whoosh's ``Searcher.refresh`` reuses segment readers and misses deletions made
        in an existing segment, so a changed generation always gets a new searcher.
        """
        gen = self.home.current()
        if gen is None:
            raise IndexUnavailable(f"检索索引不存在：{self.home.root}")
        cached = getattr(self._local, "searcher", None)
        if cached is not None and self._local.gen == gen and cached.up_to_date():
            return cached
        if cached is not None:
            cached.close()
        self._local.searcher = windex.open_dir(str(gen)).searcher()
        self._local.gen = gen
        return self._local.searcher

    def count(self) -> int:
        return self._searcher().doc_count()

    def search(self, query: str, *, filters: Mapping[str, str | list[str]] | None = None,
               page: int = 1, page_size: int = 10, access: Access) -> SearchResult:
        with whoosh_cache.using(self.segments):
            return self._search(query, filters, page, page_size, access)

    def _search(self, query: str, filters: Mapping[str, str | list[str]] | None, page: int,
                page_size: int, access: Access) -> SearchResult:
        page = max(1, int(page))
        page_size = max(1, min(int(page_size), 200))
        s = self._searcher()
        tree = parse(query)
        user_q, q = self._query(s, tree, filters, access)
        limit = page * page_size
        # 1. every match as a set (posting blocks intersected in C): exact total, facets
        scores: dict[int, float] = {}
        matched, all_scored = all_matches(q, s, scores)
        total = len(matched)
        columns = self._columns(s)
        facets = columns.count(matched)
        # 2. only the first ``limit`` ranked: Whoosh's block-quality skipping may pass
        #    over items that cannot reach the top, which is safe now
        start = (page - 1) * page_size
        if isinstance(user_q, wq.Every | GramPhrase) or total == 0:  # nothing to rank by:
            # (no words, or one exact phrase, which every match contains alike) newest first
            top = [(d, 0.0) for d in columns.newest(matched, limit)]
            scored = False
        elif all_scored:  # few admitted items were scored while matching
            top = heapq.nlargest(limit, scores.items(), key=lambda kv: (kv[1], -kv[0]))
            scored = True
        else:
            # the restricted query: few admitted items then drive the ranking pass too
            results = s.search(q, limit=limit)
            top = [(results.docnum(i), results.score(i))
                   for i in range(results.scored_length())]
            scored = True
        hits: list[SearchHit] = [hit_of(s.stored_fields(d), score, tree, scored=scored)
                                 for d, score in top[start:start + page_size]]
        result = SearchResult(total=total, page=page, page_size=page_size, hits=hits,
                              facets=facets, labels=self._labels(s, facets),
                              interpreted=str(user_q))
        if total == 0 and tree is not None:
            result.suggestion = suggest(self, s, query, tree, filters, access)
        return result

    def _query(self, s, tree, filters, access: Access) -> tuple[wq.Query, wq.Query]:
        """(the clerk's query, the query with filters and access rule applied)."""
        reader = s.reader()
        token = IN_INDEX.set(lambda f, t: reader.doc_frequency(f, t) > 0)
        try:
            user_q = to_whoosh(tree)
            scored, terms = split_facet_terms(user_q)
            restrict = [r for r in [*terms, *filter_query(filters), access_query(access)]
                        if r is not None]
        finally:
            IN_INDEX.reset(token)
        if not restrict:
            return user_q, user_q
        return user_q, RestrictedQuery(scored, restrict[0] if len(restrict) == 1
                                       else wq.And(restrict))

    def _columns(self, s) -> FacetColumns:
        cached = getattr(self._local, "facets", None)
        if cached is None or cached[0] is not s:
            cached = (s, FacetColumns(s, FACET_FIELDS, order="completed"))
            self._local.facets = cached
        return cached[1]

    def _labels(self, s, facets: dict[str, dict[str, int]]) -> dict[str, dict[str, str]]:
        """Names for coded facet values (item code → service item name, agency → name),
        remembered per searcher: the same few dozen codes come back on every page."""
        cached = getattr(self._local, "labels", None)
        if cached is None or cached[0] is not s:
            cached = (s, {})
            self._local.labels = cached
        known: dict[tuple[str, str], str | None] = cached[1]
        out: dict[str, dict[str, str]] = {}
        for facet, stored in LABELLED_FACETS.items():
            names: dict[str, str] = {}
            for value in facets.get(facet, {}):
                key = (facet, value)
                if key not in known:
                    docnum = s.document_number(**{FACET_FIELDS[facet]: value})
                    known[key] = None if docnum is None \
                        else s.stored_fields(docnum).get(stored, value)
                if known[key] is not None:
                    names[value] = known[key]
            out[facet] = names
        return out

    def total_for(self, s, query: str, filters: Mapping[str, Any] | None, access: Access) -> int:
        """How many items ``query`` finds for ``access`` (used to verify suggestions)."""
        with whoosh_cache.using(self.segments):
            _user_q, q = self._query(s, parse(query), filters, access)
            return 1 if any(True for _ in s.docs_for_query(q)) else 0

    # -- writing ----------------------------------------------------------------------

    def _write(self, fn) -> Any:
        """Run ``fn(writer)`` under the writer lock of the current generation and commit.
        A reindex may swap generations while we wait: then retry on the new one."""
        with self._write_mutex:
            for _ in range(5):
                gen = self.home.current()
                if gen is None:
                    raise IndexUnavailable(f"检索索引不存在：{self.home.root}")
                with writer_lock(gen, self.lock_timeout):
                    if self.home.current() != gen:
                        continue
                    ix = windex.open_dir(str(gen))
                    writer = SegmentWriter(ix, _lk=False, limitmb=self.limitmb)
                    try:
                        out = fn(writer)
                    except BaseException:
                        writer.cancel()
                        raise
                    writer.commit()
                    return out
            raise IndexUnavailable("检索索引在写入期间反复被重建，请稍后重试")

    def index(self, doc: IndexDocument) -> None:
        self.index_many([doc])

    def index_many(self, docs: Iterable[IndexDocument]) -> int:
        docs = list(docs)
        if not docs:
            return 0

        def add(writer: SegmentWriter) -> int:
            for d in docs:
                writer.update_document(**to_fields(d))
            return len(docs)

        return self._write(add)

    def remove(self, aip_id: str) -> bool:
        return bool(self._write(lambda w: w.delete_by_term("aip_id", aip_id)))

    def remove_many(self, aip_ids: Iterable[str]) -> int:
        ids = list(aip_ids)
        if not ids:
            return 0
        return int(self._write(lambda w: sum(w.delete_by_term("aip_id", i) for i in ids)))

    def reindex(self, docs: Iterable[IndexDocument], *, procs: int = 1,
                batch: int = 5000) -> int:
        """Build a new generation from ``docs`` alone and swap it in; the old one stays
        readable (and locked against writers, who then retry on the new one) until then."""
        with self._write_mutex:
            old = self.home.current()
            held = writer_lock(old, self.lock_timeout) if old is not None else None
            if held is not None:
                held.__enter__()
            try:
                gen = self.home.new_generation()
                with writer_lock(gen, self.lock_timeout):
                    ix = windex.create_in(str(gen), build_schema())
                    n = _bulk_add(ix, docs, procs=procs, limitmb=self.limitmb, batch=batch)
                self.home.swap(gen)
            finally:
                if held is not None:
                    held.__exit__(None, None, None)
            self.home.prune(keep_previous=old)
            return n


def _chunks(it: Iterable[IndexDocument], n: int) -> Iterator[list[IndexDocument]]:
    it = iter(it)
    while chunk := list(islice(it, n)):
        yield chunk


def _bulk_add(ix, docs: Iterable[IndexDocument], *, procs: int, limitmb: int,
              batch: int) -> int:
    """Add every document to a fresh index; several processes when ``procs`` > 1."""
    if procs > 1:
        # multisegment: each process writes its own segment; merging them in the parent
        # would serialise the slowest part again.
        writer = MpWriter(ix, procs=procs, batchsize=256, multisegment=True, _lk=False,
                          limitmb=limitmb, subargs={"limitmb": limitmb})
    else:
        writer = SegmentWriter(ix, _lk=False, limitmb=limitmb)
    n = 0
    try:
        for chunk in _chunks(docs, batch):
            for d in chunk:
                writer.add_document(**to_fields(d))
            n += len(chunk)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(optimize=procs <= 1)
    return n
