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


def _found(verdict) -> set[tuple[str, str]]:
    """(code, path) of every problem reported."""
    return {(e["code"], e["path"]) for e in verdict.evidence}


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
    assert _found(verdict) == {("process.step_order", "$.events[2].step")}


def test_missing_feedback(tmp_path) -> None:
    case = make_case()
    case["events"].pop()
    verdict = _trail(tmp_path, case)
    assert verdict.result is Result.FAIL and _found(verdict) == {("process.feedback_missing", "$.events")}


def test_feedback_must_be_last_and_once(tmp_path) -> None:
    case = make_case()
    extra = dict(case["events"][3], seq=6, at="2024-03-05T16:00:00+08:00")
    case["events"].append(extra)
    verdict = _trail(tmp_path, case)
    assert ("process.step_order", "$.events[5].step") in _found(verdict)
    case["events"][-1]["step"] = "feedback"
    verdict = _trail(tmp_path / "b", case)
    assert ("process.feedback_repeated", "$.events") in _found(verdict)
    assert "反馈环节出现 2 次（序号 5、序号 6）" in verdict.message  # names both, for a person


def test_archive_step_is_dangans_own(tmp_path) -> None:
    case = make_case()
    case["events"].append(dict(case["events"][-1], seq=6, step="archive"))
    verdict = _trail(tmp_path, case)
    assert verdict.result is Result.FAIL
    assert ("process.archive_step_submitted", "$.events[5].step") in _found(verdict)


def test_accept_and_handle_required(tmp_path) -> None:
    case = make_case()
    case["events"] = [e for e in case["events"] if e["step"] not in ("accept", "handle")]
    _renumber(case)
    verdict = _trail(tmp_path, case)
    assert {"process.accept_missing", "process.handle_missing"} <= {c for c, _ in _found(verdict)}


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
    assert verdict.result is Result.FAIL
    assert _found(verdict) == {("process.refusal_notice_missing", "$.events")}
    verdict = run("GD-2-9", build(tmp_path / "y", case, files))
    assert verdict.result is Result.FAIL
    assert [(e["code"], e["expected"]) for e in verdict.evidence] == [
        ("process.document_missing", "refusal_notice")]
    assert "缺少不予受理决定书（refusal_notice）" in verdict.message  # the label, then the code


def test_actor_fields_are_required(tmp_path) -> None:
    case = make_case()
    case["events"][2]["actor"] = {"id": "u1", "name": "", "role": "审核"}
    del case["events"][3]["actor"]
    verdict = _trail(tmp_path, case)
    assert {e["path"] for e in verdict.evidence} == {"$.events[2].actor.name", "$.events[3].actor"}
    assert {c for c, _ in _found(verdict)} == {"process.actor_incomplete", "process.actor_missing"}


def test_event_times_must_not_go_back(tmp_path) -> None:
    case = make_case()
    case["events"][3]["at"] = "2024-03-02T10:00:00+08:00"
    verdict = _trail(tmp_path, case)
    assert verdict.result is Result.FAIL
    assert _found(verdict) == {("process.time_order", "$.events[3].at")}


def test_seq_gaps_and_duplicates(tmp_path) -> None:
    case = make_case()
    case["events"][2]["seq"] = 2
    case["events"][4]["seq"] = 7
    verdict = run("GD-2-6", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    gaps = {e["code"]: e["found"] for e in verdict.evidence if e["path"] == "$.events"}
    assert gaps == {"process.seq_gap": [3, 5, 6], "process.seq_duplicate": [2]}


def test_files_out_of_process_order_warn(tmp_path) -> None:
    case = make_case()
    case["files"] = [case["files"][3]] + case["files"][:3]  # decision listed first
    verdict = run("GD-2-6", build(tmp_path, case))
    assert verdict.result is Result.WARN
    assert {e["found"] for e in verdict.evidence} == {"f1", "f2", "f3"}
    assert {e["code"] for e in verdict.evidence} == {"process.file_order"}


def test_event_referencing_unknown_file_fails(tmp_path) -> None:
    case = make_case()
    case["events"][2]["files"] = ["f9"]
    verdict = run("GD-2-8", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert [(e["code"], e["found"]) for e in verdict.evidence] == [("process.file_reference_unknown", "f9")]


def test_unreferenced_file_warns(tmp_path) -> None:
    case = make_case()
    case["events"][3]["files"] = []
    verdict = run("GD-2-8", build(tmp_path, case))
    assert verdict.result is Result.WARN
    assert [(e["code"], e["found"]) for e in verdict.evidence] == [("process.file_unreferenced", "f4")]


def test_missing_required_document_named_in_chinese(tmp_path) -> None:
    files = payloads()
    del files["04-decision.pdf"], files["02-id-card.jpg"]
    verdict = run("GD-2-9", build(tmp_path, make_case(files), files))
    assert verdict.result is Result.FAIL
    assert {(e["code"], e["expected"]) for e in verdict.evidence} == {
        ("process.document_missing", "id_document"), ("process.document_missing", "decision")}
    assert "缺少身份证明（id_document）" in verdict.message  # labels from the vocabulary


def test_unconfigured_service_item_cannot_pass_scope(tmp_path) -> None:
    verdict = run("GD-2-9", build(tmp_path, opts=Options(filing_rules={})))
    assert verdict.result is Result.FAIL and "无法确定归档范围" in verdict.message
