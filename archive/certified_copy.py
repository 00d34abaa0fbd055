"""Certified copies (档案证明): a PDF copy of an archived document signed by the archive.

Why PAdES with a separate ECDSA P-256 key: every PDF reader shows a PAdES signature, but
few accept Ed25519 (the archive key's algorithm), so copies are signed by a P-256 key
with a self-signed certificate, both kept in the instance's ``keys/`` folder, the key
encrypted with the archive key's passphrase. ``/verify`` checks a copy against that
certificate (offline, no account); evidence packages are checked with the archive's
Ed25519 key (the independent key) by ``packages.evidence.verify_evidence``.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dangan.packages.digests import sha256_hex

from . import audit_log
from .accounts import PermissionDenied, Principal
from .errors import ArchiveError
from .instance import Archive
from .keys import KEY_DIR, passphrase_sources, read_passphrase
from .reading_files import read_file
from .timeutil import local, utcnow
from .watermark import _reportlab_font

COPY_KEY = "copy-signing-key.pem"
COPY_CERT = "copy-signing-cert.pem"
FIELD = "DanganCertification"


class CertifiedCopyError(ArchiveError):
    code = "copy.invalid"


def _passphrase(archive: Archive) -> bytes:
    sources = passphrase_sources(archive.home, archive.settings.key_passphrase_file or None)
    if not sources:
        raise CertifiedCopyError("无法取得档案馆密钥口令，不能出具档案证明")
    return read_passphrase(archive.home, sources[0]).encode()


def ensure_copy_key(archive: Archive) -> tuple[Path, Path]:
    """The copy-signing key and certificate, created at first use (10-year validity)."""
    d = archive.home / KEY_DIR
    key_path, cert_path = d / COPY_KEY, d / COPY_CERT
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    key = ec.generate_private_key(ec.SECP256R1())
    org = archive.settings.organization or "Dangan"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{org} 档案证明签章"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(_passphrase(archive)))
    for path, data in ((key_path, pem), (cert_path, cert.public_bytes(serialization.Encoding.PEM))):
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.chmod(0o600)
        tmp.replace(path)
    return key_path, cert_path


def _stamp(original: bytes, lines: list[str], url: str) -> bytes:
    """The original pages, each with a footer line, and a certification page with a QR code."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = _reportlab_font()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    for page in writer.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=(w, h))
        c.setFont(font, 8)
        c.setFillColorRGB(0.6, 0.05, 0.05)
        c.drawString(12, 10, lines[0])
        c.save()
        page.merge_page(PdfReader(buf).pages[0])
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(font, 20)
    c.drawString(72, 760, "档案证明")
    c.setFont(font, 11)
    for i, line in enumerate(lines[1:]):
        c.drawString(72, 720 - 20 * i, line)
    qr = QrCodeWidget(url)
    x0, y0, x1, y1 = qr.getBounds()
    d = Drawing(150, 150, transform=[150 / (x1 - x0), 0, 0, 150 / (y1 - y0), 0, 0])
    d.add(qr)
    renderPDF.draw(d, c, 72, 420)
    c.setFont(font, 8)
    for i in range(0, len(url), 90):
        c.drawString(72, 405 - 11 * (i // 90), url[i:i + 90])
    c.save()
    writer.add_page(PdfReader(buf).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def issue(archive: Archive, by: Principal, ref: str, file_id: str, *, base_url: str) -> tuple[
        bytes, str]:
    """A signed certified copy of a PDF file of ``ref``; returns (pdf, filename)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    if not by.can("copy.certify"):
        raise PermissionDenied("您没有出具档案证明的权限")
    content, _ = read_file(archive, by, ref, file_id, mode="certify")
    if content.media_type != "application/pdf":
        raise CertifiedCopyError("只能为 PDF 文件出具档案证明")
    original_sha = sha256_hex(content.data)
    with archive.db.session() as s:
        from . import catalogue

        item = catalogue.lookup(s, ref).item
        aip_id, code, title = item.aip_id, item.archival_code, item.title
    now = utcnow()
    url = f"{base_url.rstrip('/')}/verify?" + urlencode(
        {"aip": aip_id, "file": file_id, "sha256": original_sha})
    lines = [f"档案证明副本 · 档号 {code} · {archive.settings.organization} · {local(now)}",
             f"题名：{title}", f"文件：{content.title}（{file_id}）", f"档号：{code}",
             f"原件 SHA-256：{original_sha[:32]}", f"            {original_sha[32:]}",
             f"出具：{by.display_name}（{by.login}） {local(now)}",
             "扫描二维码或访问下列地址，上传本副本即可核验真伪："]
    stamped = _stamp(content.data, lines, url)
    key_path, cert_path = ensure_copy_key(archive)
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path),
                                       key_passphrase=_passphrase(archive))
    if signer is None:
        raise CertifiedCopyError("档案证明签章密钥无法读取")
    meta = signers.PdfSignatureMetadata(field_name=FIELD, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason="档案证明",
                                        location=archive.settings.organization or None)
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(stamped)), meta, signer=signer)
    data = out.getvalue()
    audit_log.record(archive.db, actor=by.actor, action="aip:export", object_id=aip_id,
                     object_digest=sha256_hex(data),
                     details={"kind": "certified_copy", "file": file_id,
                              "original_sha256": original_sha, "request": content.request_id})
    return data, f"档案证明-{code}-{file_id}.pdf"


@dataclass
class Verdict:
    ok: bool
    kind: str  # copy | evidence | unknown
    summary: str
    details: list[tuple[str, bool, str]] = field(default_factory=list)


def verify_copy(archive: Archive, data: bytes) -> Verdict:
    """Is ``data`` a certified copy signed by this archive and unchanged since?"""
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: F401

    _, cert_path = ensure_copy_key(archive)
    _, _, der = asn1_pem.unarmor(cert_path.read_bytes())
    root = asn1_x509.Certificate.load(der)
    try:
        sigs = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception as exc:  # noqa: BLE001 — any unreadable upload is "not authentic"
        return Verdict(False, "copy", f"文件无法作为 PDF 读取：{exc}")
    sigs = [s for s in sigs if s.field_name == FIELD]
    if not sigs:
        return Verdict(False, "copy", "文件中没有本档案馆的档案证明签章")
    vc = ValidationContext(trust_roots=[root], allow_fetching=False)
    try:
        st = validate_pdf_signature(sigs[-1], vc)
    except Exception as exc:  # noqa: BLE001
        return Verdict(False, "copy", f"签章无法校验：{exc}")
    whole = st.coverage is not None and st.coverage.name == "ENTIRE_FILE"
    details = [("签章完整（内容未被改动）", bool(st.intact and st.valid), ""),
               ("签章证书为本档案馆的档案证明证书", bool(st.trusted), ""),
               ("签章覆盖整个文件（签章后没有追加修改）", whole, "")]
    ok = all(d[1] for d in details)
    when = local(st.signer_reported_dt) if st.signer_reported_dt else ""
    summary = (f"真实：本档案馆于 {when} 出具的档案证明，签章后未被改动" if ok
               else "不能证明真实：签章无效、证书不是本档案馆的，或签章后文件被改动")
    return Verdict(ok, "copy", summary, details)


def verify_evidence_package(archive: Archive, data: bytes) -> Verdict:
    """An evidence package checked with the archive's own (independent) public key."""
    from dangan.packages.evidence import verify_evidence

    pub = (archive.home / KEY_DIR / "archive-key.pub.pem").read_bytes()
    with tempfile.TemporaryDirectory(prefix="dangan-verify-") as tmp:
        path = Path(tmp) / "evidence.zip"
        path.write_bytes(data)
        report = verify_evidence(path, archive_public_key_pem=pub)
    details = [(s.step, s.ok, s.message) for s in report.steps]
    summary = (f"真实：证据包（档号 {report.archival_code}）各项校验通过" if report.ok
               else "不能证明真实：证据包校验未通过")
    return Verdict(report.ok, "evidence", summary, details)


def verify_upload(archive: Archive, data: bytes) -> Verdict:
    """A copy (PDF) or an evidence package (zip), told apart by their first bytes."""
    if data[:5] == b"%PDF-":
        return verify_copy(archive, data)
    if data[:4] == b"PK\x03\x04":
        return verify_evidence_package(archive, data)
    return Verdict(False, "unknown", "无法识别：请上传档案证明（PDF）或证据包（ZIP）")


def original_facts(archive: Archive, aip_id: str, file_id: str, sha256: str) -> dict[str, Any] | None:
    """What the QR link may tell anyone: that this original is held, under which code."""
    with archive.db.session() as s:
        from .models import Item

        item = s.get(Item, aip_id)
        if item is None:
            return None
        f = next((f for f in item.files if f.file_id == file_id and f.sha256 == sha256), None)
        if f is None:
            return None
        return {"archival_code": item.archival_code, "file_title": f.title,
                "archived_at": item.archived_at}
