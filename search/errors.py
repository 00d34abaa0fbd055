"""Errors of the search layer.

Like ``dangan.packages.errors``: a stable ``code`` for machines (CLI exit codes, JSON API
errors), a Chinese message a clerk or operator can act on, and ``details`` as small dicts.
"""

from __future__ import annotations

from dangan.packages.errors import DanganError


class SearchError(DanganError):
    """Base of every error raised by ``dangan.search``."""

    code = "search.error"


class QuerySyntaxError(SearchError):
    """A clerk's query that cannot be parsed (unbalanced quotes, unknown field, bad date)."""

    code = "search.query_syntax"


class QueryTooLong(QuerySyntaxError):
    """A query longer than ``QueryLimits.max_chars`` (a pasted document, a runaway script)."""

    code = "search.query_too_long"


class QueryTooManyTerms(QuerySyntaxError):
    """More words, phrases and field terms than ``QueryLimits.max_terms``."""

    code = "search.query_too_many_terms"


class QueryTooDeep(QuerySyntaxError):
    """Parentheses nested deeper than ``QueryLimits.max_depth``."""

    code = "search.query_too_deep"


class QueryEncoding(QuerySyntaxError):
    """Text that is not valid Unicode (undecodable bytes, lone surrogates) or holds control
    characters: it cannot be stored in or compared with the index."""

    code = "search.query_encoding"


class IndexBusy(SearchError):
    """The index is locked by a live writer longer than the caller wanted to wait."""

    code = "search.index_busy"


class IndexUnavailable(SearchError):
    """The index directory is missing or unreadable."""

    code = "search.index_unavailable"


class DerivedTextCorrupt(SearchError):
    """A stored derived-text file whose digests no longer match its texts."""

    code = "search.derived_text_corrupt"


class OcrError(SearchError):
    """Tesseract failed or timed out on one image: that page is indexed without its
    text and the index says so (the file itself is filed and kept all the same)."""

    code = "search.ocr"
