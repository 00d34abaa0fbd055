"""Access requests (档案查阅受理, DB 6523/T 370 §6.4.7) and the rule that needs them.

Why a service: a restricted item, or an item holding personal information read by a role
without ``record.unmask``, may only be opened under an approved request — who asks, for
whom, why, what (one item, one case, or one person's whole file) and for how long. An
archivist other than the requester decides (separation of duties); every step and every
view made under a request is an audit-log entry naming the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit_log
from .access_models import AccessRequest
from .accounts import PermissionDenied, Principal
from .db import Database
from .errors import ArchiveError, NotFound
from .models import Item, Party
from .timeutil import utcnow

SCOPES = {"item": "单件档案", "case": "整个办件（各版本）", "person": "一人一档（该证件号码的全部档案）"}
STATUSES = {"pending": "待审批", "approved": "已批准", "refused": "已拒绝"}
MAX_DAYS = 90


class AccessRequestError(ArchiveError):
    code = "access.invalid"


class RequestRequired(ArchiveError):
    """The item may only be opened under an approved, current request that covers it."""

    code = "access.request_required"


class SelfApproval(ArchiveError):
    code = "access.self_approval"


@dataclass(frozen=True)
class RequestView:
    id: int
    requester: str
    on_behalf_of: str
    purpose: str
    scope: str
    target: str
    days: int
    status: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    valid_until: datetime | None

    @property
    def current(self) -> bool:
        return (self.status == "approved" and self.valid_until is not None
                and self.valid_until > utcnow())


def _view(r: AccessRequest) -> RequestView:
    return RequestView(r.id, r.requester, r.on_behalf_of, r.purpose, r.scope, r.target, r.days,
                       r.status, r.requested_at, r.decided_by, r.decided_at, r.decision_note,
                       r.valid_until)


def needs_request(item: Item, permissions: frozenset[str]) -> bool:
    """True when this reader may open ``item``'s content only under a request."""
    if item.security_classification == "restricted" and "record.restricted" not in permissions:
        return True
    return bool(item.personal_info) and "record.unmask" not in permissions


def _target_of(item: Item, scope: str) -> list[str]:
    if scope == "item":
        return [item.aip_id]
    if scope == "case":
        return [f"{item.source_system}/{item.case_id}"]
    return [p.id_number for p in item.parties]


def covering_request(session: Session, item: Item, login: str) -> int | None:
    """The id of the newest approved, current request of ``login`` covering ``item``."""
    now = utcnow()
    rows = session.scalars(select(AccessRequest).where(
        AccessRequest.requester == login, AccessRequest.status == "approved")
        .order_by(AccessRequest.id.desc()))
    for r in rows:
        if r.valid_until is not None and r.valid_until > now and r.target in _target_of(
                item, r.scope):
            return r.id
    return None


def submit(db: Database, by: Principal, *, on_behalf_of: str, purpose: str, scope: str,
           target: str, days: int) -> RequestView:
    """File a request; the target is an item/case reference or an ID number per ``scope``."""
    on_behalf_of, purpose, target = on_behalf_of.strip(), purpose.strip(), target.strip()
    if scope not in SCOPES:
        raise AccessRequestError("查阅范围须为：" + "、".join(SCOPES.values()))
    if not on_behalf_of or not purpose:
        raise AccessRequestError("请填写查阅人（为谁查阅）和查阅目的")
    if not 1 <= days <= MAX_DAYS:
        raise AccessRequestError(f"有效期须为 1-{MAX_DAYS} 天")
    if not target or len(target) > 128:
        raise AccessRequestError("请填写查阅对象（档号、办件编号或证件号码）")
    with db.filing_session() as s:
        if scope in ("item", "case"):
            from . import catalogue

            found = catalogue.lookup(s, target)  # NotFound when no such record
            target = found.item.aip_id if scope == "item" else \
                f"{found.item.source_system}/{found.item.case_id}"
        req = AccessRequest(requester=by.login, on_behalf_of=on_behalf_of, purpose=purpose,
                            scope=scope, target=target, days=days, status="pending",
                            requested_at=utcnow())
        s.add(req)
        s.flush()
        audit_log.append(s, actor=by.actor, action="access:request",
                         object_id=f"access-request:{req.id}", object_digest=None,
                         details={"scope": scope, "target": target, "on_behalf_of": on_behalf_of,
                                  "purpose": purpose, "days": days})
        return _view(req)


def decide(db: Database, by: Principal, request_id: int, *, approve: bool,
           note: str = "") -> RequestView:
    """An archivist approves (valid from now for the requested days) or refuses a request."""
    if not by.can("access.approve"):
        raise PermissionDenied("您没有审批查阅申请的权限")
    with db.filing_session() as s:
        req = s.get(AccessRequest, request_id)
        if req is None:
            raise NotFound(f"找不到查阅申请 {request_id}")
        if req.requester == by.login:
            raise SelfApproval("不能审批自己提出的查阅申请（职责分离），请由其他档案管理员审批")
        if req.status != "pending":
            raise AccessRequestError(f"该申请已{STATUSES[req.status]}，不能再次审批")
        now = utcnow()
        req.status = "approved" if approve else "refused"
        req.decided_by, req.decided_at, req.decision_note = by.login, now, note.strip() or None
        req.valid_until = now + timedelta(days=req.days) if approve else None
        details: dict[str, Any] = {"requester": req.requester, "note": req.decision_note}
        if approve:
            details["valid_until"] = req.valid_until.isoformat()
        audit_log.append(s, actor=by.actor, action="access:approve" if approve else "access:refuse",
                         object_id=f"access-request:{req.id}", object_digest=None,
                         details=details)
        return _view(req)


def list_requests(db: Database, by: Principal) -> list[RequestView]:
    """Approvers see every request; everyone else sees their own."""
    with db.session() as s:
        q = select(AccessRequest).order_by(AccessRequest.id.desc()).limit(200)
        if not by.can("access.approve"):
            q = q.where(AccessRequest.requester == by.login)
        return [_view(r) for r in s.scalars(q)]


@dataclass(frozen=True)
class Landing:
    """Where an approved request takes its requester: a case page (``party`` None) or the
    person page of party ``party`` of case ``ref`` (links never carry an ID number)."""

    ref: str
    party: int | None


def landing(db: Database, by: Principal, request_id: int) -> Landing:
    """The page that shows what ``by``'s own approved, current request covers.

    Why: a restricted case is not found by search, so without this a reader whose request
    for a case or for a person's file was approved had no way to reach it.
    """
    with db.session() as s:
        req = s.get(AccessRequest, request_id)
        if req is None or req.requester != by.login or not _view(req).current:
            raise NotFound("找不到该查阅申请，或它尚未批准、已过期")
        if req.scope != "person":
            return Landing(req.target, None)  # an AIP id, or SYSTEM/CASE_ID of the case
        item = s.scalar(select(Item).join(Party, Party.aip_id == Item.aip_id)
                        .where(Party.id_number == req.target)
                        .order_by(Item.completed_at.desc(), Item.version.desc()).limit(1))
        if item is None:
            raise NotFound("该证件号码名下没有档案")
        return Landing(item.aip_id,
                       next(i for i, p in enumerate(item.parties) if p.id_number == req.target))
