"""OFD pages drawn as images (Pillow): text, images and vector paths at their positions.

Why our own small renderer: there is no maintained OFD renderer for Python, and the
reading room needs the page as the agency saw it — an invoice's table, a seal image, the
text in its boxes — not only the extracted text. What is drawn: templates (under the
page), layers and nested page blocks, ``TextObject`` (each glyph at its X/Y and
DeltaX/DeltaY, in the given CJK font), ``ImageObject`` (placed by boundary and CTM) and
``PathObject`` (lines and curves, stroked and filled). Embedded fonts, clipping, shading
and rotation are not: it is a faithful layout, not a typesetter.

Hostile files meet limits, not crashes: a page box beyond ``MAX_SIDE_MM`` or degenerate,
nesting deeper than ``MAX_DEPTH``, more than ``MAX_OBJECTS`` objects or ``MAX_POINTS``
path points raise ``OfdRenderError`` with a message a reader can act on; a missing or
undecodable image is drawn as a marked placeholder and listed in ``problems``.
The canvas never exceeds ``MAX_SIDE_PX`` on a side and embedded images are refused over
``MAX_IMAGE_PIXELS`` before they are decoded.
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from PIL import Image, ImageDraw, ImageFont

from ..errors import FormatError, PackageError
from ..safezip import inspect_zip, open_zip
from .ofd import OFD_LIMITS, OfdInfo, _child, _children, _descendants, _Package, _Reader
from .xmlsafe import local_name

MAX_SIDE_MM = 2000.0  # a page larger than 2 m is no document page
MAX_SIDE_PX = 3000
MAX_DEPTH = 32
MAX_OBJECTS = 20_000
MAX_POINTS = 200_000
MAX_IMAGE_PIXELS = 30_000_000  # ~90 MB decoded: an A4 scan at 500 dpi fits
DEFAULT_BOX = (0.0, 0.0, 210.0, 297.0)  # A4, when neither page nor document says
_BLOCKS = {"Content", "Layer", "PageBlock"}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?|-?\.\d+")


class OfdRenderError(FormatError):
    code = "package.ofd_render"


@dataclass
class RenderedPage:
    image: Image.Image
    problems: list[str] = field(default_factory=list)


def _floats(text: str | None) -> list[float]:
    return [float(v) for v in _NUMBER.findall(text or "")]


def _deltas(text: str | None, needed: int) -> list[float]:
    """DeltaX/DeltaY with the ``g N value`` repetition of GB/T 33190 expanded, never
    beyond the ``needed`` glyph advances (a ``g 999999999`` stays small)."""
    out: list[float] = []
    tokens = (text or "").split()
    i = 0
    while i < len(tokens) and len(out) < needed:
        try:
            if tokens[i] == "g" and i + 2 < len(tokens):
                out.extend([float(tokens[i + 2])] * max(0, min(int(tokens[i + 1]),
                                                                needed - len(out))))
                i += 3
                continue
            out.append(float(tokens[i]))
        except ValueError:
            pass
        i += 1
    return out


def _color(el: etree._Element | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if el is None:
        return default
    values = _floats(el.get("Value"))
    if len(values) == 1:
        values = values * 3
    if len(values) < 3:
        return default
    r, g, b = (max(0, min(255, int(v))) for v in values[:3])
    return (r, g, b)


def _box(el: etree._Element | None) -> tuple[float, float, float, float] | None:
    if el is None:
        return None
    values = _floats(el.text)
    return (values[0], values[1], values[2], values[3]) if len(values) == 4 else None


class _Painter:
    def __init__(self, reader: _Reader, scale: float, size: tuple[int, int],
                 font_path: str | None) -> None:
        self.reader = reader
        self.scale = scale
        self.image = Image.new("RGB", size, "white")
        self.draw = ImageDraw.Draw(self.image)
        self.font_path = font_path
        self.fonts: dict[int, Any] = {}
        self.objects = 0
        self.points = 0
        self.problems: list[str] = []

    def font(self, px: int) -> Any:
        px = max(4, min(px, 400))
        if px not in self.fonts:
            try:
                self.fonts[px] = ImageFont.truetype(self.font_path, px) if self.font_path \
                    else ImageFont.load_default(px)
            except OSError:
                self.fonts[px] = ImageFont.load_default(px)
        return self.fonts[px]

    def walk(self, el: etree._Element, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise OfdRenderError(f"OFD 页面对象嵌套超过 {MAX_DEPTH} 层，拒绝显示（文件可能被构造为攻击）")
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = local_name(child)
            if name in _BLOCKS:
                self.walk(child, depth + 1)
                continue
            if name not in ("TextObject", "ImageObject", "PathObject"):
                continue
            self.objects += 1
            if self.objects > MAX_OBJECTS:
                raise OfdRenderError(f"OFD 页面对象超过 {MAX_OBJECTS} 个，拒绝显示")
            boundary = _floats(child.get("Boundary"))
            if len(boundary) != 4:
                continue
            getattr(self, "_" + name)(child, boundary)

    def _TextObject(self, obj: etree._Element, boundary: list[float]) -> None:  # noqa: N802
        s = self.scale
        size = (_floats(obj.get("Size")) or [3.0])[0]
        font = self.font(round(size * s))
        fill = _color(_child(obj, "FillColor"), (0, 0, 0))
        for code in _children(obj, "TextCode"):
            text = "".join(code.itertext())
            x = boundary[0] + ((_floats(code.get("X")) or [0.0])[0])
            y = boundary[1] + ((_floats(code.get("Y")) or [0.0])[0])
            self.points += len(text)
            if self.points > MAX_POINTS:
                raise OfdRenderError("OFD 页面文字或图形过多，拒绝显示")
            dx = _deltas(code.get("DeltaX"), len(text))
            dy = _deltas(code.get("DeltaY"), len(text))
            for i, ch in enumerate(text):
                if not ch.isspace():
                    self.draw.text((x * s, y * s), ch, font=font, fill=fill, anchor="ls")
                x += dx[i] if i < len(dx) else font.getlength(ch) / s
                y += dy[i] if i < len(dy) else 0.0

    def _ImageObject(self, obj: etree._Element, boundary: list[float]) -> None:  # noqa: N802
        s = self.scale
        x, y, w, h = boundary
        ctm = _floats(obj.get("CTM"))
        if len(ctm) == 6 and ctm[0] and ctm[3]:
            x, y, w, h = x + ctm[4], y + ctm[5], abs(ctm[0]), abs(ctm[3])
        box = (round(x * s), round(y * s), max(1, round(w * s)), max(1, round(h * s)))
        if box[2] > 2 * MAX_SIDE_PX or box[3] > 2 * MAX_SIDE_PX:
            self._placeholder(box, "图像尺寸异常")
            return
        rid = obj.get("ResourceID") or ""
        member = self.reader.media.get(rid)
        if member is None:
            self._placeholder(box, f"图像资源 {rid} 缺失")
            return
        try:
            with warnings.catch_warnings():  # our own pixel cap below decides, not Pillow's
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im = Image.open(io.BytesIO(self.reader.pkg.read(member)))
            with im:
                im.draft("RGB", box[2:])  # JPEG: decoded at a reduced scale when larger
                if im.size[0] * im.size[1] > MAX_IMAGE_PIXELS:
                    self._placeholder(box, f"图像 {member} 像素过多，未显示")
                    return
                alpha = im.mode in ("RGBA", "LA", "P", "PA")
                img = im.convert("RGBA" if alpha else "RGB").resize(
                    box[2:], Image.Resampling.BILINEAR)
        except (OSError, ValueError, Image.DecompressionBombError, PackageError):
            self._placeholder(box, f"图像 {member} 无法解码")
            return
        self.image.paste(img, box[:2], img if img.mode == "RGBA" else None)

    def _placeholder(self, box: tuple[int, int, int, int], why: str) -> None:
        self.problems.append(why)
        x, y, w, h = box
        w, h = min(w, self.image.size[0]), min(h, self.image.size[1])
        self.draw.rectangle((x, y, x + w, y + h), fill=(235, 235, 235), outline=(160, 30, 30))
        self.draw.text((x + 4, y + 4), why, font=self.font(14), fill=(160, 30, 30))

    def _PathObject(self, obj: etree._Element, boundary: list[float]) -> None:  # noqa: N802
        data = _child(obj, "AbbreviatedData")
        if data is None:
            return
        s = self.scale
        ctm = _floats(obj.get("CTM"))
        a, b, c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

        def at(px: float, py: float) -> tuple[float, float]:
            return ((boundary[0] + a * px + c * py + e) * s, (boundary[1] + b * px + d * py + f) * s)

        shapes = _path_points((data.text or "").split(), MAX_POINTS - self.points)
        self.points += sum(len(p) for p in shapes)
        width = max(1, round((_floats(obj.get("LineWidth")) or [0.353])[0] * s))
        stroke = _color(_child(obj, "StrokeColor"), (0, 0, 0))
        fill = _color(_child(obj, "FillColor"), (0, 0, 0))
        for shape in shapes:
            pts = [at(px, py) for px, py in shape]
            if obj.get("Fill", "false").lower() == "true" and len(pts) > 2:
                self.draw.polygon(pts, fill=fill)
            if obj.get("Stroke", "true").lower() != "false" and len(pts) > 1:
                self.draw.line(pts, fill=stroke, width=width)


def _path_points(tokens: list[str], budget: int) -> list[list[tuple[float, float]]]:
    """The polylines of an AbbreviatedData path (curves and arcs sampled); refused once
    they would hold more than ``budget`` points."""
    shapes: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    args = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
    i = done = 0
    while i < len(tokens):
        if done + len(cur) > budget:
            raise OfdRenderError("OFD 页面文字或图形过多，拒绝显示")
        op = tokens[i]
        n = args.get(op)
        if n is None or i + n >= len(tokens):
            i += 1
            continue
        try:
            v = [float(t) for t in tokens[i + 1:i + 1 + n]]
        except ValueError:
            i += 1
            continue
        i += 1 + n
        if op in ("S", "M"):
            if len(cur) > 1:
                shapes.append(cur)
                done += len(cur)
            cur = [(v[0], v[1])]
        elif not cur:
            cur = [(v[-2], v[-1])] if n else []
        elif op == "L":
            cur.append((v[0], v[1]))
        elif op == "A":
            cur.extend(_arc(cur[-1], v))
        elif op == "C":
            cur.append(cur[0])
        else:  # Q or B: sampled Bézier
            p0, ctrl = cur[-1], [(v[j], v[j + 1]) for j in range(0, n, 2)]
            pts = [p0, *ctrl]
            for k in range(1, 9):
                t = k / 8
                layer = pts
                while len(layer) > 1:
                    layer = [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
                             for (x0, y0), (x1, y1) in zip(layer, layer[1:], strict=False)]
                cur.append(layer[0])
    if len(cur) > 1:
        shapes.append(cur)
    return shapes


def _arc(p0: tuple[float, float], v: list[float]) -> list[tuple[float, float]]:
    """An elliptical arc (SVG/OFD endpoint form: rx ry angle large sweep x y), sampled."""
    (x0, y0), (rx, ry, angle, large, sweep, x1, y1) = p0, v
    rx, ry = abs(rx), abs(ry)
    if not rx or not ry or (x0, y0) == (x1, y1):
        return [(x1, y1)]
    phi = math.radians(angle)
    cos, sin = math.cos(phi), math.sin(phi)
    dx, dy = (x0 - x1) / 2, (y0 - y1) / 2
    x, y = cos * dx + sin * dy, -sin * dx + cos * dy
    grow = (x / rx) ** 2 + (y / ry) ** 2
    if grow > 1:  # radii too small for the endpoints: scaled up, as the standard says
        rx, ry = rx * math.sqrt(grow), ry * math.sqrt(grow)
    num = rx * rx * ry * ry - rx * rx * y * y - ry * ry * x * x
    den = rx * rx * y * y + ry * ry * x * x
    k = math.sqrt(max(0.0, num / den)) if den else 0.0
    if bool(large) == bool(sweep):
        k = -k
    cx_, cy_ = k * rx * y / ry, -k * ry * x / rx
    cx, cy = cos * cx_ - sin * cy_ + (x0 + x1) / 2, sin * cx_ + cos * cy_ + (y0 + y1) / 2
    t0 = math.atan2((y - cy_) / ry, (x - cx_) / rx)
    t1 = math.atan2((-y - cy_) / ry, (-x - cx_) / rx)
    span = t1 - t0
    if sweep and span < 0:
        span += 2 * math.pi
    elif not sweep and span > 0:
        span -= 2 * math.pi
    steps = max(2, min(64, int(abs(span) / (math.pi / 16)) + 1))
    out = []
    for i in range(1, steps + 1):
        t = t0 + span * i / steps
        ex, ey = rx * math.cos(t), ry * math.sin(t)
        out.append((cx + cos * ex - sin * ey, cy + sin * ex + cos * ey))
    return out


def _document(pkg: _Package, reader: _Reader) -> tuple[etree._Element, str]:
    got = reader.part("OFD.xml", "入口文件")
    body = _child(got[1], "DocBody") if got else None
    doc_root = _child(body, "DocRoot") if body is not None else None
    doc = reader.part((doc_root.text or "").strip(), "文档根节点 DocRoot") \
        if doc_root is not None else None
    if doc is None:
        raise OfdRenderError("OFD 文件结构不完整，无法按版式显示：" + "；".join(reader.info.problems))
    return doc[1], posixpath.dirname(doc[0])


def render_page(path: Path | str, number: int, *, font_path: str | None = None,
                dpi: float = 110.0) -> RenderedPage:
    """Page ``number`` (1-based) of the OFD at ``path`` as an RGB image."""
    try:
        with open_zip(path) as zf:
            pkg = _Package(zf, inspect_zip(zf, OFD_LIMITS), [])
            reader = _Reader(pkg, OfdInfo(readable=True))
            return _render(pkg, reader, number, font_path, dpi)
    except OfdRenderError:
        raise
    except PackageError as exc:
        raise OfdRenderError(f"OFD 文件无法按版式显示：{exc.message}") from exc
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, KeyError) as exc:
        raise OfdRenderError(f"OFD 文件无法读取：{exc}") from exc


def _render(pkg: _Package, reader: _Reader, number: int, font_path: str | None,
            dpi: float) -> RenderedPage:
    doc, doc_dir = _document(pkg, reader)
    common = _child(doc, "CommonData")
    default_box: tuple[float, float, float, float] | None = None
    templates: dict[str, str] = {}
    if common is not None:
        area = _child(common, "PageArea")
        default_box = _box(_child(area, "PhysicalBox")) if area is not None else None
        for name in ("PublicRes", "DocumentRes"):
            for res in _children(common, name):
                reader.read_resources((res.text or "").strip(), doc_dir)
        for tpl in _children(common, "TemplatePage"):
            target = pkg.resolve(tpl.get("BaseLoc"), doc_dir)
            if target:
                templates[tpl.get("ID") or ""] = target
    pages_el = _child(doc, "Pages")
    pages = _descendants(pages_el, "Page") if pages_el is not None else []
    if not 1 <= number <= len(pages):
        raise OfdRenderError(f"OFD 文件没有第 {number} 页（共 {len(pages)} 页）")
    got = reader.part(pages[number - 1].get("BaseLoc"), f"第 {number} 页", doc_dir)
    if got is None:
        raise OfdRenderError(f"第 {number} 页无法显示：" + "；".join(reader.info.problems))
    page = got[1]
    area = _child(page, "Area")
    box = (_box(_child(area, "PhysicalBox")) if area is not None else None) or default_box \
        or DEFAULT_BOX
    w, h = box[2], box[3]
    if not (0 < w <= MAX_SIDE_MM and 0 < h <= MAX_SIDE_MM) or not math.isfinite(w * h):
        raise OfdRenderError(f"第 {number} 页的页面尺寸 {w:g}×{h:g} 毫米超出可显示范围"
                             f"（每边至多 {MAX_SIDE_MM:g} 毫米），拒绝显示")
    scale = min(dpi / 25.4, MAX_SIDE_PX / max(w, h))
    painter = _Painter(reader, scale, (max(1, round(w * scale)), max(1, round(h * scale))),
                       font_path)
    for tpl in _children(page, "Template"):
        member = templates.get(tpl.get("TemplateID") or "")
        tpl_got = reader.part(member, "模板页") if member else None
        if tpl_got is not None:
            painter.walk(tpl_got[1])
    painter.walk(page)
    return RenderedPage(painter.image, painter.problems + reader.info.problems)
