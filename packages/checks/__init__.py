"""The four-nature (真实性、完整性、可用性、安全性) check engine and its check items."""

from __future__ import annotations

import importlib

from .context import CheckContext, FileFacts, FilingRule, TrustedKey
from .engine import (
    CheckRegistry,
    CheckReport,
    CheckResult,
    Nature,
    Result,
    Stage,
    Verdict,
    check,
    run_checks,
)

# The item modules Dangan ships; a new item module is added here.
ITEM_MODULES = (
    "items_metadata",
    "items_special_chars",
    "items_source",
    "items_linkage",
    "items_process",
    "items_content",
    "items_security",
    "items_package",
    "items_catalogue",
)


def default_registry() -> CheckRegistry:
    """A registry of every check item Dangan ships (``ITEM_MODULES``), filled explicitly.

    Built fresh on each call (cheap once the modules are imported); an archive keeps the
    one its composition root built (``Archive.checks``). The item modules are imported
    here, not when this package is: ``packages.aip`` imports the check context, and the
    package items import ``packages.aip``.
    """
    registry = CheckRegistry()
    for name in ITEM_MODULES:
        registry.add_module(importlib.import_module(f"{__name__}.{name}"))
    return registry


__all__ = [
    "CheckContext",
    "CheckRegistry",
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
    "default_registry",
    "run_checks",
]
