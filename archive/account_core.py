"""What every account service shares: the errors, the ``Principal`` the services act
for, and the small helpers that load a user and write its audit-log entry.

Why apart: ``accounts`` (users and roles), ``passwords``, ``signin`` (lock-out) and
``second_factor`` all need them; keeping them here lets each of those stay one concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from . import audit_log
from .account_models import User
from .api_models import ApiToken
from .errors import ArchiveError
from .permissions import permissions_of
from .timeutil import utcnow


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
    must_change_password: bool = False  # an administrator reset it: change before anything
    credential_epoch: str = ""  # changes with the password: older sessions end


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
    must_change_password: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"login": self.login, "display_name": self.display_name,
                "roles": list(self.roles), "locked": self.locked, "disabled": self.disabled,
                "totp_enrolled": self.totp_enrolled, "failed_attempts": self.failed_attempts,
                "created_at": self.created_at.isoformat(),
                "last_signin_at": self.last_signin_at.isoformat() if self.last_signin_at
                else None, "must_change_password": self.must_change_password}


def active_roles(user: User) -> frozenset[str]:
    return frozenset(g.role for g in user.grants if g.revoked_at is None)


def credential_epoch(password_changed_at: datetime) -> str:
    """Sessions carry this; it changes with the password, so older sessions end."""
    return str(round(password_changed_at.timestamp() * 1e6))


def _principal(user: User) -> Principal:
    return Principal(user.id, user.login, user.display_name, active_roles(user),
                     user.totp_confirmed_at is not None, bool(user.must_change_password),
                     credential_epoch(user.password_changed_at))


def _view(user: User) -> UserView:
    return UserView(user.login, user.display_name, tuple(sorted(active_roles(user))),
                    user.locked, user.disabled, user.totp_confirmed_at is not None,
                    user.failed_attempts, user.created_at, user.last_signin_at,
                    bool(user.must_change_password))


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


def revoke_personal_tokens(session: Session, login: str, actor: str, reason: str) -> int:
    """Revoke every live personal API token of ``login``; returns how many.

    Why here: a password reset (and, on request, the user's own change) must end the
    tokens in the same transaction as the new password, so no token outlives the
    credential it was issued under. Each revocation is an ``api:token`` entry, as when
    an administrator revokes one token.
    """
    rows = list(session.scalars(select(ApiToken).where(
        ApiToken.login == login, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)))
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        audit_log.append(session, actor=actor, action="api:token",
                         object_id=f"api-token:{row.id}", object_digest=None,
                         details={"op": "revoke", "system": None, "login": login,
                                  "reason": reason})
    return len(rows)


def live_personal_tokens(session: Session, login: str) -> int:
    """How many personal API tokens of ``login`` still work (shown before a change)."""
    return session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.login == login, ApiToken.revoked_at.is_(None))) or 0
