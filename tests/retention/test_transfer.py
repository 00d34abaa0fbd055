"""Transfer (移交) between two real instances, end to end through the CLI, on SQLite."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select

from dangan.archive import audit_log, crosscheck, replica
from dangan.archive.fonts import cjk_font_path
from dangan.archive.instance import Archive
from dangan.archive.models import Item
from dangan.archive.tombstones import Tombstone
from dangan.archive.transfer_records import ReceivedItem
from dangan.packages import signing
from dangan.retention.transfer_models import Transfer
from tests.retention.transfer_kit import RECEIVER_NAME, public_key_file, runner_for


def _audit_size(archive: Archive) -> int:
    with archive.db.session() as s:
        return audit_log.tree_size(s)


def _items(archive: Archive) -> int:
    with archive.db.session() as s:
        return s.scalar(select(func.count()).select_from(Item)) or 0


def _package(cli, tmp_path: Path, *refs: str, name: str = "yj.zip") -> tuple[Path, dict]:
    out = tmp_path / name
    code, view = cli("transfer", "create", *refs, str(out), "--receiver", RECEIVER_NAME, "--json")
    assert code == 0, view
    assert out.is_file() and view["state"] == "sent"
    return out, view


def test_transfer_between_two_instances_end_to_end(archive, file_case, cli, receiver,
                                                   tmp_path):
    a, b = file_case("D10", 2015), file_case("D30", 2012)
    keep = file_case("D10", 2016)
    pkg, sent = _package(cli, tmp_path, a.archival_code, b.archival_code)
    assert {i["aip_sha256"] for i in sent["items"]} == {a.sha256, b.sha256}
    with zipfile.ZipFile(pkg) as z:
        names = set(z.namelist())
        register = etree.fromstring(z.read("register.xml"))
        listed = etree.fromstring(z.read("transfer-list.xml"))
    assert {"transfer.json", "transfer.json.sig", "transfer-list.xml", "register.xml",
            f"aips/{a.aip_id}.zip", f"aips/{b.aip_id}.zip"} <= names
    assert ("register.pdf" in names) == (cjk_font_path() is not None)
    fields = {e.get("名称"): e.text for e in register.iter("项")}
    assert fields["接收单位"] == RECEIVER_NAME and fields["移交电子档案数量"].startswith("2 件")
    assert "通过" in fields["真实性检验（移交单位）"]
    assert {e.text for e in listed.iter("档号")} == {a.archival_code, b.archival_code}
    rcli = runner_for(receiver.home)
    sender_pem = public_key_file(archive, tmp_path / "sender.pem")
    receiver_pem = public_key_file(receiver, tmp_path / "receiver.pem")

    code, got = rcli("transfer", "receive", str(pkg), "--sender-key", str(sender_pem), "--json")
    assert code == 0, got
    assert sorted(got["filed"]) == sorted([a.aip_id, b.aip_id])
    receipt = got["receipt"]
    assert receipt["type"] == "dangan/transfer-receipt/1"
    assert receipt["transfer_id"] == sent["transfer_id"]
    assert {(i["aip_id"], i["aip_sha256"]) for i in receipt["items"]} == {
        (a.aip_id, a.sha256), (b.aip_id, b.sha256)}
    # Filed in the receiver's own catalogue under the original codes; sender on record.
    with receiver.db.session() as s:
        rows = {r.aip_id: r for r in s.scalars(select(ReceivedItem))}
        assert rows[a.aip_id].original_archival_code == a.archival_code
        assert rows[a.aip_id].sender["fingerprint"] == signing.key_fingerprint(archive.public_pem)
        assert s.get(Item, a.aip_id).archival_code == a.archival_code
        [entry] = audit_log.find_entries(s, object_id=a.aip_id, action="aip:file")
        assert entry.details["transfer"]["transfer_id"] == sent["transfer_id"]
        assert audit_log.find_entries(s, action="transfer:receive")
    assert replica.replica_store(receiver).exists(a.aip_id)
    code, ver = rcli("verify", a.archival_code, "--json")
    failed = [(st["step"], st["message"]) for st in ver["items"][0]["steps"] if not st["ok"]]
    assert code == 0 and ver["status"] == "ok", failed  # under the sender's key, every step
    assert crosscheck.check(receiver) == []
    code, fix = rcli("fixity", "run", "--all", "--json")
    assert code == 0, fix
    code, found = rcli("search", a.case_id, "--json")
    assert code == 0 and a.aip_id in str(found)
    code, shown = rcli("show", a.archival_code, "--json")
    origin = shown["received_by_transfer"]
    assert code == 0 and origin["transfer_id"] == sent["transfer_id"]
    assert origin["original_archival_code"] == a.archival_code
    assert origin["sender_fingerprint"] == signing.key_fingerprint(archive.public_pem)
    code, text = rcli("show", a.archival_code)
    assert code == 0 and "移交接收" in text and sent["transfer_id"] in text

    # The same package again: its first receipt, nothing filed twice.
    size = _audit_size(receiver)
    code, again = rcli("transfer", "receive", str(pkg), "--sender-fingerprint",
                       signing.key_fingerprint(archive.public_pem), "--json")
    assert code == 0 and again["already_received"] and again["filed"] == []
    assert again["receipt"] == receipt
    assert _audit_size(receiver) == size and _items(receiver) == 2

    # The sender confirms with the receipt: custody moves, tombstones point to it.
    receipt_file = Path(got["receipt_path"])
    code, done = cli("transfer", "confirm", str(receipt_file), "--receiver-key",
                     str(receiver_pem), "--json")
    assert code == 0, done
    assert done["state"] == "confirmed"
    for item in (a, b):
        assert not archive.store.exists(item.aip_id)
        assert not replica.replica_store(archive).exists(item.aip_id)
        code, out = cli("verify", item.aip_id, "--json")
        assert code == 0, out
        [step] = out["items"][0]["steps"]
        assert step["step"] == "lawful_removal" and step["ok"]
        assert step["evidence"]["kind"] == "transferred"
        assert step["evidence"]["facts"]["receipt_sha256"] == done["receipt_sha256"]
        code, text = cli("verify", item.archival_code)
        assert code == 0 and "已移交" in text and RECEIVER_NAME in text
        # Custody moved: the sender names the receiver instead of writing a package.
        moved = tmp_path / f"moved-{item.aip_id}.zip"
        code, text = cli("evidence", item.archival_code, str(moved))
        assert code != 0 and "移交" in text and RECEIVER_NAME in text and "接收方" in text
        assert not moved.exists()
    with archive.db.session() as s:
        stones = list(s.scalars(select(Tombstone)))
        assert {t.aip_id for t in stones} == {a.aip_id, b.aip_id}
        assert all(t.kind == "transferred" and t.register_ref == sent["transfer_id"]
                   for t in stones)
        assert audit_log.find_entries(s, action="transfer:confirm")
        assert len(audit_log.find_entries(s, action="aip:transfer")) == 2
    assert crosscheck.check(archive) == []
    assert cli("audit", "verify")[0] == 0
    assert cli("verify", keep.aip_id, "--json")[0] == 0
    code, table = cli("stats", "retention", "--json")
    rows = {r["retention"]: r["transferred"] for r in table["rows"]}
    assert rows["D10"] == 1 and rows["D30"] == 1
    # Confirming the same receipt again changes nothing.
    size = _audit_size(archive)
    assert cli("transfer", "confirm", str(receipt_file), "--receiver-key", str(receiver_pem),
               "--json")[0] == 0
    assert _audit_size(archive) == size


def test_a_held_item_is_not_transferred(archive, file_case, cli, tmp_path):
    a = file_case("D10", 2015)
    code, _ = cli("hold", "place", "--item", a.archival_code, "--kind", "legal", "--reason",
                  "诉讼中", "--authority", "某法院（2026）民初1号")
    assert code == 0
    size = _audit_size(archive)
    code, out = cli("transfer", "create", a.archival_code, str(tmp_path / "x.zip"),
                    "--receiver", RECEIVER_NAME, "--json")
    assert code == 3 and out["error"]["code"] == "retention.item_held"
    assert not (tmp_path / "x.zip").exists() and _audit_size(archive) == size
    with archive.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Transfer)) == 0


def test_an_item_already_in_a_transfer_is_refused(archive, file_case, cli, tmp_path):
    a = file_case("D10", 2015)
    _package(cli, tmp_path, a.archival_code)
    code, out = cli("transfer", "create", a.archival_code, str(tmp_path / "y.zip"),
                    "--receiver", RECEIVER_NAME, "--json")
    assert code == 3 and out["error"]["code"] == "transfer.already_in_transfer"
