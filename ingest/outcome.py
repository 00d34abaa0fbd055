"""What filing one submission comes to: archived, duplicate or rejected, with the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dangan.archive.timeutil import iso


@dataclass
class IngestOutcome:
    status: str  # archived | duplicate | rejected
    checks: list[dict[str, Any]]
    received_at: datetime
    aip_id: str | None = None
    archival_code: str | None = None
    version: int | None = None
    sha256: str | None = None
    receipt: dict[str, Any] | None = None
    rejection_id: int | None = None
    reason: str | None = None
    case_id: str | None = None
    source_system: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 3 if self.status == "rejected" else 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.status in ("archived", "duplicate"):
            out.update(
                aip_id=self.aip_id,
                archival_code=self.archival_code,
                version=self.version,
                sha256=self.sha256,
                received_at=self.receipt["received_at"] if self.receipt else iso(self.received_at),
                receipt=self.receipt,
            )
        else:
            out.update(received_at=iso(self.received_at), rejection_id=self.rejection_id,
                       reason=self.reason)
        out["source_system"] = self.source_system
        out["case_id"] = self.case_id
        out["checks"] = self.checks
        return out
