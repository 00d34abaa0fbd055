"""Sign-in with a password, lock-out after repeated failures, and the user's own
password change.

Why apart from ``accounts``: these are the steps a person takes with their own
credentials (``accounts`` is what administrators do to accounts). A failure here — a
wrong password at sign-in or at a change — counts towards the same lock-out, and every
step is an audit-log entry (``user:signin``, ``user:signin-fail``, ``user:lock``,
``user:password``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .account_core import (
    AccountDisabled,
    AccountLocked,
    AccountNotFound,
    InvalidInput,
    Principal,
    SignInFailed,
    _audit,
    _principal,
    credential_epoch,
    revoke_personal_tokens,
)
from .account_models import User
from .db import Database
from .passwords import check_password_strength, hash_password, needs_rehash, verify_password
from .timeutil import utcnow

LOCKOUT_THRESHOLD = 5  # consecutive failed sign-ins (password or second factor)


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
    # same cost without such a user: no user enumeration by timing
    failed = not verify_password(stored[1] if stored else None, password)
    if stored is None:
        raise SignInFailed("登录名或口令不正确")
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
        elif needs_rehash(stored[1]):
            user.password_hash = hash_password(password)
        principal = _principal(user)
    if failed:
        raise SignInFailed("登录名或口令不正确")
    return principal


def complete_signin(db: Database, user_id: int) -> Principal:
    """Finish sign-in for a user whose roles need no second factor."""
    now = utcnow()
    with db.filing_session() as s:
        user = usable_user(s, user_id, now)
        _signed_in(s, user, now)
        return _principal(user)


def usable_user(s: Session, user_id: int, now: datetime, epoch: str | None = None) -> User:
    """The user (with grants) a sign-in step continues for, refused if disabled or locked,
    or if its password changed since the first step checked it (``epoch``)."""
    user = s.scalar(select(User).where(User.id == user_id).options(selectinload(User.grants)))
    if user is None:
        raise AccountNotFound("用户不存在")
    _refuse_if_unusable(user, now)
    refuse_if_password_changed(user, epoch)
    return user


def refuse_if_password_changed(user: User, epoch: str | None) -> None:
    """A sign-in begun with a password that has since been reset or changed may not be
    finished with the second factor: the old password no longer opens the account."""
    if epoch is not None and credential_epoch(user.password_changed_at) != epoch:
        raise SignInFailed("口令已被更改或重置：请用新口令重新登录")


def _signed_in(s: Session, user: User, now: datetime) -> None:
    user.failed_attempts = 0
    user.last_signin_at = now
    _audit(s, f"user:{user.login}", "user:signin", user.login)


def change_password(db: Database, user_id: int, current: str, new: str, repeated: str, *,
                    lock_minutes: float | None = None, revoke_tokens: bool = False) -> Principal:
    """The signed-in user changes their own password: the current one proves it is them
    (a wrong one counts towards lock-out), the new one is typed twice and meets the policy.

    The password's change time is the sessions' credential epoch: every other session of
    the account ends at its next request (``Principal.credential_epoch``). Personal API
    tokens are revoked only with ``revoke_tokens``: they are issued at the server console,
    never with the password, so a routine change need not break the systems using them;
    whoever suspects a token leaked ends them here (an administrator's reset always does).
    """
    if new != repeated:
        raise InvalidInput("两次输入的新口令不一致")
    now = utcnow()
    with db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise AccountNotFound("用户不存在")
        _refuse_if_unusable(user, now)
        login, stored = user.login, user.password_hash
    ok = verify_password(stored, current)
    if ok:
        check_password_strength(new, login=login)
        if verify_password(stored, new):
            raise InvalidInput("新口令不能与当前口令相同")
        new_hash = hash_password(new)
    with db.filing_session() as s:
        user = s.scalar(select(User).where(User.id == user_id)
                        .options(selectinload(User.grants)))
        if user is None or user.password_hash != stored:
            raise SignInFailed("口令已在别处更改：请重新登录")
        _refuse_if_unusable(user, now)
        if not ok:
            _fail(s, user, "password-change", lock_minutes)
        else:
            user.password_hash = new_hash
            user.password_changed_at = utcnow()
            user.must_change_password = False
            user.failed_attempts = 0
            revoked = revoke_personal_tokens(s, login, f"user:{login}", "password-change") \
                if revoke_tokens else 0
            _audit(s, f"user:{login}", "user:password", login, event="changed",
                   sessions="others-ended", api_tokens_revoked=revoked)
        principal = _principal(user)
    if not ok:
        raise SignInFailed("当前口令不正确")
    return principal
