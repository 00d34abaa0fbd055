"""The audit log, read-only: what the security auditor (and the inspector) read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from dangan.archive import inspection
from dangan.archive.audit_browse import audit_page
from dangan.archive.audit_log import ACTIONS

from .access import archive, requires

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@requires("audit.read")
def entries() -> Any:
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    return render_template("audit.html", log=audit_page(archive().db, page=page),
                           ACTIONS=ACTIONS)


@bp.route("/proof/<int:index>")
@requires("audit.read")
def proof(index: int) -> Any:
    """Inclusion proof of one entry; with ``?old=N`` also the consistency proof from N."""
    doc = inspection.inclusion(archive(), index)
    try:
        old = int(request.args.get("old", "") or doc["tree_size"])
    except ValueError:
        old = doc["tree_size"]
    cons = inspection.consistency(archive(), max(1, old)) if old >= 1 else None
    return render_template("audit_proof.html", p=doc, c=cons, ACTIONS=ACTIONS)
