"""The evidence package of a destroyed case, verified offline; each forgery names its step."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from dangan.packages import evidence as ev
from dangan.packages import signing
from dangan.packages.evidence_destroyed import CONSISTENCY, PROOFS, TOMBSTONE
from tests.retention.test_destruction import SUPERVISORS, _ready


@pytest.fixture
def destroyed(archive, file_case, cli, tmp_path):
    """A case filed, appraised, approved, destroyed, its register filed; its package."""
    a = file_case("D10", 2015)
    batch = _ready(cli, a.aip_id)
    code, out = cli("retention", "destruction", "execute", batch, *SUPERVISORS, "--method",
                    "电子档案彻底删除", "--as-of", "2026-06-01", "--json", actor="archivist-wang")
    assert code == 0 and out["register"], out
    pkg = tmp_path / "destroyed.zip"
    code, done = cli("evidence", a.case_id, str(pkg), "--json", actor="supervisor-he")
    assert code == 0 and done["destroyed"], done
    key = tmp_path / "archive.pub.pem"
    key.write_bytes(archive.public_pem)
    return a, out, pkg, key


def _verify(cli, pkg, key=None):
    return cli("package", "verify-evidence", str(pkg), *(["--key", str(key)] if key else []),
               "--json")


def _rewrite(archive, src, dest, change, resign=True):
    """Copy the package, changing members; optionally re-sign the manifest with the archive
    key (an insider with the key but without the power to rewrite the log)."""
    with zipfile.ZipFile(src) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    change(members)
    if resign:
        manifest = json.loads(members[ev.MANIFEST])
        for name in manifest["files"]:
            manifest["files"][name] = {"sha256": hashlib.sha256(members[name]).hexdigest(),
                                       "size": len(members[name])}
        raw = ev.canonical_json(manifest)
        members[ev.MANIFEST] = raw
        members[ev.MANIFEST_SIG] = signing.sign(archive.key.private_key, archive.key.key_id,
                                                raw).to_json()
    with zipfile.ZipFile(dest, "w") as zout:
        for n, data in members.items():
            zout.writestr(n, data)
    return dest


def test_the_package_says_filed_then_lawfully_destroyed_under_the_register(destroyed, cli):
    a, out, pkg, key = destroyed
    code, report = _verify(cli, pkg, key)
    assert code == 0 and report["status"] == "verified", report
    steps = {s["step"]: s for s in report["steps"]}
    assert {"archive_key", "manifest", "tree_head", "tombstone", "log_proofs", "lawful_order",
            "register", "lawful_destruction"} <= set(steps)
    said = steps["lawful_destruction"]["message"]
    assert a.archival_code in said and out["register"]["archival_code"] in said
    assert "局长赵某" in said and "supervisor-he" in said and out["register_ref"] in said
    assert steps["lawful_destruction"]["evidence"]["filed_at"] < \
        steps["lawful_destruction"]["evidence"]["destroyed_at"]
    code, text = cli("package", "verify-evidence", str(pkg), "--key", str(key))
    assert code == 0 and "依法销毁" in text
    assert _verify(cli, pkg)[0] == 4  # without an independent key: consistent, not verified


def test_a_tampered_tombstone_fails_at_the_manifest(archive, destroyed, cli, tmp_path):
    _, _, pkg, key = destroyed

    def change(m):
        m[TOMBSTONE] = m[TOMBSTONE].replace(b"supervisor-lu", b"supervisor-xx")

    code, report = _verify(cli, _rewrite(archive, pkg, tmp_path / "t1.zip", change, False), key)
    assert code == 3 and "manifest" in report["failed_steps"]
    code, report = _verify(cli, _rewrite(archive, pkg, tmp_path / "t2.zip", change), key)
    assert code == 3 and report["failed_steps"] == ["lawful_order"], report


def test_a_forged_proof_or_register_names_its_step(archive, destroyed, cli, tmp_path):
    _, _, pkg, key = destroyed

    def proof(m):
        doc = json.loads(m[PROOFS])
        doc["destroyed"]["entry"]["details"]["method"] = "未经监销"
        m[PROOFS] = json.dumps(doc).encode()

    code, report = _verify(cli, _rewrite(archive, pkg, tmp_path / "p.zip", proof), key)
    assert code == 3 and "log_proofs" in report["failed_steps"], report

    def rewritten_log(m):  # a head from the filing time that the package head does not extend
        doc = json.loads(m[CONSISTENCY])
        doc["consistency_proof"] = ["00" * 32, *doc["consistency_proof"]]
        m[CONSISTENCY] = json.dumps(doc).encode()

    code, report = _verify(cli, _rewrite(archive, pkg, tmp_path / "c.zip", rewritten_log), key)
    assert code == 3 and report["failed_steps"] == ["consistency"], report

    def register(m):
        [name] = [n for n in m if n.startswith("register/")]
        with zipfile.ZipFile(io.BytesIO(m[name])) as zin:
            inner = {n: zin.read(n) for n in zin.namelist()}
        [xml] = [n for n in inner if n.endswith(".xml") and "销毁清册" in n]
        inner[xml] = inner[xml].replace(b"supervisor-he", b"supervisor-xx")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zout:
            for n, data in inner.items():
                zout.writestr(n, data)
        m[name] = buf.getvalue()

    code, report = _verify(cli, _rewrite(archive, pkg, tmp_path / "r.zip", register), key)
    assert code == 3 and report["failed_steps"] == ["register"], report
