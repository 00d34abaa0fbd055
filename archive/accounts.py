"""Accounts (用户与角色): users and role grants.

Why here, in the domain core: the rules of 三员分立 (GB/T 39784) and separation of duties
must hold whoever calls — the web UI, the CLI, retention's appraisal — so they are
enforced in this service, never in a view. Every change is an audit-log entry.

``by`` is the acting user (a ``Principal``) or ``None`` for the server console (the
``dangan user`` CLI run by whoever operates the server, recorded by its OS actor): the
console bootstraps the first administrators; afterwards the security officer grants
business roles and the system administrator manages accounts.

Sign-in, lock-out and the user's own password change live in ``signin``, hashing and the
policy in ``passwords``, the second factor in ``second_factor``; the names callers use
are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .account_core import (  # noqa: F401  (re-exported: the accounts API)
    AccountDisabled,
    AccountError,
    AccountLocked,
    AccountNotFound,
    InvalidInput,
    LoginTaken,
    PermissionDenied,
    Principal,
    RoleRefused,
    SecondFactorFailed,
    SignInFailed,
    UserView,
    _actor,
    _audit,
    _load,
    _principal,
    _require,
    _view,
    active_roles,
    credential_epoch,
    live_personal_tokens,
    revoke_personal_tokens,
)
from .account_models import RoleGrant, User
from .db import Database
from .passwords import (  # noqa: F401  (re-exported)
    MIN_PASSWORD_LENGTH,
    check_password_strength,
    generate_password,
    hash_password,
)
from .permissions import ADMIN_ROLES, BUSINESS_ROLES, ROLES
from .signin import (  # noqa: F401  (re-exported)
    LOCKOUT_THRESHOLD,
    _is_locked,
    change_password,
    check_password,
    complete_signin,
)
from .timeutil import utcnow

# --- users -----------------------------------------------------------------------------

def create_user(db: Database, login: str, display_name: str, *, password: str | None = None,
                by: Principal | None, console_actor: str = "console") -> tuple[UserView, str]:
    """Create an account (no roles yet); returns it and its initial password."""
    _require(by, "user.manage", "管理用户")
    if not login or len(login) > 64 or not all(c.isalnum() or c in "._-" for c in login):
        raise InvalidInput("登录名须为 1-64 个字母、数字或 . _ -")
    if not display_name.strip():
        raise InvalidInput("请填写姓名")
    password = password if password is not None else generate_password()
    check_password_strength(password)
    now = utcnow()
    actor = _actor(by, console_actor)
    with db.filing_session() as s:
        if s.scalar(select(User.id).where(User.login == login)) is not None:
            raise LoginTaken(f"登录名 {login} 已被使用")
        user = User(login=login, display_name=display_name.strip(),
                    password_hash=hash_password(password), password_changed_at=now,
                    failed_attempts=0, locked=False, disabled=False, created_at=now,
                    created_by=actor)
        s.add(user)
        s.flush()
        _audit(s, actor, "user:create", login, display_name=user.display_name)
        s.refresh(user, ["grants"])
        return _view(user), password


def list_users(db: Database, *, by: Principal | None = None) -> list[UserView]:
    """Every account; for user administrators and security officers only."""
    if by is not None and not (by.can("user.manage") or by.can("role.grant")):
        raise PermissionDenied("您没有查看用户列表的权限")
    with db.session() as s:
        users = s.scalars(select(User).options(selectinload(User.grants)).order_by(User.login))
        return [_view(u) for u in users]


def get_principal(db: Database, user_id: int) -> Principal | None:
    """The user behind a session, or None once disabled or locked (the session ends)."""
    # one row per grant, columns only: read on every request, so no ORM objects are built
    with db.session() as s:
        rows = s.execute(
            select(User.id, User.login, User.display_name, User.totp_confirmed_at,
                   User.locked, User.locked_until, User.disabled, User.must_change_password,
                   User.password_changed_at, RoleGrant.role, RoleGrant.revoked_at)
            .outerjoin(RoleGrant, RoleGrant.user_id == User.id).where(User.id == user_id)
        ).all()
    if not rows:
        return None
    user = rows[0]
    if user.disabled or _is_locked(user, utcnow()):
        return None
    roles = frozenset(r.role for r in rows if r.role is not None and r.revoked_at is None)
    return Principal(user.id, user.login, user.display_name, roles,
                     user.totp_confirmed_at is not None, bool(user.must_change_password),
                     credential_epoch(user.password_changed_at))


def _set_flag(db: Database, login: str, *, by: Principal | None, console_actor: str,
              action: str, **changes: Any) -> UserView:
    _require(by, "user.manage", "管理用户")
    actor = _actor(by, console_actor)
    with db.filing_session() as s:
        user = _load(s, login)
        if by is not None and by.id == user.id:
            raise PermissionDenied("不能对自己的账户执行此操作")
        for key, value in changes.items():
            setattr(user, key, value)
        _audit(s, actor, action, login)
        return _view(user)


def disable_user(db: Database, login: str, *, by: Principal | None,
                 console_actor: str = "console") -> UserView:
    return _set_flag(db, login, by=by, console_actor=console_actor, action="user:disable",
                     disabled=True)


def enable_user(db: Database, login: str, *, by: Principal | None,
                console_actor: str = "console") -> UserView:
    return _set_flag(db, login, by=by, console_actor=console_actor, action="user:enable",
                     disabled=False)


def unlock_user(db: Database, login: str, *, by: Principal | None,
                console_actor: str = "console") -> UserView:
    return _set_flag(db, login, by=by, console_actor=console_actor, action="user:unlock",
                     locked=False, locked_until=None, failed_attempts=0)


@dataclass(frozen=True)
class PasswordReset:
    """What an administrator's reset did: the password to hand over, and what it ended."""

    user: UserView
    password: str
    tokens_revoked: int  # personal API tokens of the user, revoked with the reset


