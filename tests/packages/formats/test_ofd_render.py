"""OFD pages drawn as images, on real files (ofdrw samples copied beside this test):
text appears where the page puts it, the invoice's QR code image and table rules are
drawn; hostile files (huge page box, deep nesting, object floods, missing or huge images,
a missing page) give a clear ``package.ofd_render`` error or a marked placeholder."""

from __future__ import annotations

import io
import resource
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from dangan.archive.fonts import cjk_font_path
from dangan.packages.formats.ofd_render import MAX_DEPTH, MAX_SIDE_PX, OfdRenderError, render_page

SAMPLES = Path(__file__).parent / "ofd_samples"
HELLO_PAGE = "Doc_0/Pages/Page_0/Content.xml"
NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def dark_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    return img.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()


def rewrite(dst: Path, src: Path = SAMPLES / "helloworld.ofd", **parts: bytes | None) -> Path:
    """A copy of ``src`` with members replaced (bytes) or dropped (None)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename in parts:
                if parts[item.filename] is not None:
                    zout.writestr(item.filename, parts[item.filename])
                continue
            zout.writestr(item.filename, zin.read(item))
        for name, data in parts.items():
            if data is not None and name not in zin.namelist():
                zout.writestr(name, data)
    return dst


def page(content: str, box: str = "0 0 210 297") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}><ofd:Area><ofd:PhysicalBox>'
            f'{box}</ofd:PhysicalBox></ofd:Area><ofd:Content>{content}</ofd:Content>'
            f'</ofd:Page>').encode()


def test_text_is_drawn_at_its_position():
    r = render_page(SAMPLES / "helloworld.ofd", 1, font_path=cjk_font_path(), dpi=96)
    img = r.image
    scale = 96 / 25.4
    assert img.size == (round(210 * scale), round(297 * scale)) and not r.problems
    left, top, right, bottom = dark_box(img)
    # Boundary 31.7 25.4, baseline Y=3, size 3 mm: ink just above y = 28.4 mm from x = 31.7 mm
    assert abs(left - 31.7 * scale) < 4 and abs(bottom - 28.4 * scale) < 4
    assert top > 24 * scale and right < (31.7 + 45) * scale


def test_invoice_template_qr_image_and_text():
    r = render_page(SAMPLES / "999.ofd", 1, font_path=cjk_font_path(), dpi=96)
    img = r.image.convert("RGB")
    scale = 96 / 25.4
    assert not r.problems
    qr = img.crop((round(8.5 * scale), round(3.5 * scale), round(28.5 * scale),
                   round(23.5 * scale))).convert("L")
    lo, hi = qr.getextrema()
    assert lo < 40 and hi > 215  # the QR code image, black and white modules
    # the template's brown table rule across the page at y = 29.8 mm
    y = round(30 * scale)
    row = [img.getpixel((x, y)) for x in range(round(10 * scale), round(200 * scale))]
    assert sum(1 for p in row if p[0] > 120 and p[2] < 90) > len(row) * 0.8


def test_every_page_of_a_real_document_renders():
    for n in (1, 2):
        r = render_page(SAMPLES / "path_unstd.ofd", n, font_path=cjk_font_path())
        assert dark_box(r.image) is not None
    with pytest.raises(OfdRenderError, match="没有第 9 页"):
        render_page(SAMPLES / "path_unstd.ofd", 9)


@pytest.mark.parametrize("box", ["0 0 1000000 1000000", "0 0 0 297", "0 0 -5 10", "0 0 1e308 1"])
def test_a_huge_or_degenerate_page_box_is_refused(tmp_path, box):
    bad = rewrite(tmp_path / "b.ofd", **{HELLO_PAGE: page("", box)})
    with pytest.raises(OfdRenderError, match="页面尺寸") as exc:
        render_page(bad, 1)
    assert exc.value.code == "package.ofd_render"


def test_a_large_page_is_drawn_within_the_pixel_cap(tmp_path):
    big = rewrite(tmp_path / "b.ofd", **{HELLO_PAGE: page("", "0 0 2000 2000")})
    assert max(render_page(big, 1, dpi=600).image.size) <= MAX_SIDE_PX


def test_deep_nesting_and_object_floods_are_refused(tmp_path):
    deep = "<ofd:PageBlock>" * (MAX_DEPTH + 5) + "</ofd:PageBlock>" * (MAX_DEPTH + 5)
    bad = rewrite(tmp_path / "d.ofd", **{HELLO_PAGE: page(f"<ofd:Layer>{deep}</ofd:Layer>")})
    with pytest.raises(OfdRenderError, match="嵌套"):
        render_page(bad, 1)
    flood = '<ofd:TextObject Boundary="0 0 1 1" Size="1"><ofd:TextCode X="0" Y="1">x' \
            '</ofd:TextCode></ofd:TextObject>' * 20_001
    bad = rewrite(tmp_path / "f.ofd", **{HELLO_PAGE: page(f"<ofd:Layer>{flood}</ofd:Layer>")})
    with pytest.raises(OfdRenderError, match="对象超过"):
        render_page(bad, 1)
    arcs = "M 0 0 " + "A 5 5 0 1 1 10 0 A 5 5 0 1 1 0 0 " * 10_000
    bad = rewrite(tmp_path / "p.ofd", **{HELLO_PAGE: page(
        f'<ofd:Layer><ofd:PathObject Boundary="0 0 10 10"><ofd:AbbreviatedData>{arcs}'
        '</ofd:AbbreviatedData></ofd:PathObject></ofd:Layer>')})
    with pytest.raises(OfdRenderError, match="过多"):
        render_page(bad, 1)
    repeat = ('<ofd:TextObject Boundary="0 0 1 1" Size="1"><ofd:TextCode X="0" Y="1" '
              'DeltaX="g 999999999 0.1">a</ofd:TextCode></ofd:TextObject>') * 5_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = render_page(rewrite(tmp_path / "g.ofd", **{HELLO_PAGE: page(repeat)}), 1)
    assert r.image.size[0] > 0  # a billion-fold repetition is bounded, not expanded
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def test_missing_and_bomb_images_are_marked_not_fatal(tmp_path):
    res = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {NS} BaseLoc="Res"><ofd:MultiMedias>'
           '<ofd:MultiMedia ID="7" Type="Image"><ofd:MediaFile>big.png</ofd:MediaFile>'
           '</ofd:MultiMedia></ofd:MultiMedias></ofd:Res>').encode()
    buf = io.BytesIO()
    Image.new("1", (8_000, 8_000)).save(buf, "PNG")  # 64 Mpx, a few KiB compressed
    objs = ('<ofd:Layer><ofd:ImageObject Boundary="10 10 50 50" ResourceID="99"/>'
            '<ofd:ImageObject Boundary="10 70 50 50" ResourceID="7"/></ofd:Layer>')
    doc = zipfile.ZipFile(SAMPLES / "helloworld.ofd").read("Doc_0/Document.xml").replace(
        b"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>",
        b"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml"
        b"</ofd:DocumentRes>")
    bad = rewrite(tmp_path / "i.ofd", **{HELLO_PAGE: page(objs), "Doc_0/Document.xml": doc,
                                         "Doc_0/DocumentRes.xml": res,
                                         "Doc_0/Res/big.png": buf.getvalue()})
    r = render_page(bad, 1, font_path=cjk_font_path())
    assert any("99" in p and "缺失" in p for p in r.problems)
    assert any("像素过多" in p for p in r.problems)


def test_missing_page_part_and_garbage_are_clear_errors(tmp_path):
    with pytest.raises(OfdRenderError, match="第 1 页"):
        render_page(rewrite(tmp_path / "m.ofd", **{HELLO_PAGE: None}), 1)
    junk = tmp_path / "junk.ofd"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(OfdRenderError):
        render_page(junk, 1)


def test_arcs_are_drawn_as_curves_not_chords(tmp_path):
    circle = ('<ofd:Layer><ofd:PathObject Boundary="50 50 40 40" LineWidth="1">'
              '<ofd:StrokeColor Value="200 0 0"/><ofd:AbbreviatedData>M 0 20 A 20 20 0 1 1 40 20 '
              'A 20 20 0 1 1 0 20 C</ofd:AbbreviatedData></ofd:PathObject></ofd:Layer>')
    r = render_page(rewrite(tmp_path / "c.ofd", **{HELLO_PAGE: page(circle)}), 1, dpi=25.4)
    left, top, right, bottom = dark_box(r.image.convert("L").point(lambda v: 0 if v < 200 else 255)
                                        .convert("RGB"))
    assert (left, top, right, bottom) == pytest.approx((50, 50, 91, 91), abs=2)
