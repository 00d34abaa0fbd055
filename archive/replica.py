"""Replicas (副本): a second, independently written copy of every AIP.

Why: a write-once store still rots, and an insider can still edit or delete a file in
it; a second copy in another place (``[store] replica`` — another folder by default, in
production another disk or site) lets a fixity audit restore a damaged copy. A copy is
published only after its own bytes were proven equal to what was filed: every file is
copied and hashed (SHA-256 and SM3) in one read (a content file the filing already
wrote for the replica from its own single read is moved in with its digests instead),
then the copy is validated as an AIP
against those digests and the archive key, and its manifest-set digest must equal the
one recorded when the case was filed. The copy is staged beside the target and renamed
into place in one step (``AIPStore.commit``), read-only like the primary.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dangan.packages import vocabulary as V
from dangan.packages.aip import AIPValidation, inspect_aip
from dangan.packages.digests import Digests, copy_and_digest
from dangan.packages.problem import Problem

from . import audit_log
from .errors import ArchiveError, NotFound, StoreError
from .instance import Archive
from .models import Item
from .store import AIPStore, remove_tree
from .timeutil import utcnow
from .transfer_records import sealing_key

PRIMARY = "primary"
REPLICA = "replica"
COPY_NAMES = V.COPIES
QUARANTINE = "quarantine"
SYSTEM_ACTOR = "system:replica"


class ReplicaError(ArchiveError):
    """A copy could not be made or proven equal to what was filed; nothing was published."""

    code = "archive.replica"


def replica_store(archive: Archive) -> AIPStore:
    """The second store location (``settings.replica_path``, default ``<home>/replica``)."""
    return AIPStore(archive.settings.path(archive.settings.replica_path))


def stores(archive: Archive) -> dict[str, AIPStore]:
    """Every copy location by name, primary first."""
    return {PRIMARY: archive.store, REPLICA: replica_store(archive)}


@dataclass
class CopyCheck:
    """What copying one AIP proved: the copy's validation and the digests of its bytes."""

    validation: AIPValidation
    digests: dict[str, Digests]
    expected_digest: str | None

    @property
    def bytes(self) -> int:
        return sum(d.size for d in self.digests.values())

    @property
    def problems(self) -> list[dict[str, Any]]:
        out = list(self.validation.problems)
        found = self.validation.aip_digest
        if self.expected_digest is not None and found != self.expected_digest:
            out.append(Problem(
                "reference.digest_mismatch", "tagmanifest-sha256.txt",
                expected=self.expected_digest, found=found,
                note="副本的清单集摘要（tagmanifest-sha256.txt 的 SHA-256）与归档时登记的不符").to_dict())
        return out

    @property
    def ok(self) -> bool:
        return not self.problems


Prepared = dict[str, tuple[Path, Digests]]  # bag path → a copy written at intake, its digests


def copy_tree_hashed(src: Path, dest: Path, prepared: Prepared | None = None) -> dict[str, Digests]:
    """Copy every regular file under ``src`` to the new folder ``dest``; one read per file.

    Returns bag-relative path → digests of the bytes written. Links and special files
    are not copied (an AIP has none; validation of the source reports them). A file in
    ``prepared`` of the source's size is moved in instead: it was written at intake from
    the same read (and the same digests) as the primary's copy, so it is not read again.
    """
    out: dict[str, Digests] = {}
    dest.mkdir(parents=True)
    for dirpath, dirnames, filenames in os.walk(src):
        rel_dir = Path(dirpath).relative_to(src)
        for name in sorted(dirnames):
            if not (Path(dirpath) / name).is_symlink():
                (dest / rel_dir / name).mkdir()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            mode = path.lstat()
            if not stat.S_ISREG(mode.st_mode):
                continue
            rel = (rel_dir / name).as_posix()
            ready = (prepared or {}).get(rel)
            if ready is not None and _same_size(ready, mode.st_size):
                os.replace(ready[0], dest / rel)
                out[rel] = ready[1]
            else:
                out[rel] = copy_and_digest(path, dest / rel)
    return out


def _same_size(ready: tuple[Path, Digests], size: int) -> bool:
    try:
        return ready[0].lstat().st_size == ready[1].size == size
    except OSError:
        return False


def copy_and_verify(src: Path, dest: Path, public_pem: bytes,
                    expected_digest: str | None, prepared: Prepared | None = None) -> CopyCheck:
    """Copy the AIP at ``src`` to ``dest`` and validate the copy from the bytes written."""
    digests = copy_tree_hashed(src, dest, prepared)
    payload = {p: d for p, d in digests.items() if p.startswith("data/")}
    validation, _ = inspect_aip(dest, public_pem, known_digests=payload)
    return CopyCheck(validation, digests, expected_digest)


def _filed_digest(archive: Archive, aip_id: str) -> str:
    with archive.db.session() as s:
        digest = s.scalar(select(Item.aip_sha256).where(Item.aip_id == aip_id))
    if digest is None:
        raise NotFound(f"目录中没有 AIP {aip_id}")
    return digest


