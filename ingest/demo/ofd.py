"""A minimal OFD (GB/T 33190-2016) writer for born-digital notices and decisions.

Many agencies issue their 决定书 as OFD. The container written here has what a reader
needs and nothing more: ``OFD.xml`` (DocInfo, DocRoot), ``Doc_0/Document.xml`` (A4 page
area, public resources, one entry per page), ``Doc_0/PublicRes.xml`` (the Song font) and
one ``Content.xml`` per page holding ``TextObject``/``TextCode`` for text and
``PathObject`` for rules and the seal ring. ZIP entries carry the document's own time
so equal input gives equal bytes.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape, quoteattr

from .layout import PAGE_H, PAGE_W, Doc, Rule, Seal, Text, anchor_x, text_width

NS = "http://www.ofdspec.org/2016"
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
PT_MM = 25.4 / 72


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") or "0"


def _ofd_xml(doc: Doc, doc_id: str) -> str:
    return (
        f'{_HEAD}<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
        f"<ofd:DocID>{escape(doc_id)}</ofd:DocID><ofd:Title>{escape(doc.title)}</ofd:Title>"
        f"<ofd:Author>{escape(doc.author)}</ofd:Author>"
        f"<ofd:Subject>{escape(doc.subject or doc.title)}</ofd:Subject>"
        f"<ofd:CreationDate>{doc.created:%Y-%m-%d}</ofd:CreationDate>"
        f"<ofd:Creator>{escape(doc.creator)}</ofd:Creator><ofd:CreatorVersion>1.0</ofd:CreatorVersion>"
        f"</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )


def _document_xml(pages: int, max_id: int) -> str:
    page_refs = "".join(
        f'<ofd:Page ID="{100 + n}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(pages)
    )
    return (
        f'{_HEAD}<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 {_num(PAGE_W)} {_num(PAGE_H)}</ofd:PhysicalBox>"
        f"<ofd:ApplicationBox>0 0 {_num(PAGE_W)} {_num(PAGE_H)}</ofd:ApplicationBox></ofd:PageArea>"
        f"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:MaxUnitID>{max_id}</ofd:MaxUnitID>"
        f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
    )


def _public_res() -> str:
    return (
        f'{_HEAD}<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="1" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
    )


class _Ids:
    def __init__(self) -> None:
        self.next = 1000

    def __call__(self) -> int:
        self.next += 1
        return self.next


def _text_object(t: Text, new_id: _Ids) -> str:
    size = t.size * PT_MM  # OFD sizes are in mm
    width = text_width(t.text, t.size)
    x, top = anchor_x(t), t.y - size
    deltas = " ".join(_num(text_width(ch, t.size)) for ch in t.text[:-1])
    color = "" if t.color == (0, 0, 0) else f'<ofd:FillColor Value="{t.color[0]} {t.color[1]} {t.color[2]}"/>'
    delta_attr = f" DeltaX={quoteattr(deltas)}" if deltas else ""
    return (
        f'<ofd:TextObject ID="{new_id()}" Boundary="{_num(x)} {_num(top)} {_num(width + 1)} '
        f'{_num(size * 1.4)}" Font="1" Size="{_num(size)}">{color}'
        f'<ofd:TextCode X="0" Y="{_num(size)}"{delta_attr}>{escape(t.text)}</ofd:TextCode>'
        "</ofd:TextObject>"
    )


def _rule_object(r: Rule, new_id: _Ids) -> str:
    x0, y0 = min(r.x1, r.x2), min(r.y1, r.y2)
    w, h = max(abs(r.x2 - r.x1), r.width), max(abs(r.y2 - r.y1), r.width)
    path = f"M {_num(r.x1 - x0)} {_num(r.y1 - y0)} L {_num(r.x2 - x0)} {_num(r.y2 - y0)}"
    return (
        f'<ofd:PathObject ID="{new_id()}" Boundary="{_num(x0)} {_num(y0)} {_num(w)} {_num(h)}" '
        f'LineWidth="{_num(r.width)}"><ofd:AbbreviatedData>{path}</ofd:AbbreviatedData>'
        "</ofd:PathObject>"
    )


def _seal_objects(s: Seal, new_id: _Ids) -> str:
    d = 2 * s.r
    ring = (
        f'<ofd:PathObject ID="{new_id()}" Boundary="{_num(s.x - s.r)} {_num(s.y - s.r)} {_num(d)} '
        f'{_num(d)}" LineWidth="1"><ofd:StrokeColor Value="205 40 40"/>'
        f"<ofd:AbbreviatedData>M 0 {_num(s.r)} A {_num(s.r)} {_num(s.r)} 0 1 1 {_num(d)} {_num(s.r)} "
        f"A {_num(s.r)} {_num(s.r)} 0 1 1 0 {_num(s.r)} C</ofd:AbbreviatedData></ofd:PathObject>"
    )
    name = Text(s.x, s.y - s.r * 0.25, s.text, min(9.0, s.r * 1.6 / max(1, len(s.text)) / PT_MM),
                align="center", color=(205, 40, 40))
    return ring + _text_object(name, new_id)


def render_ofd(doc: Doc, doc_id: str) -> bytes:
    """The document as an OFD package; ``doc_id`` is its 32-hex DocID."""
    new_id = _Ids()
    contents = []
    for page in doc.pages:
        layer_id = new_id()
        parts = []
        for item in page.items:
            if isinstance(item, Text):
                parts.append(_text_object(item, new_id))
            elif isinstance(item, Rule):
                parts.append(_rule_object(item, new_id))
            else:
                parts.append(_seal_objects(item, new_id))
        contents.append(
            f'{_HEAD}<ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="{layer_id}">'
            + "".join(parts) + "</ofd:Layer></ofd:Content></ofd:Page>"
        )
    entries = [
        ("OFD.xml", _ofd_xml(doc, doc_id)),
        ("Doc_0/Document.xml", _document_xml(len(doc.pages), new_id.next)),
        ("Doc_0/PublicRes.xml", _public_res()),
    ] + [(f"Doc_0/Pages/Page_{n}/Content.xml", xml) for n, xml in enumerate(contents)]
    stamp = doc.created.timetuple()[:6]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()
