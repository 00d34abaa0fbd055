"""The state of one case on its way into the archive, carried through the named steps.

``service`` moves a ``Filing`` top to bottom: receive → check → identify → seal a draft
→ the filing window (allocate the code, confirm the draft or seal again, store,
catalogue, log) → follow-ups. Each step reads what the earlier ones left here instead of
passing a dozen loose arguments, and a step's result (a ``Placement``, a ``Sealed`` AIP)
is a value it returns, never a change made behind the caller's back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dangan.archive.instance import Archive
from dangan.packages.aip import AIPInput, BuiltAIP
from dangan.packages.checks import CheckContext, CheckReport

from . import records
from .intake import ReceivedSubmission


@dataclass(frozen=True)
class Placement:
    """Where a case goes in the catalogue: its archival code, version, superseded AIP."""

    archival_code: str
    version: int
    supersedes: dict[str, Any] | None


@dataclass(frozen=True)
class Sealed:
    """A built, checked and signed AIP with the catalogue rows that describe it.

    ``record`` is what GD-3-2 was run on: the rows as built (a draft) or as read back
    inside the filing window.
    """

    inp: AIPInput
    built: BuiltAIP
    item: records.Item
    report: CheckReport
    record: dict[str, Any] | None
    placement: Placement


@dataclass
class Filing:
    """One received, checked submission and what the filing steps made of it."""

    archive: Archive
    sub: ReceivedSubmission
    ctx: CheckContext  # the submission's check context (stage GD)
    report: CheckReport  # the submission checks' report
    staging: Path
    received_at: datetime
    actor: str
    index_ocr: bool | None  # None: not indexed right after filing
    aip_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    identified: dict[str, dict[str, Any]] = field(default_factory=dict)  # technical facts
    draft: Sealed | None = None  # sealed ahead of the window, if that could help

    @property
    def case(self) -> dict[str, Any]:
        return self.sub.case

    @property
    def dest(self) -> Path:
        """Where this filing's AIP is built, inside its staging folder."""
        return self.staging / self.aip_id
