"""JSON API ``/api/v1``: case submission for case-handling systems (system tokens),
search, item metadata and verification for users (session or personal token).
Errors are JSON with the stable codes the CLI uses; the OpenAPI document is generated
from the declarations below (``web/openapi.py``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_login import UserMixin, current_user

from dangan.archive import api_tokens, chain, reading_files
from dangan.archive.errors import NotFound
from dangan.archive.permissions import visible_classifications
from dangan.archive.reading_room import case_record
from dangan.ingest import api_submit
from dangan.search.feed import flag_ocr_pending
from dangan.search.service import result_json

from .. import openapi
from ..openapi import api_doc, query
from .access import WebUser, archive, principal, public, requires, unauthorized
from .display import mask_id
from .reading import NO_DOWNLOAD, watermarked_copy
from .search import parse_filter_args, reader_access, search_service

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DEFAULT_MAX_CASE_BYTES = 512 << 20
JOB = {"type": "object", "required": ["job_id", "state", "status_url"], "properties": {
    "job_id": {"type": "string"}, "state": {"enum": ["queued", "running", "done", "failed"]},
    "status_url": {"type": "string"}, "result": {"type": ["object", "null"]}}}


class SystemUser(UserMixin):
    """A case-handling system signed in with its token: it may submit, nothing else."""

    def __init__(self, identity: api_tokens.TokenIdentity) -> None:
        self.identity = identity
        self.principal = None

    def get_id(self) -> str:
        return f"api-token:{self.identity.token_id}"

    def can(self, permission: str) -> bool:
        return permission == "api.submit"


def load_from_token(arch: Any) -> Any:
    """flask-login's request loader: ``Authorization: Bearer dgn_…`` on API paths."""
    header = request.headers.get("Authorization", "")
    if not request.path.startswith("/api/") or not header.startswith("Bearer "):
        return None
    identity = api_tokens.authenticate(arch.db, header[7:].strip())
    if identity is None:
        return None
    g.api_token = identity
    return SystemUser(identity) if identity.system else WebUser(identity.principal)


@bp.before_request
def _csrf_unless_token() -> Any:
    """Token requests carry no ambient credential; session requests need the CSRF token."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        return unauthorized()
    if g.get("api_token") is None and request.method not in ("GET", "HEAD", "OPTIONS"):
        current_app.extensions["csrf"].protect()
    return None


def _actor() -> str:
    return g.api_token.actor if g.get("api_token") else principal().actor


def _bad(message: str) -> Any:
    return jsonify({"status": "error", "error": {"code": "web.bad_request",
                                                 "message": message}}), 400


@bp.route("/openapi.json")
@public
@api_doc("本 API 的 OpenAPI 文档", responses={"200": ("OpenAPI 3.1 文档", None)})
def openapi_document() -> Any:
    return jsonify(openapi.build(current_app))


@bp.route("/cases", methods=["POST"])
@requires("api.submit", "intake.submit")
@api_doc("提交一个办件（ZIP）：立即以 202 应答，归档在后台进行",
         body={"multipart/form-data": {"schema": {
             "type": "object", "required": ["case"],
             "properties": {"case": {"type": "string", "format": "binary"}}}}},
         responses={"202": ("已受理：用 status_url 查询结果", JOB)})
def submit_case() -> Any:
    limit = current_app.config.get("DANGAN_API_MAX_CASE_BYTES", DEFAULT_MAX_CASE_BYTES)
    request.max_content_length = limit
    upload = request.files.get("case")
    if upload is None:
        return _bad("请以 multipart/form-data 字段 case 上传办件 ZIP 文件")
    identity = g.get("api_token")
    system = identity.system if identity is not None else None
    job_id = api_submit.accept(archive(), iter(lambda: upload.stream.read(1 << 16), b""),
                               submitted_by=_actor(), system=system, max_bytes=limit)
    url = url_for("api.job", job_id=job_id)
    return jsonify({"job_id": job_id, "state": "queued", "status_url": url,
                    "result": None}), 202, {"Location": url}


@bp.route("/jobs/<job_id>")
@requires("api.submit", "intake.submit")
@api_doc("提交任务的状态：归档回执或检测报告", responses={"200": ("任务状态", JOB)})
def job(job_id: str) -> Any:
    found = api_tokens.get_job(archive().db, job_id)
    if found is None or found["submitted_by"] != _actor():
        return jsonify({"status": "error", "error": {
            "code": "api.job_not_found", "message": "没有这个提交任务（或不是您提交的）"}}), 404
    found.pop("upload_path", None)
    found["status_url"] = url_for("api.job", job_id=job_id)
    return jsonify(found)


@bp.route("/search")
@requires("record.read")
@api_doc("检索（完整的检索语言、筛选、分页）", params=[
    query("q", {"type": "string"}, "检索式"),
    query("f", {"type": "array", "items": {"type": "string"}}, "筛选 facet:value"),
    query("page", {"type": "integer", "minimum": 1}),
    query("page_size", {"type": "integer", "minimum": 1, "maximum": 100})],
    responses={"200": ("检索结果", None)})
def search() -> Any:
    try:
        page = max(1, int(request.args.get("page", "1")))
        page_size = min(100, max(1, int(request.args.get("page_size", "10"))))
    except ValueError:
        return _bad("page 和 page_size 应为正整数")
    result = search_service().search(request.args.get("q", ""),
                                     filters=parse_filter_args(request.args.getlist("f")),
                                     page=page, page_size=page_size, access=reader_access())
    return jsonify(result_json(flag_ocr_pending(archive(), result)))


@bp.route("/items/<path:ref>")
@requires("record.read")
@api_doc("一件档案的元数据（按角色脱敏）", responses={"200": ("档案元数据", None)})
def item(ref: str) -> Any:
    """As the case page: a hidden (restricted) item only under a current request (logged)."""
    p = principal()
    try:
        record = case_record(archive().db, ref, classifications=visible_classifications(p.roles))
        unmasked = p.can("record.unmask")
        reading_files.list_versions_under_request(archive(), p, ref, record)
    except NotFound:
        acc = reading_files.case_under_request(archive(), p, ref)
        record, unmasked = acc.record, acc.unmasked
    if not unmasked:
        for party in record["parties"]:
            if party["id_type"] == "resident_id":
                party["id_number"] = mask_id(party["id_number"])
    record.pop("receipt", None)
    return jsonify(record)


@bp.route("/items/<path:ref>/files/<file_id>")
@requires("record.download")
@api_doc("下载一份文件的水印副本（PDF 每页加水印，图像转为加水印的 PNG）；记入审计日志",
         responses={"200": ("水印副本", None)},
         produces={"200": ["application/pdf", "image/png"]})
def item_file(ref: str, file_id: str) -> Any:
    """The same watermarked copy as the reading room's download, by the same rules: an
    item needing an access request is refused (403 ``access.request_required``) without one."""
    c, _ = reading_files.read_file(archive(), principal(), ref, file_id, mode="download")
    copy = watermarked_copy(c)
    if copy is None:
        return jsonify({"status": "error", "error": {"code": "reading.no_download",
                                                     "message": NO_DOWNLOAD}}), 404
    return copy


@bp.route("/verify/<path:ref>")
@requires("record.verify")
@api_doc("链条验证（与 dangan verify 相同）", responses={"200": ("每一步的验证结果", None)})
def verify(ref: str) -> Any:
    results = chain.verify_ref(archive(), ref)
    ok = all(r.ok for r in results)
    return jsonify({"status": "ok" if ok else "failed", "items": [r.to_dict() for r in results]})
