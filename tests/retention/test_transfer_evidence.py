"""The evidence package of a case received by transfer (移交) verifies offline under the
RECEIVER's key: the AIP stays sealed by the sender archive, whose key travels in the package
and is bound to the receiver's logged ``aip:file`` entry; a swapped "sender" key fails."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from dangan.packages import evidence as ev
from dangan.packages import signing
from dangan.web.cli import main
from tests.hostile.evidence.forge import _reseal_aip
from tests.packages.test_evidence import members, rewrite
from tests.retention.transfer_kit import RECEIVER_NAME, public_key_file, runner_for


def _verify(package: Path, key: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["package", "verify-evidence", str(package), "--key",
                                       str(key), "--json"])
    return result.exit_code, json.loads(result.stdout)


def _received_evidence(archive, file_case, cli, receiver, tmp_path: Path):
    case = file_case("D10", 2015)
    pkg = tmp_path / "yj.zip"
    code, sent = cli("transfer", "create", case.archival_code, str(pkg), "--receiver",
                     RECEIVER_NAME, "--json")
    assert code == 0, sent
    rcli = runner_for(receiver.home)
    sender_pem = public_key_file(archive, tmp_path / "sender.pem")
    code, got = rcli("transfer", "receive", str(pkg), "--sender-key", str(sender_pem), "--json")
    assert code == 0, got
    out = tmp_path / "evidence.zip"
    code, made = rcli("evidence", case.archival_code, str(out), "--json")
    assert code == 0, made
    return case, sent, out, public_key_file(receiver, tmp_path / "receiver.pem")


def test_evidence_of_received_case_verifies_with_receiver_key(archive, file_case, cli, receiver,
                                                               tmp_path):
    case, sent, out, receiver_pem = _received_evidence(archive, file_case, cli, receiver,
                                                       tmp_path)
    assert members(out)[ev.SENDER_KEY] == archive.public_pem
    assert signing.key_fingerprint(archive.public_pem) in members(out)[ev.REPORT].decode()
    code, report = _verify(out, receiver_pem)
    assert code == 0, [(s["step"], s["message"]) for s in report["steps"] if not s["ok"]]
    steps = {s["step"]: s for s in report["steps"]}
    fp = signing.key_fingerprint(archive.public_pem)
    assert steps["aip"]["ok"] and steps["aip"]["evidence"]["sealer_fingerprint"] == fp
    msg = steps["inclusion"]["message"]
    assert fp in msg and sent["transfer_id"] in msg and "移交方档案馆" in msg
    assert steps["source_signature"]["ok"] and steps["receipt"]["ok"]
    # The sender's own key is not the archive key of this package.
    code, _ = _verify(out, public_key_file(archive, tmp_path / "sender-as-archive.pem"))
    assert code == 3


def _attacker_pem(key: signing.PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def test_swapped_sender_key_with_resealed_aip_fails(archive, file_case, cli, receiver,
                                                    tmp_path):
    _, _, out, receiver_pem = _received_evidence(archive, file_case, cli, receiver, tmp_path)
    files = members(out)
    name = next(n for n in files if n.startswith(ev.AIP_PREFIX))
    attacker = signing.generate_private_key()
    work = tmp_path / "work"
    work.mkdir()
    forged_aip, _, _ = _reseal_aip(files[name], work, attacker, attacker, "sender-archive")
    parts = {name: forged_aip, ev.SENDER_KEY: _attacker_pem(attacker)}
    # An outsider cannot re-sign the manifest: it fails there, and on the audit entry.
    outsider = rewrite(out, tmp_path / "outsider.zip", parts)
    code, report = _verify(outsider, receiver_pem)
    failed = {s["step"] for s in report["steps"] if not s["ok"]}
    assert code == 3 and {"manifest", "inclusion"} <= failed
    # An insider holding the receiver's key re-signs the manifest: the receiver's logged
    # aip:file entry still names the real sender key, so the inclusion step fails.
    key = receiver.key
    insider = rewrite(out, tmp_path / "insider.zip", parts, resign=key.private_key,
                      key_id=key.key_id)
    code, report = _verify(insider, receiver_pem)
    steps = {s["step"]: s for s in report["steps"]}
    assert code == 3
    assert steps["manifest"]["ok"] and steps["aip"]["ok"]
    assert not steps["inclusion"]["ok"] and "移交方密钥被替换" in steps["inclusion"]["message"]


def test_stripped_sender_key_fails(archive, file_case, cli, receiver, tmp_path):
    _, _, out, receiver_pem = _received_evidence(archive, file_case, cli, receiver, tmp_path)
    key = receiver.key
    stripped = rewrite(out, tmp_path / "stripped.zip", {ev.SENDER_KEY: None},
                       resign=key.private_key, key_id=key.key_id)
    code, report = _verify(stripped, receiver_pem)
    failed = {s["step"] for s in report["steps"] if not s["ok"]}
    assert code == 3 and {"aip", "inclusion"} <= failed
