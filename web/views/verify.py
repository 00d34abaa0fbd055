"""``/verify``: anyone (no account) uploads a certified copy or an evidence package and
sees whether it is authentic; archivists issue certified copies (档案证明)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from dangan.archive import certified_copy

from .access import archive, principal, public, requires

bp = Blueprint("verify", __name__)

MAX_UPLOAD = 256 << 20  # evidence packages hold a whole AIP


@bp.record_once
def _allow_large_uploads(state: Any) -> None:
    """Raise the app's form-size limit for ``/verify`` only: the CSRF check parses the body
    before any view runs, so the limit must be known when the request is created."""
    base = state.app.request_class

    class VerifyRequest(base):  # type: ignore[misc, valid-type]
        @property
        def max_content_length(self) -> int | None:
            if self.endpoint == "verify.page":
                return MAX_UPLOAD
            return base.max_content_length.fget(self)

        @max_content_length.setter
        def max_content_length(self, value: int | None) -> None:
            # a view may set its own limit (the API's case upload does)
            base.max_content_length.fset(self, value)

    state.app.request_class = VerifyRequest


@bp.route("/verify", methods=["GET", "POST"])
@public
def page() -> Any:
    arch = archive()
    facts = None
    if request.args.get("aip"):
        facts = certified_copy.original_facts(arch, request.args.get("aip", ""),
                                              request.args.get("file", ""),
                                              request.args.get("sha256", ""))
    verdict = None
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        verdict = certified_copy.verify_upload(arch, data) if data else \
            certified_copy.Verdict(False, "unknown", "请选择要核验的文件")
    return render_template("verify.html", verdict=verdict, facts=facts,
                           asked=bool(request.args.get("aip")))


@bp.route("/verify/certify/<ref>/<file_id>", methods=["POST"])
@requires("copy.certify")
def certify(ref: str, file_id: str) -> Any:
    data, name = certified_copy.issue(archive(), principal(), ref, file_id,
                                      base_url=request.host_url)
    from urllib.parse import quote

    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
