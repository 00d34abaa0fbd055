"""Technical facts of each content file (format by content, pages, scan DPI).

They go into the AIP description (格式信息, 数字化属性) and the catalogue. Each file is
identified and parsed once per filing: the facts are read through the same memoised
accessors the content checks use, so what the checks already decoded is reused.
"""

from __future__ import annotations

from typing import Any

from dangan.packages.checks import CheckContext
from dangan.packages.checks.items_content import fmt_of, image_of, ofd_of, pdf_of
from dangan.packages.formats.identify import JPEG, OFD, PDF, PNG, TIFF


def _dpi(pair: tuple[float, float] | None) -> int | None:
    return round(min(pair)) if pair else None


def identify_files(ctx: CheckContext) -> dict[str, dict[str, Any]]:
    facts: dict[str, dict[str, Any]] = {}
    for rel, f in ctx.files.items():
        fmt = fmt_of(ctx, f)
        tech: dict[str, Any] = {"media_type": fmt.media_type, "format_name": fmt.name,
                                "format_version": fmt.version}
        if fmt.media_type == PDF:
            info = pdf_of(ctx, f)
            tech["pages"] = info.pages or None
            dpis = [d for d in info.page_image_dpi if d]
            tech["dpi"] = min(_dpi(d) or 0 for d in dpis) if dpis else None
        elif fmt.media_type == OFD:
            info_ofd = ofd_of(ctx, f)
            tech["pages"] = info_ofd.pages or None
        elif fmt.media_type in (JPEG, TIFF, PNG):
            img = image_of(ctx, f)
            tech["pages"] = img.frames or 1
            tech["dpi"] = _dpi(img.dpi)
            tech["pixels"] = f"{img.width}x{img.height}"
        facts[rel] = tech
    return facts
