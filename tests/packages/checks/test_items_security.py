"""Security check items (GD-4-1, GD-4-2, GD-4-2-2) on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.packages.checks import Result
from dangan.packages.formats.virus import BuiltinScanner, ScanResult
from tests.packages.formats.dangan_format_samples import (
    EICAR,
    OFD_FIXTURES,
    billion_laughs_xml,
    build_context,
    chinese_pdf,
    embedded_file_pdf,
    javascript_pdf,
    launch_annotation_pdf,
    ofd_with_member,
    open_action_javascript_pdf,
    run_item,
    xml_doc,
    xxe_xml,
)

PDF = {"media_type": "application/pdf"}
OFD = {"media_type": "application/ofd"}
XML = {"media_type": "application/xml"}


class FullScanner:
    """Stands in for an installed engine: a real scan, declared as full coverage."""

    name = "测试引擎"
    full_coverage = True

    def scan(self, path: Path) -> ScanResult:
        inner = BuiltinScanner().scan(path)
        return ScanResult(inner.clean, self.name, inner.signature_name, inner.message)


class BrokenScanner:
    name = "故障引擎"
    full_coverage = True

    def scan(self, path: Path) -> ScanResult:
        return ScanResult(None, self.name, None, "扫描超时")


# --- GD-4-1 ---------------------------------------------------------------------------

def test_gd_4_1_warns_with_builtin_scanner_only(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF)],
                        virus_scanner=BuiltinScanner())
    r = run_item(ctx, "GD-4-1")
    assert r.result is Result.WARN and not r.blocking
    assert [e["code"] for e in r.evidence] == ["security.scanner_limited"]


def test_gd_4_1_passes_with_a_full_engine(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF)],
                        virus_scanner=FullScanner())
    assert run_item(ctx, "GD-4-1").result is Result.PASS


# --- GD-4-2 ---------------------------------------------------------------------------

def test_gd_4_2_pass_for_clean_files(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF),
                                   (OFD_FIXTURES / "999.ofd", "b.ofd", OFD)])
    r = run_item(ctx, "GD-4-2")
    assert r.result is Result.PASS and "仅内置特征检测" in r.message


def test_gd_4_2_fails_on_eicar_plain_and_inside_ofd(tmp_path: Path) -> None:
    plain = tmp_path / "eicar.pdf"
    plain.write_bytes(EICAR)
    ofd = ofd_with_member(OFD_FIXTURES / "helloworld.ofd", tmp_path / "v.ofd",
                          "Doc_0/Res/x.bin", EICAR)
    ctx = build_context(tmp_path, [(plain, "a.pdf", PDF), (ofd, "b.ofd", OFD),
                                   (chinese_pdf(tmp_path / "c.pdf"), "c.pdf", PDF)])
    r = run_item(ctx, "GD-4-2")
    assert r.result is Result.FAIL and r.blocking
    assert {(e["code"], e["path"]) for e in r.evidence} == {("security.virus", "files/a.pdf"),
                                                              ("security.virus", "files/b.ofd")}
    assert "EICAR" in r.message


def test_gd_4_2_scans_unlisted_files_too(tmp_path: Path) -> None:
    plain = tmp_path / "eicar.bin"
    plain.write_bytes(EICAR)
    ctx = build_context(tmp_path, [(plain, "x.bin", PDF)])
    ctx.case["files"].clear()
    assert run_item(ctx, "GD-4-2").result is Result.FAIL


def test_gd_4_2_unassessed_is_not_a_pass(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF)],
                        virus_scanner=BrokenScanner())
    r = run_item(ctx, "GD-4-2")
    assert r.result is Result.WARN and {e["code"] for e in r.evidence} == {"security.scan_failed"}
    assert "扫描超时" in r.message  # the scanner's reason reaches the person


# --- GD-4-2-2 -------------------------------------------------------------------------

def test_gd_4_2_2_pass_for_plain_documents(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, [(chinese_pdf(tmp_path / "a.pdf"), "a.pdf", PDF),
                                   (xml_doc(tmp_path / "b.xml"), "b.xml", XML),
                                   (OFD_FIXTURES / "helloworld.ofd", "c.ofd", OFD)])
    assert run_item(ctx, "GD-4-2-2").result is Result.PASS


@pytest.mark.parametrize("maker", [javascript_pdf, open_action_javascript_pdf,
                                   launch_annotation_pdf, embedded_file_pdf],
                         ids=lambda f: f.__name__)
def test_gd_4_2_2_fails_on_pdf_active_content(tmp_path: Path, maker) -> None:
    ctx = build_context(tmp_path, [(maker(tmp_path / "x.pdf"), "x.pdf", PDF)])
    r = run_item(ctx, "GD-4-2-2")
    assert r.result is Result.FAIL and r.evidence[0]["path"] == "files/x.pdf"
    assert r.evidence[0]["code"] == "security.active_content"


def test_gd_4_2_2_fails_on_xxe_and_billion_laughs(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    ctx = build_context(tmp_path, [(xxe_xml(tmp_path / "a.xml", secret), "a.xml", XML),
                                   (billion_laughs_xml(tmp_path / "b.xml"), "b.xml", XML)])
    r = run_item(ctx, "GD-4-2-2")
    assert r.result is Result.FAIL
    assert {(e["code"], e["path"]) for e in r.evidence} == {
        ("security.xml_entities", "files/a.xml"), ("security.xml_entities", "files/b.xml")}
    assert "XXE" in r.message


@pytest.mark.parametrize("name", ["AddAttachment.ofd", "999.ofd", "v4signed.ofd", "发票示例.ofd"])
def test_gd_4_2_2_warns_on_ofd_attachments(tmp_path: Path, name: str) -> None:
    ctx = build_context(tmp_path, [(OFD_FIXTURES / name, "a.ofd", OFD)])
    r = run_item(ctx, "GD-4-2-2")
    assert r.result is Result.WARN and [e["code"] for e in r.evidence] == ["security.attachments"]


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(OFD_FIXTURES.glob("*.ofd"))
     if p.name not in {"AddAttachment.ofd", "999.ofd", "v4signed.ofd", "发票示例.ofd"}],
    ids=lambda p: p.name,
)
def test_gd_4_2_2_pass_for_ofd_without_attachments(tmp_path: Path, path: Path) -> None:
    ctx = build_context(tmp_path, [(path, "a.ofd", OFD)])
    assert run_item(ctx, "GD-4-2-2").result is Result.PASS


def test_gd_4_2_2_fails_on_dtd_inside_an_ofd_part(tmp_path: Path) -> None:
    import zipfile

    page = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "y">]>'
        b'<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer>'
        b'<ofd:TextObject Boundary="0 0 10 10" Size="3"><ofd:TextCode X="0" Y="3">&x;'
        b"</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>"
    )
    evil = tmp_path / "e.ofd"
    with zipfile.ZipFile(OFD_FIXTURES / "helloworld.ofd") as zin, zipfile.ZipFile(evil, "w") as z:
        for item in zin.infolist():
            is_page = item.filename == "Doc_0/Pages/Page_0/Content.xml"
            z.writestr(item.filename, page if is_page else zin.read(item))
    r = run_item(build_context(tmp_path, [(evil, "e.ofd", OFD)]), "GD-4-2-2")
    assert r.result is Result.FAIL and r.evidence[0]["member"] == "Doc_0/Pages/Page_0/Content.xml"
