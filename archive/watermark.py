"""Visible watermarks on what leaves the reading room (downloads, prints, on-screen PDFs).

Why: a copy that walks out must say who took it and when (DB 6523/T 370 利用). PDFs get
an overlay page drawn by reportlab with a CJK font, merged onto every page with pypdf;
images are stamped with Pillow. Scans in TIFF are converted to PNG for browsers.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .fonts import cjk_font_path

_FONT_NAME = "DanganWatermark"


@lru_cache(maxsize=1)
def _reportlab_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = cjk_font_path()
    if path is None:
        return "Helvetica"
    kwargs = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
    pdfmetrics.registerFont(TTFont(_FONT_NAME, path, **kwargs))
    return _FONT_NAME


def _overlay(width: float, height: float, text: str) -> bytes:
    from reportlab.lib.colors import Color
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    font = _reportlab_font()
    c.setFillColor(Color(0.75, 0.1, 0.1, alpha=0.28))
    size = max(9.0, min(width, height) / 28)
    c.setFont(font, size)
    c.saveState()
    c.translate(width / 2, height / 2)
    c.rotate(35)
    for dy in (-2.5, 0, 2.5):
        c.drawCentredString(0, dy * size * 4, text)
    c.restoreState()
    c.setFont(font, 8)
    c.drawString(12, 10, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def watermark_pdf(data: bytes, text: str) -> bytes:
    """Every page of ``data`` with ``text`` stamped across it and in the footer."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    overlays: dict[tuple[float, float], object] = {}
    for page in writer.pages:
        box = page.mediabox
        key = (float(box.width), float(box.height))
        if key not in overlays:
            overlays[key] = PdfReader(io.BytesIO(_overlay(*key, text))).pages[0]
        page.merge_page(overlays[key])  # type: ignore[arg-type]
    writer.add_metadata({"/Subject": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = cjk_font_path()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size)


def watermark_image(data: bytes, text: str, *, max_side: int | None = None) -> bytes:
    """A PNG of the image (TIFF and JPEG included) with ``text`` stamped on it."""
    with Image.open(io.BytesIO(data)) as im:
        im.seek(0)
        img = im.convert("RGB")
    return stamp_image(img, text, max_side=max_side)


def stamp_image(img: Image.Image, text: str, *, max_side: int | None = None) -> bytes:
    """A PNG of an image already decoded (e.g. a drawn OFD page) with ``text`` stamped."""
    img = img.convert("RGB")
    if max_side:
        img.thumbnail((max_side, max_side))
    if text:
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        size = max(12, min(img.size) // 24)
        font = _font(size)
        for i, y in enumerate(range(size, img.size[1], size * 5)):
            draw.text((size * (i % 3), y), text, font=font, fill=(190, 20, 20, 90))
        draw.text((8, img.size[1] - size - 8), text, font=font, fill=(190, 20, 20, 200))
        img = Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")
    out = io.BytesIO()
    img.save(out, "PNG", optimize=False)
    return out.getvalue()


def thumbnail(data: bytes, side: int = 240) -> bytes:
    """A small PNG of a scan, for the viewer's strip (no watermark: too small to leave)."""
    return watermark_image(data, "", max_side=side)
