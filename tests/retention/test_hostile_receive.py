"""An attacker's transfer packages (移交包): each refused with the error naming what is
wrong, and nothing half-received — no catalogue row, no stored AIP, no log entry.

Some packages come from a dishonest insider at the sender who holds the sending
archive's key and re-signs the manifest (``_resigned``): the signature is then genuine, so
only the checks behind it can refuse the package.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dangan.archive import audit_log
from dangan.archive.models import Item
from dangan.archive.transfer_records import ReceivedItem
from dangan.packages.aip.bag import CASE_JSON
from dangan.retention.transfer_models import TransferIn
from dangan.retention.transfer_package import MANIFEST, write_package
from tests.retention.test_transfer_refusals import _refused_receive, _rewrite, _state, sent
from tests.retention.transfer_kit import RECEIVER_NAME

__all__ = ["sent"]  # the fixture, shared with the ordinary refusal tests


def _members(pkg: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(pkg) as z:
        manifest = json.loads(z.read(MANIFEST))
        files = {n: z.read(n) for n in z.namelist() if n not in (MANIFEST, MANIFEST + ".sig")}
    return manifest, files


def _resigned(archive, pkg: Path, dest: Path, *, manifest: dict | None = None,
              files: dict[str, bytes] | None = None) -> Path:
    """The package re-signed with the sender's own key after an insider changed it."""
    m0, f0 = _members(pkg)
    m = manifest or m0
    core = {k: v for k, v in m.items() if k not in ("files", "type")}
    write_package(dest, core, files if files is not None else f0, archive.key)
    return dest


def _receive(sent, pkg: Path) -> tuple[int, dict]:
    return sent["rcli"]("transfer", "receive", str(pkg), "--sender-key",
                        str(sent["sender_pem"]), "--json")


def _assert_nothing_received(receiver) -> None:
    with receiver.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 0
        assert s.scalar(select(func.count()).select_from(ReceivedItem)) == 0
        assert s.scalar(select(func.count()).select_from(TransferIn)) == 0
        assert audit_log.find_entries(s, action="aip:file") == []
        assert audit_log.find_entries(s, action="transfer:receive") == []


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # the hostile zip's own
def test_path_traversal_symlinks_and_duplicate_names_are_refused(sent, receiver, tmp_path):
    outside = tmp_path / "receiver" / "evil.txt"
    raw = tmp_path / "raw.zip"
    # names zipfile itself would clean up are written raw, as an attacker's tool does
    for n, name in enumerate(("../evil.txt", "aips/../../evil.txt", "/tmp/evil.txt")):
        bad = _rewrite(sent["pkg"], tmp_path / f"trav{n}.zip")
        with zipfile.ZipFile(bad, "a") as z:
            info = zipfile.ZipInfo("x" * len(name))
            z.writestr(info, b"pwned")
        data = bad.read_bytes().replace(b"x" * len(name), name.encode())
        raw.write_bytes(data)
        _refused_receive(sent, receiver, raw, "transfer.package_tampered")
    assert not outside.exists() and not (tmp_path / "evil.txt").exists()

    link = _rewrite(sent["pkg"], tmp_path / "link.zip")
    with zipfile.ZipFile(link, "a") as z:
        info = zipfile.ZipInfo("aips/link.zip")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    _refused_receive(sent, receiver, link, "transfer.package_tampered")

    dup = _rewrite(sent["pkg"], tmp_path / "dup.zip")
    name = f"aips/{sent['items'][0].aip_id}.zip"
    with zipfile.ZipFile(dup, "a") as z:
        z.writestr(name, b"second copy, other bytes")
    _refused_receive(sent, receiver, dup, "transfer.package_tampered")
    _assert_nothing_received(receiver)


