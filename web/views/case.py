"""The case page: the catalogue record, its parties, files, versions and process trail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from dangan.archive.reading_files import case_page

from .access import archive, principal, requires

bp = Blueprint("case", __name__, url_prefix="/case")

STEPS = [("lead", "引导"), ("accept", "受理"), ("handle", "办理"), ("feedback", "反馈"),
         ("archive", "存档")]


@bp.route("/<path:ref>")
@requires("record.read")
def show(ref: str) -> Any:
    acc = case_page(archive(), principal(), ref)  # restricted: only under a current request
    record = acc.record
    files = {f["id"]: f for f in record["files"]}
    return render_template("case.html", r=record, steps=STEPS, files=files,
                           unmasked=acc.unmasked, request_id=acc.request_id)
