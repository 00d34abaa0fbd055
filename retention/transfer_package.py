"""The transfer package (移交包): AIPs as stored, the lists, a signed manifest; and receipts.

Layout of the zip (ASCII names, sorted, fixed times, so it is byte-reproducible)::

    transfer.json          manifest: sender (with its public key), receiver, items, and
                           SHA-256 + SM3 of every other file of the package
    transfer.json.sig      detached signature of the canonical manifest by the sender's key
    aips/<aip_id>.zip      each AIP exactly as stored (``export_aip_zip``)
    transfer-list.xml      移交清册: one row per item
    register.xml           电子业务材料移交与接收登记表 (GB/T 31599 Appendix D), sending side
    register.pdf           the same register, printed with a CJK font (when one exists)

The receiving archive answers with a receipt (``dangan/transfer-receipt/1``): the items
with their AIP digests and its own catalogue place, signed by its key.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from dangan.archive.keys import ArchiveKey
from dangan.archive.receipts import make_receipt, verify_receipt
from dangan.packages import signing
from dangan.packages.canonical import canonical_json
from dangan.packages.digests import digest_file
from dangan.packages.errors import KeyError_, SignatureError, UnsafeContainer
from dangan.packages.safezip import ZipLimits, extract_zip

from .transfer_errors import PackageIncomplete, PackageTampered, UnknownSender

MANIFEST = "transfer.json"
MANIFEST_SIG = "transfer.json.sig"
LIST_XML = "transfer-list.xml"
REGISTER_XML = "register.xml"
REGISTER_PDF = "register.pdf"
MANIFEST_TYPE = "dangan/transfer/1"
RECEIPT_TYPE = "dangan/transfer-receipt/1"
NATURES = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性",
           "security": "安全性"}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def sha256_of(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def aip_member(aip_id: str) -> str:
    return f"aips/{aip_id}.zip"


def _el(parent: etree._Element, tag: str, text: Any = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = str(text)
    return el


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def transfer_list_xml(manifest: dict[str, Any]) -> bytes:
    """移交清册: 序号、档号、题名、年度、保管期限、文件数、页数、字节数、AIP 摘要、备注."""
    root = etree.Element("移交清册", 移交编号=manifest["transfer_id"])
    _el(root, "移交单位", manifest["sender"]["organization"])
    _el(root, "接收单位", manifest["receiver"]["name"])
    _el(root, "制表时间", manifest["created_at"])
    rows = _el(root, "条目", 件数=str(len(manifest["items"])))
    for n, i in enumerate(manifest["items"], start=1):
        row = _el(rows, "件", 序号=str(n))
        for tag, key in (("档号", "archival_code"), ("题名", "title"), ("年度", "year"),
                         ("保管期限", "retention"), ("文件数", "file_count"),
                         ("页数", "page_count"), ("字节数", "total_bytes"),
                         ("办件编号", "case_id"), ("来源系统", "source_system"),
                         ("AIP标识", "aip_id"), ("AIP摘要SHA256", "aip_sha256")):
            _el(row, tag, "" if i.get(key) is None else i[key])
        _el(row, "备注", f"版本 {i['version']}")
    return _xml(root)


def register_fields(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """The sending side of 电子业务材料移交与接收登记表, as (label, value) rows."""
    items = manifest["items"]
    years = sorted({i["year"] for i in items})
    checks = manifest.get("checks") or {}
    out = [("交接工作名称", f"{manifest['sender']['organization']}向{manifest['receiver']['name']}"
            f"移交社会保险电子业务档案（{manifest['transfer_id']}）"),
           ("内容描述", f"{years[0]}—{years[-1]} 年度社会保险业务档案 {len(items)} 件"
            if years else "（无）"),
           ("移交电子档案数量", f"{len(items)} 件，{sum(i.get('file_count') or 0 for i in items)} 个文件"),
           ("移交数据量", f"{sum(i.get('total_bytes') or 0 for i in items)} 字节"),
           ("载体类型、规格", "在线传输（ZIP 移交包，BagIt 归档信息包）"),
           ("移交单位", manifest["sender"]["organization"]),
           ("移交单位全宗号", manifest["sender"]["fonds"]),
           ("接收单位", manifest["receiver"]["name"]),
           ("填表人", manifest["created_by"]), ("移交日期", manifest["created_at"][:10])]
    for nature, label in NATURES.items():
        c = checks.get(nature) or {}
        out.append((f"{label}检验（移交单位）",
                    f"通过 {c.get('pass', 0)} 项，警告 {c.get('warn', 0)} 项，不通过 {c.get('fail', 0)} 项"))
    return out


def register_xml(manifest: dict[str, Any]) -> bytes:
    root = etree.Element("电子业务材料移交与接收登记表", 依据="GB/T 31599—2015 附录D",
                         移交编号=manifest["transfer_id"])
    side = _el(root, "移交单位填写")
    for label, value in register_fields(manifest):
        _el(side, "项", value, 名称=label)
    _el(root, "接收单位填写", "（由接收单位在接收回执中填写并签名）")
    return _xml(root)


def register_pdf(manifest: dict[str, Any]) -> bytes | None:
    """The register printed with a CJK font; None when the machine has no such font."""
    from dangan.archive.fonts import cjk_font_path

    if cjk_font_path() is None:
        return None
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from dangan.archive.watermark import _reportlab_font

    font = _reportlab_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(f"电子业务材料移交与接收登记表 {manifest['transfer_id']}")
    width, height = A4
    c.setFont(font, 16)
    c.drawCentredString(width / 2, height - 60, "社会保险电子业务材料移交与接收登记表")
    c.setFont(font, 10)
    y = height - 100
    for label, value in register_fields(manifest) + [("接收单位填写", "见接收回执（签名）")]:
        c.drawString(50, y, f"{label}：")
        text = str(value)
        for start in range(0, max(len(text), 1), 30):  # wrap: about 30 CJK glyphs a line
            c.drawString(190, y, text[start:start + 30])
            y -= 16
        y -= 6
    c.showPage()
    c.save()
    return buf.getvalue()


def _add(zf: zipfile.ZipFile, name: str, src: Path | bytes) -> None:
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_STORED if name.endswith(".zip") else zipfile.ZIP_DEFLATED
    if isinstance(src, Path):
        with open(src, "rb") as f, zf.open(info, "w", force_zip64=True) as out:
            while chunk := f.read(1 << 20):
                out.write(chunk)
    else:
        zf.writestr(info, src)


def write_package(out: Path, manifest: dict[str, Any], files: dict[str, Path | bytes],
                  key: ArchiveKey) -> str:
    """Write the package; ``files`` maps member name → path or bytes. Returns the manifest
    digest. The manifest gets every file's size, SHA-256 and SM3, then the signature."""
    listed = []
    for name in sorted(files):
        src = files[name]
        if isinstance(src, Path):
            d = digest_file(src)
            listed.append({"path": name, "size": d.size, "sha256": d.sha256, "sm3": d.sm3})
        else:
            from dangan.packages.digests import sha256_hex, sm3_hex
            listed.append({"path": name, "size": len(src), "sha256": sha256_hex(src),
                           "sm3": sm3_hex(src)})
    manifest = {**manifest, "type": MANIFEST_TYPE, "files": listed,
                "sender": {**manifest["sender"], "key_id": key.key_id,
                           "public_key_pem": key.public_pem.decode("ascii"),
                           "fingerprint": signing.key_fingerprint(key.public_pem)}}
    body = canonical_json(manifest)
    sig = signing.sign(key.private_key, key.key_id, body)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        _add(zf, MANIFEST, body)
        _add(zf, MANIFEST_SIG, sig.to_json())
        for name in sorted(files):
            _add(zf, name, files[name])
    tmp.replace(out)
    return hashlib.sha256(body).hexdigest()


