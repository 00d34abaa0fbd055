"""Sign-in: password, then the second factor (TOTP) for roles that need one, with QR
enrolment at first sign-in; sign-out. The account service counts failures and locks."""

from __future__ import annotations

import io
import time
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from dangan.archive import accounts, second_factor
from dangan.archive.permissions import PERMISSIONS, second_factor_required

from .access import WebUser, archive, principal, public, requires, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")

PENDING_SECONDS = 300  # between the password and the second factor


def _home() -> str:
    return url_for("search.home")


def _finish(p: accounts.Principal, target: str | None) -> Any:
    session.clear()  # a fresh session at the privilege change
    login_user(WebUser(p))
    session["seen"] = time.time()
    session["epoch"] = p.credential_epoch  # a later password change ends this session
    session.permanent = True
    if p.must_change_password:
        flash("您的口令由管理员重置，请先设置新口令", "error")
        return redirect(url_for("auth.password", next=safe_next(target, _home())))
    return redirect(safe_next(target, _home()))


def _pending() -> dict[str, Any] | None:
    pending = session.get("pending")
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        session.pop("pending", None)
        return None
    return pending


def _refused(exc: accounts.AccountError, template: str, **ctx: Any) -> Any:
    status = 403 if isinstance(exc, accounts.AccountLocked | accounts.AccountDisabled) else 401
    return render_template(template, error=exc.message, error_code=exc.code, **ctx), status


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    target = request.values.get("next")
    if current_user.is_authenticated:
        return redirect(safe_next(target, _home()))
    if request.method == "GET":
        return render_template("login.html", next=target)
    arch = archive()
    lock_minutes = current_app.config["DANGAN_LOCK_MINUTES"]
    try:
        p = accounts.check_password(arch.db, request.form.get("login", "").strip(),
                                    request.form.get("password", ""), lock_minutes=lock_minutes)
        if not second_factor_required(p.roles,
                                      current_app.config["DANGAN_SECOND_FACTOR_EXTRA_ROLES"]):
            return _finish(accounts.complete_signin(arch.db, p.id), target)
    except accounts.AccountError as exc:
        return _refused(exc, "login.html", next=target)
    session.clear()
    # the password's epoch: a reset or change before the second step ends this sign-in
    session["pending"] = {"uid": p.id, "at": time.time(), "next": target,
                          "epoch": p.credential_epoch}
    return redirect(url_for("auth.totp" if p.totp_enrolled else "auth.enrol"))


@bp.route("/totp", methods=["GET", "POST"])
@public
def totp() -> Any:
    pending = _pending()
    if pending is None:
        flash("登录已超时，请重新输入口令")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("totp.html")
    try:
        p = second_factor.verify_second_factor(archive().db, pending["uid"],
                                          request.form.get("code", ""),
                                          lock_minutes=current_app.config["DANGAN_LOCK_MINUTES"],
                                          epoch=pending.get("epoch"))
    except accounts.AccountError as exc:
        return _refused(exc, "totp.html")
    return _finish(p, pending.get("next"))


@bp.route("/enrol", methods=["GET", "POST"])
@public
def enrol() -> Any:
    pending = _pending()
    if pending is None:
        flash("登录已超时，请重新输入口令")
        return redirect(url_for("auth.login"))
    uri = second_factor.begin_totp_enrolment(archive().db, pending["uid"])
    if request.method == "GET":
        return render_template("enrol.html", secret=_secret_of(uri))
    try:
        p = second_factor.confirm_totp_enrolment(archive().db, pending["uid"],
                                            request.form.get("code", ""),
                                            epoch=pending.get("epoch"))
    except accounts.AccountError as exc:
        return _refused(exc, "enrol.html", secret=_secret_of(uri))
    return _finish(p, pending.get("next"))


@bp.route("/enrol/qr.png")
@public
def enrol_qr() -> Any:
    pending = _pending()
    if pending is None:
        return Response(status=404)
    uri = second_factor.begin_totp_enrolment(archive().db, pending["uid"])
    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="png", scale=6, border=4)
    return Response(buf.getvalue(), mimetype="image/png")


def _secret_of(uri: str) -> str:
    """The base32 secret, grouped by four, for typing into an authenticator by hand."""
    from urllib.parse import parse_qs, urlsplit

    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@bp.route("/password", methods=["GET", "POST"])
@requires(*PERMISSIONS)
def password() -> Any:
    """Self-service password change: current password, new one twice; other sessions end,
    and the user's personal API tokens too when they tick the box."""
    target = request.values.get("next")
    p = principal()
    tokens = accounts.personal_token_count(archive().db, p.login)
    if request.method == "GET":
        return render_template("password.html", next=target, tokens=tokens)
    revoke = request.form.get("revoke_tokens") == "yes"
    try:
        p = accounts.change_password(archive().db, p.id,
                                     request.form.get("current", ""),
                                     request.form.get("new", ""), request.form.get("repeat", ""),
                                     lock_minutes=current_app.config["DANGAN_LOCK_MINUTES"],
                                     revoke_tokens=revoke)
    except accounts.AccountError as exc:
        status = 400 if isinstance(exc, accounts.InvalidInput) else 403 \
            if isinstance(exc, accounts.AccountLocked | accounts.AccountDisabled) else 401
        return render_template("password.html", next=target, tokens=tokens, error=exc.message,
                               error_code=exc.code), status
    session["epoch"] = p.credential_epoch  # this session stays; every other one ends
    login_user(WebUser(p))
    flash("口令已更改；该账户在其他地方的登录已失效"
          + ("；您的个人 API 令牌已全部撤销" if revoke and tokens else ""))
    return redirect(safe_next(target, _home()))


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Any:
    logout_user()
    session.clear()
    flash("已退出登录")
    return redirect(url_for("auth.login"))
