"""Signed tree heads of the audit log: sign, store, anchor, publish.

Why: a tree head ("the first n entries hash to root r at time t"), signed with the
archive key, is what inspectors keep; with it they can later prove that the log only
grew (consistency proof) and that an entry is in it (inclusion proof). Heads are signed
at every ingest batch and at least hourly (``sign_head_if_stale``); when a TSA is
configured (``timestamping``) the head's canonical bytes are also time-stamped by it.

Every head is stored in ``audit_heads`` and, once its transaction has committed,
appended as one JSON line to ``<home>/audit/heads.jsonl`` — an append-only export that
can be mirrored or handed to inspectors (``dangan audit heads`` prints the same list).
Lines of concurrent processes may land out of order; each carries its ``seq``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.packages.tree_head import SignedTreeHead, TreeHead, sign_tree_head

from . import audit_log
from .audit_models import AuditHeadRow
from .timestamping import TimestampError, TSAConfig, request_timestamp, tsa_config
from .timeutil import utcnow

if TYPE_CHECKING:
    from .instance import Archive

HEADS_EXPORT = Path("audit") / "heads.jsonl"
RETRY_LIMIT = 20  # unstamped heads re-sent to the TSA per call, oldest first
_PENDING_KEY = "dangan.tree_heads.pending_lines"
_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredHead:
    """A signed head as stored, with its sequence number and RFC 3161 anchor if any."""

    seq: int
    sth: SignedTreeHead
    tsa_url: str | None = None
    tsa_token: bytes | None = None
    tsa_time: datetime | None = None
    tsa_error: str | None = None

    @property
    def head(self) -> TreeHead:
        return self.sth.head

    def to_dict(self) -> dict[str, Any]:
        anchor = None
        if self.tsa_token is not None:
            anchor = {
                "tsa_url": self.tsa_url,
                "time": self.tsa_time.isoformat() if self.tsa_time else None,
                "token_b64": base64.b64encode(self.tsa_token).decode("ascii"),
            }
        out: dict[str, Any] = {"seq": self.seq, **self.sth.to_dict(), "rfc3161": anchor}
        if self.tsa_error:
            out["rfc3161_error"] = self.tsa_error
        return out


def log_id_for(archive: Archive) -> str:
    """The log's identity in its heads: one log per archive instance (fonds + archive key)."""
    s = archive.settings
    return f"dangan-audit:{s.fonds}:{s.archive_key_id}"


def _stored(row: AuditHeadRow) -> StoredHead:
    sth = SignedTreeHead.from_json(row.signed_json.encode("utf-8"))
    return StoredHead(row.id, sth, row.tsa_url, row.tsa_token, row.tsa_time, row.tsa_error)


def export_path(archive: Archive) -> Path:
    return archive.home / HEADS_EXPORT


