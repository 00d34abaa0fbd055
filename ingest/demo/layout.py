"""A tiny page model shared by the PDF, OFD and scan renderers, and the PDF renderer.

A document is laid out once (texts, rules, a seal, in millimetres from the top-left
corner of an A4 page, as OFD counts) and then written as a born-digital PDF, an OFD, or
drawn onto a scanned page image, so the same 决定书 can arrive in any of those forms.
PDFs use the Adobe CID font STSong-Light, which every PDF reader maps to a Song face
without embedding, so the text stays extractable and the files small.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

PAGE_W, PAGE_H = 210.0, 297.0  # A4, mm
PT_MM = 25.4 / 72  # one point in millimetres
CJK_FONT = "STSong-Light"
_registered = False


@dataclass
class Text:
    x: float  # mm from the left edge (anchor depends on ``align``)
    y: float  # mm from the top edge to the baseline
    text: str
    size: float = 10.5  # points
    align: str = "left"  # left | center | right
    color: tuple[int, int, int] = (0, 0, 0)


@dataclass
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.3  # mm


@dataclass
class Seal:
    """A round official seal (公章): red ring, star and the agency's name."""

    x: float
    y: float
    r: float
    text: str


@dataclass
class Page:
    items: list[Text | Rule | Seal] = field(default_factory=list)


@dataclass
class Doc:
    title: str
    author: str
    created: datetime
    pages: list[Page] = field(default_factory=list)
    subject: str = ""
    creator: str = "社会保险经办信息系统"


def text_width(text: str, size: float) -> float:
    """Width in mm: full-width glyphs take one em, ASCII half an em (Song metrics)."""
    ems = sum(0.5 if ord(c) < 0x2E80 else 1.0 for c in text)
    return ems * size * PT_MM


def anchor_x(t: Text) -> float:
    """The left edge of ``t`` in mm."""
    if t.align == "center":
        return t.x - text_width(t.text, t.size) / 2
    if t.align == "right":
        return t.x - text_width(t.text, t.size)
    return t.x


def wrap(text: str, width_mm: float, size: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width_mm`` (character-wise, as CJK allows)."""
    lines, line = [], ""
    for ch in text:
        if ch == "\n" or text_width(line + ch, size) > width_mm:
            lines.append(line)
            line = "" if ch == "\n" else ch
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _registered = True
    return CJK_FONT


def render_pdf(doc: Doc) -> bytes:
    """The document as a born-digital PDF with a text layer; byte-identical for equal input."""
    font = _font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W * mm, PAGE_H * mm), invariant=1, pageCompression=1)
    stamp = pdf_date(doc.created)
    c.setDateFormatter(lambda *_: stamp)
    c.setTitle(doc.title)
    c.setAuthor(doc.author)
    c.setSubject(doc.subject or doc.title)
    c.setCreator(doc.creator)
    for page in doc.pages:
        for item in page.items:
            if isinstance(item, Text):
                c.setFillColorRGB(*(v / 255 for v in item.color))
                c.setFont(font, item.size)
                c.drawString(anchor_x(item) * mm, (PAGE_H - item.y) * mm, item.text)
            elif isinstance(item, Rule):
                c.setStrokeColorRGB(0, 0, 0)
                c.setLineWidth(item.width * mm)
                c.line(item.x1 * mm, (PAGE_H - item.y1) * mm, item.x2 * mm, (PAGE_H - item.y2) * mm)
            else:
                _pdf_seal(c, item, font)
        c.showPage()
    c.save()
    return buf.getvalue()


def pdf_date(dt: datetime) -> str:
    """A PDF date string (D:YYYYMMDDHHmmSS+hh'mm') for the document information."""
    off = dt.utcoffset()
    if off is None:
        return dt.strftime("D:%Y%m%d%H%M%SZ")
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return dt.strftime("D:%Y%m%d%H%M%S") + f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def _pdf_seal(c: canvas.Canvas, seal: Seal, font: str) -> None:
    import math

    cx, cy, r = seal.x * mm, (PAGE_H - seal.y) * mm, seal.r * mm
    c.setStrokeColorRGB(0.85, 0.1, 0.1)
    c.setFillColorRGB(0.85, 0.1, 0.1)
    c.setLineWidth(1.2 * mm)
    c.circle(cx, cy, r, stroke=1, fill=0)
    star = c.beginPath()
    for k in range(10):
        ang = math.pi / 2 + k * math.pi / 5
        rad = r * (0.28 if k % 2 == 0 else 0.11)
        x, y = cx + rad * math.cos(ang), cy + rad * math.sin(ang)
        star.moveTo(x, y) if k == 0 else star.lineTo(x, y)
    star.close()
    c.drawPath(star, stroke=0, fill=1)
    # the agency's name along the upper arc, one glyph at a time
    chars = list(seal.text)
    size = min(11.0, r / mm * 0.42 / PT_MM)
    span = math.radians(220)
    for k, ch in enumerate(chars):
        ang = math.pi / 2 + span / 2 - span * (k + 0.5) / len(chars)
        c.saveState()
        c.translate(cx + (r - size * 0.85) * math.cos(ang), cy + (r - size * 0.85) * math.sin(ang))
        c.rotate(math.degrees(ang) - 90)
        c.setFont(font, size)
        c.drawCentredString(0, -size * 0.35, ch)
        c.restoreState()
