"""Digitized copies (纸质材料数字化副本): laid-out pages drawn as scanner images.

Pages are drawn at a real scanning resolution (200 dpi by default, A4 proportions) on a
slightly toned, noisy, minimally skewed sheet, then written as JPEG (JFIF density set),
TIFF (resolution tags; grey LZW or bilevel CCITT G4 like office scanners) or an
image-only PDF that wraps the JPEG unchanged, as a scanner's "scan to PDF" does.

Chinese glyphs need a CJK font. One is looked up once (``DANGAN_CJK_FONT``, then
``fc-list :lang=zh``, then usual font folders); without one, CJK characters are drawn as
stroke marks of the right size, so the page keeps the look and layout of a printed form
while digits and Latin text stay legible.
"""

from __future__ import annotations

import io
import math
import os
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from dangan.archive.fonts import cjk_font_path

from .layout import PAGE_H, PAGE_W, Doc, Page, Rule, Seal, Text, anchor_x, pdf_date, text_width

_LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


@lru_cache(maxsize=64)
def _font(size_px: int, cjk: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = cjk_font_path() if cjk else None
    candidates = [path] if path else []
    candidates += [p for p in _LATIN_FONTS if os.path.isfile(p)]
    for candidate in candidates:
        try:
            return ImageFont.truetype(candidate, size_px)
        except OSError:
            continue
    return ImageFont.load_default(size_px)


@lru_cache(maxsize=8)
def _paper(size: tuple[int, int], mode: str) -> Image.Image:
    """A sheet with faint scanner noise, made once per size and reused."""
    rng = random.Random(f"paper-{size}-{mode}")
    small_size = (size[0] // 8, size[1] // 8)
    noise = Image.frombytes("L", small_size, rng.randbytes(small_size[0] * small_size[1]))
    grain = noise.point(lambda v: 236 + v * 17 // 256).resize(size, Image.Resampling.BILINEAR)
    if mode == "L":
        return grain
    tint = Image.merge("RGB", (grain, grain, grain.point(lambda v: max(0, v - 9))))
    return tint


def _px(mm_value: float, dpi: int) -> float:
    return mm_value / 25.4 * dpi


def _draw_text(draw: ImageDraw.ImageDraw, t: Text, dpi: int, ink: tuple[int, ...]) -> None:
    _draw_string(draw, _px(anchor_x(t), dpi), _px(t.y, dpi), t.text, t.size, dpi, ink)


def _draw_string(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, size: float, dpi: int,
                 ink: tuple[int, ...]) -> None:
    """Draw ``text`` with its left baseline at pixel (x, y)."""
    size_px = max(8, round(size / 72 * dpi))
    if cjk_font_path() is not None:
        draw.text((x, y), text, font=_font(size_px, True), fill=ink, anchor="ls")
        return
    latin = _font(size_px, False)
    for ch in text:
        if ord(ch) >= 0x2E80:
            _stroke_glyph(draw, ch, x, y, size_px, ink)
        elif not ch.isspace():
            draw.text((x, y), ch, font=latin, fill=ink, anchor="ls")
        x += _px(text_width(ch, size), dpi)


def _stroke_glyph(draw: ImageDraw.ImageDraw, ch: str, x: float, y: float, em: int,
                  ink: tuple[int, ...]) -> None:
    """Stand-in marks for a CJK glyph when no CJK font exists: a few strokes in its em box."""
    r = random.Random(ord(ch))
    top, side = y - em * 0.82, em * 0.84
    width = max(1, em // 11)
    for _ in range(3 + ord(ch) % 4):
        if r.random() < 0.5:  # horizontal stroke
            yy = top + r.uniform(0.1, 0.9) * side
            x0 = x + r.uniform(0.05, 0.4) * side
            draw.line([(x0, yy), (x0 + r.uniform(0.3, 0.6) * side, yy)], fill=ink, width=width)
        else:  # vertical or slanted stroke
            x0 = x + r.uniform(0.1, 0.9) * side
            y0 = top + r.uniform(0.0, 0.3) * side
            draw.line([(x0, y0), (x0 + r.uniform(-0.2, 0.2) * side, y0 + r.uniform(0.4, 0.7) * side)],
                      fill=ink, width=width)


def _draw_seal(draw: ImageDraw.ImageDraw, s: Seal, dpi: int, mode: str) -> None:
    red = (205, 40, 40) if mode == "RGB" else (110,)
    cx, cy, r = _px(s.x, dpi), _px(s.y, dpi), _px(s.r, dpi)
    w = max(2, round(_px(1.0, dpi)))
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=w)
    pts = []
    for k in range(10):
        ang = -math.pi / 2 + k * math.pi / 5
        rad = r * (0.28 if k % 2 == 0 else 0.11)
        pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
    draw.polygon(pts, fill=red)
    size = min(11.0, s.r * 0.42 / (25.4 / 72))
    span = math.radians(220)
    em = _px(size * 25.4 / 72, dpi)
    for k, ch in enumerate(s.text):
        ang = -math.pi / 2 - span / 2 + span * (k + 0.5) / len(s.text)
        px = cx + (r - em * 0.85) * math.cos(ang)
        py = cy + (r - em * 0.85) * math.sin(ang)
        _draw_string(draw, px - em / 2, py + em * 0.35, ch, size, dpi, red)


def render_page(page: Page, *, dpi: int = 200, mode: str = "L", skew: float = 0.0) -> Image.Image:
    """Draw one page as a scanner would deliver it (``mode`` "L" grey or "RGB" colour)."""
    size = (round(_px(PAGE_W, dpi)), round(_px(PAGE_H, dpi)))
    img = _paper(size, mode).copy()
    draw = ImageDraw.Draw(img)
    ink: tuple[int, ...] = (38, 38, 46) if mode == "RGB" else (40,)
    for item in page.items:
        if isinstance(item, Text):
            color = tuple(item.color) if mode == "RGB" and item.color != (0, 0, 0) else ink
            _draw_text(draw, item, dpi, color)
        elif isinstance(item, Rule):
            draw.line([(_px(item.x1, dpi), _px(item.y1, dpi)), (_px(item.x2, dpi), _px(item.y2, dpi))],
                      fill=ink, width=max(1, round(_px(item.width, dpi))))
    for item in page.items:  # seals are stamped last, over the text
        if isinstance(item, Seal):
            _draw_seal(draw, item, dpi, mode)
    if skew:
        fill = (246, 246, 240) if mode == "RGB" else 246
        img = img.rotate(skew, resample=Image.Resampling.NEAREST, fillcolor=fill)
    return img


def render_scans(doc: Doc, rng: random.Random, *, dpi: int = 200, mode: str = "L") -> list[Image.Image]:
    return [render_page(p, dpi=dpi, mode=mode, skew=rng.uniform(-0.6, 0.6)) for p in doc.pages]


def to_jpeg(img: Image.Image, dpi: int, quality: int = 75) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, dpi=(dpi, dpi), optimize=False)
    return buf.getvalue()


def to_tiff(images: list[Image.Image], dpi: int, *, bilevel: bool = False) -> bytes:
    """Multi-page TIFF; ``bilevel`` writes 1-bit CCITT Group 4 like a B/W office scan."""
    frames = [im.convert("L").point(lambda v: 255 if v > 150 else 0, mode="1") if bilevel else im
              for im in images]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", compression="group4" if bilevel else "tiff_lzw",
                   dpi=(dpi, dpi), save_all=len(frames) > 1, append_images=frames[1:])
    return buf.getvalue()


def to_png(img: Image.Image, dpi: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi), compress_level=6)
    return buf.getvalue()


