"""Time stamps from OpenSSL's TSA, which sends its certificate chain as public TSAs do.

The chain arrives in the order given, not in DER SET order; the token must be accepted
(parsed leniently, verified strictly), stored as the TSA's original bytes (``openssl ts
-verify`` accepts it), and a head whose stamp failed must be counted and retried.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rfc3161_client import decode_timestamp_response

from dangan.archive import audit_log, keys, tree_heads
from dangan.archive.instance import Archive
from dangan.archive.timestamping import TimestampError, decode_response, verify_timestamp
from dangan.ingest.service import ingest
from dangan.packages import evidence as ev
from dangan.packages.tree_head import SignedTreeHead
from dangan.web.cli import main
from tests.archive.openssl_tsa import OpenSSLTSA
from tests.hostile.evidence.forge import forge_package


def run(archive: Archive, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(archive.home), *args])


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def add_entries(archive: Archive, n: int) -> None:
    for i in range(n):
        with archive.db.filing_session() as s:
            audit_log.append(s, actor="test", action="aip:access", object_id=f"obj-{i}",
                             object_digest=None)


@pytest.fixture
def tsa(archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenSSLTSA]:
    with OpenSSLTSA(tmp_path, chain=True) as server:
        monkeypatch.setenv("DANGAN_TSA_URL", server.url)
        # the root only: the intermediate must come from the token itself
        monkeypatch.setenv("DANGAN_TSA_CERT", str(server.root_pem_path))
        yield server


def test_openssl_tsa_with_chain_stamps_every_head(archive: Archive, tsa: OpenSSLTSA) -> None:
    add_entries(archive, 3)
    result = run(archive, "audit", "sign-head", "--json")
    assert result.exit_code == 0, result.output
    head = as_json(result)["head"]
    assert head["rfc3161"] is not None and "rfc3161_error" not in head, head
    with archive.db.session() as s:
        stored = tree_heads.latest_stored(s)
    assert stored is not None and stored.tsa_token is not None
    token = stored.tsa_token
    # what the TSA sent really is out of DER order: the strict parser alone refuses it ...
    with pytest.raises(ValueError, match="InvalidSetOrdering"):
        decode_timestamp_response(token)
    assert len(decode_response(token).signed_data.certificates) == 3  # TSA, intermediate, root
    # ... the bytes stored are the TSA's own, and OpenSSL accepts them as a token over the head
    assert tsa.requests == 1
    assert token == (tsa.folder / "r1.tsr").read_bytes()
    checked = tsa.openssl_verify(stored.head.canonical_bytes(), token)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    # and strictly verified here: signature, chain to the configured root, EKU, imprint
    verify_timestamp(token, stored.head.canonical_bytes(), [tsa.root])
    with pytest.raises(TimestampError, match="摘要"):
        verify_timestamp(token, b"another head", [tsa.root])
    result = run(archive, "audit", "verify", "--json")
    doc = as_json(result)
    assert result.exit_code == 0 and doc["problems"] == [] and doc["warnings"] == [], doc
    assert doc["awaiting_timestamp"] == 0


def test_openssl_tsa_without_chain_still_works(archive: Archive, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenSSLTSA(tmp_path, chain=False) as server:
        monkeypatch.setenv("DANGAN_TSA_URL", server.url)
        # the token carries only the TSA's certificate: the intermediate comes from the file
        bundle = tmp_path / "tsa-bundle.pem"
        bundle.write_bytes(server.root_pem_path.read_bytes()
                           + server.intermediate_pem_path.read_bytes())
        monkeypatch.setenv("DANGAN_TSA_CERT", str(bundle))
        result = run(archive, "audit", "sign-head", "--json")
        assert result.exit_code == 0 and as_json(result)["head"]["rfc3161"] is not None
        with archive.db.session() as s:
            stored = tree_heads.latest_stored(s)
        assert stored is not None and stored.tsa_token is not None
        assert server.openssl_verify(stored.head.canonical_bytes(), stored.tsa_token).returncode == 0


def test_a_token_signed_by_another_tsa_is_refused(archive: Archive, tsa: OpenSSLTSA,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Lenient parsing does not mean lenient trust: a chain to another root is refused."""
    with OpenSSLTSA(tmp_path / "other", chain=True) as other:
        monkeypatch.setenv("DANGAN_TSA_URL", other.url)  # the trusted root stays the first TSA's
        result = run(archive, "audit", "sign-head", "--json")
    assert result.exit_code == 0
    head = as_json(result)["head"]
    assert head["rfc3161"] is None and "证书链" in head["rfc3161_error"]


