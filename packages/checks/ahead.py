"""Decoding the staged files ahead of the checks, while their SM3 is still being computed.

A large file's SM3 trails its copy (``sm3_trailing``); decoding it (the PDF walk, the
virus scan) needs the bytes but no digest, so the filing does it meanwhile on the other
core. The results land in the memo the checks' own accessors read (same keys, same
calls, same limits), so each check sees exactly what it would have decoded itself;
nothing here judges a file. A decoder that raises leaves no entry: the check decodes
again and reports the failure as it always did.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..formats import identify as fid
from .context import CheckContext, StagedFile
from .engine import Stage
from .items_content import IMAGE_TYPES, fmt_of, image_of, ofd_of, ofd_zip_of, pdf_of, xml_of
from .items_security import _scan, scanner_of


def decode_ahead(memo: dict[str, Any], files: Mapping[str, Path], *, pdf_limits: Any,
                 virus_scanner: Any = None) -> None:
    """Fill ``memo`` with the decodings of ``files`` (submission path → staged file) that
    the GD checks and ``identify_files`` read; ``pdf_limits`` and ``virus_scanner`` as in
    the context those checks will run with."""
    ctx = CheckContext(stage=Stage.GD, root=Path(), case_bytes=None, case=None,
                       case_error=None, signature_bytes=None, files={}, extra_entries=[],
                       pdf_limits=pdf_limits, virus_scanner=virus_scanner, memo=memo)
    for rel, path in files.items():
        ff = StagedFile(rel, path)
        try:
            mt = fmt_of(ctx, ff).media_type
            if mt == fid.PDF:
                pdf_of(ctx, ff)
            elif mt == fid.OFD:
                ofd_zip_of(ctx, ff)
                ofd_of(ctx, ff)
            elif mt in IMAGE_TYPES:
                image_of(ctx, ff)
            elif mt == fid.XML:
                xml_of(ctx, ff)
        except Exception:  # noqa: BLE001, S112 - the check decodes again and reports it
            pass
        try:
            _scan(ctx, scanner_of(ctx), ff)
        except Exception:  # noqa: BLE001, S112 - as above
            pass