def image_pdf(jpegs: list[bytes], dpi: int, doc: Doc) -> bytes:
    """An image-only PDF: each page one JPEG embedded unchanged (DCTDecode), sized by its dpi.

    Written directly (a dozen objects) rather than through reportlab, which would
    ASCII85-encode the JPEG in pure Python: slower and a quarter larger.
    """
    objects: list[bytes] = []
    kids = []
    n_pages = len(jpegs)
    for k, data in enumerate(jpegs):
        with Image.open(io.BytesIO(data)) as im:
            w_px, h_px, mode = im.width, im.height, im.mode
        w_pt, h_pt = w_px / dpi * 72, h_px / dpi * 72
        page_no, image_no, content_no = 4 + 3 * k, 5 + 3 * k, 6 + 3 * k
        kids.append(f"{page_no} 0 R")
        colour = "/DeviceRGB" if mode == "RGB" else "/DeviceGray"
        content = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode("ascii")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}] "
            f"/Resources << /XObject << /Im0 {image_no} 0 R >> >> /Contents {content_no} 0 R >>"
            .encode("ascii"))
        objects.append(
            f"<< /Type /XObject /Subtype /Image /Width {w_px} /Height {h_px} /ColorSpace {colour} "
            f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(data)} >>\nstream\n".encode("ascii")
            + data + b"\nendstream")
        objects.append(f"<< /Length {len(content)} >>\nstream\n".encode("ascii") + content
                       + b"\nendstream")
    info = (f"<< /Title {_pdf_text(doc.title)} /Author {_pdf_text(doc.author)} "
            f"/Creator {_pdf_text('扫描仪 Scan to PDF')} /Producer (Dangan demo scanner) "
            f"/CreationDate ({pdf_date(doc.created)}) /ModDate ({pdf_date(doc.created)}) >>")
    head = [b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {n_pages} >>".encode("ascii"),
            info.encode("ascii")]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(head + objects, 1):
        offsets.append(len(out))
        out += f"{num} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += b"".join(f"{o:010d} 00000 n \n".encode("ascii") for o in offsets)
    out += (f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R /Info 3 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode("ascii")
    return bytes(out)


def _pdf_text(s: str) -> str:
    """A PDF text string in UTF-16BE hex (works for Chinese titles)."""
    return "<FEFF" + s.encode("utf-16-be").hex().upper() + ">"
