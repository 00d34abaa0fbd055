"""What follows a committed filing: the second copy and the search index entry (an outbox).

Neither may undo the filing, and neither may be lost. The filing transaction writes one
``followups`` row per step (``plan``), owned by the filing process; after the commit that
process does the work and deletes the rows (``finish``). If it dies first, or a step
fails, the rows stay: ``drain`` — run at the start of every ingest, when a worker starts
and by the ``dangan`` commands that write — takes over rows whose owner is dead or whose
lease ran out, a bounded number at a time, and finishes them. Every step is idempotent
(an existing replica is kept, indexing replaces the entry), so doing one twice is safe.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dangan.archive.instance import Archive
from dangan.archive.models import Followup
from dangan.archive.replica import Prepared, write_replica
from dangan.archive.store import pid_alive
from dangan.archive.timeutil import utcnow

from . import tasks
from .outcome import IngestOutcome

log = logging.getLogger(__name__)

REPLICA = "replica"
INDEX = "index"
LEASE = timedelta(minutes=15)  # longer than OCR of a large case takes
MAX_ATTEMPTS = 5  # then the row waits for an operator (fixity backfill / search reindex)
DRAIN_LIMIT = 20
SYSTEM_ACTOR = "system:followup"


def owner_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def plan(session: Session, aip_id: str, *, actor: str, index_ocr: bool | None,
         replaces: str | None) -> None:
    """Write a filing's follow-ups in its transaction; ``index_ocr`` None: no index step."""
    now = utcnow()
    rows = [Followup(aip_id=aip_id, kind=REPLICA, params={"actor": actor}, created_at=now,
                     owner=owner_token(), lease_until=now + LEASE, attempts=0)]
    if index_ocr is not None:
        rows.append(Followup(aip_id=aip_id, kind=INDEX,
                             params={"ocr": index_ocr, "replaces": replaces}, created_at=now,
                             owner=owner_token(), lease_until=now + LEASE, attempts=0))
    session.add_all(rows)


def index_filed(archive: Archive, outcome: IngestOutcome, ocr: bool) -> None:
    """Index a just-filed case — on a worker when a broker is configured, else here.

    A failure leaves the case archived (the index is derived data) and its follow-up
    pending for the next drain.
    """
    try:
        outcome.extra["index"] = _index(archive, outcome.aip_id or "", ocr,
                                        outcome.extra.get("supersedes_aip_id"))
    except Exception as exc:  # noqa: BLE001 - reported; the filing itself stands
        outcome.extra["index_error"] = f"{type(exc).__name__}: {exc}"
        log.warning("archived %s but could not index it (retried later): %s",
                    outcome.aip_id, exc)
        _release(archive, outcome.aip_id or "", INDEX, outcome.extra["index_error"])
        return
    outcome.extra.setdefault("followups_done", []).append(INDEX)


def replicate_filed(archive: Archive, outcome: IngestOutcome, actor: str,
                    prepared: Prepared | None = None) -> None:
    """Write the second copy (``prepared``: content files intake already wrote for it);
    a failure leaves the case archived and the step pending."""
    try:
        write_replica(archive, outcome.aip_id or "", actor=actor, prepared=prepared)
    except Exception as exc:  # noqa: BLE001 - reported; the next drain retries it
        outcome.extra["replica_error"] = f"{type(exc).__name__}: {exc}"
        log.warning("archived %s but its replica failed (retried later): %s",
                    outcome.aip_id, exc)
        _release(archive, outcome.aip_id or "", REPLICA, outcome.extra["replica_error"])
        return
    outcome.extra.setdefault("followups_done", []).append(REPLICA)


def finish(archive: Archive, outcome: IngestOutcome) -> None:
    """Delete the follow-ups this process completed for its filing (one statement)."""
    done = outcome.extra.pop("followups_done", [])
    if not done or not outcome.aip_id:
        return
    with archive.db.session() as s:
        s.execute(delete(Followup).where(Followup.aip_id == outcome.aip_id,
                                         Followup.kind.in_(done),
                                         Followup.owner == owner_token()))


