"""Feeding the index from the archive: what ingest files, and rebuilding from the store.

The index is derived data: ``reindex`` rebuilds it from the catalogue and the stored
AIPs alone. Extracted text (OCR included) is kept as a derived file beside the index,
never inside an AIP, so a rebuild need not OCR again unless asked to.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlalchemy import select

from dangan.archive import catalogue, failpoints
from dangan.archive.instance import Archive
from dangan.archive.models import Item

from .document import IndexDocument, document_from_case
from .errors import SearchError
from .extract import derived_text_path, load_derived_text, store_derived_text
from .interface import SearchResult
from .ocr import configure as configure_ocr
from .service import SearchService


def index_dir(archive: Archive) -> Path:
    return archive.home / "index"


def derived_dir(archive: Archive) -> Path:
    return archive.home / "derived"


def service_for(archive: Archive) -> SearchService:
    return SearchService.at(index_dir(archive))


def _has_pending_ocr(texts: list) -> bool:
    """Scans indexed before OCR ran (filed in a hurry): OCR them now."""
    return any("未做 OCR" in (t.note or "") for t in texts)


PENDING_DIR = "ocr-pending"


def _marker(archive: Archive, aip_id: str) -> Path:
    return archive.home / PENDING_DIR / derived_text_path(".", aip_id).name


def mark_ocr_pending(archive: Archive, aip_id: str, pending: bool) -> None:
    """Record whether an indexed item's scans still await OCR (one marker file per item:
    concurrent filing processes never write the same file)."""
    marker = _marker(archive, aip_id)
    if pending:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_bytes(aip_id.encode("utf-8"))
    else:
        marker.unlink(missing_ok=True)


def ocr_pending(archive: Archive, aip_ids: list[str] | None = None) -> set[str]:
    """Which of ``aip_ids`` (default: all indexed items) have scans still awaiting OCR."""
    folder = archive.home / PENDING_DIR
    if aip_ids is not None:
        return {a for a in aip_ids if _marker(archive, a).exists()}
    try:
        return {p.read_text("utf-8") for p in folder.iterdir() if p.is_file()}
    except OSError:
        return set()


def flag_ocr_pending(archive: Archive, result: SearchResult) -> SearchResult:
    """Mark the hits whose scans still await OCR (they are found only by metadata so far)."""
    pending = ocr_pending(archive, [h.aip_id for h in result.hits])
    for hit in result.hits:
        hit.ocr_pending = hit.aip_id in pending
    return result


def document_for(archive: Archive, aip_id: str, *, ocr: bool) -> IndexDocument:
    """The index document of one stored item, extracting (and OCRing) only when needed."""
    configure_ocr(archive.settings.ocr_engine)
    with archive.db.session() as session:
        item = catalogue.get_item(session, aip_id)
        files = {f.file_id: archive.store.path(aip_id) / f.path for f in item.files}
        filing = {"category": item.category, "retention": item.retention,
                  "classification_code": item.classification_code, "year": item.year}
        code, version = item.archival_code, item.version
    aip = archive.store.path(aip_id)
    case = json.loads((aip / "data" / "submission" / "case.json").read_text("utf-8"))
    derived = derived_text_path(derived_dir(archive), aip_id)
    texts = None
    if derived.exists():
        try:
            _, texts = load_derived_text(derived)
        except SearchError:
            texts = None
        if texts is not None and ocr and _has_pending_ocr(texts):
            texts = None
    doc = document_from_case(aip_id, code, version, case, filing, files, texts=texts, ocr=ocr)
    if texts is None:
        store_derived_text(derived_dir(archive), aip_id, doc.texts)
    return doc


def index_item(archive: Archive, aip_id: str, *, ocr: bool = False,
               replaces: str | None = None) -> None:
    """Index a newly filed item (a correction replaces the version it supersedes)."""
    service = service_for(archive)
    if replaces:
        service.remove(replaces)
        mark_ocr_pending(archive, replaces, False)
    doc = document_for(archive, aip_id, ocr=ocr)
    service.index(doc)
    mark_ocr_pending(archive, aip_id, _has_pending_ocr(doc.texts))


def _active_ids(archive: Archive) -> list[str]:
    with archive.db.session() as session:
        return list(session.scalars(
            select(Item.aip_id).where(Item.status == "active").order_by(Item.archived_at)))


_worker_archive: Archive | None = None


def _worker_init(home: str) -> None:
    global _worker_archive
    _worker_archive = Archive.open(home, upgrade=False)


def _worker_doc(args: tuple[str, bool]) -> IndexDocument:
    aip_id, ocr = args
    assert _worker_archive is not None
    return document_for(_worker_archive, aip_id, ocr=ocr)


def _documents(archive: Archive, ids: list[str], ocr: bool, workers: int) -> Iterator[IndexDocument]:
    if workers <= 1:
        for aip_id in ids:
            yield document_for(archive, aip_id, ocr=ocr)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                             initargs=(str(archive.home),)) as pool:
        yield from pool.map(_worker_doc, [(i, ocr) for i in ids], chunksize=4)


def reindex(archive: Archive, *, ocr: bool = True, workers: int = 2,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole index from the archive alone (atomic swap at the end).

    The OCR-pending markers change only after the swap: a pass killed half-way leaves
    the old index live and its markers true.
    """
    ids = _active_ids(archive)
    pending: dict[str, bool] = {}

    def counted() -> Iterator[IndexDocument]:
        for n, doc in enumerate(_documents(archive, ids, ocr, workers), start=1):
            pending[doc.aip_id] = _has_pending_ocr(doc.texts)
            if progress is not None:
                progress(n, len(ids))
            if n == len(ids):
                failpoints.reach("reindex.before_swap")
            yield doc

    total = service_for(archive).reindex(counted())
    for gone in ocr_pending(archive) - set(ids):  # destroyed or superseded since
        mark_ocr_pending(archive, gone, False)
    for aip_id, waits in pending.items():
        mark_ocr_pending(archive, aip_id, waits)
    return total