def test_unstamped_heads_are_counted_and_retried(archive: Archive, tsa: OpenSSLTSA,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    add_entries(archive, 2)
    tsa.down = True
    for _ in range(2):
        result = run(archive, "audit", "sign-head")
        assert result.exit_code == 0
        assert "未取得时间戳" in result.stderr
    # audit verify counts them: a warning each, not a failure (the heads are proven by the
    # archive key and the log; only the external anchor is missing)
    result = run(archive, "audit", "verify", "--json")
    doc = as_json(result)
    assert result.exit_code == 0 and doc["status"] == "ok"
    assert doc["awaiting_timestamp"] == 2 and doc["awaiting_timestamp_overdue"] == 0
    assert [w["kind"] for w in doc["warnings"]] == ["head_unanchored"] * 2
    text = run(archive, "audit", "verify").output
    assert "2 个树头尚待时间戳" in text
    # past the grace period they are overdue
    monkeypatch.setenv("DANGAN_TSA_GRACE", "0")
    doc = as_json(run(archive, "audit", "verify", "--json"))
    assert doc["awaiting_timestamp_overdue"] == 2
    assert all(w["overdue"] for w in doc["warnings"])
    # the TSA is back: the scheduler's call (head still fresh) retries the old heads ...
    tsa.down = False
    result = run(archive, "audit", "sign-head", "--max-age", "3600", "--json")
    assert result.exit_code == 0 and as_json(result)["status"] == "signed"  # none was anchored
    with archive.db.session() as s:
        heads = tree_heads.heads(s)
    assert [h.tsa_token is not None for h in heads] == [True, True, True]
    for h in heads:
        assert h.tsa_token is not None and h.tsa_time is not None and h.tsa_error is None
        assert tsa.openssl_verify(h.head.canonical_bytes(), h.tsa_token).returncode == 0
    doc = as_json(run(archive, "audit", "verify", "--json"))
    assert doc["awaiting_timestamp"] == 0 and doc["warnings"] == []
    # the re-stamped heads were exported again, under their own seq
    lines = [json.loads(x) for x in (archive.home / tree_heads.HEADS_EXPORT).read_text().splitlines()]
    assert [(x["seq"], x["rfc3161"] is not None) for x in lines if x["seq"] in (1, 2)] == [
        (1, False), (2, False), (1, True), (2, True)]


def test_fresh_head_retry_when_tsa_returns(archive: Archive, tsa: OpenSSLTSA) -> None:
    """With a fresh anchored head, ``sign-head --max-age`` signs nothing but still retries."""
    assert run(archive, "audit", "sign-head").exit_code == 0  # anchored
    tsa.down = True
    assert run(archive, "audit", "sign-head").exit_code == 0  # failed
    tsa.down = False
    result = run(archive, "audit", "sign-head", "--max-age", "3600", "--json")
    assert as_json(result)["status"] == "fresh"
    with archive.db.session() as s:
        assert all(h.tsa_token is not None for h in tree_heads.heads(s))


def test_evidence_package_carries_the_tsa_token_and_the_inspector_checks_it(
        archive: Archive, tsa: OpenSSLTSA, make_case: Callable[..., Path], tmp_path: Path) -> None:
    outcome = ingest(archive, make_case(), ocr=False)
    assert outcome.status == "archived", outcome.reason
    assert run(archive, "audit", "sign-head").exit_code == 0  # the hourly, time-stamped head
    dest = tmp_path / "evidence.zip"
    assert run(archive, "evidence", outcome.case_id or "", str(dest)).exit_code == 0
    with zipfile.ZipFile(dest) as zf:
        token = zf.read(ev.TIMESTAMP)
        head = SignedTreeHead.from_dict(json.loads(zf.read(ev.TREE_HEAD)))
    assert tsa.openssl_verify(head.head.canonical_bytes(), token).returncode == 0
    key = archive.home / keys.KEY_DIR / keys.PUBLIC_KEY
    inspector = CliRunner()
    ok = inspector.invoke(main, ["package", "verify-evidence", str(dest), "--key", str(key),
                                 "--tsa-root", str(tsa.root_pem_path), "--json"])
    doc = as_json(ok)
    assert ok.exit_code == 0 and doc["status"] == "verified", doc["failed_steps"]
    step = next(s for s in doc["steps"] if s["step"] == "timestamp")
    assert step["ok"] and step["evidence"]["signature_checked"]
    # another TSA's root: the token's chain does not lead there
    with OpenSSLTSA(tmp_path / "other") as other:
        bad = inspector.invoke(main, ["package", "verify-evidence", str(dest), "--key", str(key),
                                      "--tsa-root", str(other.root_pem_path), "--json"])
    assert bad.exit_code == 3 and as_json(bad)["failed_steps"] == ["timestamp"]
    # the attacker's package: a head of their own under the genuine token → imprint fails,
    # even without any key; the token dropped → fails when the inspector asks for one
    forged = forge_package(dest, tmp_path / "forged.zip", tmp_path / "work")
    res = inspector.invoke(main, ["package", "verify-evidence", str(forged.path), "--json"])
    assert res.exit_code == 3 and "timestamp" in as_json(res)["failed_steps"]
    with zipfile.ZipFile(forged.path) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist() if i.filename != ev.TIMESTAMP}
    dropped = tmp_path / "dropped.zip"
    with zipfile.ZipFile(dropped, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    res = inspector.invoke(main, ["package", "verify-evidence", str(dropped), "--tsa-root",
                                  str(tsa.root_pem_path), "--json"])
    assert res.exit_code == 3 and set(as_json(res)["failed_steps"]) == {"manifest", "timestamp"}
