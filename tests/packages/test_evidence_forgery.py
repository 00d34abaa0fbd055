"""The attack of issue 9 item 3: an evidence package re-signed throughout by an attacker.

A real package is taken apart; the decision PDF is replaced under a forged source
signature (attacker source key, genuine key id), the AIP resealed, a log, tree head and
receipt invented, the archive key, source key, trust snapshot and manifest replaced and
re-signed — all with the attacker's keys (``tests/hostile/evidence/forge.py``). Run
through the CLI as an inspector would.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dangan.archive import keys, replica
from dangan.archive.evidence import build_evidence
from dangan.archive.instance import Archive
from dangan.ingest.service import ingest
from dangan.packages import evidence as ev
from dangan.packages import signing
from dangan.web.cli import main
from tests.hostile.evidence.forge import forge_package

FORGED_UNDER_REAL_KEY = {"archive_key", "manifest", "aip", "tree_head", "inclusion",
                         "source_signature", "receipt"}


def verify(*args: str) -> Result:
    return CliRunner().invoke(main, ["package", "verify-evidence", *args])


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def repack_as_insider(files: dict[str, bytes], out: Path, archive: Archive) -> Path:
    """Recompute the manifest and sign it with the real archive key (an insider)."""
    key = archive.key
    manifest = json.loads(files[ev.MANIFEST])
    manifest["files"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                         for n, d in files.items() if n not in (ev.MANIFEST, ev.MANIFEST_SIG)}
    files[ev.MANIFEST] = ev.canonical_json(manifest)
    files[ev.MANIFEST_SIG] = signing.sign(key.private_key, key.key_id, files[ev.MANIFEST]).to_json()
    with zipfile.ZipFile(out, "w") as zf:
        for n, d in files.items():
            zf.writestr(n, d)
    return out


@pytest.fixture
def real(archive: Archive, make_case: Callable[..., Path], tmp_path: Path) -> Path:
    outcome = ingest(archive, make_case(), ocr=False)
    assert outcome.status == "archived", outcome.reason
    replica.write_replica(archive, outcome.aip_id)
    dest = tmp_path / "evidence.zip"
    build_evidence(archive, outcome.case_id or "", dest)
    return dest


@pytest.fixture
def key_file(archive: Archive, tmp_path: Path) -> Path:
    """The archive key as the inspector obtained it from the key registry."""
    path = tmp_path / "registry-archive.pub.pem"
    path.write_bytes((archive.home / keys.KEY_DIR / keys.PUBLIC_KEY).read_bytes())
    return path


def test_forged_package_is_consistent_but_never_verified_without_a_key(
        real: Path, tmp_path: Path) -> None:
    forged = forge_package(real, tmp_path / "forged.zip", tmp_path / "work")
    assert forged.replaced.endswith(".pdf")
    # the forgery is complete: every step holds under the package's own (attacker) key ...
    result = verify(str(forged.path), "--json")
    doc = as_json(result)
    assert doc["consistent"] and doc["failed_steps"] == [], [s for s in doc["steps"] if not s["ok"]]
    # ... yet the answer is not "verified": a distinct status and exit code
    assert result.exit_code == 4
    assert doc["status"] == "unauthenticated" and not doc["valid"] and not doc["authenticated"]
    assert doc["archive_key_fingerprint"] == signing.key_fingerprint(
        signing.public_key_pem(forged.archive_key))
    text = verify(str(forged.path))
    assert text.exit_code == 4
    assert "内部一致，但未经独立密钥认证" in text.stdout and "验证通过" not in text.stdout
    assert "[未认证] 档案馆公钥" in text.stdout


def test_forged_package_fails_with_the_real_key_naming_every_forged_step(
        real: Path, key_file: Path, tmp_path: Path) -> None:
    forged = forge_package(real, tmp_path / "forged.zip", tmp_path / "work")
    result = verify(str(forged.path), "--key", str(key_file), "--json")
    doc = as_json(result)
    assert result.exit_code == 3 and doc["status"] == "failed"
    assert set(doc["failed_steps"]) == FORGED_UNDER_REAL_KEY
    source = next(s for s in doc["steps"] if s["step"] == "source_signature")
    assert "登记快照" in source["message"]  # the attacker's source key is vouched for by nobody
    text = verify(str(forged.path), "--key", str(key_file))
    assert text.exit_code == 3
    assert "[不通过] 来源签名" in text.stdout and "[不通过] 档案馆公钥" in text.stdout
    assert "证据包验证不通过" in text.stdout


def test_forged_package_fails_against_the_real_fingerprint(
        archive: Archive, real: Path, tmp_path: Path) -> None:
    forged = forge_package(real, tmp_path / "forged.zip", tmp_path / "work")
    pem = (archive.home / keys.KEY_DIR / keys.PUBLIC_KEY).read_bytes()
    for fp in (signing.key_fingerprint(pem), "SM3:" + ev.fingerprints(pem)["sm3"]):
        result = verify(str(forged.path), "--fingerprint", fp, "--json")
        assert result.exit_code == 3 and as_json(result)["failed_steps"] == ["archive_key"]
        # the genuine package passes with the same fingerprint
        assert verify(str(real), "--fingerprint", fp).exit_code == 0
    assert verify(str(real), "--fingerprint", "not-hex").exit_code == 2


def test_attacker_source_key_fails_even_inside_a_genuinely_signed_package(
        archive: Archive, real: Path, key_file: Path, tmp_path: Path) -> None:
    """Only the source step is forged; the insider re-signs the manifest with the real
    archive key but cannot re-sign the snapshot without also vouching for the key."""
    forged = forge_package(real, tmp_path / "forged.zip", tmp_path / "work")
    files, attacker = members(real), members(forged.path)
    pem_name = next(n for n in files if n.startswith("keys/source/") and n.endswith(".pem"))
    files[pem_name] = attacker[pem_name]
    out = repack_as_insider(files, tmp_path / "swapped-source-key.zip", archive)
    doc = as_json(verify(str(out), "--key", str(key_file), "--json"))
    assert doc["failed_steps"] == ["source_signature"]
    source = next(s for s in doc["steps"] if s["step"] == "source_signature")
    assert "公钥被替换" in source["message"]


def test_source_key_revoked_before_receipt_fails(archive: Archive, real: Path, key_file: Path,
                                                 tmp_path: Path) -> None:
    """A snapshot (signed by the real archive key) saying the key was revoked before the
    case was received: the source signature does not count."""
    files = members(real)
    snapshot = json.loads(files[ev.SOURCE_TRUST])
    for k in snapshot["keys"]:
        k.update(revoked_at="2001-01-01T00:00:00Z", revoked_reason="私钥泄露")
    key = archive.key
    files[ev.SOURCE_TRUST] = ev.canonical_json(snapshot)
    files[ev.SOURCE_TRUST_SIG] = signing.sign(key.private_key, key.key_id,
                                              files[ev.SOURCE_TRUST]).to_json()
    out = repack_as_insider(files, tmp_path / "revoked.zip", archive)
    doc = as_json(verify(str(out), "--key", str(key_file), "--json"))
    assert doc["failed_steps"] == ["source_signature"]
    assert "吊销" in next(s for s in doc["steps"] if s["step"] == "source_signature")["message"]
