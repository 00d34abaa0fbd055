"""Tampering with a built AIP: every change is found, with the path named, by our validator
(and the payload changes by bagit too)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import bagit
import pytest

from dangan.packages import signing
from dangan.packages.aip import export_aip_zip, validate_aip
from dangan.packages.aip.bag import signed_statement
from tests.packages.aip.aip_factory import build, make_keys

PDF = "data/submission/files/申请表.pdf"
PNG = "data/submission/files/scan/身份证.png"


@pytest.fixture(scope="module")
def keys():
    return make_keys()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, keys) -> Path:
    built, _ = build(tmp_path_factory.mktemp("pristine"), keys)
    return built.path


@pytest.fixture
def aip(tmp_path: Path, pristine: Path) -> Path:
    dest = tmp_path / pristine.name
    shutil.copytree(pristine, dest)
    return dest


def found(aip: Path, key: bytes | None) -> set[tuple[str, str | None]]:
    result = validate_aip(aip, key)
    assert not result.valid
    return {(p["code"], p["path"]) for p in result.problems}


def bagit_fails(aip: Path) -> str:
    with pytest.raises(bagit.BagError) as exc:
        bagit.Bag(str(aip)).validate()
    return str(exc.value)


def test_flipped_byte_in_content_is_found_in_both_algorithms(aip: Path, keys) -> None:
    data = bytearray((aip / PDF).read_bytes())
    data[len(data) // 2] ^= 0x01
    (aip / PDF).write_bytes(bytes(data))
    result = validate_aip(aip, keys.archive_pem)
    mism = [p for p in result.problems if p["code"] == "digest.mismatch"]
    assert {(p["path"], p["algorithm"]) for p in mism} == {(PDF, "sha256"), (PDF, "sm3")}
    assert all(p["expected"] != p["found"] for p in mism)
    assert len(result.problems) == 2  # nothing else is wrong: the report is precise
    assert PDF in bagit_fails(aip)


def test_same_size_replacement_is_found(aip: Path, keys) -> None:
    size = (aip / PNG).stat().st_size
    (aip / PNG).write_bytes(b"\x89PNG" + b"\0" * (size - 4))
    assert found(aip, keys.archive_pem) == {("digest.mismatch", PNG)}
    bagit_fails(aip)


def test_deleted_file_is_found_everywhere_it_is_recorded(aip: Path, keys) -> None:
    (aip / PNG).unlink()
    problems = found(aip, keys.archive_pem)
    assert ("file.missing", PNG) in problems
    assert ("description.file_missing", PNG) in problems
    assert ("oxum.mismatch", "bag-info.txt") in problems
    bagit_fails(aip)


def test_unlisted_files_are_found(aip: Path, keys) -> None:
    (aip / "data/submission/files/extra.pdf").write_bytes(b"%PDF-1.4 extra")
    (aip / "notes.txt").write_text("hello")
    (aip / "data/other.txt").write_text("x")
    problems = found(aip, keys.archive_pem)
    assert {("file.unlisted", "data/submission/files/extra.pdf"),
            ("description.file_unlisted", "data/submission/files/extra.pdf"),
            ("layout.unexpected", "notes.txt"),
            ("layout.unexpected", "data/other.txt"),
            ("file.unlisted", "data/other.txt")} <= problems
    assert "Payload-Oxum" in bagit_fails(aip)  # bagit stops at the first failure; we name each file


def test_edited_description_is_found(aip: Path, keys) -> None:
    p = aip / "data/description.xml"
    p.write_bytes(p.read_bytes().replace("参保登记表".encode(), "退保登记表".encode()))
    assert found(aip, keys.archive_pem) == {("digest.mismatch", "data/description.xml")}
    bagit_fails(aip)


def test_description_with_doctype_is_refused_by_the_hardened_parser(aip: Path, keys) -> None:
    p = aip / "data/description.xml"
    text = p.read_text("utf-8").replace(
        "<电子文件封装包", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<电子文件封装包', 1)
    p.write_text(text, "utf-8")
    assert ("description.malformed", "data/description.xml") in found(aip, keys.archive_pem)


def test_edited_bag_info_breaks_tag_manifests_and_signature(aip: Path, keys) -> None:
    p = aip / "bag-info.txt"
    p.write_text(p.read_text("utf-8").replace("GL-00007", "GL-00008"), "utf-8")
    problems = found(aip, keys.archive_pem)
    assert {("tagdigest.mismatch", "bag-info.txt"), ("signature.invalid", "signature.json"),
            ("signature.statement_mismatch", "signature.json"),
            ("description.identity_mismatch", "data/description.xml")} <= problems


def test_edited_tag_manifest_breaks_the_signature(aip: Path, keys) -> None:
    p = aip / "tagmanifest-sm3.txt"
    p.write_text(p.read_text("utf-8") + "0" * 64 + "  signature.json\n", "utf-8")
    problems = found(aip, keys.archive_pem)
    assert ("signature.invalid", "signature.json") in problems
    assert ("tagdigest.mismatch", "signature.json") in problems


def _resign(aip: Path, key, embed_key) -> None:
    """An attacker rewrites signature.json: signs with ``key``, embeds ``embed_key``'s public key."""
    doc = json.loads((aip / "signature.json").read_text("utf-8"))
    statement = doc["statement"].encode("utf-8")
    sig = signing.sign(key, doc["key_id"], statement)
    doc["signature"] = sig.to_dict()["signature"]
    doc["public_key_pem"] = signing.public_key_pem(embed_key).decode("ascii")
    (aip / "signature.json").write_text(json.dumps(doc), "utf-8")


