"""A scan Tesseract cannot read raises the search layer's own error, with a stable code."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.packages.errors import DanganError
from dangan.search import extract_file
from dangan.search.errors import OcrError, SearchError
from dangan.search.ocr import ocr_image, ocr_status

needs_ocr = pytest.mark.skipif(not ocr_status().available,
                               reason=f"Tesseract chi_sim unavailable: {ocr_status().reason}")


def truncated_png(tmp_path: Path) -> Path:
    """A PNG signature and IHDR start, cut off: identified as PNG, unreadable by Leptonica."""
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + b"\x00" * 7)
    return path


@needs_ocr
def test_unreadable_scan_raises_ocr_error_in_the_search_hierarchy(tmp_path: Path) -> None:
    with pytest.raises(OcrError) as caught:
        ocr_image(truncated_png(tmp_path))
    assert isinstance(caught.value, SearchError) and isinstance(caught.value, DanganError)
    assert caught.value.to_dict()["code"] == "search.ocr"
    assert "Tesseract" in caught.value.message


@needs_ocr
def test_unreadable_scan_is_indexed_by_metadata_with_the_ocr_failure_noted(tmp_path: Path) -> None:
    t = extract_file(truncated_png(tmp_path), file_id="f1", title="身份证", kind="id_document")
    assert t.method == "none" and t.text == "" and t.note.startswith("OCR 失败：")