def test_a_zip_bomb_and_a_truncated_package_are_refused(sent, receiver, tmp_path):
    bomb = _rewrite(sent["pkg"], tmp_path / "bomb.zip")
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("bomb.bin", "w") as out:
            for _ in range(64):
                out.write(bytes(1 << 20))  # 64 MiB of zeros, about 64 KiB compressed
    _refused_receive(sent, receiver, bomb, "transfer.package_tampered")

    data = sent["pkg"].read_bytes()
    for n, cut in enumerate((len(data) // 2, len(data) - 30, 100)):
        short = tmp_path / f"cut{n}.zip"
        short.write_bytes(data[:cut])
        before = _state(receiver)
        code, out = _receive(sent, short)
        assert code == 3, out
        assert out["error"]["code"] in ("transfer.package_tampered",
                                        "transfer.package_incomplete"), out
        assert _state(receiver) == before
    _assert_nothing_received(receiver)


def test_an_item_listed_twice_in_a_re_signed_manifest_is_refused(archive, sent, receiver,
                                                                 tmp_path):
    manifest, _ = _members(sent["pkg"])
    manifest["items"] = [manifest["items"][0], *manifest["items"]]
    bad = _resigned(archive, sent["pkg"], tmp_path / "twice.zip", manifest=manifest)
    _refused_receive(sent, receiver, bad, "transfer.package_tampered")
    _assert_nothing_received(receiver)


def test_a_malformed_item_in_a_re_signed_manifest_is_refused(archive, sent, receiver, tmp_path):
    for n, spoil in enumerate((lambda i: i.pop("archival_code"), lambda i: i.update(aip_id=7),
                               lambda i: i.update(aip_id="../../x"))):
        manifest, _ = _members(sent["pkg"])
        spoil(manifest["items"][0])
        bad = _resigned(archive, sent["pkg"], tmp_path / f"malformed{n}.zip", manifest=manifest)
        code, out = _receive(sent, bad)
        assert code == 3, out
        assert out["error"]["code"] in ("transfer.package_tampered",
                                        "transfer.package_incomplete"), out
    _assert_nothing_received(receiver)


def test_an_aip_altered_and_the_manifest_re_signed_fails_the_aip_seal(archive, sent,
                                                                      receiver, tmp_path):
    """The insider edits case.json inside an AIP and fixes the manifest's digests: the AIP's
    own seal (and the case's source signature) still say no."""
    a = sent["items"][0]
    manifest, files = _members(sent["pkg"])
    member = f"aips/{a.aip_id}.zip"
    src = tmp_path / "aip.zip"
    src.write_bytes(files[member])
    out = tmp_path / "aip-altered.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/" + CASE_JSON):
                data = data.replace(b'"title": "', b'"title": "X', 1).replace(
                    b'"title":"', b'"title":"X', 1)
            zout.writestr(info, data)
    files[member] = out.read_bytes()
    for item in manifest["items"]:
        if item["aip_id"] == a.aip_id:
            item["aip_sha256"] = hashlib.sha256(files[member]).hexdigest()
    bad = _resigned(archive, sent["pkg"], tmp_path / "altered.zip", manifest=manifest,
                    files=files)
    _refused_receive(sent, receiver, bad, "transfer.checks_failed")
    _assert_nothing_received(receiver)


def test_an_external_entity_or_billion_laughs_in_the_lists_does_no_harm(archive, sent,
                                                                        receiver, tmp_path):
    """The lists are informative: the receiver must not expand entities from them (a file
    read or an exponential blow-up) while it receives."""
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    laughs = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
                        for p, c in zip("abcdefgh", "bcdefghi", strict=True)) + "]><l>&i;</l>")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
           "<r>&x;</r>")
    manifest, files = _members(sent["pkg"])
    files["transfer-list.xml"], files["register.xml"] = laughs.encode(), xxe.encode()
    bad = _resigned(archive, sent["pkg"], tmp_path / "xml.zip", manifest=manifest, files=files)
    cpu = _cpu()
    code, out = _receive(sent, bad)
    assert _cpu() - cpu < 60
    # whatever the answer, the secret never ends up in the receiver's records or log
    with receiver.db.session() as s:
        for e in audit_log.find_entries(s):
            assert "top secret" not in json.dumps(e.details, ensure_ascii=False)
    assert "top secret" not in json.dumps(out, ensure_ascii=False)


def _cpu() -> float:
    return os.times().user


