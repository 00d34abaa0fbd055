"""Every refusal of transfer, and that a refused step changes nothing on either side."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dangan.archive import audit_log
from dangan.archive.instance import Archive
from dangan.archive.keys import ArchiveKey
from dangan.archive.models import Item
from dangan.packages import signing
from dangan.packages.canonical import canonical_json
from dangan.retention.transfer_models import Transfer
from dangan.retention.transfer_package import (
    MANIFEST,
    make_transfer_receipt,
    write_package,
)
from tests.retention.transfer_kit import RECEIVER_NAME, public_key_file, runner_for


@pytest.fixture
def sent(archive, file_case, cli, receiver, tmp_path):
    """Two items packaged by the sender; the keys each side obtained from the other."""
    a, b = file_case("D10", 2015), file_case("D10", 2014)
    pkg = tmp_path / "yj.zip"
    code, view = cli("transfer", "create", a.archival_code, b.archival_code, str(pkg),
                     "--receiver", RECEIVER_NAME, "--json")
    assert code == 0, view
    return {"pkg": pkg, "view": view, "items": (a, b), "rcli": runner_for(receiver.home),
            "sender_pem": public_key_file(archive, tmp_path / "sender.pem"),
            "receiver_pem": public_key_file(receiver, tmp_path / "receiver.pem")}


def _state(archive: Archive) -> tuple[int, int]:
    with archive.db.session() as s:
        return audit_log.tree_size(s), s.scalar(select(func.count()).select_from(Item)) or 0


def _rewrite(src: Path, dest: Path, *, replace: dict[str, bytes] | None = None,
             drop: tuple[str, ...] = (), add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = (replace or {}).get(info.filename, zin.read(info))
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dest


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def _refused_receive(sent, receiver, pkg: Path, code_wanted: str, *key_args: str) -> None:
    before = _state(receiver)
    args = key_args or ("--sender-key", str(sent["sender_pem"]))
    code, out = sent["rcli"]("transfer", "receive", str(pkg), *args, "--json")
    assert code == 3, out
    assert out["error"]["code"] == code_wanted, out
    assert _state(receiver) == before  # nothing filed, nothing logged
    assert not any(receiver.store.staging_root.iterdir())


def test_a_tampered_aip_inside_the_package_is_refused(sent, receiver, tmp_path):
    a = sent["items"][0]
    member = f"aips/{a.aip_id}.zip"
    with zipfile.ZipFile(sent["pkg"]) as z:
        data = z.read(member)
    bad = _rewrite(sent["pkg"], tmp_path / "bad.zip", replace={member: _flip_last_byte(data)})
    _refused_receive(sent, receiver, bad, "transfer.package_tampered")


def test_a_manifest_changed_after_signing_is_refused(sent, receiver, tmp_path):
    with zipfile.ZipFile(sent["pkg"]) as z:
        manifest = json.loads(z.read(MANIFEST))
    manifest["items"] = manifest["items"][:1]
    bad = _rewrite(sent["pkg"], tmp_path / "bad.zip", replace={MANIFEST: canonical_json(manifest)})
    _refused_receive(sent, receiver, bad, "transfer.package_tampered")


def test_an_incomplete_or_padded_package_is_refused(sent, receiver, tmp_path):
    a = sent["items"][0]
    short = _rewrite(sent["pkg"], tmp_path / "short.zip", drop=(f"aips/{a.aip_id}.zip",))
    _refused_receive(sent, receiver, short, "transfer.package_incomplete")
    padded = _rewrite(sent["pkg"], tmp_path / "padded.zip", add={"extra.txt": b"x"})
    _refused_receive(sent, receiver, padded, "transfer.package_incomplete")


def test_an_unknown_sender_is_refused(sent, receiver, tmp_path):
    stranger = signing.generate_private_key(signing.ED25519)
    other = tmp_path / "other.pem"
    other.write_bytes(signing.public_key_pem(stranger))
    _refused_receive(sent, receiver, sent["pkg"], "transfer.unknown_sender",
                     "--sender-key", str(other))
    _refused_receive(sent, receiver, sent["pkg"], "transfer.unknown_sender",
                     "--sender-fingerprint", "0" * 64)
    _refused_receive(sent, receiver, sent["pkg"], "transfer.unknown_sender", "--json")


def test_a_package_re_signed_by_a_forger_is_refused(sent, receiver, tmp_path, archive):
    """The forger swaps in their own key and signature; the sender's real key says no."""
    with zipfile.ZipFile(sent["pkg"]) as z:
        manifest = json.loads(z.read(MANIFEST))
        files = {n: z.read(n) for n in z.namelist() if n.startswith(("aips/", "transfer-list",
                                                                     "register"))}
    forger = signing.generate_private_key(signing.ED25519)
    key = ArchiveKey("forger", forger, signing.public_key_pem(forger))
    core = {k: v for k, v in manifest.items() if k not in ("files", "type")}
    forged = tmp_path / "forged.zip"
    write_package(forged, core, files, key)
    _refused_receive(sent, receiver, forged, "transfer.unknown_sender")


