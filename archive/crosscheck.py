"""Log, catalogue and store checked against each other, both ways.

Why: each of the three can be tampered with on its own. A deleted catalogue record leaves
its AIP orphaned in the store and its ``aip:file`` entry in the log; a per-item check that
starts from the catalogue never sees it, and the case could be filed again. So:

* every ``aip:file`` entry of the log has its catalogue record, or a lawful removal
  (destruction or transfer, ``lawful_removal``), and its row in the filed-case index;
* every catalogue record has its ``aip:file`` entry and its AIP in the primary store;
* every AIP in the primary store and the replica is catalogued (AIPs still pending —
  a filing in progress or a crashed one that ``recover`` will undo — are left out).

``filed_for_case`` is what the filing window consults before it files a case: the log's
own record of what was filed for a case id, found through the indexed ``filed_cases``
table and believed only where the audit entry says the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit_models import AuditEntryRow
from .errors import ArchiveError
from .models import FiledCase, Item
from .tombstones import Tombstone

if TYPE_CHECKING:
    from .instance import Archive

FILE_ACTION = "aip:file"
REMOVAL_ACTIONS = ("aip:destroy", "aip:transfer")
LOG_KINDS = ("catalogue_missing", "index_missing", "index_mismatch", "log_missing")
MAX_LISTED = 50


class CatalogueRecordMissing(ArchiveError):
    """The log says a case was filed but its catalogue record is gone: refuse to file again."""

    code = "archive.catalogue_record_missing"
    exit_code = 3


@dataclass(frozen=True)
class Removal:
    """A lawful removal of an AIP from the archive (destruction or transfer)."""

    action: str
    audit_index: int
    time: str
    register_ref: str | None = None  # 销毁清册 / 移交清册 of the tombstone


@dataclass(frozen=True)
class Filed:
    """One ``aip:file`` entry of the log, as the filed-case index and the entry agree."""

    audit_index: int
    aip_id: str
    archival_code: str | None
    source_system: str
    case_id: str
    case_sha256: str


@dataclass
class Problem:
    """One disagreement; ``kind`` is stable, ``message`` is for a person."""

    kind: str
    message: str
    aip_id: str | None = None
    archival_code: str | None = None
    audit_index: int | None = None
    store: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "aip_id": self.aip_id,
                "archival_code": self.archival_code, "audit_index": self.audit_index,
                "store": self.store}


def lawful_removal(session: Session, aip_id: str) -> Removal | None:
    """The tombstone that lawfully removed ``aip_id`` (destruction or transfer), or None.

    A tombstone counts only when the audit entry it names is an ``aip:destroy`` /
    ``aip:transfer`` entry for this AIP with its digest: a row written into the table by
    hand, or an entry without a tombstone, does not make a vanished copy lawful.
    """
    stone = session.get(Tombstone, aip_id)
    if stone is None:
        return None
    entry = session.get(AuditEntryRow, stone.audit_index)
    if (entry is None or entry.action not in REMOVAL_ACTIONS or entry.object_id != aip_id
            or entry.object_digest != stone.aip_sha256):
        return None
    return Removal(entry.action, entry.idx, entry.time, stone.register_ref)


def _details(text: str) -> dict[str, Any]:
    try:
        d = json.loads(text)
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def _agrees(fc: Any, entry: Any) -> bool:
    """``fc``: a filed-case row; ``entry``: its audit entry (objects or rows of columns)."""
    if entry is None or entry.action != FILE_ACTION or entry.object_id != fc.aip_id:
        return False
    d = _details(entry.details)
    return (d.get("source_system"), d.get("case_id"), d.get("case_sha256")) == (
        fc.source_system, fc.case_id, fc.case_sha256)


def index_filed(session: Session, audit_index: int, aip_id: str, source_system: str,
                case_id: str, case_sha256: str) -> None:
    """Index an ``aip:file`` entry by case; call in the transaction that appends it."""
    session.add(FiledCase(audit_index=audit_index, aip_id=aip_id, source_system=source_system,
                          case_id=case_id, case_sha256=case_sha256))


def filed_for_case(session: Session, source_system: str, case_id: str) -> list[Filed]:
    """Every AIP the log says was filed for this case (two indexed reads)."""
    rows = list(session.scalars(select(FiledCase).where(
        FiledCase.source_system == source_system, FiledCase.case_id == case_id)))
    if not rows:
        return []
    entries = {e.idx: e for e in session.scalars(select(AuditEntryRow).where(
        AuditEntryRow.idx.in_([r.audit_index for r in rows])))}
    out = []
    for r in rows:
        entry = entries.get(r.audit_index)
        if _agrees(r, entry):
            assert entry is not None
            out.append(Filed(r.audit_index, r.aip_id, _details(entry.details).get("archival_code"),
                             r.source_system, r.case_id, r.case_sha256))
    return sorted(out, key=lambda f: f.audit_index)


def refuse_if_catalogue_lost(session: Session, source_system: str, case_id: str) -> None:
    """Raise ``CatalogueRecordMissing`` when a filing of this case lost its catalogue record."""
    for filed in filed_for_case(session, source_system, case_id):
        if session.get(Item, filed.aip_id) is not None:
            continue
        if lawful_removal(session, filed.aip_id) is not None:
            continue
        raise CatalogueRecordMissing(
            f"办件 {source_system}/{case_id} 已于审计日志第 {filed.audit_index} 条归档（AIP "
            f"{filed.aip_id}，档号 {filed.archival_code}），但目录中没有它的记录：目录记录缺失，"
            "不能再次归档。请从备份恢复目录，并运行 dangan verify --all 核查",
            [{"aip_id": filed.aip_id, "archival_code": filed.archival_code,
              "audit_index": filed.audit_index}])


Filings = dict[str, tuple[int, str | None]]  # aip id → (log index, archival code)


def _catalogued(session: Session) -> dict[str, str]:
    return {aip_id: code for aip_id, code in session.execute(
        select(Item.aip_id, Item.archival_code))}


def _log_side(session: Session, items: dict[str, str], problems: list[Problem]) -> Filings:
    """Log ↔ index ↔ catalogue; returns the AIPs the log says were filed.

    Rows of columns, the log's streamed: ORM objects of every filing entry and index row
    would stay in the session's identity map (hundreds of MB at 100,000 items)."""
    index = {r.audit_index: r for r in session.execute(select(
        FiledCase.audit_index, FiledCase.aip_id, FiledCase.source_system, FiledCase.case_id,
        FiledCase.case_sha256))}
    filed: Filings = {}
    for entry in session.execute(
            select(AuditEntryRow.idx, AuditEntryRow.action, AuditEntryRow.object_id,
                   AuditEntryRow.details)
            .where(AuditEntryRow.action == FILE_ACTION)
            .order_by(AuditEntryRow.idx)).yield_per(2000):
        code = _details(entry.details).get("archival_code")
        filed.setdefault(entry.object_id, (entry.idx, code))
        row = index.pop(entry.idx, None)
        if row is None:
            problems.append(Problem("index_missing", f"审计日志第 {entry.idx} 条归档记录（AIP "
                                    f"{entry.object_id}，档号 {code}）在归档索引 filed_cases 中没有对应行："
                                    "索引被删改", entry.object_id, code, entry.idx))
        elif not _agrees(row, entry):
            problems.append(Problem("index_mismatch", f"归档索引 filed_cases 中第 {entry.idx} 条的内容与"
                                    "审计记录不符：索引被改动", entry.object_id, code, entry.idx))
        if entry.object_id not in items and lawful_removal(session, entry.object_id) is None:
            problems.append(Problem(
                "catalogue_missing", f"审计日志第 {entry.idx} 条记录了 AIP {entry.object_id}（档号 "
                f"{code}）的归档，但目录中没有它的记录，也没有合法的销毁或移交记录：目录记录被删除",
                entry.object_id, code, entry.idx))
    for idx, row in sorted(index.items()):
        problems.append(Problem("index_mismatch", f"归档索引 filed_cases 中第 {idx} 条（AIP "
                                f"{row.aip_id}）在审计日志中没有对应的归档记录：索引被伪造",
                                row.aip_id, None, idx))
    for aip_id, code in sorted(items.items()):
        if aip_id not in filed:
            problems.append(Problem("log_missing", f"目录记录 {code}（AIP {aip_id}）在审计日志中没有"
                                    "归档记录（aip:file）", aip_id, code))
    return filed


