"""A confirmation killed (SIGKILL) at any point is completed on the next run, never half done."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import select

from dangan.archive import audit_log, crosscheck, replica
from dangan.archive.models import Item
from dangan.archive.tombstones import Tombstone
from tests.killing import kill_at_failpoint
from tests.retention.transfer_kit import RECEIVER_NAME, public_key_file, runner_for

DANGAN = [sys.executable, "-m", "dangan.web.cli"]


@pytest.mark.parametrize("point", ["transfer.after_intent", "transfer.after_store",
                                   "transfer.before_tombstone_commit"])
def test_a_killed_confirmation_is_completed_on_the_next_run(archive, file_case, cli, receiver,
                                                            tmp_path, point):
    a, b = file_case("D10", 2015), file_case("D10", 2015)
    pkg = tmp_path / "yj.zip"
    assert cli("transfer", "create", a.aip_id, b.aip_id, str(pkg), "--receiver",
               RECEIVER_NAME)[0] == 0
    code, got = runner_for(receiver.home)(
        "transfer", "receive", str(pkg), "--sender-key",
        str(public_key_file(archive, tmp_path / "s.pem")), "--json")
    assert code == 0, got
    ready = tmp_path / "ready"
    kill_at_failpoint(
        [*DANGAN, "--home", str(archive.home), "transfer", "confirm", got["receipt_path"],
         "--receiver-key", str(public_key_file(receiver, tmp_path / "r.pem"))],
        point, ready, actor="archivist-li", timeout=90)
    code, shown = cli("transfer", "list", "--json")  # opening resumes
    assert code == 0 and shown[0]["state"] == "confirmed", shown
    with archive.db.session() as s:
        assert s.scalars(select(Item).where(Item.aip_id.in_([a.aip_id, b.aip_id]))).first() is None
        for item in (a, b):
            [entry] = audit_log.find_entries(s, object_id=item.aip_id, action="aip:transfer")
            assert s.get(Tombstone, item.aip_id).audit_index == entry.index  # exactly once
    for item in (a, b):
        assert not archive.store.exists(item.aip_id)
        assert not replica.replica_store(archive).exists(item.aip_id)
    assert crosscheck.check(archive) == []
    assert cli("audit", "verify")[0] == 0


def test_a_killed_receive_is_completed_by_receiving_again(archive, file_case, cli, receiver,
                                                          tmp_path):
    a, b = file_case("D10", 2015), file_case("D10", 2014)
    pkg = tmp_path / "yj.zip"
    assert cli("transfer", "create", a.aip_id, b.aip_id, str(pkg), "--receiver",
               RECEIVER_NAME)[0] == 0
    sender_pem = public_key_file(archive, tmp_path / "s.pem")
    ready = tmp_path / "ready"
    kill_at_failpoint(
        [*DANGAN, "--home", str(receiver.home), "transfer", "receive", str(pkg),
         "--sender-key", str(sender_pem)],
        "transfer.receive.after_item", ready, actor="archivist-li", timeout=90)
    with receiver.db.session() as s:
        assert len(list(s.scalars(select(Item)))) == 1  # one filed, no receipt yet
    code, got = runner_for(receiver.home)("transfer", "receive", str(pkg), "--sender-key",
                                          str(sender_pem), "--json")
    assert code == 0, got
    assert len(got["filed"]) == 1  # the other one; the first is not filed twice
    assert {i["aip_id"] for i in got["receipt"]["items"]} == {a.aip_id, b.aip_id}
    with receiver.db.session() as s:
        for item in (a, b):
            assert len(audit_log.find_entries(s, object_id=item.aip_id, action="aip:file")) == 1
    assert crosscheck.check(receiver) == []
