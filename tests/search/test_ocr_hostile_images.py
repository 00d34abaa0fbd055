"""Scans that lie about their size are refused before decoding, in the search hierarchy."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest

from dangan.search import extract_file, ocr_rapid
from dangan.search.errors import OcrError
from dangan.search.ocr import ocr_image, ocr_status

pytestmark = pytest.mark.skipif(bool(ocr_rapid.available()), reason=ocr_rapid.available() or "-")


def png_claiming(width: int, height: int) -> bytes:
    """A real 1×1 grey PNG whose header (CRC fixed) claims ``width`` × ``height``."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (1, 1), 255).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = data[12:29]  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


@pytest.fixture(autouse=True)
def rapid(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DANGAN_OCR_ENGINE", "rapidocr")
    ocr_status.cache_clear()
    yield
    monkeypatch.undo()
    ocr_status.cache_clear()


@pytest.mark.parametrize("size, says", [((9_000, 9_000), "图像过大"),  # over our bound
                                        ((40_000, 40_000), "无法读取扫描图像")])  # PIL's bomb
def test_an_oversized_scan_is_refused_without_decoding(tmp_path: Path, size, says) -> None:
    scan = tmp_path / "scan.png"
    scan.write_bytes(png_claiming(*size))
    with pytest.raises(OcrError, match=says):
        ocr_image(scan)
    t = extract_file(scan, file_id="f1", title="身份证", kind="id_document")
    assert t.method == "none" and t.text == "" and t.note.startswith("OCR 失败：")


def test_a_blank_page_reads_as_no_text(tmp_path: Path) -> None:
    from PIL import Image

    scan = tmp_path / "blank.png"
    Image.new("L", (1654, 2339), 250).save(scan)
    assert ocr_image(scan) == ""
