"""Instance configuration: ``dangan.toml`` under the instance home, overridden by env.

The home is ``$DANGAN_HOME`` (default ``./dangan-data``). Environment variables win over
the file so that secrets (``DANGAN_KEY_PASSPHRASE``, never written in the home) and the database URL
(``DANGAN_DATABASE_URL``) need not be written down.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dangan.packages.checks.context import DEFAULT_MEDIA_TYPES as ARCHIVAL_MEDIA_TYPES
from dangan.packages.formats.pdf import PdfLimits

from .errors import ConfigError

CONFIG_FILE = "dangan.toml"
DEFAULT_HOME = "dangan-data"

DEFAULT_MEDIA_TYPES = sorted(ARCHIVAL_MEDIA_TYPES)


@dataclass
class Settings:
    home: Path
    fonds: str = "Z001"
    organization: str = "示范市社会保险事业管理中心"
    doc_class: str = "SB"
    item_width: int = 5
    database_url: str = ""
    store_path: str = "store"
    replica_path: str = "replica"
    archive_key_id: str = ""
    key_passphrase_file: str = ""  # outside the home, 0600 (docs/key-custody.md)
    min_scan_dpi: int = 200
    allowed_media_types: list[str] = field(default_factory=lambda: list(DEFAULT_MEDIA_TYPES))
    max_submission_bytes: int = 4 << 30
    max_entries: int = 10_000
    max_ratio: float = 200.0
    max_case_json_bytes: int = 16 << 20
    max_case_events: int = 1000
    max_case_parties: int = 1001
    max_case_files: int = 10_000
    pdf_max_pages: int = 5_000
    pdf_max_objects: int = 50_000
    pdf_max_depth: int = 1_000
    ocr_at_ingest: bool = True  # OCR scans when a single case is indexed at filing
    ocr_engine: str = "rapidocr"  # rapidocr | tesseract (search/ocr.py falls back if missing)

    @property
    def ocr_on_ingest(self) -> bool:
        env = os.environ.get("DANGAN_OCR_AT_INGEST")
        return self.ocr_at_ingest if env is None else env not in ("0", "false", "no")

    @property
    def pdf_limits(self) -> PdfLimits:
        """The ``[limits] pdf_*`` bounds, for every check context (filing and audits alike)."""
        return PdfLimits(max_pages=self.pdf_max_pages, max_objects=self.pdf_max_objects,
                         max_depth=self.pdf_max_depth)

    @property
    def config_file(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def db_url(self) -> str:
        return os.environ.get("DANGAN_DATABASE_URL") or self.database_url or (
            f"sqlite:///{(self.home / 'catalogue.sqlite3').resolve()}"
        )

    def path(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.home / p

    def to_toml(self) -> str:
        media = ", ".join(f'"{m}"' for m in self.allowed_media_types)
        db_line = f'url = "{self.database_url}"' if self.database_url else (
            '# url = "postgresql+psycopg://user@127.0.0.1:5432/dangan"  (default: SQLite in the home)'
        )
        pass_line = (f'key_passphrase_file = {json.dumps(self.key_passphrase_file, ensure_ascii=False)}'
                     '  # 0600, outside the home'
                     if self.key_passphrase_file else
                     '# key_passphrase_file = "/etc/dangan/passphrase"  (or DANGAN_KEY_PASSPHRASE,'
                     ' or the systemd credential dangan-key-passphrase; see docs/key-custody.md)')
        return f"""# Dangan instance configuration. Environment variables override:
# DANGAN_DATABASE_URL, DANGAN_KEY_PASSPHRASE, DANGAN_OCR_AT_INGEST, DANGAN_OCR_ENGINE.

[archive]
fonds = "{self.fonds}"                # 全宗号
organization = "{self.organization}"  # 立档单位
doc_class = "{self.doc_class}"        # 门类代码 (社会保险业务档案)
item_width = {self.item_width}        # 件号位数

[database]
{db_line}

