"""Content check items (GD-1-9, GD-2-7, GD-3-3, GD-3-4, GD-3-8, DG-3-1, GD-1-1-3) on real files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from dangan.packages.checks import Result, Stage
from tests.packages.formats.dangan_format_samples import (
    OFD_FIXTURES,
    build_context,
    chinese_pdf,
    encrypted_pdf,
    run_item,
    scan_image,
    scanned_pdf,
    truncated_copy,
    xml_doc,
)

PDF = {"media_type": "application/pdf"}
ALL_OFD = sorted(OFD_FIXTURES.glob("*.ofd"))
SEALED = {"keyword.ofd", "SESV4SignDoc.ofd", "v4signed.ofd", "发票示例.ofd", "999.ofd"}


def result(tmp_path: Path, code: str, files, **kw):
    return run_item(build_context(tmp_path, files, **kw), code)


# --- GD-1-9 ---------------------------------------------------------------------------

def test_gd_1_9_pass_when_declared_type_and_pages_match(tmp_path: Path) -> None:
    pdf = chinese_pdf(tmp_path / "a.pdf")
    jpg = scan_image(tmp_path / "b.jpg", "JPEG", 300)
    r = result(tmp_path, "GD-1-9", [(pdf, "a.pdf", {"pages": 2}),
                                    (jpg, "b.jpg", {"media_type": "image/jpg", "pages": 1})])
    assert r.result is Result.PASS, r.message


def test_gd_1_9_fails_on_png_named_pdf(tmp_path: Path) -> None:
    png = scan_image(tmp_path / "x.png", "PNG", 300)
    pdf = chinese_pdf(tmp_path / "ok.pdf")
    r = result(tmp_path, "GD-1-9", [(png, "表格.pdf", PDF), (pdf, "ok.pdf", {"pages": 3})])
    assert r.result is Result.FAIL
    paths = {(e["path"], e["field"]) for e in r.evidence}
    assert paths == {("files/表格.pdf", "media_type"), ("files/ok.pdf", "pages")}
    assert "PNG" in r.message


# --- GD-2-7 ---------------------------------------------------------------------------

def test_gd_2_7_pass_for_complete_files(tmp_path: Path) -> None:
    files = [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF),
             (scan_image(tmp_path / "b.jpg", "JPEG", 300), "b.jpg", {"media_type": "image/jpeg"}),
             (OFD_FIXTURES / "helloworld.ofd", "c.ofd", {"media_type": "application/ofd"})]
    assert result(tmp_path, "GD-2-7", files).result is Result.PASS


def test_gd_2_7_fails_for_each_truncated_file(tmp_path: Path) -> None:
    pdf = truncated_copy(chinese_pdf(tmp_path / "a.pdf"), tmp_path / "cut.pdf")
    jpg = truncated_copy(scan_image(tmp_path / "b.jpg", "JPEG", 300), tmp_path / "cut.jpg", 0.7)
    ofd = truncated_copy(OFD_FIXTURES / "keyword.ofd", tmp_path / "cut.ofd", 0.9)
    r = result(tmp_path, "GD-2-7", [(pdf, "a.pdf", PDF),
                                    (jpg, "b.jpg", {"media_type": "image/jpeg"}),
                                    (ofd, "c.ofd", {"media_type": "application/ofd"})])
    assert r.result is Result.FAIL
    assert {e["path"] for e in r.evidence} == {"files/a.pdf", "files/b.jpg", "files/c.ofd"}


def test_gd_2_7_fails_for_ofd_with_missing_page(tmp_path: Path) -> None:
    broken = tmp_path / "b.ofd"
    with zipfile.ZipFile(OFD_FIXTURES / "helloworld.ofd") as zin, zipfile.ZipFile(broken, "w") as z:
        for item in zin.infolist():
            if not item.filename.endswith("Page_0/Content.xml"):
                z.writestr(item.filename, zin.read(item))
    r = result(tmp_path, "GD-2-7", [(broken, "b.ofd", {"media_type": "application/ofd"})])
    assert r.result is Result.FAIL and {e["code"] for e in r.evidence} == {"content.damaged"}
    assert "第 1 页" in r.message  # which page, for a person


# --- GD-3-3 ---------------------------------------------------------------------------

def test_gd_3_3_pass_for_allowed_formats(tmp_path: Path) -> None:
    files = [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF),
             (xml_doc(tmp_path / "b.xml"), "b.xml", {"media_type": "application/xml"}),
             (scan_image(tmp_path / "c.tif", "TIFF", 300), "c.tif", {"media_type": "image/tiff"})]
    assert result(tmp_path, "GD-3-3", files).result is Result.PASS


def test_gd_3_3_fails_and_says_what_the_file_is(tmp_path: Path) -> None:
    exe = tmp_path / "setup.pdf"
    exe.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    gif = tmp_path / "g.gif"
    gif.write_bytes(b"GIF89a" + b"\x00" * 20)
    r = result(tmp_path, "GD-3-3", [(exe, "setup.pdf", PDF), (gif, "g.png", {})])
    assert r.result is Result.FAIL
    assert {e["found"] for e in r.evidence} == {"application/x-msdownload", "image/gif"}
    assert {e["code"] for e in r.evidence} == {"content.format_not_allowed"}
    assert "Windows 可执行程序" in r.message


def test_gd_3_3_respects_configured_allow_list(tmp_path: Path) -> None:
    files = [(xml_doc(tmp_path / "b.xml"), "b.xml", {"media_type": "application/xml"})]
    r = result(tmp_path, "GD-3-3", files,
               allowed_media_types=frozenset({"application/pdf", "application/ofd"}))
    assert r.result is Result.FAIL


# --- GD-3-4 ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ALL_OFD, ids=lambda p: p.name)
def test_gd_3_4_every_ofd_fixture_opens(tmp_path: Path, path: Path) -> None:
    r = result(tmp_path, "GD-3-4", [(path, "doc.ofd", {"media_type": "application/ofd"})])
    assert r.result is Result.PASS, r.message


def test_gd_3_4_fails_for_undecodable_files(tmp_path: Path) -> None:
    bad_xml = tmp_path / "bad.xml"
    bad_xml.write_text('<?xml version="1.0"?><a><b></a>')
    bad_png = tmp_path / "bad.png"
    good = scan_image(tmp_path / "g.png", "PNG", 300).read_bytes()
    bad_png.write_bytes(good[:40] + b"\x00" * 50 + good[90:])
    enc = encrypted_pdf(tmp_path / "enc.pdf")
    r = result(tmp_path, "GD-3-4", [(bad_xml, "a.xml", {"media_type": "application/xml"}),
                                    (bad_png, "b.png", {"media_type": "image/png"}),
                                    (enc, "c.pdf", PDF)])
    assert r.result is Result.FAIL
    assert {e["path"] for e in r.evidence} == {"files/a.xml", "files/b.png", "files/c.pdf"}


# --- GD-3-8 ---------------------------------------------------------------------------

def test_gd_3_8_pass_for_plain_files(tmp_path: Path) -> None:
    files = [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF),
             (OFD_FIXTURES / "999.ofd", "b.ofd", {"media_type": "application/ofd"}),
             (scan_image(tmp_path / "c.tif", "TIFF", 300), "c.tif", {"media_type": "image/tiff"})]
    assert result(tmp_path, "GD-3-8", files).result is Result.PASS


def test_gd_3_8_fails_for_encryption_and_nesting(tmp_path: Path) -> None:
    enc = encrypted_pdf(tmp_path / "enc.pdf", user_password="")  # opens, but protected
    nested = tmp_path / "n.ofd"
    with zipfile.ZipFile(OFD_FIXTURES / "helloworld.ofd") as zin, zipfile.ZipFile(nested, "w") as z:
        for item in zin.infolist():
            z.writestr(item.filename, zin.read(item))
        z.writestr("Doc_0/Res/inner.zip", (OFD_FIXTURES / "helloworld.ofd").read_bytes())
    plain_zip = tmp_path / "z.zip"
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("a.txt", "x")
    r = result(tmp_path, "GD-3-8", [(enc, "a.pdf", PDF),
                                    (nested, "b.ofd", {"media_type": "application/ofd"}),
                                    (plain_zip, "c.pdf", PDF)])
    assert r.result is Result.FAIL
    assert {e["path"] for e in r.evidence} == {"files/a.pdf", "files/b.ofd", "files/c.pdf"}


def test_gd_3_8_fails_for_tiff_with_uncommon_compression(tmp_path: Path) -> None:
    from PIL import Image

    tif = tmp_path / "z.tif"
    Image.new("L", (64, 64), 200).save(tif, compression="zstd", dpi=(300, 300))
    r = result(tmp_path, "GD-3-8", [(tif, "z.tif", {"media_type": "image/tiff"})])
    assert r.result is Result.FAIL and "zstd" in r.message


# --- DG-3-1 ---------------------------------------------------------------------------

def test_dg_3_1_pass_for_300_dpi_scans(tmp_path: Path) -> None:
    scan = {"origin": "digitized"}
    files = [(scan_image(tmp_path / "a.jpg", "JPEG", 300), "a.jpg", {**scan, "media_type": "image/jpeg"}),
             (scan_image(tmp_path / "b.tif", "TIFF", 300, cm_unit=True), "b.tif", {**scan, "media_type": "image/tiff"}),
             (scan_image(tmp_path / "c.png", "PNG", 300), "c.png", {**scan, "media_type": "image/png"}),
             (scanned_pdf(tmp_path / "d.pdf", 300), "d.pdf", {**scan, **PDF}),
             (chinese_pdf(tmp_path / "e.pdf"), "e.pdf", PDF)]  # born digital: not judged
    r = result(tmp_path, "DG-3-1", files)
    assert r.result is Result.PASS, r.message


def test_dg_3_1_fails_for_72_dpi_and_text_pdf(tmp_path: Path) -> None:
    scan = {"origin": "digitized"}
    files = [(scan_image(tmp_path / "a.jpg", "JPEG", 72), "a.jpg", {**scan, "media_type": "image/jpeg"}),
             (scan_image(tmp_path / "b.tif", "TIFF", 72), "b.tif", {**scan, "media_type": "image/tiff"}),
             (scanned_pdf(tmp_path / "d.pdf", 100), "d.pdf", {**scan, **PDF}),
             (chinese_pdf(tmp_path / "e.pdf"), "e.pdf", {**scan, **PDF})]
    r = result(tmp_path, "DG-3-1", files)
    assert r.result is Result.FAIL
    assert {e["path"] for e in r.evidence} == {"files/a.jpg", "files/b.tif", "files/d.pdf",
                                               "files/e.pdf"}
    assert "72×72 dpi" in r.message and "100×100 dpi" in r.message


def test_dg_3_1_threshold_comes_from_context(tmp_path: Path) -> None:
    files = [(scan_image(tmp_path / "a.png", "PNG", 150), "a.png",
              {"origin": "digitized", "media_type": "image/png"})]
    assert result(tmp_path / "1", "DG-3-1", files, min_scan_dpi=150).result is Result.PASS
    assert result(tmp_path / "2", "DG-3-1", files, min_scan_dpi=200).result is Result.FAIL


# --- GD-1-1-3 -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ALL_OFD, ids=lambda p: p.name)
def test_gd_1_1_3_warns_on_sealed_ofd_only(tmp_path: Path, path: Path) -> None:
    r = result(tmp_path, "GD-1-1-3", [(path, "doc.ofd", {"media_type": "application/ofd"})])
    if path.name in SEALED:
        assert r.result is Result.WARN
        assert {e["code"] for e in r.evidence} >= {"content.ofd_signature"}
        assert not r.blocking
    else:
        assert r.result is Result.PASS, r.message


def test_gd_1_1_3_pass_for_unsigned_pdf(tmp_path: Path) -> None:
    r = result(tmp_path, "GD-1-1-3", [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF)])
    assert r.result is Result.PASS


# --- shared behaviour -----------------------------------------------------------------

def test_missing_listed_file_is_not_reported_again(tmp_path: Path) -> None:
    pdf = chinese_pdf(tmp_path / "a.pdf")
    ctx = build_context(tmp_path, [(pdf, "a.pdf", PDF)])
    ctx.case["files"].append({"id": "gone", "path": "gone.pdf", "media_type": "application/pdf"})
    r = run_item(ctx, "GD-3-4")
    assert r.result is Result.PASS and not r.evidence


def test_unusable_case_json_is_not_a_pass(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF)])
    ctx.case, ctx.case_error = None, "JSON 语法错误"
    assert run_item(ctx, "GD-2-7").result is Result.WARN


def test_content_items_also_run_for_long_term_keeping(tmp_path: Path) -> None:
    cut = truncated_copy(chinese_pdf(tmp_path / "a.pdf"), tmp_path / "cut.pdf")
    ctx = build_context(tmp_path, [(cut, "a.pdf", PDF)], stage=Stage.BC)
    assert run_item(ctx, "GD-2-7").result is Result.FAIL
