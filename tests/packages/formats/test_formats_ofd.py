"""The OFD reader against real OFD files produced by different tools."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from dangan.packages.errors import FormatError
from dangan.packages.formats.identify import identify
from dangan.packages.formats.ofd import extract_text, read_ofd
from tests.shared_fixtures import OFD_FIXTURES

FIXTURES = OFD_FIXTURES
ALL = sorted(FIXTURES.glob("*.ofd"))
SEALED = {"keyword.ofd", "SESV4SignDoc.ofd", "v4signed.ofd", "发票示例.ofd", "999.ofd"}
WITH_ATTACHMENTS = {"AddAttachment.ofd", "999.ofd", "v4signed.ofd", "发票示例.ofd"}

pytestmark = pytest.mark.skipif(not ALL, reason="OFD fixtures not available")


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_fixture_reads_cleanly(path: Path) -> None:
    info = read_ofd(path)
    assert info.readable, info.problems
    assert info.problems == []
    assert info.pages >= 1
    assert len(info.texts) == info.pages
    assert identify(path).media_type == "application/ofd"
    if path.name != "containsJPEG.ofd":
        assert info.text_chars > 0, "text expected from every OFD except the image-only one"
    assert info.has_signatures == (path.name in SEALED)
    assert bool(info.attachments) == (path.name in WITH_ATTACHMENTS)


def test_text_comes_out_in_chinese() -> None:
    assert extract_text(FIXTURES / "helloworld.ofd") == ["你好呀，OFD Reader&Writer！"]
    assert "你好呀" in extract_text(FIXTURES / "namespace_no_std.ofd")[0]
    pages = extract_text(FIXTURES / "path_unstd.ofd")
    assert len(pages) == 2 and "立案决定书" in pages[0] and "案件名称" in pages[1]
    assert "重庆增值税电子普通发票" in extract_text(FIXTURES / "发票示例.ofd")[0]


def test_image_only_ofd_has_pages_without_text_and_scan_dpi() -> None:
    info = read_ofd(FIXTURES / "containsJPEG.ofd")
    assert info.texts == ["", ""]
    assert all(d is not None and d[0] > 300 for d in info.page_image_dpi)


def test_keyword_has_two_signatures() -> None:
    info = read_ofd(FIXTURES / "keyword.ofd")
    assert info.signatures == 2


def _rewrite(src: Path, dst: Path, drop: str | None = None, replace: dict | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename == drop:
                continue
            data = zin.read(item)
            if replace and item.filename in replace:
                data = replace[item.filename]
            zout.writestr(item.filename, data)
    return dst


def test_missing_page_is_reported(tmp_path: Path) -> None:
    broken = _rewrite(FIXTURES / "helloworld.ofd", tmp_path / "b.ofd",
                      drop="Doc_0/Pages/Page_0/Content.xml")
    info = read_ofd(broken)
    assert any("第 1 页" in p and "不存在" in p for p in info.problems)


def test_missing_ofd_xml_is_not_an_ofd(tmp_path: Path) -> None:
    broken = _rewrite(FIXTURES / "helloworld.ofd", tmp_path / "b.ofd", drop="OFD.xml")
    info = read_ofd(broken)
    assert not info.readable
    assert any("OFD.xml" in p for p in info.problems)
    assert identify(broken).media_type == "application/zip"
    with pytest.raises(FormatError):
        extract_text(broken)


def test_xxe_inside_ofd_part_is_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    page = (
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file://' + str(secret) + '">]>'
        '<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer>'
        '<ofd:TextObject Boundary="0 0 10 10" Size="3"><ofd:TextCode X="0" Y="3">A&x;B'
        "</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>"
    ).encode()
    evil = _rewrite(FIXTURES / "helloworld.ofd", tmp_path / "e.ofd",
                    replace={"Doc_0/Pages/Page_0/Content.xml": page})
    texts = extract_text(evil)
    assert "TOP-SECRET-VALUE" not in texts[0]