@dataclass
class OpenedPackage:
    root: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    sender_pem: bytes

    def aip_zip(self, aip_id: str) -> Path:
        return self.root / aip_member(aip_id)


def _sender_pem(manifest: dict[str, Any], sender_key: bytes | None,
                fingerprint: str | None) -> bytes:
    """The key the manifest must be signed with: the one given, or the embedded one when
    its fingerprint is the one given. Anything else is an unknown sender."""
    embedded = str((manifest.get("sender") or {}).get("public_key_pem") or "").encode("ascii")
    if sender_key is not None:
        return sender_key
    if fingerprint:
        try:
            found = signing.key_fingerprint(embedded)
        except (KeyError_, ValueError) as exc:
            raise UnknownSender(f"移交包中的移交单位公钥无法读取：{exc}") from exc
        if found != fingerprint.strip().lower():
            raise UnknownSender(
                f"移交包由指纹为 {found[:16]}… 的密钥签名，不是指定的移交单位（{fingerprint[:16]}…）",
                [{"expected": fingerprint, "found": found}])
        return embedded
    raise UnknownSender("未指定移交单位的公钥或指纹（--sender-key 或 --sender-fingerprint），"
                        "不接收来源不明的移交包")


_ITEM_TEXT = ("aip_id", "archival_code", "aip_sha256", "source_system", "case_id")
_AIP_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,127}")


