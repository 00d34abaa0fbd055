"""The case page: the catalogue record, its parties, files, versions and process trail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from dangan.archive.errors import NotFound
from dangan.archive.permissions import visible_classifications
from dangan.archive.reading_files import case_under_request, list_versions_under_request
from dangan.archive.reading_room import case_record

from .access import archive, principal, requires

bp = Blueprint("case", __name__, url_prefix="/case")

STEPS = [("lead", "引导"), ("accept", "受理"), ("handle", "办理"), ("feedback", "反馈"),
         ("archive", "存档")]


@bp.route("/<path:ref>")
@requires("record.read")
def show(ref: str) -> Any:
    p = principal()
    try:
        record = case_record(archive().db, ref, classifications=visible_classifications(p.roles))
        unmasked, request_id = p.can("record.unmask"), None
        list_versions_under_request(archive(), p, ref, record)
    except NotFound:  # hidden by classification: shown only under a current request (logged)
        acc = case_under_request(archive(), p, ref)
        record, unmasked, request_id = acc.record, acc.unmasked, acc.request_id
    files = {f["id"]: f for f in record["files"]}
    return render_template("case.html", r=record, steps=STEPS, files=files,
                           unmasked=unmasked, request_id=request_id)
