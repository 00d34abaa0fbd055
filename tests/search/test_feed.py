"""A clerk finds a filed case the way they would type it, from the CLI and the Python API."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pypinyin import lazy_pinyin

from dangan.ingest.service import ingest
from dangan.search.feed import reindex, service_for
from dangan.search.interface import Access
from dangan.search.ocr import ocr_status
from dangan.web.cli import main

EVERYONE = Access(classifications=frozenset({"public", "internal", "restricted"}))


def _case(path):
    return json.loads((path / "case.json").read_text("utf-8"))


def test_a_filed_case_is_found_by_pinyin_name_and_id_suffix(archive, make_case):
    path = make_case()
    case = _case(path)
    outcome = ingest(archive, path, ocr=False)
    assert "index_error" not in outcome.extra
    person = case["subjects"][0]
    service = service_for(archive)
    by_pinyin = service.search("".join(lazy_pinyin(person["name"])), access=EVERYONE)
    assert outcome.aip_id in [h.aip_id for h in by_pinyin.hits]
    by_suffix = service.search(person["id_number"][-6:], access=EVERYONE)
    assert outcome.aip_id in [h.aip_id for h in by_suffix.hits]
    runner = CliRunner()
    result = runner.invoke(main, ["--home", str(archive.home), "search", case["case_id"], "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["hits"][0]["aip_id"] == outcome.aip_id


@pytest.mark.skipif(not ocr_status().available, reason="Tesseract chi_sim not installed")
def test_reindex_with_ocr_finds_a_phrase_from_a_scanned_page(archive, make_case):
    path = make_case()
    case = _case(path)
    outcome = ingest(archive, path, ocr=False)
    assert reindex(archive, ocr=True, workers=1) == 1
    id_number = case["subjects"][0]["id_number"]
    derived = json.loads(next((archive.home / "derived").iterdir()).read_text("utf-8"))
    scans = [t for t in derived["texts"] if t["method"] == "ocr"]
    assert scans, "the generated case carries digitized scans that OCR must read"
    assert any(id_number in t["text"].replace(" ", "") for t in scans)  # printed on the ID copy
    service = service_for(archive)
    hits = service.search('"有效期限"', access=EVERYONE).hits  # only on the scanned ID card
    assert outcome.aip_id in [h.aip_id for h in hits]


def test_searching_an_empty_archive_finds_nothing_without_error(archive):
    result = service_for(archive).search("张三", access=EVERYONE)
    assert result.total == 0 and result.hits == []
