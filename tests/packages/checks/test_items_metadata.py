"""Metadata scheme items GD-1-2…1-6, DG-1-1, GD-2-3, GD-2-4 — and robustness on broken input."""

from __future__ import annotations

import json

import pytest

from dangan.packages.checks import Result
from tests.packages.checks.casebuilder import Options, build, make_case, run

METADATA_CODES = ("GD-1-2", "GD-1-3", "GD-1-4", "GD-1-5", "GD-1-6", "DG-1-1", "GD-2-3", "GD-2-4")


@pytest.mark.parametrize("code", METADATA_CODES)
def test_valid_case_passes(tmp_path, code: str) -> None:
    verdict = run(code, build(tmp_path))
    assert verdict.result is Result.PASS, verdict.message


def _paths(verdict) -> set[str]:
    return {e["path"] for e in verdict.evidence}


def _codes(verdict) -> set[str]:
    return {e["code"] for e in verdict.evidence}


def test_length_limits(tmp_path) -> None:
    case = make_case()
    case["title"] = "题" * 201
    case["applicant"]["name"] = "名" * 100  # exactly the limit: fine
    case["events"][0]["action"] = "a" * 201
    verdict = run("GD-1-2", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert _paths(verdict) == {"$.title", "$.events[0].action"}
    assert _codes(verdict) == {"case.too_long"}
    assert {e["found"] for e in verdict.evidence if e["path"] == "$.title"} == {"201 字符"}


def test_types_and_formats(tmp_path) -> None:
    case = make_case()
    case["accepted_at"] = "2024-03-01T09:10:00"  # no offset
    case["files"][0]["size"] = "1024"
    case["files"][2]["sha256"] = "XYZ"
    case["case_id"] = "BJ 2024"
    case["security"]["personal_info"] = "yes"
    case["remark"] = "不在方案内"
    verdict = run("GD-1-3", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert _paths(verdict) == {"$.accepted_at", "$.files[0].size", "$.files[2].sha256",
                               "$.case_id", "$.security.personal_info", "$.remark"}
    assert _codes(verdict) == {"case.bad_datetime", "case.wrong_type", "case.bad_pattern",
                               "case.unknown_element"}


def test_value_ranges(tmp_path) -> None:
    case = make_case()
    case["channel"] = "fax"
    case["insurance"] = ["pension", "medical"]
    case["files"][1]["kind"] = "photo"
    case["events"][0]["seq"] = 0
    verdict = run("GD-1-4", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert _paths(verdict) == {"$.channel", "$.insurance[1]", "$.files[1].kind", "$.events[0].seq"}
    assert _codes(verdict) == {"case.value_not_allowed", "case.below_minimum"}


def test_service_item_must_be_configured_with_its_name(tmp_path) -> None:
    case = make_case()
    case["service_item"]["name"] = "养老保险登记"
    verdict = run("GD-1-4", build(tmp_path, case))
    assert verdict.result is Result.FAIL and _codes(verdict) == {"case.service_item_name"}
    case["service_item"]["code"] = "SI-XX-9999"
    verdict = run("GD-1-4", build(tmp_path / "b", case))
    assert [(e["code"], e["found"]) for e in verdict.evidence] == [
        ("case.service_item_unknown", "SI-XX-9999")]
    verdict = run("GD-1-4", build(tmp_path / "c", opts=Options(filing_rules={})))
    assert verdict.result is Result.FAIL and _codes(verdict) == {"case.service_item_unknown"}
    assert "未提供归档配置" in verdict.message  # says why, not only that the code is unknown


def test_plausibility(tmp_path) -> None:
    case = make_case()
    case["completed_at"] = "2024-02-28T10:00:00+08:00"  # before accepted_at
    case["events"][2]["at"] = "2024-03-01T08:00:00+08:00"  # earlier than seq 2
    case["files"][1]["size"] = 0
    case["files"][0]["pages"] = 0
    case["files"][3]["created_at"] = "2025-01-01T00:00:00+08:00"  # after now
    verdict = run("GD-1-5", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    paths = _paths(verdict)
    assert {"$.completed_at", "$.events[2].at", "$.files[1].size", "$.files[0].pages",
            "$.files[3].created_at"} <= paths
    assert _codes(verdict) == {"case.completed_before_accepted", "case.event_out_of_order",
                               "case.event_after_completion", "case.not_positive",
                               "case.time_in_future"}


def test_times_in_the_future_and_far_before_acceptance(tmp_path) -> None:
    case = make_case()
    case["completed_at"] = "2024-03-10T16:30:00+08:00"  # NOW is 2024-03-10T08:00Z = 16:00+08
    case["events"][0]["at"] = "2022-12-01T09:00:00+08:00"
    verdict = run("GD-1-5", build(tmp_path, case))
    assert _paths(verdict) == {"$.completed_at", "$.events[0].at"}
    assert _codes(verdict) == {"case.time_in_future", "case.event_too_early"}
    case["completed_at"] = "2024-03-10T16:04:00+08:00"  # within the 5-minute clock skew
    case["events"][0]["at"] = "2023-03-05T09:00:00+08:00"
    assert run("GD-1-5", build(tmp_path / "b", case)).result is Result.PASS


def test_zero_width_and_bidi_characters(tmp_path) -> None:
    case = make_case()
    case["title"] = "张三\u200b企业职工基本养老保险参保登记"
    case["applicant"]["name"] = "张\u202e三"
    case["files"][0]["title"] = "参保登记表\ufffd"
    case["agency"]["name"] = "朝阳区\x07社保中心"
    verdict = run("GD-1-6", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert _paths(verdict) == {"$.title", "$.applicant.name", "$.files[0].title", "$.agency.name"}
    assert _codes(verdict) == {"case.special_char"}
    assert "U+200B 于第 3 个字符" in {e["found"] for e in verdict.evidence}


def test_line_breaks_only_in_multiline_elements(tmp_path) -> None:
    case = make_case()
    case["result"]["summary"] = "准予参保登记。\n自 2024 年 3 月起参保。"
    assert run("GD-1-6", build(tmp_path, case)).result is Result.PASS
    case["title"] = "张三\n参保登记"
    verdict = run("GD-1-6", build(tmp_path / "b", case))
    assert _paths(verdict) == {"$.title"}


def test_unpaired_surrogate_from_json_escape(tmp_path) -> None:
    text = json.dumps(make_case(), ensure_ascii=True).replace("\\u5f20\\u4e09", "\\ud800", 1)
    verdict = run("GD-1-6", build(tmp_path, opts=Options(case_bytes=text.encode())))
    assert verdict.result is Result.FAIL and _codes(verdict) == {"case.special_char"}
    assert any(e["found"].startswith("U+D800") for e in verdict.evidence)


def test_wrong_check_digits_name_the_party(tmp_path) -> None:
    case = make_case()
    case["applicant"]["id_number"] = "110105194912310021"
    case["subjects"].append({"kind": "unit", "name": "北京某某科技有限公司",
                             "id_type": "credit_code", "id_number": "91350211M00013FA1N"})
    verdict = run("DG-1-1", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert _paths(verdict) == {"$.applicant.id_number", "$.subjects[1].id_number"}
    assert _codes(verdict) == {"case.id_check_digit"}
    assert "申请人 张三" in verdict.message and "北京某某科技有限公司" in verdict.message  # who, for a person
    assert "110105********0021" in {e["found"] for e in verdict.evidence}  # masked


def test_parties_without_check_digit_documents(tmp_path) -> None:
    case = make_case()
    for party in (case["applicant"], case["subjects"][0]):
        party["id_type"], party["id_number"] = "passport", "E12345678"
    verdict = run("DG-1-1", build(tmp_path, case))
    assert verdict.result is Result.PASS and "无需校验" in verdict.message


def test_missing_elements(tmp_path) -> None:
    case = make_case()
    del case["title"]
    del case["agency"]["code"]
    del case["events"][1]["actor"]
    verdict = run("GD-2-3", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert _paths(verdict) == {"$.title", "$.agency.code", "$.events[1].actor"}
    assert _codes(verdict) == {"case.element_missing"}


def test_empty_mandatory_and_triggered_conditional_items(tmp_path) -> None:
    case = make_case()
    case["title"] = "   "
    case["subjects"] = []
    case["supersedes"] = "Z001-SB·2024-D100-GL-0007"
    case["applicant"]["id_number"] = ""
    del case["subjects"]
    case["subjects"] = [{"kind": "person", "name": "王五", "id_number": "11010519491231002X"}]
    verdict = run("GD-2-4", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert _paths(verdict) == {"$.title", "$.correction_reason", "$.applicant.id_number",
                               "$.subjects[0].id_type"}
    assert {e["path"]: e["code"] for e in verdict.evidence}["$.correction_reason"] == \
        "case.conditional_empty"
    assert _codes(verdict) == {"case.mandatory_empty", "case.conditional_empty"}


def test_event_files_may_be_empty(tmp_path) -> None:
    case = make_case()
    assert case["events"][0]["files"] == []
    assert run("GD-2-4", build(tmp_path, case)).result is Result.PASS


BROKEN = {
    "not json": b"{\"case_id\": ",
    "array": b"[1, 2, 3]",
    "empty object": b"{}",
    "wrong types everywhere": json.dumps({
        "schema": 1, "case_id": None, "agency": "x", "service_item": [], "insurance": "pension",
        "applicant": 5, "subjects": {"a": 1}, "result": "ok", "accepted_at": 20240301,
        "events": [None, 3, {"seq": "1", "step": 7, "actor": "me", "files": "f1", "at": []}],
        "files": [None, "f", {"id": 3, "path": ["a"], "size": True, "sha256": 5, "pages": "2"}],
        "security": None,
    }).encode(),
}
ALL_CODES = ("GD-1-1-1", "GD-1-1-2", "GD-1-2", "GD-1-3", "GD-1-4", "GD-1-5", "GD-1-6", "DG-1-1",
             "GD-1-8", "GD-1-10", "GD-1-11", "GD-4-3", "GD-2-1", "GD-2-2", "GD-2-3", "GD-2-4",
             "GD-2-5", "GD-2-6", "GD-2-8", "GD-2-9")


# Items whose whole subject is the values present: with nothing present (or nothing
# offending among the strings present) a pass is true, and GD-2-3 / GD-1-3 report the rest.
VACUOUS_PASS = {("empty object", c) for c in ("GD-1-2", "GD-1-3", "GD-1-6", "GD-2-4")} | {
    ("wrong types everywhere", "GD-1-6")}


@pytest.mark.parametrize("code", ALL_CODES)
@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_case_json_never_crashes_and_never_passes(tmp_path, code: str, kind: str) -> None:
    ctx = build(tmp_path, opts=Options(case_bytes=BROKEN[kind]))
    verdict = run(code, ctx)
    assert verdict.message
    if (kind, code) not in VACUOUS_PASS:
        assert verdict.result is not Result.PASS, (code, verdict.message)


def test_all_items_registered_once_with_their_nature() -> None:
    from dangan.packages.checks import Nature, Stage, default_registry

    REGISTRY = default_registry()  # raises if any code were declared twice
    natures = {code: REGISTRY.get(code).nature for code in ALL_CODES}
    assert natures["GD-4-3"] is Nature.SECURITY
    assert all(natures[c] is Nature.AUTHENTICITY for c in ALL_CODES if c.startswith(("GD-1", "DG-1")))
    assert all(natures[c] is Nature.INTEGRITY for c in ALL_CODES if c.startswith("GD-2"))
    assert all(Stage.GD in REGISTRY.get(c).stages for c in ALL_CODES)
