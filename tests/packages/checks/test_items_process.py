"""GD-2-5 process trail, GD-2-6 continuity, GD-2-8 file references, GD-2-9 filing scope."""

from __future__ import annotations

import pytest

from dangan.packages.checks import Result
from tests.packages.checks.casebuilder import (
    Options,
    build,
    file_entry,
    make_case,
    payloads,
    pdf_bytes,
    run,
)


@pytest.mark.parametrize("code", ["GD-2-5", "GD-2-6", "GD-2-8", "GD-2-9"])
def test_complete_case_passes(tmp_path, code: str) -> None:
    verdict = run(code, build(tmp_path))
    assert verdict.result is Result.PASS, verdict.message


def _trail(tmp_path, case):
    return run("GD-2-5", build(tmp_path, case))


def _renumber(case) -> None:
    for n, event in enumerate(case["events"], start=1):
        event["seq"] = n


def test_handle_before_accept_is_out_of_order(tmp_path) -> None:
    case = make_case()
    events = case["events"]
    events[1], events[2] = events[2], events[1]
    events[1]["at"], events[2]["at"] = events[2]["at"], events[1]["at"]
    _renumber(case)
    verdict = _trail(tmp_path, case)
    assert verdict.result is Result.FAIL
    assert "序号 3：受理环节出现在办理环节之后" in verdict.message


def test_missing_feedback(tmp_path) -> None:
    case = make_case()
    case["events"].pop()
    verdict = _trail(tmp_path, case)
    assert verdict.result is Result.FAIL and "缺少反馈环节" in verdict.message


def test_feedback_must_be_last_and_once(tmp_path) -> None:
    case = make_case()
    extra = dict(case["events"][3], seq=6, at="2024-03-05T16:00:00+08:00")
    case["events"].append(extra)
    verdict = _trail(tmp_path, case)
    assert "序号 6：办理环节出现在反馈环节之后" in verdict.message
    case["events"][-1]["step"] = "feedback"
    verdict = _trail(tmp_path / "b", case)
    assert "反馈环节出现 2 次（序号 5、序号 6）" in verdict.message


def test_archive_step_is_dangans_own(tmp_path) -> None:
    case = make_case()
    case["events"].append(dict(case["events"][-1], seq=6, step="archive"))
    verdict = _trail(tmp_path, case)
    assert verdict.result is Result.FAIL and "序号 6：存档环节由 Dangan 归档时追加" in verdict.message


def test_accept_and_handle_required(tmp_path) -> None:
    case = make_case()
    case["events"] = [e for e in case["events"] if e["step"] not in ("accept", "handle")]
    _renumber(case)
    verdict = _trail(tmp_path, case)
    assert "缺少受理环节" in verdict.message and "缺少办理环节" in verdict.message


def _not_accepted_case(with_refusal: bool):
    files = {"01-application.pdf": pdf_bytes(2)}
    case = make_case(files)
    case["result"] = {"outcome": "not_accepted", "summary": "材料不全，不予受理"}
    refs = ["f1"]
    if with_refusal:
        files["05-refusal.pdf"] = pdf_bytes(1)
        case["files"].append(file_entry("f5", "05-refusal.pdf", files["05-refusal.pdf"],
                                        title="不予受理决定书", kind="refusal_notice"))
        refs.append("f5")
    case["events"] = [case["events"][0], dict(case["events"][1], files=refs, action="不予受理"),
                      dict(case["events"][4], seq=3)]
    return case, files


def test_not_accepted_case_needs_no_handle_but_a_refusal_notice(tmp_path) -> None:
    case, files = _not_accepted_case(with_refusal=True)
    for code in ("GD-2-5", "GD-2-6", "GD-2-8", "GD-2-9"):
        verdict = run(code, build(tmp_path / code, case, files))
        assert verdict.result is Result.PASS, (code, verdict.message)
    case, files = _not_accepted_case(with_refusal=False)
    verdict = run("GD-2-5", build(tmp_path / "x", case, files))
    assert verdict.result is Result.FAIL and "不予受理决定书" in verdict.message
    verdict = run("GD-2-9", build(tmp_path / "y", case, files))
    assert verdict.result is Result.FAIL and "缺少不予受理决定书（refusal_notice）" in verdict.message


def test_actor_fields_are_required(tmp_path) -> None:
    case = make_case()
    case["events"][2]["actor"] = {"id": "u1", "name": "", "role": "审核"}
    del case["events"][3]["actor"]
    verdict = _trail(tmp_path, case)
    assert {e["path"] for e in verdict.evidence} == {"$.events[2].actor.name", "$.events[3].actor"}
    assert "序号 3：缺少行为人姓名" in verdict.message


def test_event_times_must_not_go_back(tmp_path) -> None:
    case = make_case()
    case["events"][3]["at"] = "2024-03-02T10:00:00+08:00"
    verdict = _trail(tmp_path, case)
    assert verdict.result is Result.FAIL and "序号 4：行为时间早于序号 3" in verdict.message


def test_seq_gaps_and_duplicates(tmp_path) -> None:
    case = make_case()
    case["events"][2]["seq"] = 2
    case["events"][4]["seq"] = 7
    verdict = run("GD-2-6", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert "行为序号缺号：3、5、6" in verdict.message and "行为序号重复：2" in verdict.message


def test_files_out_of_process_order_warn(tmp_path) -> None:
    case = make_case()
    case["files"] = [case["files"][3]] + case["files"][:3]  # decision listed first
    verdict = run("GD-2-6", build(tmp_path, case))
    assert verdict.result is Result.WARN
    assert {e["found"] for e in verdict.evidence} == {"f1", "f2", "f3"}


def test_event_referencing_unknown_file_fails(tmp_path) -> None:
    case = make_case()
    case["events"][2]["files"] = ["f9"]
    verdict = run("GD-2-8", build(tmp_path, case))
    assert verdict.result is Result.FAIL and "序号 3 引用的文件 f9 不在文件清单中" in verdict.message


def test_unreferenced_file_warns(tmp_path) -> None:
    case = make_case()
    case["events"][3]["files"] = []
    verdict = run("GD-2-8", build(tmp_path, case))
    assert verdict.result is Result.WARN and "文件 f4 未被任何业务行为引用" in verdict.message


def test_missing_required_document_named_in_chinese(tmp_path) -> None:
    files = payloads()
    del files["04-decision.pdf"], files["02-id-card.jpg"]
    verdict = run("GD-2-9", build(tmp_path, make_case(files), files))
    assert verdict.result is Result.FAIL
    assert "缺少身份证明（id_document）" in verdict.message
    assert "缺少核准/决定书（decision）" in verdict.message


def test_unconfigured_service_item_cannot_pass_scope(tmp_path) -> None:
    verdict = run("GD-2-9", build(tmp_path, opts=Options(filing_rules={})))
    assert verdict.result is Result.FAIL and "无法确定归档范围" in verdict.message
