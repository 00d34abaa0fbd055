"""Technical facts of each content file (format by content, pages, scan DPI).

They go into the AIP description (格式信息, 数字化属性) and the catalogue. Parses the
checks already made are reused from the check context's memo.
"""

from __future__ import annotations

from typing import Any

from dangan.packages.checks import CheckContext
from dangan.packages.formats.identify import JPEG, OFD, PDF, PNG, TIFF, identify
from dangan.packages.formats.image import inspect_image
from dangan.packages.formats.ofd import read_ofd
from dangan.packages.formats.pdf import inspect_pdf


def _dpi(pair: tuple[float, float] | None) -> int | None:
    return round(min(pair)) if pair else None


def identify_files(ctx: CheckContext) -> dict[str, dict[str, Any]]:
    facts: dict[str, dict[str, Any]] = {}
    for rel, f in ctx.files.items():
        fmt = ctx.memoized(f"identify:{rel}", lambda p=f.abs_path: identify(p))
        tech: dict[str, Any] = {"media_type": fmt.media_type, "format_name": fmt.name,
                                "format_version": fmt.version}
        if fmt.media_type == PDF:
            info = ctx.memoized(f"pdf:{rel}", lambda p=f.abs_path: inspect_pdf(p, with_text=False))
            tech["pages"] = info.pages or None
            dpis = [d for d in info.page_image_dpi if d]
            tech["dpi"] = min(_dpi(d) or 0 for d in dpis) if dpis else None
        elif fmt.media_type == OFD:
            info_ofd = ctx.memoized(f"ofd:{rel}", lambda p=f.abs_path: read_ofd(p))
            tech["pages"] = info_ofd.pages or None
        elif fmt.media_type in (JPEG, TIFF, PNG):
            img = ctx.memoized(f"image:{rel}", lambda p=f.abs_path: inspect_image(p))
            tech["pages"] = img.frames or 1
            tech["dpi"] = _dpi(img.dpi)
            tech["pixels"] = f"{img.width}x{img.height}"
        facts[rel] = tech
    return facts
