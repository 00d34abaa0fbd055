"""``[ocr] engine`` chooses the OCR engine; a missing package falls back with a clear note."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dangan.archive.config import load_settings
from dangan.archive.errors import ConfigError
from dangan.search import ocr_rapid
from dangan.search.errors import OcrError
from dangan.search.ocr import configure, ocr_status, tesseract_status


def test_the_engine_is_read_from_dangan_toml_and_checked(tmp_path: Path) -> None:
    assert load_settings(tmp_path).ocr_engine == "rapidocr"  # the default
    (tmp_path / "dangan.toml").write_text('[ocr]\nengine = "tesseract"\n', "utf-8")
    assert load_settings(tmp_path).ocr_engine == "tesseract"
    (tmp_path / "dangan.toml").write_text('[ocr]\nengine = "easyocr"\n', "utf-8")
    with pytest.raises(ConfigError, match="ocr.engine"):
        load_settings(tmp_path)
    assert '[ocr]\nengine = "rapidocr"' in load_settings(tmp_path / "fresh").to_toml()


def test_configure_switches_the_engine_of_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    if tesseract_status().reason or ocr_rapid.available():
        pytest.skip("needs both engines")
    monkeypatch.delenv("DANGAN_OCR_ENGINE", raising=False)
    try:
        configure("tesseract")
        assert ocr_status().engine == "tesseract" and ocr_status().langs.startswith("chi_sim")
        configure("rapidocr")
        assert ocr_status().engine == "rapidocr" and ocr_status().note == ""
        with pytest.raises(OcrError, match="未知的 OCR 引擎"):
            configure("easyocr")
    finally:
        configure(None)


PROBE = """
import json, sys
sys.modules["rapidocr_onnxruntime"] = None  # as if the package were not installed
from dangan.search import extract_file
from dangan.search.ocr import ocr_status
s = ocr_status()
t = extract_file(sys.argv[1], file_id="f1", title="身份证", kind="id_document")
print(json.dumps({"engine": s.engine, "note": s.note, "available": s.available,
                  "method": t.method, "text_note": t.note, "text": t.text}))
"""


def test_without_rapidocr_the_index_falls_back_to_tesseract_and_says_why(tmp_path: Path) -> None:
    from dangan.ingest.demo.ocr_truth import labelled_pages

    page = next(labelled_pages(1, seed=13))
    scan = tmp_path / "card.jpg"
    scan.write_bytes(page.jpeg)
    out = subprocess.run([sys.executable, "-c", PROBE, str(scan)], capture_output=True,
                         text=True, timeout=300, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert "未安装 rapidocr-onnxruntime" in got["note"] + got["text_note"]
    if tesseract_status().available:
        assert got["engine"] == "tesseract" and got["method"] == "ocr"
        assert "改用 Tesseract" in got["text_note"] and page.id_numbers[0] in got["text"]
    else:
        assert not got["available"] and got["method"] == "none"
