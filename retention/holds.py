"""Holds (冻结): a legal, audit (稽核) or dispute hold on an item, a case, a person or a unit.

Why computed, not copied: a person or unit hold must also cover items filed after it was
placed, so whether an item is held is always answered by joining the active holds with
the catalogue (``held_aip_ids``), never by a flag written onto items. Placing and lifting
are entries of the tamper-evident audit log (``hold:place``, ``hold:lift``) written in
the same transaction as the hold row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union
from sqlalchemy.orm import Session

from dangan.archive import audit_log, catalogue
from dangan.archive.instance import Archive
from dangan.archive.models import Item, Party
from dangan.archive.timeutil import iso, utcnow
from dangan.packages.identity import credit_code_problem, resident_id_problem

from .errors import HoldNotActive, NotFound, RetentionInputError
from .models import HOLD_KINDS, HOLD_SCOPES, Hold

CUSTODY_STATES = ("active", "superseded")  # items the archive still keeps


def held_aip_ids(hold_ids: list[int] | None = None) -> Select[Any]:
    """AIP ids covered by the active holds (or by the given holds, active or not)."""
    active = Hold.lifted_at.is_(None) if hold_ids is None else Hold.id.in_(hold_ids)
    by_item = select(Item.aip_id).join(
        Hold, and_(Hold.scope == "item", Hold.target == Item.aip_id)).where(active)
    by_case = select(Item.aip_id).join(
        Hold, and_(Hold.scope == "case", Hold.target == Item.case_id)).where(active)
    by_party = select(Party.aip_id).join(
        Hold,
        and_(Hold.target == Party.id_number,
             or_(and_(Hold.scope == "person", Party.kind == "person"),
                 and_(Hold.scope == "unit", Party.kind == "unit"))),
    ).where(active)
    return union(by_item, by_case, by_party)  # type: ignore[return-value]


def held_among(session: Session, aip_ids: list[str]) -> set[str]:
    """Which of ``aip_ids`` are held now."""
    if not aip_ids:
        return set()
    held = held_aip_ids().subquery()
    return set(session.scalars(select(held.c.aip_id).where(held.c.aip_id.in_(aip_ids))))


def holds_on(session: Session, aip_id: str) -> list[Hold]:
    """The active holds that cover one item (for refusals and the item page)."""
    item = session.get(Item, aip_id)
    if item is None:
        return []
    numbers = {(p.kind, p.id_number) for p in item.parties}
    rows = session.scalars(select(Hold).where(Hold.lifted_at.is_(None)).order_by(Hold.id))
    return [h for h in rows
            if (h.scope == "item" and h.target == item.aip_id)
            or (h.scope == "case" and h.target == item.case_id)
            or (h.scope in ("person", "unit") and (h.scope, h.target) in numbers)]


@dataclass(frozen=True)
class HoldView:
    id: int
    kind: str
    scope: str
    target: str
    reason: str
    authority: str
    placed_by: str
    placed_at: str
    active: bool
    items: int
    lifted_at: str | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None
    audit_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "kind_name": HOLD_KINDS[self.kind],
                "scope_name": HOLD_SCOPES[self.scope]}


def _view(session: Session, h: Hold) -> HoldView:
    n = session.scalar(select(func.count()).select_from(held_aip_ids([h.id]).subquery()))
    return HoldView(
        id=h.id, kind=h.kind, scope=h.scope, target=h.target, reason=h.reason,
        authority=h.authority, placed_by=h.placed_by, placed_at=iso(h.placed_at),
        active=h.lifted_at is None, items=int(n or 0),
        lifted_at=iso(h.lifted_at) if h.lifted_at else None, lifted_by=h.lifted_by,
        lift_reason=h.lift_reason,
        audit_index=h.lift_audit_index if h.lifted_at else h.place_audit_index,
    )


def _target(session: Session, scope: str, raw: str) -> str:
    value = (raw or "").strip()
    if not value:
        raise RetentionInputError("冻结对象不能为空")
    if scope == "item":
        item = catalogue.resolve_reference(session, value)
        if item is None:
            raise NotFound(f"未找到档案 {value}（请给出 AIP 标识或档号）",
                           [{"field": "item", "found": value}])
        return item.aip_id
    if scope == "case":
        if session.scalar(select(Item.aip_id).where(Item.case_id == value).limit(1)):
            return value
        item = catalogue.resolve_reference(session, value)
        if item is None:
            raise NotFound(f"未找到办件 {value}（请给出办件编号、档号或 AIP 标识）",
                           [{"field": "case", "found": value}])
        return item.case_id
    value = value.upper()
    problem = resident_id_problem(value) if scope == "person" else credit_code_problem(value)
    if problem:
        raise RetentionInputError(f"冻结对象 {value} 无效：{problem}",
                                  [{"field": scope, "found": value}])
    return value


def place(archive: Archive, *, scope: str, target: str, kind: str, reason: str,
          authority: str, actor: str) -> HoldView:
    """Place a hold; the audit entry lists every item it covers at this moment."""
    if kind not in HOLD_KINDS:
        raise RetentionInputError(f"冻结类型应为 {'/'.join(HOLD_KINDS)} 之一", [{"found": kind}])
    if scope not in HOLD_SCOPES:
        raise RetentionInputError(f"冻结范围应为 {'/'.join(HOLD_SCOPES)} 之一", [{"found": scope}])
    if not (reason or "").strip() or not (authority or "").strip():
        raise RetentionInputError("冻结须写明理由（--reason）和依据或决定机关（--authority）")
    with archive.db.filing_session() as s:
        hold = Hold(kind=kind, scope=scope, target=_target(s, scope, target),
                    reason=reason.strip(), authority=authority.strip(), placed_by=actor,
                    placed_at=utcnow())
        s.add(hold)
        s.flush()
        covered = sorted(s.scalars(held_aip_ids([hold.id])))
        entry = audit_log.append(
            s, actor=actor, action="hold:place", object_id=f"hold:{hold.id}", object_digest=None,
            details={"hold_id": hold.id, "kind": kind, "scope": scope, "target": hold.target,
                     "reason": hold.reason, "authority": hold.authority, "items": covered},
        )
        hold.place_audit_index = entry.index
        return _view(s, hold)


def lift(archive: Archive, hold_id: int, *, reason: str, actor: str) -> HoldView:
    """Lift an active hold; items stay held if another active hold still covers them."""
    if not (reason or "").strip():
        raise RetentionInputError("解除冻结须写明理由（--reason）")
    with archive.db.filing_session() as s:
        hold = s.get(Hold, hold_id)
        if hold is None:
            raise NotFound(f"没有编号为 {hold_id} 的冻结", [{"field": "hold", "found": hold_id}])
        if hold.lifted_at is not None:
            raise HoldNotActive(
                f"冻结 {hold_id} 已于 {iso(hold.lifted_at)} 由 {hold.lifted_by} 解除，不能再次解除")
        released = sorted(s.scalars(held_aip_ids([hold.id])))
        hold.lifted_at, hold.lifted_by, hold.lift_reason = utcnow(), actor, reason.strip()
        s.flush()
        still = sorted(held_among(s, released))
        entry = audit_log.append(
            s, actor=actor, action="hold:lift", object_id=f"hold:{hold.id}", object_digest=None,
            details={"hold_id": hold.id, "kind": hold.kind, "scope": hold.scope,
                     "target": hold.target, "reason": hold.lift_reason,
                     "placed_audit_index": hold.place_audit_index, "items": released,
                     "still_held_by_other_holds": still},
        )
        hold.lift_audit_index = entry.index
        return _view(s, hold)


def list_holds(session: Session, *, include_lifted: bool = False) -> list[HoldView]:
    q = select(Hold).order_by(Hold.id)
    if not include_lifted:
        q = q.where(Hold.lifted_at.is_(None))
    return [_view(session, h) for h in session.scalars(q)]
