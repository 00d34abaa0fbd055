"""Password hashing (argon2id) and the password policy, for every account service.

Why apart: sign-in, the user's own change and an administrator's reset all hash and
check passwords the same way; the policy (length, mixed characters, not the login, not
the old one) is stated once here.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .account_core import InvalidInput

MIN_PASSWORD_LENGTH = 10

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~0.1 s on an office server, so
# sign-in stays quick while a stolen hash costs an attacker the same per guess.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("dangan-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with no hash, the same work is done (no timing leak)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, InvalidHashError, VerificationError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def check_password_strength(password: str, *, login: str | None = None) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"口令至少 {MIN_PASSWORD_LENGTH} 个字符")
    if password.isdigit() or password.isalpha():
        raise InvalidInput("口令须同时包含字母和数字或符号")
    if login and login.lower() in password.lower():
        raise InvalidInput("口令不能包含登录名")


def generate_password() -> str:
    """An initial password to hand over (letters, digits, at least one of each)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate
