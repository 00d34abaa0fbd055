"""Accounts (用户与角色): users, role grants, password sign-in and lock-out.

Why here, in the domain core: the rules of 三员分立 (GB/T 39784) and separation of duties
must hold whoever calls — the web UI, the CLI, retention's appraisal — so they are
enforced in this service, never in a view. Every change is an audit-log entry.

``by`` is the acting user (a ``Principal``) or ``None`` for the server console (the
``dangan user`` CLI run by whoever operates the server, recorded by its OS actor): the
console bootstraps the first administrators; afterwards the security officer grants
business roles and the system administrator manages accounts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from . import audit_log
from .account_models import RoleGrant, User
from .db import Database
from .errors import ArchiveError
from .permissions import ADMIN_ROLES, BUSINESS_ROLES, ROLES, permissions_of
from .timeutil import utcnow

LOCKOUT_THRESHOLD = 5  # consecutive failed sign-ins (password or second factor)
MIN_PASSWORD_LENGTH = 10

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~0.1 s on an office server, so
# sign-in stays quick while a stolen hash costs an attacker the same per guess.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("dangan-timing-equaliser")


class AccountError(ArchiveError):
    code = "account.error"


class AccountNotFound(AccountError):
    code = "account.not_found"


class LoginTaken(AccountError):
    code = "account.login_taken"


class InvalidInput(AccountError):
    code = "account.invalid"


class PermissionDenied(AccountError):
    code = "account.permission_denied"


class RoleRefused(AccountError):
    """A grant that breaks a rule: self-grant, 三员分立 exclusivity, unknown or held role."""

    code = "account.role_refused"


class SignInFailed(AccountError):
    code = "account.signin_failed"


class AccountLocked(AccountError):
    code = "account.locked"


class AccountDisabled(AccountError):
    code = "account.disabled"


class SecondFactorFailed(AccountError):
    code = "account.second_factor"


@dataclass(frozen=True)
class Principal:
    """A signed-in (or signing-in) user as the services see them."""

    id: int
    login: str
    display_name: str
    roles: frozenset[str]
    totp_enrolled: bool

    @property
    def actor(self) -> str:
        return f"user:{self.login}"

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class UserView:
    login: str
    display_name: str
    roles: tuple[str, ...]
    locked: bool
    disabled: bool
    totp_enrolled: bool
    failed_attempts: int
    created_at: datetime
    last_signin_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"login": self.login, "display_name": self.display_name,
                "roles": list(self.roles), "locked": self.locked, "disabled": self.disabled,
                "totp_enrolled": self.totp_enrolled, "failed_attempts": self.failed_attempts,
                "created_at": self.created_at.isoformat(),
                "last_signin_at": self.last_signin_at.isoformat() if self.last_signin_at
                else None}


def active_roles(user: User) -> frozenset[str]:
    return frozenset(g.role for g in user.grants if g.revoked_at is None)


def _principal(user: User) -> Principal:
    return Principal(user.id, user.login, user.display_name, active_roles(user),
                     user.totp_confirmed_at is not None)


def _view(user: User) -> UserView:
    return UserView(user.login, user.display_name, tuple(sorted(active_roles(user))),
                    user.locked, user.disabled, user.totp_confirmed_at is not None,
                    user.failed_attempts, user.created_at, user.last_signin_at)


def _actor(by: Principal | None, console_actor: str) -> str:
    return by.actor if by is not None else console_actor


def _require(by: Principal | None, permission: str, what: str) -> None:
    if by is not None and not by.can(permission):
        raise PermissionDenied(f"您没有“{what}”的权限：请联系相应的管理员")


def _load(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == login)
                          .options(selectinload(User.grants)))
    if user is None:
        raise AccountNotFound(f"没有登录名为 {login} 的用户")
    return user


def _audit(session: Session, actor: str, action: str, login: str, **details: Any) -> None:
    audit_log.append(session, actor=actor, action=action, object_id=f"user:{login}",
                     object_digest=None, details=details)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"口令至少 {MIN_PASSWORD_LENGTH} 个字符")
    if password.isdigit() or password.isalpha():
        raise InvalidInput("口令须同时包含字母和数字或符号")


def generate_password() -> str:
    """An initial password to hand over (letters, digits, at least one of each)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


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
                    password_hash=_hasher.hash(password), password_changed_at=now,
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
                   User.locked, User.locked_until, User.disabled, RoleGrant.role,
                   RoleGrant.revoked_at)
            .outerjoin(RoleGrant, RoleGrant.user_id == User.id).where(User.id == user_id)
        ).all()
    if not rows:
        return None
    user = rows[0]
    if user.disabled or _is_locked(user, utcnow()):
        return None
    roles = frozenset(r.role for r in rows if r.role is not None and r.revoked_at is None)
    return Principal(user.id, user.login, user.display_name, roles,
                     user.totp_confirmed_at is not None)


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


