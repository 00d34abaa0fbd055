"""Fixity audits hash many copies together; what they find is the same either way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dangan.archive import fixity, fixity_measure, replica
from dangan.archive.instance import Archive
from dangan.packages.digests import digest_file
from tests.archive.test_replica_fixity import content_file, file_case, flip_byte


def test_every_payload_file_of_every_copy_is_measured_exactly(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    ids = [file_case(archive, make_case) for _ in range(3)]
    measured = fixity_measure.measure(archive, ids)
    for aip_id in ids:
        for name, store in replica.stores(archive).items():
            root = store.path(aip_id)
            files = sorted(p for p in (root / "data").rglob("*") if p.is_file())
            assert sorted(measured[aip_id][name]) == [p.relative_to(root).as_posix()
                                                       for p in files]
            for path in files:
                rel = path.relative_to(root).as_posix()
                assert measured[aip_id][name][rel] == digest_file(path)


@pytest.mark.parametrize("batch_unreadable", [False, True])
def test_a_flipped_byte_is_found_whether_or_not_the_batch_was_measured(
        archive: Archive, make_case: Callable[..., Path], monkeypatch,
        batch_unreadable: bool) -> None:
    ids = [file_case(archive, make_case) for _ in range(3)]
    if batch_unreadable:
        def unreadable(paths):
            raise PermissionError(f"cannot read {paths[0]}")
        monkeypatch.setattr(fixity_measure, "digest_files", unreadable)
    flip_byte(content_file(replica.replica_store(archive).path(ids[1])))
    run = fixity.audit(archive, cycle_days=0)
    outcomes = {i.aip_id: (i.outcome, i.copies["replica"].status) for i in run.items}
    assert outcomes == {ids[0]: ("ok", "ok"), ids[1]: ("repaired", "damaged"),
                        ids[2]: ("ok", "ok")}
