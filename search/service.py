"""The search facade used by the CLI, the web layer, ingest and retention.

It owns the choice of engine and checks every query and filter before the engine sees
it, so an engine never has to defend itself against a malformed or oversized request.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .document import IndexDocument
from .errors import QuerySyntaxError, QueryTooManyTerms
from .interface import FACETS, VALUE_LABELS, Access, SearchEngine, SearchResult
from .query import LIMITS, check_text, parse


class SearchService:
    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    @classmethod
    def at(cls, index_dir: Path | str, **engine_options: Any) -> SearchService:
        """The embedded default: a Whoosh index in ``index_dir``."""
        from .whoosh_engine import WhooshEngine

        return cls(WhooshEngine(index_dir, **engine_options))

    # writing: ingest indexes what it files, retention removes what it destroys
    def index(self, doc: IndexDocument) -> None:
        self.engine.index(doc)

    def index_many(self, docs: Iterable[IndexDocument]) -> int:
        return self.engine.index_many(docs)

    def remove(self, aip_id: str) -> bool:
        return self.engine.remove(aip_id)

    def remove_many(self, aip_ids: Iterable[str]) -> int:
        """Destruction removes a chunk of items at once: one writer, one commit (a Whoosh
        commit per item would dominate a batch of thousands)."""
        return self.engine.remove_many(aip_ids)

    def reindex(self, docs: Iterable[IndexDocument]) -> int:
        return self.engine.reindex(docs)

    def count(self) -> int:
        return self.engine.count()

    def search(self, query: str, *, filters: Mapping[str, str | list[str]] | None = None,
               page: int = 1, page_size: int = 10, access: Access) -> SearchResult:
        """One page of hits. A malformed or oversized query or filter raises a
        ``QuerySyntaxError`` (with its own code) before the engine is touched."""
        parse(query)  # raises before the engine is touched
        check_filters(filters)
        return self.engine.search(query, filters=filters, page=page,
                                  page_size=page_size, access=access)


def check_filters(filters: Mapping[str, str | list[str]] | None) -> None:
    """Filters come from the web UI as freely as queries: bound and check them the same way."""
    values = [(str(k), v) for k, vs in (filters or {}).items()
              for v in ([vs] if isinstance(vs, str) else list(vs))]
    if len(values) > LIMITS.max_terms:
        raise QueryTooManyTerms(
            f"筛选条件过多：共 {len(values)} 个，最多 {LIMITS.max_terms} 个",
            [{"found": len(values), "expected": f"<= {LIMITS.max_terms}"}])
    for key, value in values:
        check_text(key, "筛选字段")
        check_text(str(value), f"筛选条件“{key}”")


def parse_filters(args: Sequence[str]) -> dict[str, list[str]]:
    """CLI ``--filter k=v`` (repeatable; also ``k:v``) → ``{k: [v, …]}``."""
    out: dict[str, list[str]] = {}
    for arg in args:
        m = re.match(r"^\s*([^=:：]+)\s*[=:：]\s*(.+?)\s*$", arg)
        if not m:
            raise QuerySyntaxError(f"筛选条件“{arg}”应写成 字段=值，例如 year=2024",
                                   [{"found": arg, "expected": "k=v"}])
        out.setdefault(m.group(1), []).append(m.group(2))
    return out


def result_json(result: SearchResult) -> dict[str, Any]:
    """The JSON object of ``dangan search --json`` and of the web API."""
    return {
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "page_size": result.page_size,
        "hits": [{"aip_id": h.aip_id, "archival_code": h.archival_code, "case_id": h.case_id,
                  "title": h.title, "score": h.score,
                  "highlights": [asdict(x) for x in h.highlights],
                  "year": h.year, "service_item": h.service_item_name, "agency": h.agency_name,
                  "completed_at": h.completed_at, "ocr_pending": h.ocr_pending}
                 for h in result.hits],
        "facets": result.facets,
        "facet_labels": facet_labels(result),
        "suggestion": result.suggestion,
    }


def facet_labels(result: SearchResult) -> dict[str, dict[str, str]]:
    """Names of the facet values shown: item and agency names from the index, the
    labels of coded values (outcome, channel, 密级, …) from the vocabulary."""
    out = {f: {v: names.get(v, v) for v in result.facets.get(f, {})}
           for f, names in VALUE_LABELS.items()}
    return out | result.labels


def search_json(service: SearchService, query: str, *, filters: Sequence[str] = (),
                page: int = 1, page_size: int = 10, access: Access) -> dict[str, Any]:
    """One call for the CLI: raw ``--filter`` strings in, JSON-able dict out."""
    res = service.search(query, filters=parse_filters(filters), page=page,
                         page_size=page_size, access=access)
    return result_json(res)


def _plain(fragment: str) -> str:
    return html.unescape(fragment.replace("<em>", "【").replace("</em>", "】"))


def render_text(result: SearchResult) -> str:
    """A terminal rendering: hits with 【marked】 snippets, then facet counts."""
    lines = [f"共 {result.total} 件（第 {result.page}/{result.pages} 页）"]
    if result.suggestion:
        lines.append(f"您是不是要找：{result.suggestion}")
    first = (result.page - 1) * result.page_size
    for i, h in enumerate(result.hits, start=first + 1):
        lines.append(f"{i}. {h.title}  [{h.archival_code}]  办件 {h.case_id}  AIP {h.aip_id}")
        lines.extend(f"     {_plain(x.fragment)}" for x in h.highlights)
    for name, counts in result.facets.items():
        if counts:
            labels = result.labels.get(name) or VALUE_LABELS.get(name, {})
            shown = "，".join(f"{labels.get(v, v)} {c}" for v, c in list(counts.items())[:8])
            lines.append(f"  {FACETS.get(name, name)}：{shown}")
    return "\n".join(lines)