def _check_items(manifest: dict[str, Any]) -> None:
    """The signed item list is still input: a sender's bug or a dishonest insider holding
    its key must get a refusal naming the fault, not a crash or a half-filed package."""
    items = manifest.get("items")
    if not isinstance(items, list) or not items:
        raise PackageTampered("移交包清单中没有档案条目（items）")
    seen: dict[tuple[str, ...], int] = {}
    for n, i in enumerate(items, start=1):
        bad = [k for k in _ITEM_TEXT if not isinstance(i, dict) or not isinstance(i.get(k), str)
               or not i[k]]
        if bad or not isinstance(i.get("version"), int) or isinstance(i.get("version"), bool):
            raise PackageTampered(f"移交包清单第 {n} 条缺少或写错了字段："
                                  + "、".join(bad or ["version"]), [{"item": n}])
        if not _AIP_ID.fullmatch(i["aip_id"]):
            raise PackageTampered(f"移交包清单第 {n} 条的 AIP 标识不合法：{i['aip_id']!r}",
                                  [{"item": n}])
        for key in (("aip", i["aip_id"]), ("code", i["archival_code"], str(i["version"])),
                    ("case", i["source_system"], i["case_id"], str(i["version"]))):
            if key in seen:
                raise PackageTampered(
                    f"移交包清单第 {seen[key]} 条与第 {n} 条是同一件档案（{i['archival_code']}，"
                    f"AIP {i['aip_id']}）：重复列出", [{"item": seen[key]}, {"item": n}])
            seen[key] = n


def open_package(path: Path, workdir: Path, *, sender_key: bytes | None,
                 fingerprint: str | None) -> OpenedPackage:
    """Extract safely, verify the manifest signature by the sender, then every file."""
    try:
        names = set(extract_zip(path, workdir, ZipLimits(max_ratio=1000.0)))
    except UnsafeContainer as exc:
        raise PackageTampered(f"移交包无法安全打开：{exc.message}") from exc
    if MANIFEST not in names or MANIFEST_SIG not in names:
        raise PackageIncomplete("移交包中缺少 transfer.json 或其签名 transfer.json.sig")
    body = (workdir / MANIFEST).read_bytes()
    try:
        manifest = json.loads(body.decode("utf-8"))
        sig = signing.DetachedSignature.from_json((workdir / MANIFEST_SIG).read_bytes())
    except (UnicodeDecodeError, ValueError, SignatureError) as exc:
        raise PackageTampered(f"移交包清单或签名不可读：{exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("type") != MANIFEST_TYPE:
        raise PackageTampered("transfer.json 不是 Dangan 移交包清单")
    pem = _sender_pem(manifest, sender_key, fingerprint)
    try:
        signing.verify(pem, sig, body)
    except (SignatureError, KeyError_) as exc:
        embedded = str((manifest.get("sender") or {}).get("public_key_pem") or "")
        if embedded.encode("ascii", "replace").strip() == pem.strip():
            raise PackageTampered("移交包清单与移交单位的签名不符：清单在签名后被改动") from exc
        raise UnknownSender(f"移交包清单的签名不是指定移交单位的密钥所签：{exc.message}") from exc
    if canonical_json(manifest) != body:
        raise PackageTampered("transfer.json 不是规范 JSON：清单被改写")
    listed = {f["path"]: f for f in manifest.get("files") or []}
    missing = sorted(set(listed) - names)
    extra = sorted(names - set(listed) - {MANIFEST, MANIFEST_SIG})
    if missing or extra:
        raise PackageIncomplete(
            "移交包与签名清单不符：" + "；".join(
                [f"缺少 {m}" for m in missing] + [f"多出 {e}" for e in extra]),
            [{"missing": m} for m in missing] + [{"extra": e} for e in extra])
    bad = []
    for name, want in sorted(listed.items()):
        d = digest_file(workdir / name)
        if (d.size, d.sha256, d.sm3) != (want["size"], want["sha256"], want["sm3"]):
            bad.append({"path": name, "expected": want["sha256"], "found": d.sha256})
    if bad:
        raise PackageTampered(f"移交包中 {len(bad)} 个文件与签名清单的摘要不符："
                              + "、".join(b["path"] for b in bad), bad)
    _check_items(manifest)
    item_paths = {aip_member(i["aip_id"]) for i in manifest["items"]}
    if not item_paths <= set(listed):
        raise PackageIncomplete("清单列出的档案在移交包中没有信息包")
    return OpenedPackage(workdir, manifest, hashlib.sha256(body).hexdigest(), pem)


def make_transfer_receipt(body: dict[str, Any], key: ArchiveKey) -> dict[str, Any]:
    return make_receipt({**body, "type": RECEIPT_TYPE,
                         "receiver_fingerprint": signing.key_fingerprint(key.public_pem)}, key)


def check_receipt_signature(receipt: dict[str, Any], receiver_pem: bytes) -> None:
    """Raise ``SignatureError``/``KeyError_`` unless the receiving archive's key signed it."""
    if receipt.get("type") != RECEIPT_TYPE:
        raise SignatureError("不是移交接收回执（type 应为 dangan/transfer-receipt/1）")
    verify_receipt(receipt, receiver_pem)
