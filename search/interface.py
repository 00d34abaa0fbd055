"""The engine-neutral search interface: what ingest, retention and the web layer call.

Whoosh is the embedded engine today; a PostgreSQL engine for larger agencies can
implement the same Protocol. Results are plain data that turn into JSON directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from dangan.packages import vocabulary as V

from .document import IndexDocument

SECURITY_LEVELS = tuple(V.CLASSIFICATIONS)
# Facet field → what a clerk calls it (UI labels), from the one vocabulary. The facet
# ``classification`` is the classification code (分类号); ``security`` the 密级.
_FACET_FIELD = {"classification": "classification_code", "security": "classification"}
FACETS = {f: V.FIELDS[_FACET_FIELD.get(f, f)] for f in (
    "item", "category", "retention", "year", "agency", "channel", "outcome", "classification",
    "security")}
# Coded facet values and their labels (item and agency names come from the index).
VALUE_LABELS = {"category": V.CATEGORIES, "retention": V.RETENTIONS, "channel": V.CHANNELS,
                "outcome": V.OUTCOMES, "security": V.CLASSIFICATIONS}


@dataclass(frozen=True)
class Access:
    """What one user may see. ``None`` means no restriction on that dimension.

    ``agencies`` are exact agency codes; ``agency_prefixes`` admit every agency whose
    code starts with the prefix (a city's division code covers its districts).
    """

    classifications: frozenset[str] | None = frozenset({"public"})
    agencies: frozenset[str] | None = None
    agency_prefixes: tuple[str, ...] = ()

    @classmethod
    def everything(cls) -> Access:
        """For system tasks (reindex checks, audits), never for a person's query."""
        return cls(classifications=None, agencies=None)

    @classmethod
    def of(cls, classifications: Iterable[str] | None = ("public",),
           agencies: Iterable[str] | None = None, agency_prefixes: Iterable[str] = ()) -> Access:
        return cls(None if classifications is None else frozenset(classifications),
                   None if agencies is None else frozenset(agencies), tuple(agency_prefixes))

    def admits(self, security: str, agency_code: str) -> bool:
        """The same rule as the engine's filter, for callers holding a single item."""
        if self.classifications is not None and security not in self.classifications:
            return False
        if self.agencies is None and not self.agency_prefixes:
            return True
        return (self.agencies is not None and agency_code in self.agencies) or any(
            agency_code.startswith(p) for p in self.agency_prefixes)


@dataclass
class Highlight:
    field: str  # "title", "content", "names", "ids"
    fragment: str  # HTML-escaped text with <em>…</em> around the matches
    file_id: str | None = None


@dataclass
class SearchHit:
    aip_id: str
    archival_code: str
    case_id: str
    title: str
    score: float
    highlights: list[Highlight] = field(default_factory=list)
    year: int | None = None
    service_item_name: str = ""
    agency_name: str = ""
    completed_at: str = ""  # ISO 8601
    ocr_pending: bool = False  # its scans still await OCR (set by ``feed.flag_ocr_pending``)


@dataclass
class SearchResult:
    total: int
    page: int
    page_size: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # facet value → name
    interpreted: str = ""  # how the query was understood (for the clerk)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pages"] = self.pages
        return d


@runtime_checkable
class SearchEngine(Protocol):
    """Index items, remove items, query with filters, paging and facets."""

    def index(self, doc: IndexDocument) -> None:
        """Add or replace (by ``aip_id``) one item; committed when it returns."""

    def index_many(self, docs: Iterable[IndexDocument]) -> int:
        """Add or replace many items in one commit; returns how many."""

    def remove(self, aip_id: str) -> bool:
        """Remove an item at once (committed on return); False if it was not indexed."""

    def remove_many(self, aip_ids: Iterable[str]) -> int:
        """Remove many items with one writer and one commit; returns how many were indexed."""

    def search(self, query: str, *, filters: Mapping[str, str | list[str]] | None = None,
               page: int = 1, page_size: int = 10, access: Access) -> SearchResult:
        """Run a clerk's query; items outside ``access`` never appear, not even in counts."""

    def count(self) -> int:
        """Items in the index."""

    def reindex(self, docs: Iterable[IndexDocument]) -> int:
        """Rebuild from scratch and swap the new index in atomically; returns how many."""