def test_swapped_embedded_key_is_found(aip: Path, keys) -> None:
    doc = json.loads((aip / "signature.json").read_text("utf-8"))
    doc["public_key_pem"] = signing.public_key_pem(keys.other).decode("ascii")
    (aip / "signature.json").write_text(json.dumps(doc), "utf-8")
    # with the archive's real key: the substituted key is named
    assert found(aip, keys.archive_pem) == {("signature.key_mismatch", "signature.json")}
    # without a key: the embedded (wrong) key does not verify the archive's signature
    assert found(aip, None) == {("signature.invalid", "signature.json")}


def test_resigned_with_another_key_fails_against_the_real_key(aip: Path, keys) -> None:
    _resign(aip, keys.other, keys.other)
    problems = found(aip, keys.archive_pem)
    assert problems == {("signature.invalid", "signature.json"), ("signature.key_mismatch", "signature.json")}
    # an embedded-key check alone cannot tell: it says it used the embedded key
    alone = validate_aip(aip, None)
    assert alone.valid and alone.key_source == "embedded"
    assert alone.signer_fingerprint == signing.key_fingerprint(signing.public_key_pem(keys.other))


def test_signature_statement_covers_both_tag_manifests(pristine: Path, keys) -> None:
    doc = json.loads((pristine / "signature.json").read_text("utf-8"))
    info = dict(line.split(": ", 1) for line in (pristine / "bag-info.txt").read_text("utf-8").splitlines())
    statement = signed_statement(info, (pristine / "tagmanifest-sha256.txt").read_bytes(),
                                 (pristine / "tagmanifest-sm3.txt").read_bytes())
    assert doc["statement"].encode("utf-8") == statement
    signing.verify(keys.archive_pem, signing.DetachedSignature.from_json(
        (pristine / "signature.json").read_bytes()), statement)


def test_missing_signature_and_manifest_are_named(aip: Path, keys) -> None:
    (aip / "signature.json").unlink()
    (aip / "manifest-sm3.txt").unlink()
    problems = found(aip, keys.archive_pem)
    assert {("layout.missing", "signature.json"), ("layout.missing", "manifest-sm3.txt"),
            ("tagfile.missing", "manifest-sm3.txt")} <= problems


def test_tampered_zip_is_found(tmp_path: Path, pristine: Path, keys) -> None:
    good = tmp_path / "good.zip"
    export_aip_zip(pristine, good)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("info.xml"):
                data = data.replace("张三".encode(), "张四".encode())
            zout.writestr(info, data)
    result = validate_aip(bad, keys.archive_pem)
    assert {(p["code"], p["path"]) for p in result.problems} == {
        ("digest.mismatch", "data/submission/files/info.xml")}


def test_unsafe_zip_is_refused(tmp_path: Path, keys) -> None:
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("aip/bagit.txt", "BagIt-Version: 1.0\n")
        zf.writestr("../../etc/evil", "x")
    result = validate_aip(z, keys.archive_pem)
    assert [p["code"] for p in result.problems] == ["aip.unreadable"]


def test_symlink_in_the_bag_is_named_not_followed(aip: Path, keys, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (aip / "data/submission/files/link.txt").symlink_to(secret)
    problems = found(aip, keys.archive_pem)
    assert ("layout.special", "data/submission/files/link.txt") in problems
