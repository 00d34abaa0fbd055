"""A filed demo scan is found by the name and ID number drawn on it (the default engine)."""

from __future__ import annotations

import json

import pytest

from dangan.ingest.service import ingest
from dangan.search.document import document_from_case
from dangan.search.extract import derived_text_path, load_derived_text
from dangan.search.feed import derived_dir
from dangan.search.interface import Access
from dangan.search.ocr import ocr_status
from dangan.search.service import SearchService

EVERYONE = Access(classifications=frozenset({"public", "internal", "restricted"}))

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not ocr_status().available, reason=ocr_status().reason)]


def test_a_filed_id_card_scan_is_found_by_the_name_drawn_on_it(archive, make_case):
    path = make_case()
    case = json.loads((path / "case.json").read_text("utf-8"))
    card = next(f for f in case["files"] if f["kind"] == "id_document")
    person = case["subjects"][0]
    outcome = ingest(archive, path, ocr=True)
    assert "index_error" not in outcome.extra
    _, texts = load_derived_text(derived_text_path(derived_dir(archive), outcome.aip_id))
    scan = next(t for t in texts if t.file_id == card["id"])
    assert scan.method == "ocr", scan.note
    assert ocr_status().engine == "rapidocr"
    drawn = scan.text.replace(" ", "").replace("\n", "")
    assert person["name"] in drawn and person["id_number"] in drawn


@pytest.mark.parametrize("ocr", [True, False])
def test_only_the_ocr_text_of_a_scan_makes_the_drawn_name_findable(tmp_path, make_case, ocr):
    """The scan is the only place the name and ID number occur: metadata says 某某某."""
    path = make_case()
    case = json.loads((path / "case.json").read_text("utf-8"))
    card = next(f for f in case["files"] if f["kind"] == "id_document")
    person = case["subjects"][0]
    blind = json.dumps(case, ensure_ascii=False)
    for secret, stand_in in ((person["name"], "某某某"), (person["id_number"], "1" * 18)):
        blind = blind.replace(secret, stand_in)
    blind_case = json.loads(blind)
    blind_case["files"] = [f for f in blind_case["files"] if f["id"] == card["id"]]
    doc = document_from_case("aip-1", "Z001-SB-1", 1, blind_case,
                             {"category": "SB", "retention": "永久", "classification_code": "SB"},
                             {card["id"]: path / "files" / card["path"]}, ocr=ocr)
    service = SearchService.at(tmp_path / "index")
    service.index(doc)
    by_name = service.search(person["name"], access=EVERYONE)
    by_id = service.search(person["id_number"], access=EVERYONE)
    assert [h.aip_id for h in by_name.hits] == (["aip-1"] if ocr else [])
    assert [h.aip_id for h in by_id.hits] == (["aip-1"] if ocr else [])
