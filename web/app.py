"""The Flask application: ``create_app(config)`` builds it; nothing is wired at import time.

Security lives here, once, for every blueprint: sessions (flask-login) with an idle
timeout, CSRF on every state change (flask-wtf), secure cookie flags, security headers
(CSP without inline script), and a deny-by-default gate: a route that declares neither
a permission (``views.access.requires``) nor ``public`` is refused.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app, flash, g, jsonify, render_template, request, session
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from dangan.archive.composition import create_archive
from dangan.archive.config import resolve_home
from dangan.archive.permissions import PERMISSIONS, ROLES
from dangan.packages import vocabulary as V
from dangan.packages.archival_code import RETENTION_NAMES
from dangan.packages.errors import DanganError
from dangan.search.interface import FACETS

from .views import access
from .views.admin import bp as admin_bp
from .views.api import bp as api_bp
from .views.api import load_from_token
from .views.audit import bp as audit_bp
from .views.auth import bp as auth_bp
from .views.case import bp as case_bp
from .views.display import CLASSIFICATION_NAMES, ID_TYPE_NAMES, local_time, mask_id, value_name
from .views.inspect import bp as inspect_bp
from .views.reading import bp as reading_bp
from .views.requests import bp as requests_bp
from .views.search import bp as search_bp
from .views.verify import bp as verify_bp

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")

DEFAULTS: dict[str, Any] = {
    "DANGAN_IDLE_MINUTES": 30,
    "DANGAN_SECOND_FACTOR_EXTRA_ROLES": (),  # e.g. ("clerk", "inspector")
    "DANGAN_LOCK_MINUTES": None,  # None: locked until an administrator unlocks
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "dangan_session",
    "WTF_CSRF_TIME_LIMIT": None,  # the session's idle timeout bounds the token's life
    "MAX_CONTENT_LENGTH": 1 << 20,  # forms only; case uploads come through the API later
}

_ERROR_CODES = {400: "web.bad_request", 401: "web.unauthenticated", 403: "web.forbidden",
                404: "web.not_found", 405: "web.method_not_allowed", 413: "web.too_large",
                500: "web.internal"}
_ERROR_TEXT = {400: "请求无效", 401: "请先登录", 403: "您没有权限访问此页面",
               404: "找不到您要的页面或档案", 405: "不支持此操作方式", 413: "提交的内容过大",
               500: "系统内部错误，请联系系统管理员"}


def _secret_key(home: Path) -> str:
    """``$DANGAN_SECRET_KEY``, else a random key kept (0600) in the instance home."""
    if os.environ.get("DANGAN_SECRET_KEY"):
        return os.environ["DANGAN_SECRET_KEY"]
    path = home / "web-secret.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text("ascii").strip()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application for the archive instance at ``config["DANGAN_HOME"]``."""
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    home = resolve_home(app.config.get("DANGAN_HOME"))
    archive = app.config.get("DANGAN_ARCHIVE") or create_archive(home)
    app.extensions["dangan.archive"] = archive
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(archive.home)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        minutes=app.config["DANGAN_IDLE_MINUTES"])

    csrf = CSRFProtect(app)
    csrf.exempt(api_bp)  # the API checks CSRF itself, for session (not token) requests
    login = LoginManager(app)
    login.session_protection = "strong"
    login.login_view = "auth.login"
    login.login_message = "请先登录"
    login.user_loader(lambda uid: access.load_user(archive, uid))
    login.request_loader(lambda _req: load_from_token(archive))
    login.unauthorized_handler(access.unauthorized)

    for bp in (auth_bp, search_bp, case_bp, admin_bp, audit_bp, api_bp,
               inspect_bp):
        app.register_blueprint(bp)
    for bp in (reading_bp, requests_bp, verify_bp):  # the reading room (issue 11 parts 3-4)
        app.register_blueprint(bp)
    app.view_functions["static"] = access.public(app.view_functions["static"])

    app.before_request(_idle_timeout)
    app.before_request(access.gate)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DanganError, _domain_error)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["mask_id"] = mask_id
    app.jinja_env.globals.update(
        ROLES=ROLES, PERMISSIONS=PERMISSIONS, FACET_NAMES=FACETS, STEP_NAMES=V.STEPS,
        RETENTION_NAMES=RETENTION_NAMES, CLASSIFICATION_NAMES=CLASSIFICATION_NAMES,
        ID_TYPE_NAMES=ID_TYPE_NAMES, RECORD_STATUS_NAMES=V.RECORD_STATUSES, value_name=value_name,
        DANGAN_ORGANIZATION=archive.settings.organization)
    return app


def _idle_timeout() -> Any:
    """End a session untouched for longer than the idle timeout (checked on every request)."""
    if not current_user.is_authenticated:
        return None
    now = time.time()
    idle = 60 * current_app.config["DANGAN_IDLE_MINUTES"]
    seen = session.get("seen")
    if seen is not None and now - float(seen) > idle:
        logout_user()
        session.clear()
        flash("长时间未操作，已自动退出，请重新登录")
        return access.unauthorized()
    session["seen"] = now
    session.permanent = True
    return None


def _security_headers(response: Any) -> Any:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Frame-Options"] = "DENY"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "same-origin"
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static":
        h["Cache-Control"] = "no-store"
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, code: str, message: str) -> Any:
    if _wants_json():
        return jsonify({"status": "error", "error": {"code": code, "message": message}}), status
    return render_template("error.html", status=status, code=code, message=message), status


def _csrf_error(exc: CSRFError) -> Any:
    return _error(400, "web.csrf", "表单已失效或来源不明（CSRF 校验未通过）：请刷新页面后重试")


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    return _error(status, _ERROR_CODES.get(status, "web.error"),
                  _ERROR_TEXT.get(status, exc.description or "请求失败"))


def _domain_error(exc: DanganError) -> Any:
    status = 404 if exc.code.endswith("not_found") else 403 \
        if exc.code in ("account.permission_denied", "api.source_system_mismatch",
                        "access.request_required") else 400
    g.error_details = exc.details
    return _error(status, exc.code, exc.message)


def serve_app(config: Mapping[str, Any] | None = None) -> Flask:
    """gunicorn's entry point in each worker (``dangan serve``)."""
    return create_app(config)
