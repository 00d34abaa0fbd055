"""Accuracy floor of the default OCR engine on 12 labelled demo scans (no timing).

Measured when RapidOCR became the default (search/ocr_rapid.py, seed 13): every name
and ID number found, every ID-card field, CER 0.029 (errors are mostly lines under a
red seal). The floor keeps a margin above that; Tesseract chi_sim scores CER ≈ 0.11
and misses about half the names on the same kind of pages (docs/performance.md).
"""

from __future__ import annotations

import os

import pytest

from dangan.ingest.demo.ocr_truth import labelled_pages, score_pages
from dangan.search import ocr_rapid
from dangan.search.ocr import configure, ocr_pil, ocr_status

PAGES = 12
MAX_CER = 0.04

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(ocr_rapid.available()), reason=ocr_rapid.available() or "-")]


@pytest.fixture(scope="module")
def scored() -> dict:
    if os.environ.get("DANGAN_OCR_ENGINE", "rapidocr") != "rapidocr":
        pytest.skip("DANGAN_OCR_ENGINE chooses another engine")
    configure(None)
    ocr_status.cache_clear()
    assert ocr_status().engine == "rapidocr"
    pages = list(labelled_pages(PAGES, seed=13))
    return score_pages(pages, {p.key: ocr_pil(p.image()) for p in pages})


def _all(found: str) -> bool:
    hit, total = found.split("/")
    return int(total) > 0 and hit == total


def test_every_name_and_id_number_drawn_is_read(scored: dict) -> None:
    assert scored["missed_names_ids"] == []
    assert _all(scored["names"]) and _all(scored["id_numbers"])


def test_every_id_card_field_is_read(scored: dict) -> None:
    assert _all(scored["id_card_fields"]), scored


def test_character_error_rate_stays_under_the_floor(scored: dict) -> None:
    assert scored["cer"] <= MAX_CER, scored