def _append_lines(path: Path, lines: list[str]) -> None:
    """Append whole lines under an exclusive lock, fsynced: the export only ever grows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, "".join(line + "\n" for line in lines).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _export_after_commit(session: Session) -> None:
    pending: dict[Path, list[str]] = session.info.pop(_PENDING_KEY, {})
    for path, lines in pending.items():
        try:
            _append_lines(path, lines)
        except OSError as exc:  # the head is committed; the caller's work must not fail now
            _logger.error("树头已入库，但写入导出文件 %s 失败：%s（可用 dangan audit heads --json 重新导出）",
                          path, exc)


def _drop_after_rollback(session: Session, previous: Any) -> None:
    if not previous.nested:
        session.info.pop(_PENDING_KEY, None)


# Attached to each archive's own session factories by the composition root.
SESSION_EVENTS: tuple[tuple[str, Any], ...] = (("after_commit", _export_after_commit),
                                               ("after_soft_rollback", _drop_after_rollback))


def sign_head(session: Session, archive: Archive, *, anchor: bool | None = None) -> SignedTreeHead:
    """Sign, store and (after commit) export a head over the log as this transaction sees it.

    Runs in the filing window so heads are stored in size order. ``anchor``: request an
    RFC 3161 time stamp (default: when a TSA is configured). Without a TSA this costs
    O(log n) reads and one signature; with one, one HTTP round trip — pass
    ``anchor=False`` on the ingest path and let ``sign_head_if_stale`` anchor hourly.
    A TSA failure is recorded on the head, not raised: the log must not stop; once a
    stamp succeeds again, heads whose stamp failed earlier are retried.
    """
    audit_log.require_filing_window(session, "签署树头")
    size = audit_log.tree_size(session)
    head = TreeHead.create(size, audit_log.root(session), log_id_for(archive))
    key = archive.key
    sth = sign_tree_head(head, key.private_key, key.key_id)
    row = AuditHeadRow(size=size, root_hex=head.root_hex, timestamp=head.timestamp,
                       signed_json=json.dumps(sth.to_dict(), ensure_ascii=False, sort_keys=True))
    config = tsa_config()
    stamped = False
    if config is not None and anchor is not False:
        row.tsa_url = config.url
        try:
            stamp = request_timestamp(head.canonical_bytes(), config)
            row.tsa_token, row.tsa_time = stamp.token, stamp.gen_time
            stamped = True
        except TimestampError as exc:
            row.tsa_error = exc.message
    session.add(row)
    session.flush()
    _queue_export(session, archive, row)
    if stamped and config is not None:
        retry_unstamped(session, archive, config)
    return sth


def _queue_export(session: Session, archive: Archive, row: AuditHeadRow) -> None:
    line = json.dumps(_stored(row).to_dict(), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    session.info.setdefault(_PENDING_KEY, {}).setdefault(export_path(archive), []).append(line)


def unstamped_query() -> Any:
    """Heads whose time stamp was requested and failed, and that still have none."""
    return (select(AuditHeadRow).where(AuditHeadRow.tsa_token.is_(None))
            .where(AuditHeadRow.tsa_error.is_not(None)).order_by(AuditHeadRow.id))


def retry_unstamped(session: Session, archive: Archive, config: TSAConfig,
                    limit: int = RETRY_LIMIT) -> int:
    """Ask the TSA again for heads whose stamp failed (oldest first); return how many got one.

    Why: a TSA outage must not leave heads unanchored for good. A late token proves
    less (the head existed by the later time) but still fixes it outside the archive.
    Stops at the first failure (the TSA is still down), recording the new error. The
    updated head is appended to the export again under its ``seq``.
    """
    audit_log.require_filing_window(session, "补盖时间戳")
    done = 0
    for row in session.scalars(unstamped_query().limit(limit)).all():
        sth = SignedTreeHead.from_json(row.signed_json.encode("utf-8"))
        try:
            stamp = request_timestamp(sth.head.canonical_bytes(), config)
        except TimestampError as exc:
            row.tsa_error = exc.message
            break
        row.tsa_url, row.tsa_token, row.tsa_time, row.tsa_error = (
            config.url, stamp.token, stamp.gen_time, None)
        done += 1
        _queue_export(session, archive, row)
    session.flush()
    return done


def publish_head(archive: Archive, *, anchor: bool | None = None) -> SignedTreeHead:
    """Sign a head in its own filing-window transaction (committed and exported on return)."""
    with archive.db.filing_session() as session:
        return sign_head(session, archive, anchor=anchor)


def heads(session: Session, since: int = 0) -> list[StoredHead]:
    """Stored heads with sequence number > ``since``, oldest first."""
    rows = session.scalars(
        select(AuditHeadRow).where(AuditHeadRow.id > since).order_by(AuditHeadRow.id)
    )
    return [_stored(r) for r in rows]


def latest_stored(session: Session, *, anchored: bool = False) -> StoredHead | None:
    q = select(AuditHeadRow).order_by(AuditHeadRow.id.desc()).limit(1)
    if anchored:
        q = q.where(AuditHeadRow.tsa_token.is_not(None))
    row = session.scalars(q).first()
    return _stored(row) if row is not None else None


def head_covering(session: Session, index: int, size: int | None = None) -> StoredHead | None:
    """The newest head that includes entry ``index`` (of exactly ``size`` entries if given)."""
    q = select(AuditHeadRow).where(AuditHeadRow.size > index)
    if size is not None:
        q = q.where(AuditHeadRow.size == size)
    row = session.scalars(q.order_by(AuditHeadRow.id.desc()).limit(1)).first()
    return _stored(row) if row is not None else None


def latest_head(session: Session) -> SignedTreeHead | None:
    """The newest signed head, or None before the first."""
    stored = latest_stored(session)
    return stored.sth if stored is not None else None


def sign_head_if_stale(archive: Archive, max_age: float = 3600) -> SignedTreeHead | None:
    """Sign a new head if none is younger than ``max_age`` seconds; for a scheduler.

    With a TSA configured only time-stamped heads count as fresh, so the log is anchored
    outside the archive at least every ``max_age`` even when ingest heads skip the TSA.
    Heads whose stamp failed are sent to the TSA again (``retry_unstamped``) either way.
    Returns the new head, or None when the latest one is fresh enough.
    """
    with archive.db.filing_session() as session:
        config = tsa_config()
        latest = latest_stored(session, anchored=config is not None)
        if latest is not None and utcnow() - latest.head.time < timedelta(seconds=max_age):
            if config is not None:
                retry_unstamped(session, archive, config)
            return None
        return sign_head(session, archive)


def receipt_evidence(session: Session, index: int, sth: SignedTreeHead) -> dict[str, Any]:
    """What a receipt carries about entry ``index``: the entry, its proof and the head.

    Check offline with ``dangan.packages``: ``leaf_hash(canonical JSON of entry)`` and
    ``merkle.verify_inclusion(leaf, index, head.size, proof, head.root)``, after
    ``tree_head.verify_tree_head(head, archive public key)``.
    """
    size = sth.head.size
    entry = audit_log.entries(session, index, index + 1)
    if not entry or index >= size:
        raise audit_log.AuditLogError(f"第 {index} 条审计记录不在大小为 {size} 的树头之内")
    proof = audit_log.inclusion_proof(session, index, size)
    return {
        "index": index,
        "entry": entry[0].body(),
        "leaf_hash": entry[0].leaf_hash.hex(),
        "tree_size": size,
        "inclusion_proof": [p.hex() for p in proof],
        "signed_tree_head": sth.to_dict(),
    }


def proof_document(s: Session, index: int, size: int | None) -> dict[str, Any]:
    """Inclusion proof of entry ``index``: under the signed head of that size if one exists.

    What ``dangan audit proof`` prints and an inspector checks offline with
    ``dangan.packages.merkle.verify_inclusion``.
    """
    stored = head_covering(s, index, size)
    if stored is not None:
        doc = receipt_evidence(s, index, stored.sth)
        doc["root_hex"] = stored.head.root_hex
    else:
        size = audit_log.tree_size(s) if size is None else size
        entry = audit_log.entries(s, index, index + 1)
        if not entry or index >= size:
            raise audit_log.AuditLogError(f"第 {index} 条审计记录不在大小为 {size} 的树中")
        doc = {
            "index": index,
            "entry": entry[0].body(),
            "leaf_hash": entry[0].leaf_hash.hex(),
            "tree_size": size,
            "inclusion_proof": [p.hex() for p in audit_log.inclusion_proof(s, index, size)],
            "signed_tree_head": None,
            "root_hex": audit_log.root(s, size).hex(),
        }
    doc["how_to_verify"] = (
        "leaf = SHA-256(0x00 || entry 的规范 JSON：键排序、无空格、UTF-8)；"
        "dangan.packages.merkle.verify_inclusion(leaf, index, tree_size, proof, root) 为真，"
        "且 root 等于签名树头中的 root_hex（签名用档案馆公钥以 tree_head.verify_tree_head 核对）"
    )
    return doc
