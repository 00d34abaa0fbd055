"""Text extraction from real files, OCR of scans, and the derived-text file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dangan.search import document_from_case, extract_file, load_derived_text, store_derived_text
from dangan.search import extract as extract_mod
from dangan.search.errors import DerivedTextCorrupt
from dangan.search.ocr import OcrStatus, ocr_status
from tests.search.files import cjk_font, scan_image, scan_pdf, text_pdf

OFD_FIXTURE = Path("/work/shared/fixtures/ofd/path_unstd.ofd")
needs_font = pytest.mark.skipif(cjk_font() is None, reason="no CJK font to render Chinese")
needs_ocr = pytest.mark.skipif(not ocr_status().available,
                               reason=f"Tesseract chi_sim unavailable: {ocr_status().reason}")


@needs_font
def test_pdf_text_layer_in_chinese(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "d.pdf", ["工伤认定决定书", "经调查核实，认定为工伤。"])
    t = extract_file(pdf, file_id="f1", title="决定书", kind="decision")
    assert t.method == "pdf" and t.note == ""
    assert "经调查核实，认定为工伤" in t.text


def test_xml_form_text_without_entity_expansion(tmp_path: Path) -> None:
    xml = tmp_path / "form.xml"
    xml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE form [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
        '<form><field name="姓名" value="张三"/><field name="事项">失业保险金申领</field>'
        "<note>&secret;</note></form>", encoding="utf-8")
    t = extract_file(xml, file_id="x", title="申请表", kind="application_form")
    assert t.method == "xml"
    assert "张三" in t.text and "失业保险金申领" in t.text and "姓名" in t.text
    assert "root:" not in t.text  # the external entity was not resolved


@pytest.mark.skipif(not OFD_FIXTURE.is_file(), reason="OFD fixtures not available")
def test_ofd_text(tmp_path: Path) -> None:
    t = extract_file(OFD_FIXTURE, file_id="o", title="立案决定书", kind="decision")
    assert t.method == "ofd"
    assert "立案决定书" in t.text


def test_unreadable_file_is_indexed_by_metadata_with_a_note(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n this is not a pdf")
    t = extract_file(bad, file_id="b")
    assert t.method == "none" and t.text == "" and "提取失败" in t.note


@needs_font
@needs_ocr
def test_ocr_of_a_png_scan(tmp_path: Path) -> None:
    png = tmp_path / "scan.png"
    scan_image(["失业保险金申领审核表", "申请人王小明经审核符合领取条件"]).save(png)
    t = extract_file(png, file_id="s", kind="evidence")
    assert t.method == "ocr"
    assert "符合领取条件" in t.text


@needs_font
@needs_ocr
def test_ocr_of_an_image_only_pdf_and_a_tiff(tmp_path: Path) -> None:
    pdf = scan_pdf(tmp_path / "scan.pdf", ["离职证明", "兹证明单雄信已于本月离职"])
    t = extract_file(pdf, file_id="p")
    assert t.method == "ocr" and "已 OCR" in t.note
    assert "离职证明" in t.text
    tif = tmp_path / "scan.tif"
    scan_image(["工伤事故调查报告"]).save(tif, format="TIFF", compression="tiff_lzw")
    assert "工伤事故调查报告" in extract_file(tif, file_id="t").text


@needs_font
def test_scan_without_ocr_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    png = tmp_path / "scan.png"
    scan_image(["参保登记表"]).save(png)
    monkeypatch.setattr(extract_mod, "ocr_status",
                        lambda: OcrStatus(False, "未安装 Tesseract OCR（tesseract），扫描件仅按元数据索引"))
    t = extract_file(png, file_id="s")
    assert t.method == "none" and t.text == ""
    assert "OCR 不可用" in t.note and "Tesseract" in t.note


def test_derived_text_round_trip_and_tamper_detection(tmp_path: Path) -> None:
    from dangan.search import ExtractedText

    texts = [ExtractedText("f1", "申请表", "application_form", "申请领取失业保险金", "pdf"),
             ExtractedText("f2", "身份证", "id_document", "", "none", "OCR 不可用")]
    path = store_derived_text(tmp_path / "derived", "aip/1:x", texts)
    assert path.parent == tmp_path / "derived" and "/" not in path.name
    aip, loaded = load_derived_text(path)
    assert aip == "aip/1:x" and loaded == texts
    body = json.loads(path.read_text(encoding="utf-8"))
    body["texts"][0]["text"] = "申请领取养老金"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DerivedTextCorrupt) as exc:
        load_derived_text(path)
    assert exc.value.details[0]["field"] == "texts[f1].sha256"


def _case(files: list[dict]) -> dict:
    return {
        "schema": "dangan/case-submission/1", "case_id": "XH2024-000777",
        "source_system": "hz-jb", "agency": {"code": "330106", "name": "杭州市西湖区社会保险管理服务中心"},
        "service_item": {"code": "SB030", "name": "失业保险金申领"}, "insurance": ["unemployment"],
        "channel": "window",
        "applicant": {"kind": "person", "name": "王小明", "id_type": "resident_id",
                      "id_number": "11010119770101789X"},
        "subjects": [{"kind": "person", "name": "王小明", "id_type": "resident_id",
                      "id_number": "11010119770101789X"}],
        "title": "王小明失业保险金申领",
        "result": {"outcome": "approved", "decision_no": "西人社失〔2024〕77号",
                   "summary": "核定领取失业保险金十二个月"},
        "accepted_at": "2024-06-17T09:00:00+08:00", "completed_at": "2024-06-20T16:30:00+08:00",
        "events": [{"seq": 1, "step": "accept", "at": "2024-06-17T09:00:00+08:00",
                    "actor": {"id": "u1", "name": "陈窗口", "role": "clerk"}, "action": "受理",
                    "files": []}],
        "files": files, "security": {"classification": "internal", "personal_info": True},
    }


@needs_font
def test_document_from_case_finds_a_phrase_from_a_scan(tmp_path: Path) -> None:
    from dangan.search import Access
    from dangan.search.whoosh_engine import WhooshEngine

    pdf = text_pdf(tmp_path / "a.pdf", ["失业保险金申领表", "本人因劳动合同期满离职"])
    png = tmp_path / "b.png"
    scan_image(["解除劳动合同证明书", "双方协商一致解除劳动关系"]).save(png)
    files = [{"id": "f1", "path": "files/a.pdf", "title": "申领表", "kind": "application_form",
              "origin": "born_digital", "media_type": "application/pdf"},
             {"id": "f2", "path": "files/b.png", "title": "解除劳动合同证明", "kind": "evidence",
              "origin": "digitized", "media_type": "image/png"},
             {"id": "f3", "path": "files/c.pdf", "title": "缺失的文件", "kind": "other",
              "origin": "born_digital", "media_type": "application/pdf"}]
    doc = document_from_case("aip-777", "Z001-SB·2024-Y-ZF-00777", 1, _case(files),
                             {"category": "ZF", "retention": "D30", "classification_code": "ZF-03"},
                             {"f1": pdf, "f2": png})
    assert doc.year == 2024 and doc.security_classification == "internal"
    assert [p["role"] for p in doc.parties] == ["applicant"]  # subject == applicant, kept once
    by_id = {t.file_id: t for t in doc.texts}
    assert by_id["case.json"].method == "json" and "十二个月" in by_id["case.json"].text
    assert by_id["f1"].method == "pdf"
    assert by_id["f3"].method == "none" and "不可用" in by_id["f3"].note
    eng = WhooshEngine(tmp_path / "ix")
    eng.index(doc)
    access = Access.of(["public", "internal"])
    assert eng.search("西人社失〔2024〕77号", access=access).total == 1
    assert eng.search('"劳动合同期满"', access=access).total == 1
    if ocr_status().available:
        assert by_id["f2"].method == "ocr"
        r = eng.search('"协商一致解除劳动关系"', access=access)
        assert [h.aip_id for h in r.hits] == ["aip-777"]
        assert any(h.file_id == "f2" for h in r.hits[0].highlights)
    else:
        assert by_id["f2"].method == "none" and "OCR 不可用" in by_id["f2"].note


SCANNED_OFD = Path("/work/shared/fixtures/ofd/containsJPEG.ofd")


@pytest.mark.skipif(not SCANNED_OFD.is_file(), reason="OFD fixtures not available")
def test_ofd_without_text_layer_is_treated_as_a_scan() -> None:
    t = extract_file(SCANNED_OFD, file_id="o")
    assert "OFD 无文字层" in t.note
    if ocr_status().available:
        assert t.method == "ocr" and "已 OCR" in t.note and t.text
    else:
        assert t.method == "none" and "OCR 不可用" in t.note
