"""API access tokens and submission jobs of the JSON API (``/api/v1``).

Why hashed: a token is a password a machine keeps; the catalogue stores its SHA-256 only
(tokens are 256 random bits, so a fast hash is enough), and ``dangan api token add``
shows the token once. A system token names one case-handling system and may only
submit cases as that system; a personal token acts as its user with that user's roles.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from . import accounts, audit_log
from .account_core import revoke_personal_tokens
from .account_models import User
from .api_models import ApiJob, ApiToken
from .db import Database
from .errors import ArchiveError
from .timeutil import iso, utcnow

TOKEN_PREFIX = "dgn_"


class ApiTokenError(ArchiveError):
    code = "api.token"


class TokenNotFound(ApiTokenError):
    code = "api.token_not_found"


@dataclass(frozen=True)
class TokenIdentity:
    """Who a bearer token speaks for: a system (submits only) or a user's principal."""

    token_id: int
    system: str | None
    principal: accounts.Principal | None

    @property
    def actor(self) -> str:
        return f"system:{self.system}" if self.system else self.principal.actor  # type: ignore[union-attr]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_token(db: Database, *, system: str | None = None, login: str | None = None,
              actor: str) -> tuple[int, str]:
    """Issue a token for ``system`` or for user ``login``; returns (id, the token)."""
    if (system is None) == (login is None):
        raise ApiTokenError("请给出一个案件办理系统名，或一个用户登录名（二者选一）")
    if system is not None and not (0 < len(system) <= 64 and system.isprintable()):
        raise ApiTokenError("系统名应为 1–64 个可打印字符")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.filing_session() as s:
        if login is not None and s.scalar(select(User.id).where(User.login == login)) is None:
            raise TokenNotFound(f"没有登录名为 {login} 的用户")
        row = ApiToken(system=system, login=login, token_sha256=_digest(token),
                       prefix=token[:12], created_at=utcnow(), created_by=actor)
        s.add(row)
        s.flush()
        audit_log.append(s, actor=actor, action="api:token", object_id=f"api-token:{row.id}",
                         object_digest=None,
                         details={"op": "add", "system": system, "login": login})
        return row.id, token


def revoke_token(db: Database, token_id: int, *, actor: str) -> None:
    with db.filing_session() as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise TokenNotFound(f"没有编号为 {token_id} 的 API 令牌")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit_log.append(s, actor=actor, action="api:token", object_id=f"api-token:{row.id}",
                         object_digest=None,
                         details={"op": "revoke", "system": row.system, "login": row.login})


def revoke_user_tokens(db: Database, login: str, *, actor: str) -> int:
    """Revoke every live personal token of ``login`` (a leaked token, a departing user);
    returns how many. The same as a password reset does to them."""
    with db.filing_session() as s:
        if s.scalar(select(User.id).where(User.login == login)) is None:
            raise TokenNotFound(f"没有登录名为 {login} 的用户")
        return revoke_personal_tokens(s, login, actor, "console")


def list_tokens(db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        return [{"id": r.id, "system": r.system, "login": r.login, "prefix": r.prefix,
                 "created_at": iso(r.created_at), "created_by": r.created_by,
                 "revoked_at": iso(r.revoked_at) if r.revoked_at else None,
                 "last_used_at": iso(r.last_used_at) if r.last_used_at else None}
                for r in s.scalars(select(ApiToken).order_by(ApiToken.id))]


def authenticate(db: Database, token: str) -> TokenIdentity | None:
    """The identity of a live token, or None (unknown, revoked, or its user unusable)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    with db.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        token_id, system, login = row.id, row.system, row.login
        user_id = s.scalar(select(User.id).where(User.login == login)) if login else None
    if system is not None:
        return TokenIdentity(token_id, system, None)
    principal = accounts.get_principal(db, user_id) if user_id is not None else None
    return TokenIdentity(token_id, None, principal) if principal is not None else None


def create_job(db: Database, *, submitted_by: str, upload_path: str,
               job_id: str | None = None) -> str:
    job_id = job_id or uuid.uuid4().hex
    with db.session() as s:
        s.add(ApiJob(id=job_id, submitted_by=submitted_by, upload_path=upload_path,
                     state="queued", created_at=utcnow()))
    return job_id


def set_job(db: Database, job_id: str, state: str, result: dict[str, Any] | None = None) -> None:
    with db.session() as s:
        job = s.get(ApiJob, job_id)
        if job is None:
            raise TokenNotFound(f"没有编号为 {job_id} 的提交任务")
        job.state = state
        if result is not None:
            job.result = result
        if state in ("done", "failed"):
            job.finished_at = utcnow()


def get_job(db: Database, job_id: str) -> dict[str, Any] | None:
    with db.session() as s:
        job = s.get(ApiJob, job_id)
        if job is None:
            return None
        return {"job_id": job.id, "state": job.state, "submitted_by": job.submitted_by,
                "upload_path": job.upload_path, "created_at": iso(job.created_at),
                "finished_at": iso(job.finished_at) if job.finished_at else None,
                "result": job.result}
