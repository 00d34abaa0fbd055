"""The second factor (动态口令, TOTP RFC 6238): verification at sign-in and enrolment.

Why apart from ``accounts``: the seeds name 用户、动态口令和数字证书 as identification
methods; this module is the 动态口令 one (a certificate-based factor can sit beside it).
A code is accepted within one 30-second step either side and only once (the last used
step is stored), and failures count towards the same lock-out as wrong passwords.
"""

from __future__ import annotations

import secrets
import time

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .account_core import (
    AccountNotFound,
    PermissionDenied,
    Principal,
    SecondFactorFailed,
    _actor,
    _audit,
    _load,
    _principal,
    _require,
)
from .account_models import User
from .db import Database
from .secret_box import SecretBox, SecretBoxError, totp_context
from .signin import (
    _fail,
    _refuse_if_unusable,
    _signed_in,
    refuse_if_password_changed,
    usable_user,
)
from .timeutil import utcnow

TOTP_ISSUER = "Dangan 档案"


def _box(db: Database) -> SecretBox:
    if db.secrets is None:
        raise SecretBoxError("此数据库未连接档案实例的密钥，无法处理动态口令")
    return db.secrets  # type: ignore[no-any-return]


def _secret(db: Database, user: User) -> str:
    """The user's TOTP seed, opened from its sealed form in the catalogue."""
    assert user.totp_secret is not None
    return _box(db).open(user.totp_secret, totp_context(user.login))


def _seal(db: Database, login: str, secret: str) -> str:
    return _box(db).seal(secret, totp_context(login))


def _totp_step(secret: str, code: str, last_step: int | None, at: float) -> int | None:
    """The time step ``code`` matches (±1 step), or None; a used step never matches again."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at) // totp.interval
    for step in (now_step, now_step - 1, now_step + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_second_factor(db: Database, user_id: int, code: str, *,
                         lock_minutes: float | None = None, at: float | None = None,
                         epoch: str | None = None) -> Principal:
    """Second step of sign-in: the TOTP code of an enrolled user (a code is used once).
    ``epoch``: the credential epoch the password step saw; refused if it changed since."""
    now = utcnow()
    with db.filing_session() as s:
        user = usable_user(s, user_id, now, epoch)
        if user.totp_secret is None or user.totp_confirmed_at is None:
            raise SecondFactorFailed("此账户尚未登记动态口令")
        step = _totp_step(_secret(db, user), code, user.totp_last_step,
                          time.time() if at is None else at)
        if step is None:
            _fail(s, user, "totp", lock_minutes)
        else:
            user.totp_last_step = step
            _signed_in(s, user, now)
        principal = _principal(user)
    if step is None:
        raise SecondFactorFailed("动态口令不正确或已使用过：请输入验证器上当前的 6 位数字")
    return principal


def totp_uri(login: str, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=TOTP_ISSUER)


def begin_totp_enrolment(db: Database, user_id: int) -> str:
    """The otpauth URI to show as a QR code at first sign-in (same secret until confirmed)."""
    with db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise AccountNotFound("用户不存在")
        if user.totp_confirmed_at is not None:
            raise SecondFactorFailed("动态口令已登记；如需更换请联系系统管理员重置")
        if user.totp_secret is None:
            secret = pyotp.random_base32()
            user.totp_secret = _seal(db, user.login, secret)
        else:
            secret = _secret(db, user)
        return totp_uri(user.login, secret)


def confirm_totp_enrolment(db: Database, user_id: int, code: str, *,
                           at: float | None = None, epoch: str | None = None) -> Principal:
    """The user proves the authenticator works by entering its current code; signs them in."""
    now = utcnow()
    with db.filing_session() as s:
        user = s.scalar(select(User).where(User.id == user_id)
                        .options(selectinload(User.grants)))
        if user is None or user.totp_secret is None:
            raise SecondFactorFailed("请先扫描二维码登记动态口令")
        _refuse_if_unusable(user, now)
        refuse_if_password_changed(user, epoch)
        step = _totp_step(_secret(db, user), code, user.totp_last_step,
                          time.time() if at is None else at)
        if step is None:
            _fail(s, user, "totp-enrol", None)
        else:
            user.totp_confirmed_at = now
            user.totp_last_step = step
            _audit(s, f"user:{user.login}", "user:totp", user.login, event="enrolled")
            _signed_in(s, user, now)
        principal = _principal(user)
    if step is None:
        raise SecondFactorFailed("动态口令不正确：请输入验证器上当前的 6 位数字")
    return principal


def enrol_totp_at_console(db: Database, login: str, *, by: Principal | None,
                          console_actor: str = "console") -> str:
    """A new secret set by an administrator (handed over as a QR code); returns its URI."""
    _require(by, "user.manage", "管理用户")
    secret = pyotp.random_base32()
    actor = _actor(by, console_actor)
    with db.filing_session() as s:
        user = _load(s, login)
        if by is not None and by.id == user.id:
            raise PermissionDenied("不能重置自己的动态口令")
        user.totp_secret = _seal(db, login, secret)
        user.totp_confirmed_at = utcnow()
        user.totp_last_step = None
        _audit(s, actor, "user:totp", login, event="reset")
    return totp_uri(login, secret)
