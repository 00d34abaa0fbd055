"""The replica written from intake's single read: identical to the primary, its content
not read again, and a prepared copy that no longer fits is copied from the primary."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from dangan.archive import replica
from dangan.archive.instance import Archive
from dangan.ingest.service import ingest
from dangan.packages.digests import digest_file

CONTENT = "data/submission/files/"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_filing_writes_the_replica_content_from_its_one_read(
        archive: Archive, make_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[str] = []
    real = replica.copy_and_digest
    monkeypatch.setattr(replica, "copy_and_digest",
                        lambda src, dst, tee=None: copied.append(Path(src).as_posix()) or real(src, dst))
    outcome = ingest(archive, make_case(), ocr=False)
    assert outcome.status == "archived"
    primary = archive.store.path(outcome.aip_id)
    second = replica.replica_store(archive).path(outcome.aip_id)
    assert tree(second) == tree(primary)
    content = [p for p in primary.rglob("*") if p.is_file() and CONTENT in p.as_posix()]
    assert content and not [c for c in copied if CONTENT in c]  # content not read again
    for p in content:  # two files, written separately, not one file linked twice
        assert os.stat(p).st_ino != os.stat(second / p.relative_to(primary)).st_ino
    staging = replica.replica_store(archive).staging_root
    assert not staging.exists() or not any(staging.iterdir())  # nothing left behind


def test_a_prepared_copy_that_no_longer_fits_is_copied_from_the_primary(
        archive: Archive, make_case: Callable[..., Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dangan.ingest.service._replica_staging", lambda _a: None)
    outcome = ingest(archive, make_case(), ocr=False)
    aip_id = outcome.aip_id
    primary = archive.store.path(aip_id)
    target = replica.replica_store(archive).path(aip_id)
    replica.remove_tree(target)
    victim = sorted(p for p in primary.rglob("*.pdf") if p.is_file())[0]
    rel = victim.relative_to(primary).as_posix()
    short = tmp_path / "short.pdf"
    short.write_bytes(victim.read_bytes()[:-10])  # truncated after intake
    replica.write_replica(archive, aip_id, prepared={rel: (short, digest_file(victim))})
    assert tree(target) == tree(primary) and short.exists()
