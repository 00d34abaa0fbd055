"""The four-nature (真实性、完整性、可用性、安全性) check engine and its check items."""

from __future__ import annotations

import importlib

from .context import CheckContext, FileFacts, FilingRule, TrustedKey
from .engine import (
    REGISTRY,
    CheckReport,
    CheckResult,
    Nature,
    Result,
    Stage,
    Verdict,
    check,
    run_checks,
)

# Modules holding check items; each registers its checks on import.
ITEM_MODULES = (
    "items_metadata",
    "items_source",
    "items_linkage",
    "items_process",
    "items_content",
    "items_security",
    "items_package",
    "items_catalogue",
)

_loaded = False


def load_items() -> None:
    global _loaded
    if _loaded:
        return
    for name in ITEM_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    _loaded = True


__all__ = [
    "REGISTRY",
    "CheckContext",
    "CheckReport",
    "CheckResult",
    "FileFacts",
    "FilingRule",
    "Nature",
    "Result",
    "Stage",
    "TrustedKey",
    "Verdict",
    "check",
    "load_items",
    "run_checks",
]
