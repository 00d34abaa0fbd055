"""The one problem record: a stable code always, and the JSON shape reports have shown."""

from __future__ import annotations

import dataclasses

import pytest

from dangan.packages.aip import validate_aip
from dangan.packages.errors import AIPInvalid
from dangan.packages.problem import Problem, as_dicts


def test_a_problem_without_a_code_or_a_note_is_refused() -> None:
    with pytest.raises(ValueError):
        Problem("", "a.txt", note="坏了")
    with pytest.raises(ValueError):
        Problem("file.missing", "a.txt")


def test_to_dict_keeps_the_report_shape_and_is_frozen() -> None:
    p = Problem("digest.mismatch", "data/x.pdf", expected="aa", found="bb", note="摘要不符",
                extra={"algorithm": "sm3"})
    assert p.to_dict() == {"code": "digest.mismatch", "path": "data/x.pdf", "expected": "aa",
                           "found": "bb", "note": "摘要不符", "algorithm": "sm3"}
    named = Problem("case.too_long", "$.title", field="题名", expected="≤ 200", found=201,
                    note="题名超长")
    assert named.to_dict()["field"] == "题名"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.code = "other"  # type: ignore[misc]
    facts = {"algorithm": "sha256"}
    q = Problem("digest.mismatch", "x", note="摘要不符", extra=facts)
    facts["algorithm"] = "md5"
    assert q.to_dict()["algorithm"] == "sha256"
    with pytest.raises(TypeError):
        q.extra["algorithm"] = "md5"  # type: ignore[index]
    assert as_dicts([p, {"code": "read.back", "note": "x"}]) == [p.to_dict(),
                                                                 {"code": "read.back", "note": "x"}]


def test_errors_carry_problems_as_json(tmp_path) -> None:
    err = AIPInvalid("坏包", [Problem("layout.missing", "bagit.txt", note="缺少 bagit.txt")])
    assert err.to_dict()["details"][0]["code"] == "layout.missing"


def test_every_validation_problem_has_a_code(tmp_path) -> None:
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 0.97\n")
    (bag / "data" / "stray.txt").write_bytes(b"x")
    problems = validate_aip(bag).problems
    assert problems and all(p["code"] and p["note"] for p in problems)
    assert "layout.missing" in {p["code"] for p in problems}
