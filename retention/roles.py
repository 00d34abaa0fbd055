"""Who may act in the retention domain: the actor's login checked against accounts and roles.

Why here: appraisal, destruction and transfer each check the same thing — the login that
acts is a known, enabled user who holds the permission (``retention.propose`` for an
archivist, ``retention.appraise`` for an appraiser). The CLI passes ``$DANGAN_ACTOR``,
the web layer ``user:<login>``; both name the same account.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dangan.archive.account_models import User
from dangan.archive.accounts import active_roles
from dangan.archive.permissions import PERMISSIONS, allows

from .errors import NotPermitted


def login_of(actor: str) -> str:
    """The account login behind an actor string (``user:li`` and ``li`` are the same)."""
    return actor[len("user:"):] if actor.startswith("user:") else actor


def require(session: Session, actor: str, permission: str) -> str:
    """The login of ``actor`` if it is an enabled user holding ``permission``; else refuse."""
    login = login_of(actor)
    user = session.scalar(select(User).where(User.login == login)
                          .options(selectinload(User.grants)))
    what = PERMISSIONS[permission]
    if user is None:
        raise NotPermitted(f"{login} 不是本系统的用户，不能{what}", [{"login": login}])
    if user.disabled:
        raise NotPermitted(f"用户 {login} 已停用，不能{what}", [{"login": login}])
    if not allows(active_roles(user), permission):
        raise NotPermitted(f"用户 {login} 没有“{what}”的角色权限：请安全保密管理员授予相应角色",
                           [{"login": login, "permission": permission}])
    return login


def require_user(session: Session, login: str) -> str:
    """``login`` if it names an enabled user (a supervisor needs no particular role)."""
    user = session.scalar(select(User).where(User.login == login))
    if user is None or user.disabled:
        raise NotPermitted(f"{login} 不是本系统的在用用户", [{"login": login}])
    return login
