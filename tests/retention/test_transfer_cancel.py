"""Cancelling a transfer package that was never received: its items are free again, the
cancellation is logged with its reason, and a receipt that turns up later moves nothing."""

from __future__ import annotations

from dangan.archive import audit_log
from tests.retention.test_transfer import _audit_size, _package
from tests.retention.transfer_kit import public_key_file, runner_for


def test_a_cancelled_package_releases_its_items_and_refuses_a_late_receipt(
        archive, file_case, cli, receiver, tmp_path):
    a = file_case("D10", 2015)
    pkg, sent = _package(cli, tmp_path, a.archival_code)
    tid = sent["transfer_id"]

    code, out = cli("transfer", "cancel", tid, "--reason", "  ", "--json")
    assert code != 0  # a cancellation must say why
    code, view = cli("transfer", "cancel", tid, "--reason", "接收单位退回移交包", "--json")
    assert code == 0 and view["state"] == "cancelled" and view["items"] == []
    with archive.db.session() as s:
        [entry] = audit_log.find_entries(s, action="transfer:cancel")
        assert entry.details["reason"] == "接收单位退回移交包"
        assert [r["aip_id"] for r in entry.details["released"]] == [a.aip_id]

    # The item can go into a new package.
    _, again = _package(cli, tmp_path, a.archival_code, name="yj-2.zip")
    assert again["transfer_id"] != tid

    # The receiver filed the cancelled package after all: its receipt moves nothing here.
    code, got = runner_for(receiver.home)(
        "transfer", "receive", str(pkg), "--sender-key",
        str(public_key_file(archive, tmp_path / "s.pem")), "--json")
    assert code == 0, got
    size = _audit_size(archive)
    code, out = cli("transfer", "confirm", got["receipt_path"], "--receiver-key",
                    str(public_key_file(receiver, tmp_path / "r.pem")), "--json")
    assert code == 3 and out["error"]["code"] == "transfer.closed"
    assert "撤销" in out["error"]["message"]
    assert archive.store.exists(a.aip_id) and _audit_size(archive) == size


def test_a_confirmed_transfer_cannot_be_cancelled(archive, file_case, cli, receiver, tmp_path):
    a = file_case("D10", 2015)
    pkg, sent = _package(cli, tmp_path, a.archival_code)
    code, got = runner_for(receiver.home)(
        "transfer", "receive", str(pkg), "--sender-key",
        str(public_key_file(archive, tmp_path / "s.pem")), "--json")
    assert code == 0, got
    code, _ = cli("transfer", "confirm", got["receipt_path"], "--receiver-key",
                  str(public_key_file(receiver, tmp_path / "r.pem")), "--json")
    assert code == 0
    size = _audit_size(archive)
    code, out = cli("transfer", "cancel", sent["transfer_id"], "--reason", "误操作", "--json")
    assert code == 3 and out["error"]["code"] == "transfer.closed"
    assert _audit_size(archive) == size