[store]
path = "{self.store_path}"
replica = "{self.replica_path}"

[keys]
archive_key_id = "{self.archive_key_id}"
{pass_line}

[checks]
min_scan_dpi = {self.min_scan_dpi}
allowed_media_types = [{media}]

[search]
ocr_at_ingest = {str(self.ocr_at_ingest).lower()}  # else scans wait for dangan search reindex

[ocr]
engine = "{self.ocr_engine}"  # rapidocr (PP-OCR, default) | tesseract (chi_sim; DANGAN_OCR_ENGINE wins)

[limits]
max_submission_bytes = {self.max_submission_bytes}
max_entries = {self.max_entries}
max_ratio = {self.max_ratio}
max_case_json_bytes = {self.max_case_json_bytes}  # case.json is refused unparsed beyond these
max_case_events = {self.max_case_events}
max_case_parties = {self.max_case_parties}          # applicant + subjects
max_case_files = {self.max_case_files}
pdf_max_pages = {self.pdf_max_pages}               # a PDF beyond these is refused (GD-3-4)
pdf_max_objects = {self.pdf_max_objects}
pdf_max_depth = {self.pdf_max_depth}
"""


def resolve_home(home: str | Path | None = None) -> Path:
    return Path(home or os.environ.get("DANGAN_HOME") or DEFAULT_HOME).resolve()


def load_settings(home: str | Path | None = None) -> Settings:
    root = resolve_home(home)
    settings = Settings(home=root)
    path = root / CONFIG_FILE
    if not path.exists():
        return settings
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {path} 无法解析：{exc}") from exc
    _apply(settings, data, path)
    if settings.ocr_engine not in OCR_ENGINES:
        raise ConfigError(f"配置文件 {path}：ocr.engine 应为 {' 或 '.join(OCR_ENGINES)}，"
                          f"实际为 {settings.ocr_engine!r}")
    return settings


_FIELDS: dict[tuple[str, str], tuple[str, type]] = {
    ("archive", "fonds"): ("fonds", str),
    ("archive", "organization"): ("organization", str),
    ("archive", "doc_class"): ("doc_class", str),
    ("archive", "item_width"): ("item_width", int),
    ("database", "url"): ("database_url", str),
    ("store", "path"): ("store_path", str),
    ("store", "replica"): ("replica_path", str),
    ("keys", "archive_key_id"): ("archive_key_id", str),
    ("keys", "key_passphrase_file"): ("key_passphrase_file", str),
    ("checks", "min_scan_dpi"): ("min_scan_dpi", int),
    ("checks", "allowed_media_types"): ("allowed_media_types", list),
    ("limits", "max_submission_bytes"): ("max_submission_bytes", int),
    ("limits", "max_entries"): ("max_entries", int),
    ("limits", "max_ratio"): ("max_ratio", float),
    **{("limits", name): (name, int) for name in (
        "max_case_json_bytes", "max_case_events", "max_case_parties", "max_case_files",
        "pdf_max_pages", "pdf_max_objects", "pdf_max_depth")},
    ("search", "ocr_at_ingest"): ("ocr_at_ingest", bool),
    ("ocr", "engine"): ("ocr_engine", str),
}
OCR_ENGINES = ("rapidocr", "tesseract")


def _apply(settings: Settings, data: dict[str, Any], path: Path) -> None:
    for section, values in data.items():
        if not isinstance(values, dict):
            raise ConfigError(f"配置文件 {path}：[{section}] 应为一个节")
        for key, value in values.items():
            target = _FIELDS.get((section, key))
            if target is None:
                raise ConfigError(f"配置文件 {path}：未知配置项 {section}.{key}")
            attr, kind = target
            if kind is float and isinstance(value, int):
                value = float(value)
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
                raise ConfigError(
                    f"配置文件 {path}：{section}.{key} 应为 {kind.__name__}，实际为 {value!r}"
                )
            setattr(settings, attr, value)
