"""Who may reach a route: ``requires(permission)`` on every view, ``public`` on the few
that need no session (sign-in, static files, verification). The app's gate refuses any
route that declares neither, so a forgotten decorator fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_login import UserMixin, current_user

from dangan.archive import accounts
from dangan.archive.instance import Archive
from dangan.archive.permissions import PERMISSIONS


class WebUser(UserMixin):
    """The flask-login user: a ``Principal`` reloaded (roles included) on every request."""

    def __init__(self, principal: accounts.Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        return str(self.principal.id)

    def can(self, permission: str) -> bool:
        return self.principal.can(permission)


def archive() -> Archive:
    return current_app.extensions["dangan.archive"]


def principal() -> accounts.Principal:
    return current_user.principal  # type: ignore[no-any-return]


def load_user(arch: Archive, user_id: str) -> WebUser | None:
    """None (the session ends) once the account is disabled or locked, or its password
    changed since this session signed in (the session's credential epoch is older)."""
    try:
        p = accounts.get_principal(arch.db, int(user_id))
    except ValueError:
        return None
    if p is None or session.get("epoch") != p.credential_epoch:
        return None
    return WebUser(p)


def unauthorized() -> Any:
    if request.path.startswith("/api/"):
        return jsonify({"status": "error", "error": {
            "code": "web.unauthenticated", "message": "请先登录"}}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    view.is_public = True  # type: ignore[attr-defined]
    return view


def requires(*permissions: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The route needs a signed-in user holding any one of ``permissions``."""
    for p in permissions:
        if p not in PERMISSIONS:
            raise ValueError(f"unknown permission {p!r}")

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return unauthorized()
            if not any(current_user.can(p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = permissions  # type: ignore[attr-defined]
        return wrapped

    return decorate


def gate() -> Any:
    """Deny by default: a route without ``requires`` or ``public`` is refused."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "is_public", False):
        return None
    if not getattr(view, "required_permissions", None):
        abort(403)
    if (request.endpoint != "auth.password" and g.get("api_token") is None
            and current_user.is_authenticated and current_user.principal is not None
            and current_user.principal.must_change_password):
        if request.path.startswith("/api/"):
            return jsonify({"status": "error", "error": {
                "code": "account.must_change_password",
                "message": "口令由管理员重置，请先在网页上设置新口令"}}), 403
        return redirect(url_for("auth.password", next=request.full_path.rstrip("?")))
    return None


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site (no scheme, no host, no ``//`` or ``\\``) is followed."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return default
    return target