def _store_side(archive: Archive, items: dict[str, str], filed: Filings,
                problems: list[Problem]) -> None:
    from .replica import COPY_NAMES, PRIMARY, stores  # replica imports the instance

    for name, store in stores(archive).items():
        for aip_id in store.iter_aip_ids():
            if aip_id in items or (store.pending / aip_id).exists():
                continue
            idx, code = filed.get(aip_id, (None, None))
            where = (f"审计日志第 {idx} 条记录了它的归档（档号 {code}）" if idx is not None
                     else "审计日志中也没有它的归档记录")
            problems.append(Problem("uncatalogued_aip", f"{COPY_NAMES[name]}中的 AIP {aip_id} 不在目录中"
                                    f"（{where}）：目录记录被删除，或信息包来历不明",
                                    aip_id, code, idx, name))
        if name != PRIMARY:
            continue
        for aip_id, code in sorted(items.items()):
            if not store.exists(aip_id):
                idx = filed.get(aip_id, (None, None))[0]
                problems.append(Problem("aip_missing", f"目录记录 {code}（AIP {aip_id}）在主存储中没有"
                                        "信息包", aip_id, code, idx, name))


def check(archive: Archive, *, store: bool = True) -> list[Problem]:
    """Every disagreement between log, catalogue and (with ``store``) the stored copies."""
    problems: list[Problem] = []
    with archive.db.session() as session:
        items = _catalogued(session)
        filed = _log_side(session, items, problems)
    if store:
        _store_side(archive, items, filed, problems)
    return problems


def check_log(session: Session) -> list[Problem]:
    """The log-side checks alone (for ``dangan audit verify``)."""
    problems: list[Problem] = []
    _log_side(session, _catalogued(session), problems)
    return problems


def refuse_lost_record(session: Session, ref: str) -> None:
    """A REF the catalogue lacks but the log says was filed (and no tombstone explains) is a
    loss, not an unknown reference: say so instead of "not found"."""
    rows = session.scalars(select(FiledCase).where(
        (FiledCase.aip_id == ref) | (FiledCase.case_id == ref)).order_by(FiledCase.audit_index)
    ).all()
    if rows:
        named = "、".join(f"AIP {r.aip_id}（审计记录第 {r.audit_index} 条，办件 {r.case_id}）"
                         for r in rows)
        raise CatalogueRecordMissing(
            f"审计日志记载已归档的 {named} 在目录中没有记录，也没有依法销毁或移交的记录："
            "目录记录缺失，请从备份恢复目录并运行 dangan verify --all",
            [{"aip_id": r.aip_id, "audit_index": r.audit_index, "case_id": r.case_id}
             for r in rows])
