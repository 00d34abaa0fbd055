"""Errors of the packages layer.

Each error carries a stable ``code`` (for machines: exit codes, JSON errors) and a
message a person can act on. ``details`` holds ``Problem`` records (``problem.py``),
kept in their JSON form, so callers can report every offending file without parsing
messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .problem import Problem, as_dicts


class DanganError(Exception):
    """Base of every layer's errors (each layer derives its own hierarchy from it)."""

    code = "dangan.error"

    def __init__(self, message: str,
                 details: Iterable[Problem | dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = as_dicts(details or [])

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class PackageError(DanganError):
    """Base of every error raised by ``dangan.packages``."""

    code = "package.error"


class UnsafeContainer(PackageError):
    """A ZIP (submission or OFD) that cannot be opened safely: path escape, link, bomb."""

    code = "package.unsafe_container"


class NameClash(UnsafeContainer):
    """Two entries whose names are equal after NFC normalisation or case folding."""

    code = "package.name_clash"


class FormatError(PackageError):
    """A file that does not decode as the format it claims or was identified as."""

    code = "package.format"


class SignatureError(PackageError):
    """A signature that is missing, malformed, made with an unknown key, or does not verify."""

    code = "package.signature"


class KeyError_(PackageError):
    """A key that cannot be loaded (wrong passphrase, unsupported algorithm, bad PEM)."""

    code = "package.key"


class AIPInvalid(PackageError):
    """An AIP that fails structural, manifest or signature validation."""

    code = "package.aip_invalid"
