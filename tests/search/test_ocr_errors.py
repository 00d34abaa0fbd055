"""A scan the OCR engine (either one) cannot read raises the search layer's own error, with a stable code."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.packages.errors import DanganError
from dangan.search import extract_file, ocr_rapid
from dangan.search.errors import OcrError, SearchError
from dangan.search.ocr import ocr_image, ocr_status, tesseract_status

EXPECTED = {"tesseract": "Tesseract", "rapidocr": "无法读取扫描图像"}


@pytest.fixture(params=["tesseract", "rapidocr"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each engine in turn, skipped where it is not installed."""
    name = request.param
    missing = tesseract_status().reason if name == "tesseract" else ocr_rapid.available()
    if missing:
        pytest.skip(missing)
    monkeypatch.setenv("DANGAN_OCR_ENGINE", name)
    ocr_status.cache_clear()
    yield name
    monkeypatch.undo()
    ocr_status.cache_clear()


def truncated_png(tmp_path: Path) -> Path:
    """A PNG signature and IHDR start, cut off: identified as PNG, unreadable by Leptonica."""
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + b"\x00" * 7)
    return path


def test_unreadable_scan_raises_ocr_error_in_the_search_hierarchy(tmp_path: Path, engine: str) -> None:
    assert ocr_status().engine == engine
    with pytest.raises(OcrError) as caught:
        ocr_image(truncated_png(tmp_path))
    assert isinstance(caught.value, SearchError) and isinstance(caught.value, DanganError)
    assert caught.value.to_dict()["code"] == "search.ocr"
    assert EXPECTED[engine] in caught.value.message


def test_unreadable_scan_is_indexed_by_metadata_with_the_ocr_failure_noted(tmp_path: Path,
                                                                          engine: str) -> None:
    t = extract_file(truncated_png(tmp_path), file_id="f1", title="身份证", kind="id_document")
    assert t.method == "none" and t.text == "" and t.note.startswith("OCR 失败：")