def reset_password(db: Database, login: str, *, by: Principal | None,
                   password: str | None = None,
                   console_actor: str = "console") -> PasswordReset:
    """Reset a password that may be compromised: the new one must be changed at the next
    sign-in, every session of the account ends (its credential epoch changes) and every
    personal API token is revoked, in one transaction; ``user:password`` (``event:
    reset``) records how many tokens were revoked."""
    _require(by, "user.manage", "管理用户")
    password = password if password is not None else generate_password()
    check_password_strength(password)
    new_hash = hash_password(password)  # argon2 outside the serialised audit-log window
    actor = _actor(by, console_actor)
    with db.filing_session() as s:
        user = _load(s, login)
        if by is not None and by.id == user.id:
            raise PermissionDenied("不能对自己的账户执行此操作")
        user.password_hash, user.password_changed_at = new_hash, utcnow()
        user.must_change_password = True  # someone else knows it: changed at sign-in
        revoked = revoke_personal_tokens(s, login, actor, "password-reset")
        _audit(s, actor, "user:password", login, event="reset", sessions="ended",
               api_tokens_revoked=revoked)
        return PasswordReset(_view(user), password, revoked)


def personal_token_count(db: Database, login: str) -> int:
    """How many personal API tokens of ``login`` work now (the password page offers to
    revoke them)."""
    with db.session() as s:
        return live_personal_tokens(s, login)


# --- roles -----------------------------------------------------------------------------

def grant_role(db: Database, login: str, role: str, *, by: Principal | None,
               console_actor: str = "console") -> UserView:
    """Grant ``role``; the rules of 三员分立 and of self-grant are enforced here."""
    if role not in ROLES:
        raise RoleRefused(f"未知角色 {role}：可用角色为 {'、'.join(ROLES)}")
    if by is not None:
        _require(by, "role.grant", "授予角色")
        if role in ADMIN_ROLES:
            raise RoleRefused("三员角色只能在服务器控制台（dangan user grant）授予")
    actor = _actor(by, console_actor)
    with db.filing_session() as s:
        user = _load(s, login)
        if by is not None and by.id == user.id:
            raise RoleRefused("任何人都不能给自己授予角色")
        held = active_roles(user)
        if role in held:
            raise RoleRefused(f"{login} 已具有角色 {ROLES[role]}")
        if role in ADMIN_ROLES and held:
            raise RoleRefused(f"{ROLES[role]}与其他角色互斥（三员分立）：{login} 已具有 "
                              + "、".join(ROLES[r] for r in sorted(held)))
        if role in BUSINESS_ROLES and held & ADMIN_ROLES:
            raise RoleRefused(f"{login} 是{'、'.join(ROLES[r] for r in held & ADMIN_ROLES)}，"
                              "不能兼任业务角色（三员分立）")
        s.add(RoleGrant(user_id=user.id, role=role, granted_by=actor, granted_at=utcnow()))
        s.flush()
        s.refresh(user, ["grants"])
        _audit(s, actor, "role:grant", login, role=role)
        return _view(user)


def revoke_role(db: Database, login: str, role: str, *, by: Principal | None,
                console_actor: str = "console") -> UserView:
    if by is not None:
        _require(by, "role.grant", "撤销角色")
        if role in ADMIN_ROLES:
            raise RoleRefused("三员角色只能在服务器控制台（dangan user revoke）撤销")
    actor = _actor(by, console_actor)
    with db.filing_session() as s:
        user = _load(s, login)
        grant = next((g for g in user.grants if g.role == role and g.revoked_at is None), None)
        if grant is None:
            raise RoleRefused(f"{login} 没有角色 {ROLES.get(role, role)}")
        grant.revoked_at = utcnow()
        grant.revoked_by = actor
        _audit(s, actor, "role:revoke", login, role=role)
        s.flush()
        return _view(user)
