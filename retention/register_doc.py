"""The destruction register (销毁清册) as documents: a signed PDF and an XML of the same facts.

The PDF follows the form of the standard (人社部/国家档案局令第3号 §§20–22, GB/T 31599
7.6): a header with the 清册编号, the appraisal's 鉴定意见, the principal's approval, the
备案 with the HRSS department, the supervisors (监销人), time and method; then one row per
destroyed item (序号、档号、题名/办件、年度、保管期限、AIP 摘要). Chinese text is drawn with a
real CJK TrueType font (``archive.fonts``), embedded as a subset so any reader shows it,
and the file is signed (PAdES) with the archive's document-signing key, the one certified
copies carry. The XML states exactly the same facts for machines and for the check
engine; both are filed together as one permanent record.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import lru_cache
from typing import Any

from lxml import etree

from dangan.archive.certified_copy import ensure_copy_key
from dangan.archive.fonts import cjk_font_path
from dangan.archive.instance import Archive
from dangan.archive.keys import passphrase_sources, read_passphrase
from dangan.archive.timeutil import local
from dangan.packages.archival_code import RETENTION_NAMES

from .errors import RetentionInputError

XML_NS = "urn:dangan:destruction-register:1"
FONT = "DanganRegister"
SIG_FIELD = "DanganDestructionRegister"
COLUMNS = (("seq", "序号", 10), ("archival_code", "档号", 44), ("title", "题名 / 办件", 70),
           ("year", "年度", 12), ("retention", "保管期限", 16), ("aip_sha256", "AIP 摘要", 28))


@lru_cache(maxsize=1)
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = cjk_font_path()
    if path is None:
        raise RetentionInputError("本机没有中文字体，无法生成销毁清册（设置 DANGAN_CJK_FONT 指向一个中文字体文件）")
    kwargs = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
    pdfmetrics.registerFont(TTFont(FONT, path, **kwargs))
    return FONT


def _local(text: str | None) -> str:
    """An ISO time of the facts as the agency reads it (Beijing time)."""
    return local(datetime.fromisoformat(text)) if text else ""


def header_lines(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """The register's header: (label, value) pairs, times in Beijing time."""
    ap, app = facts["approvals"], facts["appraisal"]
    principal, filing = ap.get("principal", {}), ap.get("filing", {})
    return [
        ("清册编号", facts["register_ref"]),
        ("立档单位", f"{facts['organization']}（全宗号 {facts['fonds']}）"),
        ("鉴定", f"第 {app['id']} 号，提议人 {app['proposed_by']}，鉴定小组 "
                 f"{'、'.join(app['members'])}；决定 {app['decided_by']} {_local(app['decided_at'])}"),
        ("销毁原因", app["reason"]),
        ("鉴定意见", app["conclusion"] or ""),
        ("批准人", f"{principal.get('approver', '')}（文号 {principal.get('document_no', '')}，"
                  f"{principal.get('approved_on', '')}）"),
        ("备案", f"{filing.get('approver', '')}（文号 {filing.get('document_no', '')}，"
                 f"{filing.get('approved_on', '')}）"),
        ("监销人", "、".join(facts["supervisors"])),
        ("销毁时间", f"{_local(facts['started_at'])} 至 {_local(facts['completed_at'])}（北京时间）"),
        ("销毁方式", facts["method"]),
        ("执行人", facts["executed_by"]),
        ("件数", f"{len(facts['items'])} 件"),
    ]


def render_xml(facts: dict[str, Any]) -> bytes:
    """The register as XML: batch facts, approvals and one ``item`` per destroyed item."""
    root = etree.Element(f"{{{XML_NS}}}destructionRegister", nsmap={None: XML_NS})
    root.set("ref", facts["register_ref"])
    root.set("batch", str(facts["batch"]))

    def add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
        el = etree.SubElement(parent, f"{{{XML_NS}}}{tag}", {k: v for k, v in attrs.items()})
        if text is not None:
            el.text = text
        return el

    add(root, "fonds", facts["fonds"])
    add(root, "organization", facts["organization"])
    app = facts["appraisal"]
    a = add(root, "appraisal", id=str(app["id"]), recordSha256=app["record_sha256"])
    add(a, "proposedBy", app["proposed_by"])
    add(a, "reason", app["reason"])
    for m in app["members"]:
        add(a, "member", m)
    add(a, "decidedBy", app["decided_by"] or "")
    add(a, "decidedAt", app["decided_at"] or "")
    add(a, "conclusion", app["conclusion"] or "")
    for kind, ap in sorted(facts["approvals"].items()):
        add(root, "approval", kind=kind, approver=ap["approver"], documentNo=ap["document_no"],
            approvedOn=ap["approved_on"], auditIndex=str(ap.get("audit_index", "")))
    sup = add(root, "supervisors")
    for s in facts["supervisors"]:
        add(sup, "supervisor", s)
    add(root, "method", facts["method"])
    add(root, "executedBy", facts["executed_by"])
    add(root, "startedAt", facts["started_at"])
    add(root, "completedAt", facts["completed_at"])
    items = add(root, "items", count=str(len(facts["items"])))
    for i in facts["items"]:
        add(items, "item", seq=str(i["seq"]), aipId=i["aip_id"], archivalCode=i["archival_code"],
            sourceSystem=i["source_system"], caseId=i["case_id"], year=str(i["year"]),
            retention=i["retention"], aipSha256=i["aip_sha256"],
            auditIndex=str(i["audit_index"])).text = i["title"]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _wrap(text: str, width_mm: float, size: float) -> list[str]:
    """``text`` broken into lines no wider than ``width_mm`` (per character: Chinese has no
    spaces to break at); each glyph's width is looked up once."""
    from reportlab.lib.units import mm

    limit, lines, cur, used = width_mm * mm, [], [], 0.0
    for ch in text:
        w = _glyph_width(ch, size)
        if used + w > limit and cur:
            lines.append("".join(cur))
            cur, used = [], 0.0
        cur.append(ch)
        used += w
    return [*lines, "".join(cur)]


