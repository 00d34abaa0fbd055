"""Access requests (档案查阅受理): readers file them, archivists decide them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dangan.archive import access_requests

from .access import archive, principal, requires

bp = Blueprint("requests", __name__, url_prefix="/access")


@bp.route("/", methods=["GET", "POST"])
@requires("record.read")
def index() -> Any:
    p = principal()
    if request.method == "POST":
        try:
            days = int(request.form.get("days", "0"))
        except ValueError:
            days = 0
        r = access_requests.submit(
            archive().db, p, on_behalf_of=request.form.get("on_behalf_of", ""),
            purpose=request.form.get("purpose", ""), scope=request.form.get("scope", ""),
            target=request.form.get("target", ""), days=days)
        flash(f"已提交查阅申请 #{r.id}，请等待档案管理员审批")
        return redirect(url_for("requests.index"))
    return render_template("requests.html", requests=access_requests.list_requests(archive().db, p),
                           scopes=access_requests.SCOPES, statuses=access_requests.STATUSES,
                           scope=request.args.get("scope", "item"),
                           target=request.args.get("target", ""))


@bp.route("/<int:req_id>/decide", methods=["POST"])
@requires("access.approve")
def decide(req_id: int) -> Any:
    approve = request.form.get("decision") == "approve"
    r = access_requests.decide(archive().db, principal(), req_id, approve=approve,
                               note=request.form.get("note", ""))
    flash(f"查阅申请 #{r.id} {access_requests.STATUSES[r.status]}")
    return redirect(url_for("requests.index"))


@bp.route("/<int:req_id>/open")
@requires("record.read")
def open_request(req_id: int) -> Any:
    """What one's own approved, current request covers: the case, or the person's file."""
    to = access_requests.landing(archive().db, principal(), req_id)
    if to.party is None:
        return redirect(url_for("case.show", ref=to.ref))
    return redirect(url_for("reading.person", ref=to.ref, index=to.party))