def test_the_same_transfer_id_with_other_contents_is_refused(sent, receiver, tmp_path, archive):
    code, _ = sent["rcli"]("transfer", "receive", str(sent["pkg"]), "--sender-key",
                           str(sent["sender_pem"]), "--json")
    assert code == 0
    with zipfile.ZipFile(sent["pkg"]) as z:
        manifest = json.loads(z.read(MANIFEST))
        keep = manifest["items"][:1]
        files = {f"aips/{keep[0]['aip_id']}.zip": z.read(f"aips/{keep[0]['aip_id']}.zip")}
    core = {k: v for k, v in manifest.items() if k not in ("files", "type")}
    altered = tmp_path / "altered.zip"
    write_package(altered, {**core, "items": keep}, files, archive.key)  # the sender's own key
    _refused_receive(sent, receiver, altered, "transfer.resent_altered")


def _received(sent) -> tuple[Path, dict]:
    code, got = sent["rcli"]("transfer", "receive", str(sent["pkg"]), "--sender-key",
                             str(sent["sender_pem"]), "--json")
    assert code == 0, got
    return Path(got["receipt_path"]), got["receipt"]


def _refused_confirm(archive, cli, sent, receipt: dict, tmp_path: Path, code_wanted: str,
                     key: Path | None = None) -> None:
    path = tmp_path / "receipt-under-test.json"
    path.write_text(json.dumps(receipt, ensure_ascii=False), "utf-8")
    before = _state(archive)
    code, out = cli("transfer", "confirm", str(path), "--receiver-key",
                    str(key or sent["receiver_pem"]), "--json")
    assert code == 3, out
    assert out["error"]["code"] == code_wanted, out
    assert _state(archive) == before
    for item in sent["items"]:
        assert archive.store.exists(item.aip_id)
    with archive.db.session() as s:
        assert s.scalar(select(Transfer.state)) == "sent"


def _resigned(body: dict, private: signing.PrivateKey, key_id: str = "k") -> dict:
    key = ArchiveKey(key_id, private, signing.public_key_pem(private))
    return make_transfer_receipt({k: v for k, v in body.items()
                                  if k not in ("signature", "type", "receiver_fingerprint")}, key)


def test_a_receipt_not_signed_by_the_receiver_is_refused(archive, cli, sent, receiver, tmp_path):
    _, receipt = _received(sent)
    forged = _resigned(receipt, signing.generate_private_key(signing.ED25519))
    _refused_confirm(archive, cli, sent, forged, tmp_path, "transfer.receipt_signature")
    edited = {**receipt, "receiver": {"organization": "别的单位", "fonds": "Z999"}}
    _refused_confirm(archive, cli, sent, edited, tmp_path, "transfer.receipt_signature")
    # the receiver's real receipt, checked against the wrong key (the sender's own)
    _refused_confirm(archive, cli, sent, receipt, tmp_path, "transfer.receipt_signature",
                     key=sent["sender_pem"])


def test_a_receipt_listing_other_items_is_refused(archive, cli, sent, receiver, tmp_path,
                                                  file_case):
    _, receipt = _received(sent)
    fewer = _resigned({**receipt, "items": receipt["items"][:1]}, receiver.key.private_key,
                      receiver.key.key_id)
    _refused_confirm(archive, cli, sent, fewer, tmp_path, "transfer.receipt_mismatch")
    other = file_case("D10", 2013)
    swapped = [{**receipt["items"][0], "aip_id": other.aip_id}] + receipt["items"][1:]
    wrong = _resigned({**receipt, "items": swapped}, receiver.key.private_key,
                      receiver.key.key_id)
    _refused_confirm(archive, cli, sent, wrong, tmp_path, "transfer.receipt_mismatch")
    digest = [{**receipt["items"][0], "aip_sha256": "0" * 64}] + receipt["items"][1:]
    wrong = _resigned({**receipt, "items": digest}, receiver.key.private_key,
                      receiver.key.key_id)
    _refused_confirm(archive, cli, sent, wrong, tmp_path, "transfer.receipt_mismatch")


def test_an_item_held_after_sending_keeps_its_custody(archive, cli, sent, receiver, tmp_path):
    path, receipt = _received(sent)
    a = sent["items"][0]
    assert cli("hold", "place", "--item", a.archival_code, "--kind", "audit", "--reason",
               "稽核", "--authority", "稽核通知2026-7")[0] == 0
    _refused_confirm(archive, cli, sent, receipt, tmp_path, "retention.item_held")


def test_an_aip_damaged_in_the_store_fails_the_yj_checks(archive, file_case, cli, tmp_path):
    a = file_case("D10", 2015)
    victim = next(p for p in archive.store.path(a.aip_id).rglob("*.pdf"))
    victim.parent.chmod(0o700)
    victim.chmod(0o600)
    victim.write_bytes(_flip_last_byte(victim.read_bytes()))
    before = _state(archive)
    code, out = cli("transfer", "create", a.archival_code, str(tmp_path / "x.zip"),
                    "--receiver", RECEIVER_NAME, "--json")
    assert code == 3 and out["error"]["code"] == "transfer.checks_failed", out
    assert _state(archive) == before and not (tmp_path / "x.zip").exists()
