"""Identification by content, images, XML hardening and the virus scanners."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from dangan.packages.errors import FormatError
from dangan.packages.formats.identify import identify
from dangan.packages.formats.image import inspect_image
from dangan.packages.formats.virus import BuiltinScanner, ClamAVScanner, default_scanner
from dangan.packages.formats.xmlsafe import inspect_xml, parse_xml_bytes
from tests.packages.formats.dangan_format_samples import (
    EICAR,
    OFD_FIXTURES,
    billion_laughs_xml,
    chinese_pdf,
    ofd_with_member,
    scan_image,
    truncated_copy,
    xml_doc,
    xxe_xml,
)


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"BM" + b"\x00" * 4 + b"\x00\x00\x00\x00" + b"\x36\x00\x00\x00", "image/bmp"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "application/x-msdownload"),
        (b"\x7fELF\x02\x01\x01", "application/x-executable"),
        (b"Rar!\x1a\x07\x00", "application/vnd.rar"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "application/x-7z-compressed"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "text/html"),
        (b"  <html lang='zh'><head></head></html>", "text/html"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><a/>", "application/xml"),
        (b"\n  <root><x/></root>", "application/xml"),
        (b"<!-- c --><ns:root xmlns:ns='u'/>", "application/xml"),
        ("参保登记表 张三\n".encode(), "text/plain"),
        (b"\x00\x01\x02\x03\xfe\xfa", "application/octet-stream"),
        (b"", "application/x-empty"),
        (b"junk before %PDF-1.7\n", "application/pdf"),
    ],
)
def test_identify_by_magic(tmp_path: Path, content: bytes, media_type: str) -> None:
    f = tmp_path / "sample.pdf"  # the name never matters
    f.write_bytes(content)
    assert identify(f).media_type == media_type


def test_identify_real_files(tmp_path: Path) -> None:
    pdf = chinese_pdf(tmp_path / "a.bin")
    assert identify(pdf).media_type == "application/pdf" and identify(pdf).version == "1.3"
    assert identify(scan_image(tmp_path / "a.jpg", "JPEG", 72)).media_type == "image/jpeg"
    assert identify(scan_image(tmp_path / "a.tif", "TIFF", 72)).media_type == "image/tiff"
    png_named_pdf = scan_image(tmp_path / "x.png", "PNG", 72).rename(tmp_path / "x.pdf")
    assert identify(png_named_pdf).media_type == "image/png"
    assert identify(xml_doc(tmp_path / "a.txt")).media_type == "application/xml"
    assert identify(OFD_FIXTURES / "helloworld.ofd").media_type == "application/ofd"


def test_identify_zip_family(tmp_path: Path) -> None:
    docx = tmp_path / "d.ofd"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    assert "wordprocessingml" in identify(docx).media_type
    assert "Word" in identify(docx).name
    plain = tmp_path / "p.ofd"
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("readme.txt", "x")
    assert identify(plain).media_type == "application/zip"


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF", "PNG"])
@pytest.mark.parametrize("dpi", [300, 72])
def test_image_dpi_and_full_decode(tmp_path: Path, fmt: str, dpi: int) -> None:
    info = inspect_image(scan_image(tmp_path / f"s.{fmt.lower()}", fmt, dpi))
    assert info.fully_decoded and not info.problems
    assert info.format == fmt and info.frames == 1
    assert info.dpi is not None and abs(info.dpi[0] - dpi) < 1 and abs(info.dpi[1] - dpi) < 1


def test_tiff_in_centimetres_is_converted(tmp_path: Path) -> None:
    info = inspect_image(scan_image(tmp_path / "cm.tif", "TIFF", 300, cm_unit=True))
    assert info.dpi is not None and abs(info.dpi[0] - 300) < 1


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_truncated_image_is_caught(tmp_path: Path, fmt: str) -> None:
    full = scan_image(tmp_path / f"f.{fmt.lower()}", fmt, 300)
    info = inspect_image(truncated_copy(full, tmp_path / f"cut.{fmt.lower()}", keep=0.7))
    assert not info.fully_decoded and info.problems


def test_jpeg_without_eoi(tmp_path: Path) -> None:
    full = scan_image(tmp_path / "f.jpg", "JPEG", 300)
    cut = tmp_path / "noeoi.jpg"
    cut.write_bytes(full.read_bytes()[:-2])
    info = inspect_image(cut)
    assert info.truncated and not info.fully_decoded


def test_xml_ok(tmp_path: Path) -> None:
    info = inspect_xml(xml_doc(tmp_path / "a.xml"))
    assert info.well_formed and not info.has_doctype and not info.problems
    assert info.root_tag == "表单"


def test_xxe_is_reported_and_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    bad = xxe_xml(tmp_path / "x.xml", secret)
    info = inspect_xml(bad)
    assert info.has_doctype and info.has_entities and info.problems
    root = parse_xml_bytes(bad.read_bytes())
    assert "TOP-SECRET-VALUE" not in "".join(root.itertext())


def test_billion_laughs_is_reported_not_expanded(tmp_path: Path) -> None:
    bad = billion_laughs_xml(tmp_path / "b.xml")
    info = inspect_xml(bad)
    assert info.has_entities and info.problems
    # libxml2 either leaves the references unexpanded or refuses the amplification.
    try:
        root = parse_xml_bytes(bad.read_bytes())
    except FormatError as exc:
        assert "amplification" in exc.message
    else:
        assert len("".join(root.itertext())) < 1000


def test_malformed_xml(tmp_path: Path) -> None:
    f = tmp_path / "m.xml"
    f.write_text("<a><b></a>")
    assert not inspect_xml(f).well_formed
    with pytest.raises(FormatError):
        parse_xml_bytes(f.read_bytes())


def test_builtin_scanner_finds_eicar_plain_and_inside_ofd(tmp_path: Path) -> None:
    scanner = BuiltinScanner()
    plain = tmp_path / "eicar.com"
    plain.write_bytes(EICAR)
    res = scanner.scan(plain)
    assert res.clean is False and res.signature_name == "EICAR-Test-File"
    # The spelling without "$" (a shell-eaten copy) is recognised as well.
    plain.write_bytes(EICAR.replace(b"!$H+H*", b"!H+H*"))
    assert scanner.scan(plain).clean is False
    ofd = ofd_with_member(OFD_FIXTURES / "helloworld.ofd", tmp_path / "v.ofd",
                          "Doc_0/Res/payload.bin", EICAR)
    res = scanner.scan(ofd)
    assert res.clean is False and "payload.bin" in res.message
    clean = scanner.scan(OFD_FIXTURES / "helloworld.ofd")
    assert clean.clean is True and "仅内置特征检测" in clean.engine
    assert not scanner.full_coverage


def test_default_scanner_matches_what_is_installed() -> None:
    scanner = default_scanner()
    installed = bool(shutil.which("clamdscan") or shutil.which("clamscan"))
    assert isinstance(scanner, ClamAVScanner if installed else BuiltinScanner)


@pytest.mark.skipif(not shutil.which("clamscan"), reason="ClamAV not installed")
def test_clamav_finds_eicar(tmp_path: Path) -> None:
    f = tmp_path / "eicar.com"
    f.write_bytes(EICAR)
    assert ClamAVScanner().scan(f).clean is False


def _fake_clamscan(tmp_path: Path) -> Path:
    """A stand-in ``clamscan`` with ClamAV's exit codes and output format."""
    script = tmp_path / "bin" / "clamscan"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        'for f; do last="$f"; done\n'
        'if grep -q "EICAR-STANDARD" "$last"; then echo "$last: Eicar-Signature FOUND"; exit 1; fi\n'
        'if [ ! -r "$last" ]; then echo "ERROR: cannot read" >&2; exit 2; fi\n'
        'echo "$last: OK"; exit 0\n'
    )
    script.chmod(0o755)
    return script


def test_clamav_adapter_reads_exit_codes_and_signature(tmp_path: Path) -> None:
    scanner = ClamAVScanner(command=str(_fake_clamscan(tmp_path)))
    assert scanner.full_coverage
    bad = tmp_path / "eicar.com"
    bad.write_bytes(EICAR)
    res = scanner.scan(bad)
    assert res.clean is False and res.signature_name == "Eicar-Signature"
    good = chinese_pdf(tmp_path / "a.pdf")
    assert scanner.scan(good).clean is True
    missing = scanner.scan(tmp_path / "nope.pdf")
    assert missing.clean is None and "返回码 2" in missing.message


def test_zip_holding_a_stored_pdf_is_not_a_pdf(tmp_path: Path) -> None:
    z = tmp_path / "bundle.pdf"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.pdf", chinese_pdf(tmp_path / "a.pdf").read_bytes())
    assert identify(z).media_type == "application/zip"
