"""Per-engine caches of decoded segment data (posting lists, facet columns).

Whoosh segments never change once written (deletions only hide documents), so what
was decoded from one can be kept for the next query. Each ``WhooshEngine`` owns one
``SegmentCache``; the engine makes it current (``using``) for the duration of each of
its reads, so two archives in one process never share or evict each other's entries,
and code outside an engine read simply runs uncached.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

POSTING_MAX_IDS = 8_000_000  # about 32 MB of document numbers
POSTING_MIN_IDS = 64  # short lists are cheap to read again
MAX_SEGMENTS = 256  # facet columns of this many segments


class SegmentCache:
    """Bounded LRU caches keyed by segment id; thread-safe."""

    def __init__(self, max_ids: int = POSTING_MAX_IDS, min_ids: int = POSTING_MIN_IDS,
                 max_segments: int = MAX_SEGMENTS) -> None:
        self.max_ids = max_ids
        self.min_ids = min_ids
        self.max_segments = max_segments
        self._lock = threading.Lock()
        self._postings: OrderedDict[tuple[str, str, Any], array] = OrderedDict()
        self._ids = 0
        self._columns: OrderedDict[str, dict[str, list]] = OrderedDict()

    def postings(self, segment_id: str, fieldname: str, term: Any,
                 load: Callable[[], array]) -> array:
        key = (segment_id, fieldname, term)
        with self._lock:
            hit = self._postings.get(key)
            if hit is not None:
                self._postings.move_to_end(key)
                return hit
        ids = load()
        if len(ids) >= self.min_ids:
            with self._lock:
                if key not in self._postings:
                    self._postings[key] = ids
                    self._ids += len(ids)
                while self._ids > self.max_ids and self._postings:
                    _k, old = self._postings.popitem(last=False)
                    self._ids -= len(old)
        return ids

    def columns(self, segment_id: str, load: Callable[[], dict[str, list]]) -> dict[str, list]:
        with self._lock:
            hit = self._columns.get(segment_id)
            if hit is not None:
                self._columns.move_to_end(segment_id)
                return hit
        cols = load()
        with self._lock:
            self._columns[segment_id] = cols
            while len(self._columns) > self.max_segments:
                self._columns.popitem(last=False)
        return cols

    def clear(self) -> None:
        with self._lock:
            self._postings.clear()
            self._columns.clear()
            self._ids = 0


_current: ContextVar[SegmentCache | None] = ContextVar("dangan_segment_cache", default=None)


@contextmanager
def using(cache: SegmentCache) -> Iterator[SegmentCache]:
    """Make ``cache`` the one that reads in this thread/context go through."""
    token = _current.set(cache)
    try:
        yield cache
    finally:
        _current.reset(token)


def current() -> SegmentCache | None:
    return _current.get()


def segment_id(reader) -> str | None:
    """The id of a leaf reader's segment (None: an empty index or a non-segment reader)."""
    try:
        seg = reader.segment()
    except AttributeError:
        return None
    return None if seg is None else seg.segment_id()
