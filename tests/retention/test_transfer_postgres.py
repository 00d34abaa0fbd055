"""The receiving side of a transfer on PostgreSQL: the same guarantees as on SQLite."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dangan.archive import audit_log, chain, crosscheck
from dangan.archive.instance import Archive
from dangan.archive.models import Item
from dangan.retention import transfer, transfer_confirm, transfer_receive
from dangan.retention.transfer_errors import PackageTampered
from tests.conftest import fresh_pg_database
from tests.retention.conftest import add_staff

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_receiver(archive: Archive, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Archive]:
    """The comprehensive archive on a fresh PostgreSQL database; the sender stays on SQLite."""
    with fresh_pg_database(tmp_path, "dangan_test_yj") as url:
        monkeypatch.setenv("DANGAN_DATABASE_URL", url)
        a = Archive.init(tmp_path / "pg-receiver", fonds="Z001", organization="测试市档案馆")
        monkeypatch.delenv("DANGAN_DATABASE_URL")
        add_staff(a)
        try:
            yield a
        finally:
            a.close()


def test_receive_on_postgresql(archive, staff, file_case, pg_receiver, tmp_path):
    pg_archive = pg_receiver
    assert pg_archive.db.engine.dialect.name == "postgresql"
    a, b = file_case("D10", 2015), file_case("D50", 2001)
    pkg = tmp_path / "yj.zip"
    sent = transfer.create(archive, out=pkg, receiver="测试市档案馆", actor="archivist-li",
                           refs=[a.archival_code, b.archival_code])

    # a tampered copy first: refused, nothing written on PostgreSQL
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(pkg) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, data[:-1] + bytes([data[-1] ^ 1]) if info.filename.startswith(
                f"aips/{a.aip_id}") else data)
    with pg_archive.db.session() as s:
        size = audit_log.tree_size(s)
    with pytest.raises(PackageTampered):
        transfer_receive.receive(pg_archive, bad, actor="archivist-li",
                                 sender_key=archive.public_pem)
    with pg_archive.db.session() as s:
        assert audit_log.tree_size(s) == size
        assert s.scalar(select(func.count()).select_from(Item)) == 0

    got = transfer_receive.receive(pg_archive, pkg, actor="archivist-li",
                                   sender_key=archive.public_pem)
    assert sorted(got.filed) == sorted([a.aip_id, b.aip_id])
    again = transfer_receive.receive(pg_archive, pkg, actor="archivist-li",
                                     sender_key=archive.public_pem)
    assert again.already_received and again.filed == [] and again.receipt == got.receipt
    results = chain.verify_ref(pg_archive, a.archival_code)
    assert all(r.ok for r in results), [s.to_dict() for r in results for s in r.steps if not s.ok]
    assert crosscheck.check(pg_archive) == []

    done = transfer_confirm.confirm(archive, got.receipt, receiver_pem=pg_archive.public_pem,
                                    actor="archivist-li")
    assert done.state == "confirmed" and done.transfer_id == sent.transfer_id
    assert crosscheck.check(archive) == []