@lru_cache(maxsize=4096)
def _glyph_width(ch: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(ch, _font(), size)


def render_pdf(facts: dict[str, Any]) -> bytes:
    """The register's pages (A4), unsigned."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    font, buf = _font(), io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True, pageCompression=1)
    c.setTitle(f"社会保险业务档案销毁清册 {facts['register_ref']}")
    c.setAuthor(facts["organization"])
    width, height = A4
    left, y = 14 * mm, height - 20 * mm

    def need(h: float) -> None:
        nonlocal y
        if y - h < 16 * mm:
            c.showPage()
            y = height - 16 * mm

    c.setFont(font, 16)
    c.drawCentredString(width / 2, y, "社会保险业务档案销毁清册")
    y -= 10 * mm
    for label, value in header_lines(facts):
        for n, line in enumerate(_wrap(value, 150, 9)):
            need(5 * mm)
            c.setFont(font, 9)
            if n == 0:
                c.drawString(left, y, label)
            c.drawString(left + 24 * mm, y, line)
            y -= 4.6 * mm
    y -= 3 * mm

    def row(values: list[str], size: float) -> None:
        nonlocal y
        cells = [_wrap(v, w - 1.5, size) for v, (_, _, w) in zip(values, COLUMNS, strict=True)]
        h = max(len(x) for x in cells) * (size * 0.42 + 1) * mm + 1.5 * mm
        need(h)
        x = left
        c.setFont(font, size)
        for lines, (_, _, w) in zip(cells, COLUMNS, strict=True):
            c.rect(x, y - h, w * mm, h)
            for k, line in enumerate(lines):
                c.drawString(x + 0.8 * mm, y - (k + 1) * (size * 0.42 + 1) * mm, line)
            x += w * mm
        y -= h

    row([label for _, label, _ in COLUMNS], 8.5)
    for i in facts["items"]:
        row([str(i["seq"]), i["archival_code"], f"{i['title']}（{i['source_system']}/"
             f"{i['case_id']}）", str(i["year"]), RETENTION_NAMES.get(i["retention"],
                                                                     i["retention"]),
             i["aip_sha256"]], 7.5)
    need(22 * mm)
    y -= 8 * mm
    c.setFont(font, 9)
    c.drawString(left, y, f"监销人签名：{'、'.join(facts['supervisors'])}")
    c.drawString(left + 95 * mm, y, f"批准人：{facts['approvals']['principal']['approver']}")
    y -= 6 * mm
    c.drawString(left, y, f"本清册由档案系统依审计日志记录编制，永久保存。{_local(facts['completed_at'])}")
    c.save()
    return buf.getvalue()


def sign_pdf(archive: Archive, pdf: bytes, ref: str) -> bytes:
    """PAdES-sign ``pdf`` with the archive's document-signing key (as certified copies)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    sources = passphrase_sources(archive.home, archive.settings.key_passphrase_file or None)
    if not sources:
        raise RetentionInputError("无法取得档案馆密钥口令，不能签署销毁清册")
    passphrase = read_passphrase(archive.home, sources[0]).encode()
    key_path, cert_path = ensure_copy_key(archive)
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path), key_passphrase=passphrase)
    if signer is None:
        raise RetentionInputError("档案馆签章密钥无法读取，不能签署销毁清册")
    meta = signers.PdfSignatureMetadata(
        field_name=SIG_FIELD, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=f"销毁清册 {ref}", location=archive.settings.organization or None)
    return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta,
                            signer=signer).getvalue()
