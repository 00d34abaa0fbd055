"""JSON API ``/api/v1`` (first part): search and item metadata for signed-in readers.
Errors are JSON with the stable codes the CLI uses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from dangan.archive.permissions import visible_classifications
from dangan.archive.reading_room import case_record
from dangan.search.service import result_json

from .access import archive, principal, requires
from .display import mask_id
from .search import parse_filter_args, reader_access, search_service

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.route("/search")
@requires("record.read")
def search() -> Any:
    try:
        page = max(1, int(request.args.get("page", "1")))
        page_size = min(100, max(1, int(request.args.get("page_size", "10"))))
    except ValueError:
        return jsonify({"status": "error", "error": {
            "code": "web.bad_request", "message": "page 和 page_size 应为正整数"}}), 400
    result = search_service().search(request.args.get("q", ""),
                                     filters=parse_filter_args(request.args.getlist("f")),
                                     page=page, page_size=page_size, access=reader_access())
    return jsonify(result_json(result))


@bp.route("/items/<path:ref>")
@requires("record.read")
def item(ref: str) -> Any:
    p = principal()
    record = case_record(archive().db, ref, classifications=visible_classifications(p.roles))
    if not p.can("record.unmask"):
        for party in record["parties"]:
            if party["id_type"] == "resident_id":
                party["id_number"] = mask_id(party["id_number"])
    record.pop("receipt", None)
    return jsonify(record)
