"""What a check may look at: plain data gathered by the caller before the run.

``packages`` imports no other layer, so everything a check needs from the catalogue or
the trust store arrives here as data (``TrustedKey``, ``FilingRule``, ``CatalogueFacts``).
Expensive per-file work (decoding a PDF) is memoised in ``memo`` so two checks that
need the same parse share it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar

from ..case_schema import FILES_DIR as FILES_DIR  # re-exported: the submission layout
from ..case_schema import submission_path
from .engine import Stage

T = TypeVar("T")

CASE_JSON = "case.json"
CASE_SIG = "case.json.sig"

DEFAULT_MEDIA_TYPES = frozenset(
    {
        "application/pdf",
        "application/ofd",
        "image/jpeg",
        "image/tiff",
        "image/png",
        "application/xml",
    }
)


@dataclass(frozen=True)
class TrustedKey:
    """A case-handling system's registered public key (trust store entry)."""

    system: str
    key_id: str
    algorithm: str  # "ed25519" | "ecdsa-p256-sha256" | "sm2-sm3"
    public_key_pem: bytes
    revoked: bool = False


@dataclass(frozen=True)
class FilingRule:
    """The filing configuration (归档配置) of one service item."""

    code: str
    name: str
    category: str  # 管理类 / 征缴类 / 记录类 / 支付类 / 其他类
    category_code: str  # GL / ZJ / JL / ZF / QT
    retention: str  # Y / D100 / D50 / D30 / D10
    classification_code: str
    required_documents: Mapping[str, tuple[str, ...]]  # outcome -> document kinds
    legal_basis: str = ""


@dataclass(frozen=True)
class FileFacts:
    """One file present in the received submission, measured from its bytes."""

    rel_path: str  # posix path relative to the submission root, e.g. "files/form.pdf"
    abs_path: Path
    size: int
    sha256: str
    sm3: str


class Staged(Protocol):
    """Where a file lies: all that the memoised decoders (``items_content``) read of it."""

    @property
    def rel_path(self) -> str: ...

    @property
    def abs_path(self) -> Path: ...


class StagedFile(NamedTuple):
    """A staged file before its digests are all known (``decode_ahead``)."""

    rel_path: str
    abs_path: Path


@dataclass(frozen=True)
class PriorRecord:
    """A version of a case already in the catalogue."""

    aip_id: str
    archival_code: str
    case_sha256: str
    version: int
    status: str = "active"


@dataclass
class CatalogueFacts:
    """What the catalogue already holds that bears on this submission (GD-1-8)."""

    same_case: list[PriorRecord] = field(default_factory=list)
    supersedes_target: PriorRecord | None = None
    decision_no_holders: list[str] = field(default_factory=list)  # archival codes


@dataclass
class CheckContext:
    stage: Stage
    root: Path
    case_bytes: bytes | None
    case: dict[str, Any] | None
    case_error: str | None
    signature_bytes: bytes | None
    files: dict[str, FileFacts]
    extra_entries: list[str]
    trusted_keys: list[TrustedKey] = field(default_factory=list)
    filing_rules: Mapping[str, FilingRule] = field(default_factory=dict)
    catalogue: CatalogueFacts = field(default_factory=CatalogueFacts)
    allowed_media_types: frozenset[str] = DEFAULT_MEDIA_TYPES
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    min_scan_dpi: int = 200
    virus_scanner: Any = None  # packages.formats.virus.VirusScanner
    pdf_limits: Any = None  # packages.formats.pdf.PdfLimits; None: its defaults
    archival_code: str | None = None
    archival_code_rule: Any = None  # packages.archival_code.ArchivalCodeRule
    aip_root: Path | None = None
    archive_public_key_pem: bytes | None = None  # verifies the AIP signature (GD-1-14)
    catalogue_record: dict[str, Any] | None = None  # rows read back after staging (GD-3-2)
    # The one full validation of the AIP at ``aip_root`` (``aip.inspect_aip``): a pair
    # (AIPValidation, BagView | None). The package checks fill it on first use; a caller
    # that already validated the AIP (fixity, verification) passes it in.
    aip_inspection: tuple[Any, Any] | None = None
    memo: dict[str, Any] = field(default_factory=dict)

    def file_entries(self) -> list[dict[str, Any]]:
        """The ``files`` of case.json that are objects; [] when case.json is unusable."""
        if not isinstance(self.case, dict):
            return []
        files = self.case.get("files")
        if not isinstance(files, list):
            return []
        return [f for f in files if isinstance(f, dict)]

    def listed_path(self, entry: dict[str, Any]) -> str | None:
        """The submission-relative path (``files/…``) of a case.json file entry."""
        return submission_path(entry.get("path"))

    def for_aip(self, root: Path, archival_code: str, public_key_pem: bytes | None, *,
                catalogue_record: dict[str, Any] | None = None) -> CheckContext:
        """A copy pointed at a (re)built AIP, for its package and catalogue checks.

        The per-file parses in ``memo`` are shared (the content files are the same);
        nothing read of another AIP is, and the context checked so far is left as it was.
        """
        return replace(self, aip_root=root, archival_code=archival_code,
                       archive_public_key_pem=public_key_pem, aip_inspection=None,
                       catalogue_record=catalogue_record)

    def memoized(self, key: str, compute: Callable[[], T]) -> T:
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]