def _publish(archive: Archive, src: Path, target: AIPStore, aip_id: str,
             expected: str, prepared: Prepared | None = None) -> tuple[Path, CopyCheck]:
    """Stage a verified copy of ``src`` in ``target`` and rename it into place."""
    staging = target.new_staging()
    try:
        check = copy_and_verify(src, staging / aip_id, sealing_key(archive, aip_id), expected,
                                prepared)
        if not check.ok:
            notes = "；".join(p["note"] for p in check.problems[:5])
            raise ReplicaError(f"AIP {aip_id} 的复制件未通过校验，未发布：{notes}", check.problems)
        final = target.commit(staging / aip_id, aip_id)
        target.acknowledge(aip_id)
        return final, check
    finally:
        remove_tree(staging)


def write_replica(archive: Archive, aip_id: str, *, actor: str = SYSTEM_ACTOR,
                  prepared: Prepared | None = None) -> Path:
    """Write the replica of a just-filed AIP (idempotent); log ``replica:write``.

    The copy is verified against the digest recorded at filing before it is published;
    an existing replica is left as it is (fixity audits check and repair it).
    ``prepared``: content files the filing already wrote for the replica (intake, one
    read for both copies), moved in rather than copied; the copy is validated the same
    way, with the digests taken when those bytes were written.
    """
    target = replica_store(archive)
    if target.exists(aip_id):
        return target.path(aip_id)
    expected = _filed_digest(archive, aip_id)
    src = archive.store.path(aip_id)
    if not src.is_dir():
        raise StoreError(f"主存储中没有 AIP {aip_id}，无法写入副本：请运行 dangan fixity run")
    final, check = _publish(archive, src, target, aip_id, expected, prepared)
    audit_log.record(
        archive.db, actor=actor, action="replica:write", object_id=aip_id,
        object_digest=check.validation.aip_digest,
        details={"location": REPLICA, "store_key": target.key_for(aip_id),
                 "files": len(check.digests), "bytes": check.bytes},
    )
    return final


def backfill(archive: Archive, *, actor: str = SYSTEM_ACTOR) -> list[str]:
    """Write the replica of every catalogued AIP that has none yet; return their ids.

    An AIP missing from the primary store is skipped here: the fixity audit reports it
    and restores it from its replica if that copy verifies.
    """
    target = replica_store(archive)
    target.ensure()
    target.sweep_staging()
    for marker in list(target.pending.iterdir()):
        target.acknowledge(marker.name)  # published copies were verified before the rename
    with archive.db.session() as s:
        ids = list(s.scalars(select(Item.aip_id).order_by(Item.archived_at, Item.aip_id)))
    written = []
    for aip_id in ids:
        if target.exists(aip_id) or not archive.store.exists(aip_id):
            continue
        write_replica(archive, aip_id, actor=actor)
        written.append(aip_id)
    return written


def _quarantine(store: AIPStore, aip_id: str) -> Path | None:
    """Move a damaged copy aside (kept as evidence, never served); None if it is gone."""
    path = store.path(aip_id)
    if not path.exists() and not path.is_symlink():
        return None
    dest = store.root / QUARANTINE / f"{aip_id}-{utcnow().strftime('%Y%m%dT%H%M%S%fZ')}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        os.chmod(path, stat.S_IRWXU)  # moving a folder rewrites its ".." entry
    os.rename(path, dest)
    return dest


@dataclass
class Repair:
    aip_id: str
    damaged: str
    source: str
    damaged_digest: str | None
    restored_digest: str
    quarantined: str | None
    audit_index: int

    def to_dict(self) -> dict[str, Any]:
        return {"aip_id": self.aip_id, "damaged_copy": self.damaged, "source_copy": self.source,
                "damaged_digest": self.damaged_digest, "restored_digest": self.restored_digest,
                "quarantined": self.quarantined, "audit_index": self.audit_index}


def repair(archive: Archive, aip_id: str, *, damaged: str, source: str, expected: str,
           damaged_digest: str | None, problems: list[dict[str, Any]],
           actor: str = SYSTEM_ACTOR) -> Repair:
    """Replace the ``damaged`` copy with a verified copy of ``source``; log ``replica:repair``.

    The caller has verified ``source`` fully; it is verified again from the bytes copied,
    so a source that changed meanwhile is never used. The damaged copy is kept under
    ``quarantine/`` of its store.
    """
    locations = stores(archive)
    target = locations[damaged]
    src = locations[source].path(aip_id)
    staging = target.new_staging()
    try:
        check = copy_and_verify(src, staging / aip_id, sealing_key(archive, aip_id), expected)
        if not check.ok:
            notes = "；".join(p["note"] for p in check.problems[:5])
            raise ReplicaError(f"{COPY_NAMES[source]}的复制件未通过校验，未用于修复：{notes}",
                               check.problems)
        moved = _quarantine(target, aip_id)
        target.acknowledge(aip_id)  # a stale pending marker must not block the commit
        target.commit(staging / aip_id, aip_id)
        target.acknowledge(aip_id)
    finally:
        remove_tree(staging)
    entry = audit_log.record(
        archive.db, actor=actor, action="replica:repair", object_id=aip_id,
        object_digest=check.validation.aip_digest,
        details={"damaged_copy": damaged, "source_copy": source,
                 "damaged_digest": damaged_digest, "restored_digest": check.validation.aip_digest,
                 "quarantined": str(moved.relative_to(target.root)) if moved else None,
                 "problems": [{k: p.get(k) for k in ("code", "path", "expected", "found")}
                              for p in problems[:50]]},
    )
    return Repair(aip_id, damaged, source, damaged_digest, check.validation.aip_digest,
                  str(moved) if moved else None, entry.index)
