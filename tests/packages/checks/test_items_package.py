"""Package check items on real built AIPs: each passes on a good bag and fails on a bad one,
naming every offending path or field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from dangan.packages import signing
from dangan.packages.aip import export_aip_zip
from dangan.packages.checks import (
    CheckContext,
    Result,
    Stage,
    TrustedKey,
    default_registry,
    items_package,
    run_checks,
)
from tests.packages.aip.aip_factory import ARCHIVAL_CODE, RULE, build, make_keys

ITEMS = {
    "GD-1-7": items_package.archival_code_rule,
    "GD-1-12": items_package.explanation_and_catalogue,
    "GD-1-13": items_package.directory_structure,
    "GD-1-14": items_package.package_consistency,
    "GD-2-10": items_package.package_metadata_complete,
    "GD-2-11": items_package.package_content_count,
    "GD-3-1": items_package.metadata_readable,
}
PDF = "data/submission/files/申请表.pdf"


@pytest.fixture(scope="module")
def keys():
    return make_keys()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, keys) -> tuple[Path, bytes]:
    built, inp = build(tmp_path_factory.mktemp("p"), keys)
    return built.path, inp.case_bytes


@pytest.fixture
def aip(tmp_path: Path, pristine) -> Path:
    dest = tmp_path / pristine[0].name
    shutil.copytree(pristine[0], dest)
    return dest


def make_ctx(aip_root: Path | None, keys, case_bytes: bytes | None, **kw: Any) -> CheckContext:
    ctx = CheckContext(stage=Stage.GD, root=aip_root or Path("."), case_bytes=case_bytes, case=None,
                       case_error=None, signature_bytes=None, files={}, extra_entries=[],
                       archival_code=ARCHIVAL_CODE, archival_code_rule=RULE, aip_root=aip_root,
                       trusted_keys=[TrustedKey("sbjb-hx", "sbjb-2024-01", "ed25519",
                                                signing.public_key_pem(keys.source))])
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def run(code: str, ctx: CheckContext):
    return ITEMS[code](ctx)


def paths(verdict) -> set[Any]:
    return {e.get("path") for e in verdict.evidence}


@pytest.mark.parametrize("code", sorted(ITEMS))
def test_every_item_passes_on_a_good_aip(code: str, aip: Path, keys, pristine) -> None:
    v = run(code, make_ctx(aip, keys, pristine[1]))
    assert v.result is Result.PASS, (v.message, v.evidence)


@pytest.mark.parametrize("code", sorted(ITEMS))
def test_every_item_fails_without_an_aip(code: str, keys) -> None:
    assert run(code, make_ctx(None, keys, None)).result is Result.FAIL


def test_items_are_registered_as_package_group_and_pass_on_the_exported_zip(tmp_path, pristine, keys) -> None:
    z = tmp_path / "aip.zip"
    export_aip_zip(pristine[0], z)
    report = run_checks(make_ctx(z, keys, pristine[1], stage=Stage.YJ), Stage.YJ, group="package",
                        registry=default_registry())
    got = {r.code: r.result for r in report.results}
    assert set(ITEMS) <= set(got)
    assert all(got[c] is Result.PASS for c in ITEMS), [(r.code, r.message) for r in report.results]


def test_gd_1_7_archival_code_mismatch_and_rule(tmp_path: Path, keys, aip: Path, pristine) -> None:
    other = RULE.format(2024, "D100", "GL", 8)
    v = run("GD-1-7", make_ctx(aip, keys, pristine[1], archival_code=other))
    assert v.result is Result.FAIL
    fields = {e["field"] for e in v.evidence}
    assert {"External-Identifier", "内容描述/档号", "说明/摘要信息/档号", "目录/条目[1]/档号"} <= fields

    built, inp = build(tmp_path / "bad", keys, archival_code="Z109-SB·2024-D100-GL-7")
    v = run("GD-1-7", make_ctx(built.path, keys, inp.case_bytes, archival_code="Z109-SB·2024-D100-GL-7"))
    assert v.result is Result.FAIL
    assert {e["code"] for e in v.evidence} == {"archival_code.rule"}
    assert len(v.evidence) == 6  # bag-info, 内容描述, 摘要信息, three 目录 entries

    assert run("GD-1-7", make_ctx(aip, keys, pristine[1], archival_code_rule=None)).result is Result.WARN


def test_gd_1_12_missing_explanation_and_catalogue_content(aip: Path, keys, pristine) -> None:
    p = aip / "data/description.xml"
    text = p.read_text("utf-8")
    start, end = text.index("<软件环境>"), text.index("</软件环境>")
    text = text[:start] + "<软件环境>" + text[end:]
    first = text.index("<条目>")
    text = text[:first] + text[text.index("</条目>") + len("</条目>"):]
    p.write_text(text, "utf-8")
    v = run("GD-1-12", make_ctx(aip, keys, pristine[1]))
    assert v.result is Result.FAIL
    codes = {e["code"] for e in v.evidence}
    assert {"explanation.missing", "description.invalid", "catalogue.count"} <= codes
    assert any(e.get("field") == "说明/软件环境" for e in v.evidence)


def test_gd_1_13_extra_and_misplaced_files(aip: Path, keys, pristine) -> None:
    (aip / "README.txt").write_text("x")
    (aip / "data/submission/notes.txt").write_text("y")
    (aip / "data/submission/files/extra.pdf").write_bytes(b"%PDF-1.4")
    v = run("GD-1-13", make_ctx(aip, keys, pristine[1]))
    assert v.result is Result.FAIL
    assert {"README.txt", "data/submission/notes.txt", "data/submission/files/extra.pdf"} <= paths(v)


def test_gd_1_14_content_change_and_case_json_not_what_was_signed(aip: Path, keys, pristine) -> None:
    data = bytearray((aip / PDF).read_bytes())
    data[-10] ^= 0x20
    (aip / PDF).write_bytes(bytes(data))
    case = aip / "data/submission/case.json"
    case.write_bytes(case.read_bytes().replace("张三".encode(), "张叁".encode()))
    v = run("GD-1-14", make_ctx(aip, keys, pristine[1]))
    assert v.result is Result.FAIL
    got = {(e["code"], e["path"]) for e in v.evidence}
    assert {("digest.mismatch", PDF), ("digest.mismatch", "data/submission/case.json"),
            ("case.changed", "data/submission/case.json"),
            ("case.signature", "data/submission/case.json.sig")} <= got


def test_gd_1_14_with_the_archive_key_catches_a_foreign_signature(aip: Path, keys, pristine) -> None:
    ctx = make_ctx(aip, keys, pristine[1])
    ctx.archive_public_key_pem = signing.public_key_pem(keys.other)  # type: ignore[attr-defined]
    v = run("GD-1-14", ctx)
    assert v.result is Result.FAIL and ("signature.json" in paths(v))
    ok = make_ctx(aip, keys, pristine[1])
    ok.archive_public_key_pem = keys.archive_pem  # type: ignore[attr-defined]
    assert run("GD-1-14", ok).result is Result.PASS


def test_gd_1_14_warns_when_the_sender_part_cannot_be_assessed(aip: Path, keys) -> None:
    v = run("GD-1-14", make_ctx(aip, keys, None, trusted_keys=[]))
    assert v.result is Result.WARN


def test_gd_2_10_incomplete_encapsulation_metadata(tmp_path: Path, keys) -> None:
    def edit(case: dict[str, Any]) -> None:
        case["title"] = ""
        case["files"][1]["title"] = ""

    sup = {"aip_id": "aip-1", "archival_code": "", "version": 1, "reason": ""}
    built, inp = build(tmp_path, keys, edit=edit, supersedes=sup, version=2)
    v = run("GD-2-10", make_ctx(built.path, keys, inp.case_bytes))
    assert v.result is Result.FAIL
    fields = {e.get("field") for e in v.evidence}
    assert {"内容描述/题名", "文档[2]/题名", "被修改封装包/修改原因"} <= fields


def test_gd_2_11_counts_disagree(aip: Path, keys, pristine) -> None:
    (aip / "data/submission/files/scan/身份证.png").unlink()
    (aip / "data/submission/files/new.xml").write_bytes(b"<a/>")
    (aip / "data/submission/files/new2.xml").write_bytes(b"<b/>")
    v = run("GD-2-11", make_ctx(aip, keys, pristine[1]))
    assert v.result is Result.FAIL
    assert {"data/submission/files/scan/身份证.png", "data/submission/files/new.xml",
            "data/submission/files/new2.xml"} <= paths(v)
    assert any(e.get("field") == "描述文件文档" and e["found"] == 3 and e["expected"] == 4 for e in v.evidence)


def test_gd_3_1_mojibake_and_bad_encoding(tmp_path: Path, keys) -> None:
    built, inp = build(tmp_path, keys, edit=lambda case: case.update(title="张三\ufffd\ufffd登记"))
    v = run("GD-3-1", make_ctx(built.path, keys, inp.case_bytes))
    assert v.result is Result.FAIL
    got = {(e["code"], e["path"]) for e in v.evidence}
    assert {("metadata.mojibake", "data/description.xml"),
            ("metadata.mojibake", "data/submission/case.json")} <= got

    info = built.path / "bag-info.txt"
    info.write_bytes(info.read_bytes() + b"Note: \xff\xfe\n")
    v = run("GD-3-1", make_ctx(built.path, keys, inp.case_bytes))
    assert ("baginfo.encoding", "bag-info.txt") in {(e["code"], e["path"]) for e in v.evidence}