def reset_password(db: Database, login: str, *, by: Principal | None,
                   password: str | None = None,
                   console_actor: str = "console") -> tuple[UserView, str]:
    password = password if password is not None else generate_password()
    check_password_strength(password)
    view = _set_flag(db, login, by=by, console_actor=console_actor, action="user:password",
                     password_hash=_hasher.hash(password), password_changed_at=utcnow())
    return view, password


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


# --- sign-in ---------------------------------------------------------------------------

def _is_locked(user: Any, now: datetime) -> bool:
    """``user``: a ``User`` or a row with its ``locked`` and ``locked_until`` columns."""
    return user.locked and (user.locked_until is None or user.locked_until > now)


def _fail(s: Session, user: User, reason: str, lock_minutes: float | None) -> None:
    user.failed_attempts += 1
    _audit(s, f"user:{user.login}", "user:signin-fail", user.login, reason=reason,
           failed_attempts=user.failed_attempts)
    if user.failed_attempts >= LOCKOUT_THRESHOLD and not user.locked:
        user.locked = True
        user.locked_until = (utcnow() + timedelta(minutes=lock_minutes)) if lock_minutes \
            else None
        _audit(s, "system:lockout", "user:lock", user.login,
               reason=f"连续 {user.failed_attempts} 次登录失败")


def _refuse_if_unusable(user: User, now: datetime) -> None:
    if user.disabled:
        raise AccountDisabled("此账户已停用：请联系系统管理员")
    if _is_locked(user, now):
        raise AccountLocked("此账户已因多次登录失败被锁定：请联系系统管理员解锁")


def check_password(db: Database, login: str, password: str, *,
                   lock_minutes: float | None = None) -> Principal:
    """First step of sign-in. A locked account stays locked even with the right password.

    Failures are counted (and logged); at ``LOCKOUT_THRESHOLD`` the account locks, until
    an administrator unlocks it (or for ``lock_minutes`` when configured). The argon2
    check runs outside the serialised audit-log window, so sign-ins never hold up filing.
    """
    now = utcnow()
    with db.session() as s:
        user = s.scalar(select(User).where(User.login == login))
        stored = None if user is None else (user.id, user.password_hash)
        if user is not None and not (user.locked and not _is_locked(user, now)):
            _refuse_if_unusable(user, now)
    if stored is None:
        try:  # same cost as a real check: no user enumeration by timing
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        raise SignInFailed("登录名或口令不正确")
    try:
        _hasher.verify(stored[1], password)
        failed = False
    except (VerifyMismatchError, InvalidHashError, VerificationError):
        failed = True
    with db.filing_session() as s:
        user = s.scalar(select(User).where(User.id == stored[0])
                        .options(selectinload(User.grants)))
        if user is None or user.password_hash != stored[1]:  # changed meanwhile: try again
            raise SignInFailed("登录名或口令不正确")
        if user.locked and not _is_locked(user, now):  # a timed lock has expired
            user.locked, user.locked_until, user.failed_attempts = False, None, 0
        _refuse_if_unusable(user, now)
        if failed:
            _fail(s, user, "password", lock_minutes)
        elif _hasher.check_needs_rehash(stored[1]):
            user.password_hash = _hasher.hash(password)
        principal = _principal(user)
    if failed:
        raise SignInFailed("登录名或口令不正确")
    return principal


def complete_signin(db: Database, user_id: int) -> Principal:
    """Finish sign-in for a user whose roles need no second factor."""
    now = utcnow()
    with db.filing_session() as s:
        user = s.scalar(select(User).where(User.id == user_id)
                        .options(selectinload(User.grants)))
        if user is None:
            raise AccountNotFound("用户不存在")
        _refuse_if_unusable(user, now)
        _signed_in(s, user, now)
        return _principal(user)


def _signed_in(s: Session, user: User, now: datetime) -> None:
    user.failed_attempts = 0
    user.last_signin_at = now
    _audit(s, f"user:{user.login}", "user:signin", user.login)
