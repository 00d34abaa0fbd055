"""Full-text and catalogue search: extraction, a Chinese-aware index, clerks' queries.

Callers use ``SearchService`` (or any ``SearchEngine``) with ``IndexDocument``s built by
``document_from_case``; the Whoosh engine is the embedded default.
"""

from .document import ExtractedText, IndexDocument, document_from_case
from .errors import DerivedTextCorrupt, IndexBusy, IndexUnavailable, QuerySyntaxError, SearchError
from .extract import extract_file, load_derived_text, store_derived_text
from .interface import Access, Highlight, SearchEngine, SearchHit, SearchResult
from .service import SearchService, parse_filters, render_text, result_json, search_json

__all__ = [
    "Access", "DerivedTextCorrupt", "ExtractedText", "Highlight", "IndexBusy", "IndexDocument",
    "IndexUnavailable", "QuerySyntaxError", "SearchEngine", "SearchError", "SearchHit",
    "SearchResult", "SearchService", "document_from_case", "extract_file", "load_derived_text",
    "parse_filters", "render_text", "result_json", "search_json", "store_derived_text",
]
