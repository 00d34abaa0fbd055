"""Errors of the archive core, each with a stable code and an actionable message."""

from __future__ import annotations

from dangan.packages.errors import DanganError


class ArchiveError(DanganError):
    code = "archive.error"


class NotInitialised(ArchiveError):
    code = "archive.not_initialised"


class AlreadyInitialised(ArchiveError):
    code = "archive.already_initialised"


class ConfigError(ArchiveError):
    code = "archive.config"


class NotFound(ArchiveError):
    code = "archive.not_found"


class CustodyTransferred(NotFound):
    """The item left this archive by a confirmed transfer (移交): the receiver holds it."""

    code = "archive.custody_transferred"


class TrustStoreError(ArchiveError):
    code = "archive.trust_store"


class StoreError(ArchiveError):
    code = "archive.store"


class ConflictError(ArchiveError):
    code = "archive.conflict"


class PassphraseError(ConfigError):
    """No usable passphrase for the archive key: none given, or one kept unsafely."""

    code = "archive.key_passphrase"


class SchemaBehind(ArchiveError):
    """The catalogue's schema is older than this software: upgrade explicitly, after a backup."""

    code = "archive.schema_behind"


class SchemaUnknown(ArchiveError):
    """The catalogue carries a schema revision this software does not know (a newer release)."""

    code = "archive.schema_unknown"


class PublicKeyError(ArchiveError):
    """A file given (or kept) as a public key is missing or not a usable key."""

    code = "archive.public_key"
