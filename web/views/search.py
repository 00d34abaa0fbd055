"""The clerk's search page: one box with the full query language of ``dangan.search``,
facets to narrow, highlights, paging. Results only hold what the reader may see."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from dangan.archive import reading_files
from dangan.archive.permissions import PERMISSIONS, visible_classifications
from dangan.search.errors import SearchError
from dangan.search.feed import flag_ocr_pending

from .access import archive, principal, requires

bp = Blueprint("search", __name__)

PAGE_SIZE = 10
_service_lock = threading.Lock()


def search_service() -> Any:
    """The archive's search service, opened once per process (jieba loads slowly)."""
    ext = current_app.extensions
    if "dangan.search" not in ext:
        with _service_lock:
            if "dangan.search" not in ext:
                from dangan.search.feed import service_for

                ext["dangan.search"] = service_for(archive())
    return ext["dangan.search"]


def reader_access() -> Any:
    from dangan.search.interface import Access

    return Access.of(classifications=visible_classifications(principal().roles))


def parse_filter_args(values: list[str]) -> dict[str, list[str]]:
    """``f=year:2024`` query parameters (repeatable) → ``{"year": ["2024"]}``."""
    out: dict[str, list[str]] = {}
    for v in values:
        key, sep, value = v.partition(":")
        if sep and key and value:
            out.setdefault(key, []).append(value)
    return out


def search_links(q: str) -> Any:
    """``link(filters, page)``: the search page's URL for ``q`` with ``filters``. A result
    page holds some eighty such links (facets, chips, pager); ``url_for`` is called once."""
    base = url_for("search.search")

    def link(filters: list[str], page: int | None = None) -> str:
        params: list[tuple[str, Any]] = [("q", q), *(("f", f) for f in filters)]
        if page is not None:
            params.append(("page", page))
        return f"{base}?{urlencode(params)}"

    return link


@bp.route("/")
@requires(*PERMISSIONS)
def home() -> Any:
    p = principal()
    if p.can("record.read"):
        return redirect(url_for("search.search"))
    if p.can("user.manage") or p.can("role.grant"):
        return redirect(url_for("admin.users"))
    if p.can("audit.read"):
        return redirect(url_for("audit.entries"))
    return render_template("home.html")


@bp.route("/search")
@requires("record.read")
def search() -> Any:
    query = request.args.get("q", "").strip()
    raw_filters = request.args.getlist("f")
    filters = parse_filter_args(raw_filters)
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    result, error, parties = None, None, {}
    if query or filters:
        try:
            result = flag_ocr_pending(archive(), search_service().search(
                query, filters=filters, page=page, page_size=PAGE_SIZE, access=reader_access()))
        except SearchError as exc:
            error = exc
    if result is not None:  # links to 一人一档 / the unit's file (keyed by case and party index)
        parties = reading_files.hit_parties(archive(), principal(), [h.aip_id for h in result.hits])
    return render_template("search.html", q=query, filters=filters, raw_filters=raw_filters,
                           result=result, error=error, page=page, parties=parties,
                           unmasked=principal().can("record.unmask"), link=search_links(query))