def test_a_second_transfer_of_items_already_received_is_refused(archive, cli, sent, receiver,
                                                                tmp_path):
    """Received once under one transfer; the sender cancels it (its receipt lost) and sends
    the same items again under a new id: refused as a clash, the first receipt untouched."""
    code, first = _receive(sent, sent["pkg"])
    assert code == 0, first
    tid = sent["view"]["transfer_id"]
    assert cli("transfer", "cancel", tid, "--reason", "回执遗失")[0] == 0
    again = tmp_path / "again.zip"
    a, b = sent["items"]
    code, view = cli("transfer", "create", a.archival_code, b.archival_code, str(again),
                     "--receiver", RECEIVER_NAME, "--json")
    assert code == 0, view
    before = _state(receiver)
    code, out = _receive(sent, again)
    assert code == 3, out
    assert out["error"]["code"] == "transfer.code_clash", out
    assert tid in out["error"]["message"]
    assert _state(receiver) == before
    with receiver.db.session() as s:
        assert s.get(TransferIn, view["transfer_id"]) is None
        assert {r.transfer_id for r in s.scalars(select(ReceivedItem))} == {tid}


def test_two_processes_receiving_the_same_package_file_it_once(sent, receiver, tmp_path):
    env = {**os.environ, "DANGAN_ACTOR": "archivist-li"}
    cmd = [sys.executable, "-m", "dangan.web.cli", "--home", str(receiver.home), "transfer",
           "receive", str(sent["pkg"]), "--sender-key", str(sent["sender_pem"]), "--json"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    results = [(p.wait(timeout=180), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes[0] == 0, results
    assert codes[1] in (0, 3), results  # the other: the same receipt, or a clear refusal
    receipts = [json.loads(out)["receipt"] for rc, out, _ in results if rc == 0]
    assert all(r == receipts[0] for r in receipts)
    with receiver.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 2
        assert len(audit_log.find_entries(s, action="aip:file")) == 2
        assert len(audit_log.find_entries(s, action="transfer:receive")) == 1
    assert not any(receiver.store.staging_root.iterdir())


def test_confirm_twice_and_cancel_racing_in_three_processes_move_custody_once(
        archive, cli, sent, receiver, tmp_path):
    """Two operators confirm the same receipt while a third cancels: either the cancel
    wins and custody stays, or one confirmation moves it exactly once."""
    code, got = _receive(sent, sent["pkg"])
    assert code == 0, got
    tid = sent["view"]["transfer_id"]
    env = {**os.environ, "DANGAN_ACTOR": "archivist-li"}
    base = [sys.executable, "-m", "dangan.web.cli", "--home", str(archive.home), "transfer"]
    cmds = [[*base, "confirm", got["receipt_path"], "--receiver-key",
             str(sent["receiver_pem"]), "--json"]] * 2 + [
        [*base, "cancel", tid, "--reason", "并发撤销", "--json"]]
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for c in cmds]
    results = [(p.wait(timeout=180), p.stdout.read(), p.stderr.read()) for p in procs]
    assert all(rc in (0, 3) for rc, _, _ in results), [  # no crash
        (rc, out[-300:], err[-1500:]) for rc, out, err in results]
    for rc, out, _ in results:
        if rc == 3:
            assert json.loads(out)["error"]["code"] == "transfer.closed", out
    cancelled = results[2][0] == 0
    with archive.db.session() as s:
        confirms = audit_log.find_entries(s, action="transfer:confirm")
        for item in sent["items"]:
            moved = audit_log.find_entries(s, object_id=item.aip_id, action="aip:transfer")
            assert len(moved) == (0 if cancelled else 1)
            assert archive.store.exists(item.aip_id) == cancelled
        assert len(confirms) == (0 if cancelled else 1)
        assert len(audit_log.find_entries(s, action="transfer:complete")) == len(confirms)
    confirmed = [rc for rc, _, _ in results[:2]].count(0)
    # cancelled: both confirmations refused; else at least one (the same receipt again
    # may report the finished transfer)
    assert confirmed == 0 if cancelled else confirmed >= 1