def _index(archive: Archive, aip_id: str, ocr: bool, replaces: str | None) -> str:
    if tasks.queued():
        tasks.worker_app().send_task(tasks.INDEX_TASK, kwargs={
            "aip_id": aip_id, "home": str(archive.home), "ocr": ocr, "replaces": replaces})
        return "queued"
    from dangan.search.feed import index_item  # the search stack loads only to index

    index_item(archive, aip_id, ocr=ocr, replaces=replaces)
    return "done"


def _release(archive: Archive, aip_id: str, kind: str, error: str) -> None:
    """Give a failed step back to the outbox (the next drain retries it)."""
    with archive.db.session() as s:
        s.execute(update(Followup).where(
            Followup.aip_id == aip_id, Followup.kind == kind, Followup.owner == owner_token()
        ).values(owner=None, lease_until=None, attempts=Followup.attempts + 1,
                 last_error=error[:2000]))


def _abandoned(row: Followup, now: datetime, host: str) -> bool:
    """Whether nobody is doing this step: no owner, a lapsed lease, or a dead local owner."""
    if row.owner is None or row.lease_until is None or row.lease_until < now:
        return True
    owner_host, _, pid = row.owner.rpartition(":")
    return owner_host == host and pid.isdigit() and not pid_alive(int(pid))


@dataclass
class Drained:
    """One pending step taken over by ``drain``: done, or failed again."""

    id: int
    aip_id: str
    kind: str
    ok: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "aip_id": self.aip_id, "kind": self.kind, "ok": self.ok,
                "error": self.error}


def drain(archive: Archive, *, limit: int = DRAIN_LIMIT) -> list[Drained]:
    """Finish at most ``limit`` abandoned follow-ups; each claimed before it is done."""
    now, host, me = utcnow(), socket.gethostname(), owner_token()
    with archive.db.session() as s:
        rows = list(s.scalars(select(Followup).where(Followup.attempts < MAX_ATTEMPTS)
                              .order_by(Followup.id).limit(limit * 10)))
    out: list[Drained] = []
    for row in [r for r in rows if _abandoned(r, now, host)][:limit]:
        with archive.db.session() as s:  # claim: the attempt counter is the row's version
            claimed = s.execute(update(Followup).where(
                Followup.id == row.id, Followup.attempts == row.attempts
            ).values(owner=me, lease_until=utcnow() + LEASE,
                     attempts=row.attempts + 1)).rowcount == 1
        if not claimed:
            continue
        try:
            if row.kind == REPLICA:
                write_replica(archive, row.aip_id,
                              actor=(row.params or {}).get("actor") or SYSTEM_ACTOR)
            elif row.kind == INDEX:
                params = row.params or {}
                _index(archive, row.aip_id, bool(params.get("ocr")), params.get("replaces"))
            else:
                raise ValueError(f"unknown follow-up kind {row.kind!r}")
        except Exception as exc:  # noqa: BLE001 - kept for the next drain, logged
            error = f"{type(exc).__name__}: {exc}"
            log.warning("pending %s of %s failed again (attempt %d): %s", row.kind, row.aip_id,
                        row.attempts + 1, error)
            with archive.db.session() as s:
                s.execute(update(Followup).where(Followup.id == row.id).values(
                    owner=None, lease_until=None, last_error=error[:2000]))
            out.append(Drained(row.id, row.aip_id, row.kind, False, error))
            continue
        with archive.db.session() as s:
            s.execute(delete(Followup).where(Followup.id == row.id))
        log.info("finished pending %s of %s (left by %s)", row.kind, row.aip_id, row.owner)
        out.append(Drained(row.id, row.aip_id, row.kind, True))
    return out


def pending(archive: Archive) -> list[dict[str, Any]]:
    """The outbox as it stands (for reports and tests)."""
    with archive.db.session() as s:
        return [{"id": r.id, "aip_id": r.aip_id, "kind": r.kind, "owner": r.owner,
                 "attempts": r.attempts, "last_error": r.last_error}
                for r in s.scalars(select(Followup).order_by(Followup.id))]
