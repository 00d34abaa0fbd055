"""Where the retention and ingest workflows meet: filing a destruction register.

``retention`` and ``ingest`` do not import each other (docs/architecture.md), yet the
register (销毁清册) a destruction produces must be filed through the normal ingest path.
The entry points (CLI, ``dangan serve``, the Celery worker) sit above both, so the glue
lives here: ``file_register`` is the ``RegisterFiler`` they hand to the destruction
service, and ``complete_interrupted`` is what each of them runs at start.
"""

from __future__ import annotations

from pathlib import Path

from dangan.archive.instance import Archive
from dangan.ingest.service import ingest
from dangan.retention import destruction, transfer_confirm
from dangan.retention.errors import RetentionInputError
from dangan.retention.register import SYSTEM_ACTOR, FiledRegister


def file_register(archive: Archive, path: Path) -> FiledRegister:
    """File a staged register submission; a rerun of the same bytes gets the first receipt."""
    outcome = ingest(archive, path, actor=SYSTEM_ACTOR)
    if outcome.status not in ("archived", "duplicate") or not outcome.aip_id:
        failed = [c["code"] for c in outcome.checks if c.get("result") == "fail"]
        raise RetentionInputError(
            f"销毁清册 {path.name} 未能归档：{outcome.reason or '、'.join(failed)}",
            [{"check": c} for c in failed])
    assert outcome.archival_code is not None and outcome.sha256 is not None
    return FiledRegister(outcome.aip_id, outcome.archival_code, outcome.sha256)


def complete_interrupted(archive: Archive) -> list[destruction.DestructionView]:
    """Finish every destruction (and register filing) and every transfer confirmation an
    interrupted run left; the destructions finished are returned."""
    done = destruction.resume(archive, file_register)
    transfer_confirm.resume(archive)
    return done
