"""Errors of the archive core, each with a stable code and an actionable message."""

from __future__ import annotations

from typing import Any


class ArchiveError(Exception):
    code = "archive.error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotInitialised(ArchiveError):
    code = "archive.not_initialised"


class AlreadyInitialised(ArchiveError):
    code = "archive.already_initialised"


class ConfigError(ArchiveError):
    code = "archive.config"


class NotFound(ArchiveError):
    code = "archive.not_found"


class TrustStoreError(ArchiveError):
    code = "archive.trust_store"


class StoreError(ArchiveError):
    code = "archive.store"


class ConflictError(ArchiveError):
    code = "archive.conflict"
