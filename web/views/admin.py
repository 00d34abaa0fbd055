"""User administration: the system administrator manages accounts, the security officer
grants roles. The rules (三员分立, no self-grant) are the account service's, not ours."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dangan.archive import accounts
from dangan.archive.permissions import BUSINESS_ROLES, ROLES

from .access import archive, principal, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@requires("user.manage", "role.grant")
def users() -> Any:
    views = accounts.list_users(archive().db, by=principal())
    return render_template("users.html", users=views,
                           grantable=[r for r in ROLES if r in BUSINESS_ROLES])


def _back(message: str) -> Any:
    flash(message)
    return redirect(url_for("admin.users"))


def _fail(exc: accounts.AccountError) -> Any:
    flash(f"操作未执行 [{exc.code}]：{exc.message}", "error")
    return redirect(url_for("admin.users"))


@bp.route("/users/new", methods=["POST"])
@requires("user.manage")
def create_user() -> Any:
    try:
        view, password = accounts.create_user(
            archive().db, request.form.get("login", "").strip(),
            request.form.get("display_name", ""), by=principal())
    except accounts.AccountError as exc:
        return _fail(exc)
    # rendered, not flashed: the password must not travel in the (readable) session cookie
    return render_template("users.html", users=accounts.list_users(archive().db, by=principal()),
                           grantable=[r for r in ROLES if r in BUSINESS_ROLES],
                           created=(view.login, password))


@bp.route("/users/<login>/unlock", methods=["POST"])
@requires("user.manage")
def unlock(login: str) -> Any:
    try:
        accounts.unlock_user(archive().db, login, by=principal())
    except accounts.AccountError as exc:
        return _fail(exc)
    return _back(f"已解锁 {login}")


@bp.route("/users/<login>/password", methods=["POST"])
@requires("user.manage")
def reset_password(login: str) -> Any:
    """A new random password to hand over; the user must change it at next sign-in, and
    their sessions and personal API tokens end now."""
    try:
        done = accounts.reset_password(archive().db, login, by=principal())
    except accounts.AccountError as exc:
        return _fail(exc)
    return render_template("users.html", users=accounts.list_users(archive().db, by=principal()),
                           grantable=[r for r in ROLES if r in BUSINESS_ROLES],
                           created=(done.user.login, done.password), reset=done)


@bp.route("/users/<login>/disable", methods=["POST"])
@requires("user.manage")
def disable(login: str) -> Any:
    try:
        accounts.disable_user(archive().db, login, by=principal())
    except accounts.AccountError as exc:
        return _fail(exc)
    return _back(f"已停用 {login}")


@bp.route("/users/<login>/roles", methods=["POST"])
@requires("role.grant")
def roles(login: str) -> Any:
    role = request.form.get("role", "")
    try:
        if request.form.get("action") == "revoke":
            accounts.revoke_role(archive().db, login, role, by=principal())
            return _back(f"已撤销 {login} 的角色 {ROLES.get(role, role)}")
        accounts.grant_role(archive().db, login, role, by=principal())
    except accounts.AccountError as exc:
        return _fail(exc)
    return _back(f"已授予 {login} 角色 {ROLES.get(role, role)}")
