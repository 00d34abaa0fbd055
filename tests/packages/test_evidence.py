"""Evidence packages: verifiable offline with packages/ alone; any tampered part fails."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dangan.archive import audit_log, keys, replica
from dangan.archive.evidence import build_evidence
from dangan.archive.instance import Archive
from dangan.ingest.service import ingest
from dangan.packages import evidence as ev
from dangan.packages import signing
from dangan.packages.aip import export_aip_zip, parse_description, render_description
from dangan.packages.aip.bag import BAG_INFO, DESCRIPTION, parse_bag_info, write_tag_files
from dangan.packages.digests import digest_file
from dangan.packages.safezip import extract_zip


@pytest.fixture
def package(archive: Archive, make_case: Callable[..., Path], tmp_path: Path) -> Path:
    outcome = ingest(archive, make_case(), ocr=False)
    assert outcome.status == "archived", outcome.reason
    replica.write_replica(archive, outcome.aip_id)
    dest = tmp_path / "evidence.zip"
    done = build_evidence(archive, outcome.case_id or "", dest)
    assert done["chain_ok"] and done["aip_id"] == outcome.aip_id
    return dest


def archive_pem(archive: Archive) -> bytes:
    return (archive.home / keys.KEY_DIR / keys.PUBLIC_KEY).read_bytes()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rewrite(src: Path, dest: Path, parts: dict[str, bytes | None],
            resign: signing.PrivateKey | None = None, key_id: str = "") -> Path:
    """Write a copy of the package with ``parts`` replaced (None: removed); optionally, as an
    insider holding the archive key, recompute the manifest and sign it again."""
    files = members(src)
    files.update(parts)
    files = {k: v for k, v in files.items() if v is not None}
    if resign is not None:
        manifest = json.loads(files[ev.MANIFEST])
        manifest["files"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                             for n, d in files.items() if n not in (ev.MANIFEST, ev.MANIFEST_SIG)}
        files[ev.MANIFEST] = ev.canonical_json(manifest)
        files[ev.MANIFEST_SIG] = signing.sign(resign, key_id, files[ev.MANIFEST]).to_json()
    with zipfile.ZipFile(dest, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return dest


def failed_steps(path: Path, key: bytes | None) -> set[str]:
    return {s.step for s in ev.verify_evidence(path, key).steps if not s.ok}


def aip_member(path: Path) -> str:
    return next(n for n in members(path) if n.startswith(ev.AIP_PREFIX))


def edited_aip(package: Path, tmp: Path, reseal_with: Archive | None = None) -> bytes:
    """The package's AIP with one content byte changed (and resealed by a key holder)."""
    nested = tmp / "nested.zip"
    nested.write_bytes(members(package)[aip_member(package)])
    root_parent = tmp / "x"
    root_parent.mkdir()
    extract_zip(nested, root_parent)
    [root] = list(root_parent.iterdir())
    victim = sorted((root / "data/submission/files").rglob("*.pdf"))[0]
    data = bytearray(victim.read_bytes())
    data[100] ^= 1
    victim.write_bytes(bytes(data))
    if reseal_with is not None:
        model = parse_description((root / DESCRIPTION).read_bytes())
        for doc in model["signed_object"]["content"]["record"]["documents"]:
            d = digest_file(root / doc["path"])
            doc["digests"] = {"sha256": d.sha256, "sm3": d.sm3}
        (root / DESCRIPTION).write_bytes(render_description(model))
        payload = {p.relative_to(root).as_posix(): digest_file(p)
                   for p in (root / "data").rglob("*") if p.is_file()}
        info, _ = parse_bag_info((root / BAG_INFO).read_bytes())
        key = reseal_with.key
        write_tag_files(root, info, payload, key.private_key, key.key_id, "2030-01-01T00:00:00Z")
    out = tmp / "edited.zip"
    export_aip_zip(root, out)
    return out.read_bytes()


def test_package_verifies_offline_and_lists_every_part(archive: Archive, package: Path) -> None:
    report = ev.verify_evidence(package, archive_pem(archive))
    assert report.ok, [s.to_dict() for s in report.steps if not s.ok]
    assert [s.step for s in report.steps] == ["archive_key", "manifest", "aip", "tree_head",
                                              "inclusion", "source_signature", "receipt"]
    names = set(members(package))
    assert {ev.MANIFEST, ev.MANIFEST_SIG, ev.ARCHIVE_KEY, ev.SOURCE_TRUST, ev.SOURCE_TRUST_SIG,
            ev.TREE_HEAD,
            ev.INCLUSION, ev.CONSISTENCY, ev.RECEIPT, ev.REPORT} <= names
    with_included_key = ev.verify_evidence(package)
    assert with_included_key.consistent and not with_included_key.ok
    assert with_included_key.status == ev.UNAUTHENTICATED
    assert "未经独立认证" in with_included_key.steps[0].message
    fp = signing.key_fingerprint(archive_pem(archive))
    assert ev.verify_evidence(package, fingerprint=fp).status == ev.VERIFIED
    sm3 = ev.fingerprints(archive_pem(archive))["sm3"]
    assert ev.verify_evidence(package, fingerprint=f"SM3:{sm3.upper()}").ok
    wrong = ev.verify_evidence(package, fingerprint="00" * 32)
    assert wrong.status == ev.FAILED and [s.step for s in wrong.steps if not s.ok] == ["archive_key"]
    with archive.db.session() as s:
        [export] = audit_log.find_entries(s, action="aip:export")
    assert export.details["kind"] == "evidence" and export.object_id == report.aip_id


