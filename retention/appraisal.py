"""Appraisal (鉴定): proposals by an archivist, opinions of a group, a recorded decision.

Rules (人社部/国家档案局令第3号; GB/T 31599 6.6/7.6; standards.md §7): only items whose
period has run out are appraised; an appraisal group of at least two members, none of
them the proposer, each records an opinion; the decision and its 鉴定意见 are kept as a
record whose digest is in the audit log. The actor's login must be a user of
``archive.accounts`` holding ``retention.propose`` (archivist) to propose and
``retention.appraise`` (appraiser) to give an opinion or decide; separation of duties is
enforced on the logins (the proposer is never a member, even if they also hold the
appraiser role). A proposal is approved only when every opinion agrees. Held items
are never proposed or approved for destruction or transfer; keeping longer is allowed.
An approved keep-longer moves ``items.due_on`` to the new period's date.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import audit_log, catalogue
from dangan.archive.instance import Archive
from dangan.archive.models import Item
from dangan.archive.timeutil import SHANGHAI, iso, utcnow
from dangan.packages.archival_code import RETENTION_CODES, RETENTION_NAMES, RETENTION_YEARS

from . import roles
from .errors import (
    AlreadyProposed,
    AppraisalClosed,
    DuplicateOpinion,
    ItemHeld,
    NotAppraisable,
    NotDue,
    NotEnoughOpinions,
    NotFound,
    RetentionInputError,
    RetentionRefused,
    SelfApproval,
)
from .holds import CUSTODY_STATES, held_among
from .models import APPRAISAL_ACTIONS, OPINIONS, Appraisal, AppraisalItem, AppraisalOpinion
from .schedule import compute_due

MIN_MEMBERS = 2
_REFUSALS: dict[str, type[RetentionRefused]] = {
    c.code: c for c in (NotAppraisable, NotDue, ItemHeld, AlreadyProposed)}


def today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


@dataclass
class AppraisalView:
    id: int
    action: str
    action_name: str
    state: str
    reason: str
    new_retention: str | None
    proposed_by: str
    proposed_at: str
    items: list[dict[str, Any]]
    opinions: list[dict[str, Any]]
    decided_by: str | None
    decided_at: str | None
    conclusion: str | None
    record_sha256: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _view(session: Session, a: Appraisal) -> AppraisalView:
    codes = dict(session.execute(select(Item.aip_id, Item.archival_code).where(
        Item.aip_id.in_([i.aip_id for i in a.items]))).all())
    record = a.decision_record
    return AppraisalView(
        id=a.id, action=a.action, action_name=APPRAISAL_ACTIONS[a.action], state=a.state,
        reason=a.reason, new_retention=a.new_retention, proposed_by=a.proposed_by,
        proposed_at=iso(a.proposed_at),
        items=[{"aip_id": i.aip_id, "archival_code": codes.get(i.aip_id),
                "due_on": i.due_on_before} for i in a.items],
        opinions=[{"member": o.member, "opinion": o.opinion, "comment": o.comment,
                   "at": iso(o.at)} for o in a.opinions],
        decided_by=a.decided_by, decided_at=iso(a.decided_at) if a.decided_at else None,
        conclusion=a.conclusion, record_sha256=_digest(record) if record else None,
    )


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(audit_log.canonical_json(record)).hexdigest()


def _text(value: str | None, what: str) -> str:
    if not (value or "").strip():
        raise RetentionInputError(f"须写明{what}")
    return (value or "").strip()


def _items(session: Session, refs: list[str]) -> list[Item]:
    if not refs:
        raise RetentionInputError("至少给出一件档案（档号或 AIP 标识）")
    found, missing = [], []
    for ref in dict.fromkeys(refs):
        item = catalogue.resolve_reference(session, ref)
        (found.append(item) if item is not None else missing.append(ref))
    if missing:
        raise NotFound(f"未找到档案：{'、'.join(missing)}", [{"ref": r} for r in missing])
    return list({i.aip_id: i for i in found}.values())


def _problems(session: Session, items: list[Item], action: str, as_of: date,
              appraisal_id: int | None = None) -> list[dict[str, Any]]:
    """Every reason any item may not be appraised (or approved) now, per item."""
    problems: list[dict[str, Any]] = []
    held = held_among(session, [i.aip_id for i in items]) if action != "extend" else set()
    open_q = (select(AppraisalItem.aip_id, Appraisal.id).join(Appraisal)
              .where(Appraisal.state == "open", AppraisalItem.aip_id.in_([i.aip_id for i in items])))
    if appraisal_id is not None:
        open_q = open_q.where(Appraisal.id != appraisal_id)
    in_open = dict(session.execute(open_q).all())
    for i in items:
        def bad(code: str, note: str, i: Item = i) -> None:
            problems.append({"code": code, "aip_id": i.aip_id, "archival_code": i.archival_code,
                             "note": note})
        if i.status not in CUSTODY_STATES:
            bad(NotAppraisable.code, f"状态为 {i.status}，已不在本馆保管")
        elif i.due_on is None or i.due_on > as_of:
            bad(NotDue.code, "永久保管" if i.due_on is None else f"{i.due_on} 才到期")
        if i.aip_id in held:
            bad(ItemHeld.code, "已被冻结，不得销毁或移交")
        if i.aip_id in in_open:
            bad(AlreadyProposed.code, f"已在鉴定 {in_open[i.aip_id]} 中")
    return problems


def _refuse(problems: list[dict[str, Any]]) -> None:
    if problems:
        first = problems[0]
        cls = _REFUSALS[first["code"]]
        raise cls(f"{first['archival_code']}：{first['note']}"
                  + (f"（另有 {len(problems) - 1} 项问题）" if len(problems) > 1 else ""),
                  problems)


def propose(archive: Archive, *, action: str, refs: list[str], reason: str, actor: str,
            new_retention: str | None = None, as_of: date | None = None) -> AppraisalView:
    """An archivist proposes destroy / extend (keep longer) / transfer for due items."""
    if action not in APPRAISAL_ACTIONS:
        raise RetentionInputError(f"鉴定提议应为 {'/'.join(APPRAISAL_ACTIONS)} 之一")
    reason = _text(reason, "提议理由（--reason）")
    if action == "extend":
        if new_retention not in RETENTION_CODES:
            raise RetentionInputError(
                f"延长保管期限须给出新期限（--new-retention {'/'.join(RETENTION_CODES)}）")
    elif new_retention:
        raise RetentionInputError("只有延长保管期限的提议才给出新期限")
    day = as_of or today()
    with archive.db.filing_session() as s:
        actor = roles.require(s, actor, "retention.propose")
        items = _items(s, refs)
        if action == "extend":
            for i in items:
                old, new = RETENTION_YEARS.get(i.retention), RETENTION_YEARS[new_retention or ""]
                if old is None or (new is not None and new <= old):
                    raise RetentionInputError(
                        f"{i.archival_code} 现为{RETENTION_NAMES.get(i.retention, i.retention)}，"
                        f"新期限{RETENTION_NAMES[new_retention or '']}并不更长")
        _refuse(_problems(s, items, action, day))
        a = Appraisal(action=action, new_retention=new_retention, reason=reason, state="open",
                      proposed_by=actor, proposed_at=utcnow())
        a.items = [AppraisalItem(aip_id=i.aip_id, due_on_before=i.due_on.isoformat()
                                 if i.due_on else None) for i in items]
        s.add(a)
        s.flush()
        audit_log.append(
            s, actor=actor, action="appraisal:propose", object_id=f"appraisal:{a.id}",
            object_digest=None,
            details={"appraisal_id": a.id, "action": action, "new_retention": new_retention,
                     "reason": reason, "as_of": day.isoformat(),
                     "items": [{"aip_id": i.aip_id, "archival_code": i.archival_code,
                                "aip_sha256": i.aip_sha256, "retention": i.retention,
                                "due_on": i.due_on.isoformat() if i.due_on else None}
                               for i in items]})
        return _view(s, a)


def _open(session: Session, appraisal_id: int) -> Appraisal:
    a = session.get(Appraisal, appraisal_id)
    if a is None:
        raise NotFound(f"没有编号为 {appraisal_id} 的鉴定", [{"appraisal": appraisal_id}])
    if a.state != "open":
        raise AppraisalClosed(f"鉴定 {appraisal_id} 已于 {iso(a.decided_at) if a.decided_at else ''}"
                              f" 作出决定（{a.state}），不能再变更")
    return a


def opinion(archive: Archive, appraisal_id: int, *, member: str, agree: bool,
            comment: str) -> AppraisalView:
    """A member of the appraisal group records an opinion (once, never the proposer)."""
    comment = _text(comment, "鉴定意见说明（--comment）")
    with archive.db.filing_session() as s:
        a = _open(s, appraisal_id)
        member = roles.login_of(member)
        if member == a.proposed_by:
            raise SelfApproval(f"{member} 是鉴定 {a.id} 的提议人，不能作为鉴定小组成员发表意见")
        roles.require(s, member, "retention.appraise")
        if any(o.member == member for o in a.opinions):
            raise DuplicateOpinion(f"{member} 已对鉴定 {a.id} 发表过意见，每人只能发表一次")
        verdict = "agree" if agree else "disagree"
        a.opinions.append(AppraisalOpinion(member=member, opinion=verdict, comment=comment,
                                           at=utcnow()))
        s.flush()
        audit_log.append(
            s, actor=member, action="appraisal:opinion", object_id=f"appraisal:{a.id}",
            object_digest=None,
            details={"appraisal_id": a.id, "member": member, "opinion": verdict,
                     "comment": comment, "opinions_so_far": len(a.opinions)})
        return _view(s, a)


def decide(archive: Archive, appraisal_id: int, *, conclusion: str, actor: str,
           as_of: date | None = None) -> AppraisalView:
    """Record the group's decision and its 鉴定意见; approved only if every opinion agrees.

    ``actor`` records the decision for the group and must be one of its members (who
    gave an opinion); the proposer can never decide. An approval re-checks the items:
    a hold placed since the proposal blocks a destroy or transfer approval.
    """
    conclusion = _text(conclusion, "鉴定意见（--conclusion）")
    day = as_of or today()
    with archive.db.filing_session() as s:
        a = _open(s, appraisal_id)
        actor = roles.login_of(actor)
        if actor == a.proposed_by:
            raise SelfApproval(f"{actor} 是鉴定 {a.id} 的提议人，不能对自己的提议作出决定")
        roles.require(s, actor, "retention.appraise")
        members = [o.member for o in a.opinions]
        if len(set(members)) < MIN_MEMBERS:
            raise NotEnoughOpinions(
                f"鉴定 {a.id} 只有 {len(set(members))} 名小组成员发表意见，至少需要 {MIN_MEMBERS} 名"
                "（均不得为提议人）")
        if actor not in members:
            raise SelfApproval(f"{actor} 未作为鉴定小组成员发表意见，不能代表小组作出决定")
        approved = all(o.opinion == "agree" for o in a.opinions)
        items = list(s.scalars(select(Item).where(
            Item.aip_id.in_([i.aip_id for i in a.items])).order_by(Item.aip_id)))
        if approved:
            _refuse(_problems(s, items, a.action, day, appraisal_id=a.id))
        changes = []
        if approved and a.action == "extend":
            for i in items:
                before = i.due_on
                i.due_on = compute_due(i.year, a.new_retention)
                changes.append({"aip_id": i.aip_id, "due_on_before": before.isoformat()
                                if before else None,
                                "due_on_after": i.due_on.isoformat() if i.due_on else None})
        a.state = "approved" if approved else "rejected"
        a.decided_by, a.decided_at, a.conclusion = actor, utcnow(), conclusion
        record = {
            "appraisal_id": a.id, "action": a.action, "outcome": a.state,
            "new_retention": a.new_retention, "reason": a.reason,
            "proposed_by": a.proposed_by, "proposed_at": iso(a.proposed_at),
            "items": [{"aip_id": i.aip_id, "archival_code": i.archival_code,
                       "aip_sha256": i.aip_sha256, "retention": i.retention} for i in items],
            "opinions": [{"member": o.member, "opinion": o.opinion, "comment": o.comment,
                          "at": iso(o.at)} for o in a.opinions],
            "conclusion": conclusion, "decided_by": actor, "decided_at": iso(a.decided_at),
            "as_of": day.isoformat(), "due_changes": changes,
        }
        a.decision_record = record
        s.flush()
        audit_log.append(s, actor=actor, action="appraisal:decide",
                         object_id=f"appraisal:{a.id}", object_digest=_digest(record),
                         details=record)
        return _view(s, a)


def get(session: Session, appraisal_id: int) -> AppraisalView:
    a = session.get(Appraisal, appraisal_id)
    if a is None:
        raise NotFound(f"没有编号为 {appraisal_id} 的鉴定", [{"appraisal": appraisal_id}])
    return _view(session, a)


def list_appraisals(session: Session, *, state: str | None = None) -> list[AppraisalView]:
    q = select(Appraisal).order_by(Appraisal.id)
    if state:
        q = q.where(Appraisal.state == state)
    return [_view(session, a) for a in session.scalars(q)]


__all__ = ["OPINIONS", "decide", "get", "list_appraisals", "opinion", "propose"]
