"""Errors of the filing workflow. ``UnusableSubmission`` maps to exit code 2."""

from __future__ import annotations

from dangan.packages.errors import DanganError


class IngestError(DanganError):
    code = "ingest.error"


class UnusableSubmission(IngestError):
    """Not a case submission, unreadable, or unsafe to open: nothing can be checked."""

    code = "ingest.unusable_submission"
