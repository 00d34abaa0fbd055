"""Real files for the extraction tests: Chinese PDFs, scans (PNG, TIFF, image-only PDF), XML."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    for p in FONT_CANDIDATES:
        if Path(p).is_file():
            return p
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             check=False).stdout
        for line in out.splitlines():
            path = line.split(":")[0].strip()
            if path.endswith((".ttf", ".ttc", ".otf")):
                return path
    return None


def text_pdf(path: Path, lines: list[str]) -> Path:
    """A born-digital PDF with a Chinese text layer (embedded TrueType subset)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font = cjk_font()
    assert font, "no CJK font"
    if "CJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("CJK", font, subfontIndex=0))
    c = canvas.Canvas(str(path))
    c.setFont("CJK", 14)
    y = 760
    for line in lines:
        c.drawString(72, y, line)
        y -= 24
    c.showPage()
    c.save()
    return path


def scan_image(lines: list[str], size: int = 40) -> Image.Image:
    """A clean grey-scale 'scan' of Chinese lines, as a digitized paper form looks."""
    font = ImageFont.truetype(cjk_font(), size)
    img = Image.new("L", (60 + size * max(len(x) for x in lines), 80 + int(size * 1.8) * len(lines)),
                    255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 40 + int(size * 1.8) * i), line, font=font, fill=0)
    return img


def scan_pdf(path: Path, lines: list[str]) -> Path:
    """An image-only PDF page (no text layer), as a scanner writes it."""
    scan_image(lines).convert("RGB").save(path, format="PDF", resolution=200.0)
    return path
