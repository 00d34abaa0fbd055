"""Errors of the filing workflow. ``UnusableSubmission`` maps to exit code 2."""

from __future__ import annotations

from dangan.packages.errors import DanganError


class IngestError(DanganError):
    code = "ingest.error"


class UnusableSubmission(IngestError):
    """Not a case submission, unreadable, or unsafe to open: nothing can be checked."""

    code = "ingest.unusable_submission"


class CaseTooLarge(UnusableSubmission):
    """case.json exceeds the configured bytes, counts or nesting: refused unparsed."""

    code = "ingest.case_too_large"


class CaseTextInvalid(UnusableSubmission):
    """case.json holds text no archive format can carry (control characters, lone surrogates)."""

    code = "ingest.case_invalid_text"


class NameCollision(UnusableSubmission):
    """Two names in the submission that one file system would take for the same file."""

    code = "ingest.name_collision"
