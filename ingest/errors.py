"""Errors of the filing workflow. ``UnusableSubmission`` maps to exit code 2."""

from __future__ import annotations

from typing import Any


class IngestError(Exception):
    code = "ingest.error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class UnusableSubmission(IngestError):
    """Not a case submission, unreadable, or unsafe to open: nothing can be checked."""

    code = "ingest.unusable_submission"