def test_report_is_self_contained_chinese_html(package: Path) -> None:
    html = members(package)[ev.REPORT].decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html
    for heading in ("档案概要", "生成时的链条验证", "办理过程", "电子文件", "审计日志证明", "如何离线验证"):
        assert heading in html
    assert "全部验证通过" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_offline_verifier_uses_packages_alone(archive: Archive, package: Path) -> None:
    fp = signing.key_fingerprint(archive_pem(archive))
    code = ("import sys; from pathlib import Path; from dangan.packages.evidence import verify_evidence;"
            f"r = verify_evidence(Path({str(package)!r}), fingerprint={fp!r}); "
            "print(r.ok, sorted({m.split('.')[1] for m in sys.modules if m.startswith('dangan.')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True ['packages']"


def _json_edit(raw: bytes, change: Callable[[dict], None]) -> bytes:
    doc = json.loads(raw)
    change(doc)
    return json.dumps(doc, ensure_ascii=False).encode()


TAMPERS: dict[str, tuple[Callable[[dict[str, bytes]], dict[str, bytes | None]], set[str]]] = {
    "tree head": (lambda m: {ev.TREE_HEAD: _json_edit(
        m[ev.TREE_HEAD], lambda d: d["tree_head"].update(size=d["tree_head"]["size"] + 1))},
        {"manifest", "tree_head"}),
    "log entry": (lambda m: {ev.INCLUSION: _json_edit(
        m[ev.INCLUSION], lambda d: d["entry"].update(actor="冒名者"))}, {"manifest", "inclusion"}),
    "proof": (lambda m: {ev.INCLUSION: _json_edit(
        m[ev.INCLUSION], lambda d: d.update(inclusion_proof=["00" * 32] + d["inclusion_proof"]))},
        {"manifest", "inclusion"}),
    "receipt": (lambda m: {ev.RECEIPT: _json_edit(
        m[ev.RECEIPT], lambda d: d.update(archived_at="2020-01-01T00:00:00Z"))},
        {"manifest", "receipt"}),
    "consistency proof": (lambda m: {ev.CONSISTENCY: _json_edit(
        m[ev.CONSISTENCY], lambda d: d.update(consistency_proof=["11" * 32]))},
        {"manifest", "receipt"}),
    "report": (lambda m: {ev.REPORT: m[ev.REPORT].replace("全部验证通过".encode(), "通过".encode())},
               {"manifest"}),
    "manifest": (lambda m: {ev.MANIFEST: m[ev.MANIFEST].replace(b'"report.html"', b'"report.htm"')},
                 {"manifest"}),
    "added file": (lambda m: {"extra.txt": "补充材料".encode()}, {"manifest"}),
    "removed file": (lambda m: {ev.REPORT: None}, {"manifest"}),
    "trust snapshot": (lambda m: {ev.SOURCE_TRUST: m[ev.SOURCE_TRUST].replace(
        b'"revoked_at":null', b'"revoked_at":"2000-01-01T00:00:00Z"', 1)},
        {"manifest", "source_signature"}),
    "trust snapshot signature": (lambda m: {ev.SOURCE_TRUST_SIG: None}, {"manifest", "source_signature"}),
    "source key": (lambda m: {next(n for n in m if n.startswith("keys/source/") and n.endswith(".pem")):
                              signing.public_key_pem(signing.generate_private_key())},
                   {"manifest", "source_signature"}),
}


@pytest.mark.parametrize("part", sorted(TAMPERS))
def test_tampered_part_fails_verification(archive: Archive, package: Path, tmp_path: Path,
                                          part: str) -> None:
    change, expected = TAMPERS[part]
    forged = rewrite(package, tmp_path / "forged.zip", change(members(package)))
    assert expected <= failed_steps(forged, archive_pem(archive))
    assert not ev.verify_evidence(forged).consistent  # also without the inspector's key


def test_edited_aip_fails(archive: Archive, package: Path, tmp_path: Path) -> None:
    forged = rewrite(package, tmp_path / "forged.zip",
                     {aip_member(package): edited_aip(package, tmp_path)})
    assert {"manifest", "aip"} <= failed_steps(forged, archive_pem(archive))


def test_swapped_archive_key_fails(archive: Archive, package: Path, tmp_path: Path) -> None:
    other = signing.generate_private_key()
    forged = rewrite(package, tmp_path / "forged.zip",
                     {ev.ARCHIVE_KEY: signing.public_key_pem(other)}, resign=other, key_id="x")
    assert "archive_key" in failed_steps(forged, archive_pem(archive))
    assert {"aip", "tree_head", "receipt"} <= failed_steps(forged, None)


def test_insider_with_the_archive_key_still_cannot_pass(archive: Archive, package: Path,
                                                        tmp_path: Path) -> None:
    """Re-signing the manifest and resealing the AIP makes each part valid on its own, but
    the log entry and the receipt still name the AIP that was filed."""
    key = archive.key
    forged = rewrite(package, tmp_path / "forged.zip",
                     {aip_member(package): edited_aip(package, tmp_path, reseal_with=archive)},
                     resign=key.private_key, key_id=key.key_id)
    report = ev.verify_evidence(forged, archive_pem(archive))
    by_step = {s.step: s for s in report.steps}
    assert by_step["manifest"].ok and by_step["aip"].ok
    assert not by_step["inclusion"].ok and "对象摘要" in by_step["inclusion"].message
    assert not by_step["receipt"].ok and not report.ok


def test_not_a_zip_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    report = ev.verify_evidence(bad)
    assert not report.ok and report.steps[0].step == "container"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../escape.txt", b"x")
    bad.write_bytes(buf.getvalue())
    assert ev.verify_evidence(bad).steps[0].step == "container"
