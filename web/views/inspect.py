"""The inspector's desk: chain verification per case, the conformity dashboard and the
evidence package, reading the same services ``dangan verify`` and ``dangan evidence`` use."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from dangan.archive import chain, inspection
from dangan.archive.evidence import CHAIN_STEP_NAMES

from .access import archive, principal, requires

bp = Blueprint("inspect", __name__, url_prefix="/inspect")


@bp.app_context_processor
def _ocr_progress() -> dict[str, Any]:
    """The background OCR pass's progress (``dangan demo``), read only when a page asks."""
    from dangan.search import ocr_background

    return {"ocr_progress": lambda: ocr_background.progress(archive())}


@bp.route("/")
@requires("record.verify")
def dashboard() -> Any:
    return render_template("inspect/dashboard.html", d=inspection.dashboard(archive()),
                           NATURE_NAMES=inspection.NATURE_NAMES)


@bp.route("/verify")
@requires("record.verify")
def verify_form() -> Any:
    ref = request.args.get("ref", "").strip()
    if ref:
        return redirect(url_for("inspect.verify", ref=ref))
    return render_template("inspect/verify.html", ref="", results=None)


@bp.route("/verify/<path:ref>")
@requires("record.verify")
def verify(ref: str) -> Any:
    results = chain.verify_ref(archive(), ref)
    return render_template("inspect/verify.html", ref=ref, results=results,
                           STEP_LABELS=CHAIN_STEP_NAMES)


@bp.route("/evidence/<path:ref>", methods=["POST"])
@requires("evidence.export")
def evidence(ref: str) -> Any:
    name, data = inspection.evidence_zip(archive(), ref, actor=principal().actor)
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
