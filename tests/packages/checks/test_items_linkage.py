"""GD-1-10, GD-1-11, GD-4-3, GD-2-1, GD-2-2: listed files against the files received."""

from __future__ import annotations

import pytest

from dangan.packages.checks import Result
from dangan.packages.checks.items_linkage import path_problem
from tests.packages.checks.casebuilder import Options, build, make_case, payloads, pdf_bytes, run


@pytest.mark.parametrize("code", ["GD-1-10", "GD-1-11", "GD-4-3", "GD-2-1", "GD-2-2"])
def test_complete_submission_passes(tmp_path, code: str) -> None:
    verdict = run(code, build(tmp_path))
    assert verdict.result is Result.PASS, verdict.message


def test_listed_size_differs_from_real_size(tmp_path) -> None:
    case = make_case()
    case["files"][0]["size"] += 1
    case["files"][2]["size"] = 10
    verdict = run("GD-1-10", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert {e["path"] for e in verdict.evidence} == {"$.files[0].size", "$.files[2].size"}


def test_extension_inconsistent_with_media_type_warns(tmp_path) -> None:
    files = payloads()
    files["02-id-card.png"] = files.pop("02-id-card.jpg")
    case = make_case(payloads())
    case["files"][1]["path"] = "02-id-card.png"  # declared image/jpeg
    verdict = run("GD-1-10", build(tmp_path, case, files))
    assert verdict.result is Result.WARN
    assert [(e["code"], e["path"]) for e in verdict.evidence] == [
        ("linkage.extension_mismatch", "$.files[1].path")]
    assert "image/jpeg" in verdict.message


@pytest.mark.parametrize(
    ("path", "reason"),
    [("../case.json", ".."), ("/etc/passwd", "绝对路径"), ("C:/x.pdf", "绝对路径"),
     ("sub\\x.pdf", "反斜杠"), ("a//b.pdf", "空段"), ("./a.pdf", "空段"), ("a/../../b", "..")],
)
def test_unsafe_paths(path: str, reason: str) -> None:
    assert reason in path_problem(path)


def test_safe_nested_path() -> None:
    assert path_problem("scans/2024/page-01.jpg") is None


def test_unsafe_and_missing_files_are_all_named(tmp_path) -> None:
    case = make_case()
    case["files"][0]["path"] = "../../etc/passwd"
    case["files"][1]["path"] = "missing.jpg"
    files = payloads()
    verdict = run("GD-1-11", build(tmp_path, case, files))
    assert verdict.result is Result.FAIL
    assert {e["path"] for e in verdict.evidence} == {"$.files[0].path", "$.files[1].path"}
    assert {(e["code"], e["path"]) for e in verdict.evidence} == {
        ("linkage.path_unsafe", "$.files[0].path"), ("linkage.file_absent", "$.files[1].path")}


def test_unlisted_file_and_extra_entry_are_named(tmp_path) -> None:
    opts = Options(extra_files={"notes.txt": b"draft"}, extra_entries=["Thumbs.db"])
    verdict = run("GD-4-3", build(tmp_path, opts=opts))
    assert verdict.result is Result.FAIL
    assert {(e["code"], e["path"]) for e in verdict.evidence} == {
        ("linkage.file_unlisted", "files/notes.txt"), ("linkage.extra_entry", "Thumbs.db")}


def test_file_count_mismatch(tmp_path) -> None:
    files = payloads()
    del files["04-decision.pdf"]
    verdict = run("GD-2-1", build(tmp_path, make_case(), files))
    assert verdict.result is Result.FAIL
    assert verdict.evidence[0]["expected"] == 4 and verdict.evidence[0]["found"] == 3


def test_total_bytes_mismatch(tmp_path) -> None:
    files = payloads()
    files["03-acceptance.pdf"] = pdf_bytes(4)
    verdict = run("GD-2-2", build(tmp_path, make_case(), files))
    assert verdict.result is Result.FAIL
    assert verdict.evidence[0]["expected"] != verdict.evidence[0]["found"]


def test_total_bytes_cannot_be_counted_with_a_bad_size(tmp_path) -> None:
    case = make_case()
    case["files"][1]["size"] = "large"
    verdict = run("GD-2-2", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert ("linkage.size_unusable", "$.files[1].size") in {(e["code"], e["path"]) for e in verdict.evidence}
