"""Building, reading, exporting and resealing an AIP from a real submission."""

from __future__ import annotations

import builtins
import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import bagit
import pytest

from dangan.packages.aip import (
    build_aip,
    export_aip_zip,
    parse_description,
    read_aip,
    reseal_with_report,
    validate_aip,
    xsd_errors,
)
from dangan.packages.digests import Digests
from dangan.packages.errors import AIPInvalid
from tests.packages.aip.aip_factory import AIP_ID, ARCHIVAL_CODE, ORG, build, make_keys

CONTENT = ["data/submission/files/info.xml", "data/submission/files/scan/身份证.png",
           "data/submission/files/申请表.pdf"]


@pytest.fixture(scope="module")
def keys():
    return make_keys()


def test_built_aip_is_a_valid_bag_for_dangan_and_for_bagit(tmp_path: Path, keys) -> None:
    built, inp = build(tmp_path, keys)
    root = built.path
    assert sorted(p.name for p in root.iterdir()) == [
        "bag-info.txt", "bagit.txt", "data", "manifest-sha256.txt", "manifest-sm3.txt",
        "signature.json", "tagmanifest-sha256.txt", "tagmanifest-sm3.txt"]
    assert (root / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

    result = validate_aip(root, keys.archive_pem)
    assert result.valid, result.problems
    assert result.key_source == "given" and result.aip_id == AIP_ID
    bag = bagit.Bag(str(root))
    bag.validate()  # raises on any failure
    assert bag.info["External-Identifier"] == ARCHIVAL_CODE
    assert bag.info["Source-Organization"] == ORG
    assert bag.info["Internal-Sender-Identifier"] == "sbjb-hx/BJ-2024-0001"
    assert bag.info["Payload-Oxum"] == built.payload_oxum

    # both manifests list every payload file, with the digests measured at receipt
    for alg in ("sha256", "sm3"):
        lines = (root / f"manifest-{alg}.txt").read_text("utf-8").splitlines()
        listed = {ln.split("  ", 1)[1]: ln.split("  ", 1)[0] for ln in lines}
        assert sorted(listed) == sorted(CONTENT + ["data/description.xml", "data/submission/case.json",
                                                   "data/submission/case.json.sig"])
        for rel, d in inp.file_digests.items():
            assert listed[f"data/submission/{rel}"] == getattr(d, alg)
        tag = (root / f"tagmanifest-{alg}.txt").read_text("utf-8").splitlines()
        assert sorted(ln.split("  ", 1)[1] for ln in tag) == [
            "bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest-sm3.txt"]
    assert built.aip_digest == hashlib.sha256((root / "tagmanifest-sha256.txt").read_bytes()).hexdigest()
    # case.json is byte-identical to what the sender signed
    assert (root / "data/submission/case.json").read_bytes() == inp.case_bytes
    # moved, not copied
    assert not (inp.submission_root / "files" / "申请表.pdf").exists()


def test_copy_mode_leaves_the_submission_in_place(tmp_path: Path, keys) -> None:
    built, inp = build(tmp_path, keys, move=False)
    assert (inp.submission_root / "files" / "申请表.pdf").read_bytes() == (
        built.path / "data/submission/files/申请表.pdf").read_bytes()
    assert validate_aip(built.path, keys.archive_pem).valid


def test_builder_trusts_receipt_digests_and_validation_catches_a_swap(tmp_path: Path, keys) -> None:
    """Content is not re-hashed at build: a file swapped after measuring is caught by validation."""
    sub = tmp_path / "s"
    sub.mkdir()
    from tests.packages.aip.aip_factory import write_submission

    inp = write_submission(sub, keys.source)
    pdf = sub / "files" / "申请表.pdf"
    data = bytearray(pdf.read_bytes())
    data[100] ^= 0xFF
    pdf.write_bytes(bytes(data))  # same size, other bytes
    built = build_aip(inp, tmp_path / "aip", keys.archive, "k")
    manifest = (built.path / "manifest-sha256.txt").read_text("utf-8")
    assert inp.file_digests["files/申请表.pdf"].sha256 in manifest
    problems = validate_aip(built.path, keys.archive_pem).problems
    assert {(p["code"], p["path"], p["algorithm"]) for p in problems} == {
        ("digest.mismatch", "data/submission/files/申请表.pdf", "sha256"),
        ("digest.mismatch", "data/submission/files/申请表.pdf", "sm3")}


def test_size_change_after_receipt_refuses_to_build_and_restores_the_submission(tmp_path: Path, keys) -> None:
    sub = tmp_path / "s"
    sub.mkdir()
    from tests.packages.aip.aip_factory import write_submission

    inp = write_submission(sub, keys.source)
    (sub / "files" / "info.xml").write_bytes(b"<a/>")
    with pytest.raises(AIPInvalid) as exc:
        build_aip(inp, tmp_path / "aip", keys.archive, "k")
    assert exc.value.details[0]["path"] == "files/info.xml"
    assert not (tmp_path / "aip").exists()
    assert (sub / "files" / "申请表.pdf").is_file() and (sub / "files" / "scan" / "身份证.png").is_file()


def test_destination_must_be_new(tmp_path: Path, keys) -> None:
    built, inp = build(tmp_path, keys, move=False)
    with pytest.raises(FileExistsError):
        build_aip(inp, built.path, keys.archive, "k", move_payload=False)


def test_description_records_the_case_and_validates_against_the_xsd(tmp_path: Path, keys) -> None:
    built, inp = build(tmp_path, keys)
    data = (built.path / "data/description.xml").read_bytes()
    assert xsd_errors(data) == []
    d = parse_description(data)
    so = d["signed_object"]
    rec = so["content"]["record"]
    assert so["package_type"] == "original" and so["aip_id"] == AIP_ID
    assert rec["description"]["archival_code"] == ARCHIVAL_CODE
    assert rec["description"]["year"] == 2024 and rec["description"]["retention"] == "D100"
    assert rec["submission"]["digests"]["sha256"] == hashlib.sha256(inp.case_bytes).hexdigest()
    assert [doc["path"] for doc in rec["documents"]] == [
        "data/submission/files/申请表.pdf", "data/submission/files/scan/身份证.png",
        "data/submission/files/info.xml"]
    png = rec["documents"][1]
    assert png["digitization"] == {"dpi": 300} and png["origin"] == "digitized"
    assert rec["form"] == {"items": 1, "files": 3, "pages": 3}
    steps = [e["step"] for e in so["content"]["events"]]
    assert steps == ["accept", "handle", "feedback", "archive"]
    assert so["content"]["check_report"][0]["code"] == "GD-1-1"
    assert so["explanation"]["summary"]["bytes"] == sum(d.size for d in inp.file_digests.values())
    assert "dangan" in so["explanation"]["software"]
    assert [c["file_name"] for c in so["catalogue"]] == [doc["path"] for doc in rec["documents"]]


def test_correction_is_a_modified_package_pointing_to_the_old_version(tmp_path: Path, keys) -> None:
    sup = {"aip_id": "aip-2024-000001", "archival_code": "Z109-SB·2024-D100-GL-00001", "version": 1,
           "reason": "证件号码录入错误"}
    built, _ = build(tmp_path, keys, supersedes=sup, version=2)
    d = read_aip(built.path).description["signed_object"]
    assert d["package_type"] == "modified" and d["aip_version"] == 2
    assert d["supersedes"] == sup
    assert read_aip(built.path).bag_info["Dangan-Supersedes"] == "aip-2024-000001"
    assert validate_aip(built.path, keys.archive_pem).valid


def test_export_zip_is_deterministic_and_validates(tmp_path: Path, keys) -> None:
    built, _ = build(tmp_path, keys)
    z1, z2 = tmp_path / "a.zip", tmp_path / "b.zip"
    export_aip_zip(built.path, z1)
    export_aip_zip(built.path, z2)
    assert z1.read_bytes() == z2.read_bytes()
    names = zipfile.ZipFile(z1).namelist()
    assert all(n.startswith(f"{AIP_ID}/") for n in names)
    result = validate_aip(z1, keys.archive_pem)
    assert result.valid, result.problems
    assert result.aip_digest == built.aip_digest
    out = tmp_path / "unzipped"
    zipfile.ZipFile(z1).extractall(out)
    bagit.Bag(str(out / AIP_ID)).validate()

    with read_aip(z1) as r:
        assert r.aip_id == AIP_ID and r.archival_code == ARCHIVAL_CODE and r.version == 1
        assert r.aip_digest == built.aip_digest
        assert r.read_bytes("data/submission/files/info.xml").startswith(b"<?xml")
        assert len(r.documents) == 3 and r.signature["key_id"] == "archive-2024"


def test_reseal_replaces_only_the_report_and_never_reads_content(tmp_path: Path, keys, monkeypatch) -> None:
    built, _ = build(tmp_path, keys)
    root = built.path
    before = {p: d for p, d in built.files.items() if p != "data/description.xml"}
    report = [{"code": "GD-1-13", "nature": "authenticity", "name": "信息包目录结构规范性", "stage": "GD",
               "result": "fail", "blocking": True, "message": "多余文件：x\x00y",
               "evidence": [{"path": "data/x", "note": "多余"}]}]
    opened: list[str] = []
    real_open, real_io_open = builtins.open, io.open

    def spy(f, *a, **k):
        opened.append(str(f))
        return real_open(f, *a, **k)

    def spy_io(f, *a, **k):
        opened.append(str(f))
        return real_io_open(f, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy_io)
    resealed = reseal_with_report(root, report, keys.archive, "archive-2024")
    monkeypatch.undo()
    assert any(p.endswith("bag-info.txt") for p in opened)  # the spy does see file reads
    assert not [p for p in opened if "/data/submission/" in p]
    assert {p: d for p, d in resealed.files.items() if p != "data/description.xml"} == before
    assert resealed.files["data/description.xml"] != built.files["data/description.xml"]
    assert resealed.aip_digest != built.aip_digest
    desc = read_aip(root).description
    assert desc["signed_object"]["content"]["check_report"] == report
    result = validate_aip(root, keys.archive_pem)
    assert result.valid, result.problems
    bagit.Bag(str(root)).validate()


def test_reseal_refuses_a_tampered_description(tmp_path: Path, keys) -> None:
    built, _ = build(tmp_path, keys)
    desc = built.path / "data/description.xml"
    desc.write_bytes(desc.read_bytes().replace("张三".encode(), "李四".encode()))
    with pytest.raises(AIPInvalid):
        reseal_with_report(built.path, [], keys.archive, "archive-2024")


def test_malformed_case_still_builds_and_validation_names_the_gaps(tmp_path: Path, keys) -> None:
    """A broken case.json must not crash the builder: the checks report on the built AIP."""
    sub = tmp_path / "s"
    sub.mkdir()
    from tests.packages.aip.aip_factory import write_submission

    inp = write_submission(sub, keys.source)
    case = dict(inp.case, title="坏\x00标题\r", completed_at=None, events=[{"seq": "x"}],
                insurance="pension", applicant=None)
    inp = replace(inp, case=case, file_digests=dict(inp.file_digests, **{
        "files/extra.bin": Digests(0, "0" * 64, "0" * 64)}))
    (sub / "files" / "extra.bin").write_bytes(b"")
    built = build_aip(inp, tmp_path / "aip", keys.archive, "k")
    d = read_aip(built.path).description
    assert d["signed_object"]["content"]["record"]["description"]["title"] == "坏\x00标题\r"
    assert d["signed_object"]["content"]["record"]["documents"][-1]["path"] == "data/submission/files/extra.bin"
    problems = validate_aip(built.path, keys.archive_pem).problems
    xsd = [p for p in problems if p["code"] == "description.invalid"]
    assert any("年度" in p["note"] for p in xsd)  # no 办结时间 → no year
    assert any("顺序号" in p["note"] for p in xsd)  # event without a usable seq


def test_unparsable_case_and_odd_evidence_still_build(tmp_path: Path, keys) -> None:
    sub = tmp_path / "s"
    sub.mkdir()
    from tests.packages.aip.aip_factory import write_submission

    inp = write_submission(sub, keys.source)
    odd = [{"code": "GD-3-4", "nature": "usability", "name": "可读性", "stage": "GD", "result": "fail",
            "blocking": True, "message": "无法打开", "evidence": [{"path": Path("files/a.pdf")}]}]
    inp = replace(inp, case=None, check_results=odd)  # type: ignore[arg-type]
    built = build_aip(inp, tmp_path / "aip", keys.archive, "k")
    report = read_aip(built.path).description["signed_object"]["content"]["check_report"]
    assert report[0]["evidence"] == [{"path": "files/a.pdf"}]
    # all three files are still described, even without case.json metadata
    assert len(read_aip(built.path).documents) == 3
