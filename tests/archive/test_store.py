"""The write-once store: whole AIP or nothing, never overwritten, crash leftovers resolved."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dangan.archive.errors import StoreError
from dangan.archive.store import AIPStore


def _staged(store: AIPStore, content: bytes = b"payload") -> Path:
    staging = store.new_staging()
    aip = staging / "aip"
    (aip / "data").mkdir(parents=True)
    (aip / "data" / "file.pdf").write_bytes(content)
    return aip


def test_commit_makes_the_aip_read_only_and_refuses_overwrite(tmp_path: Path) -> None:
    store = AIPStore(tmp_path / "store")
    final = store.commit(_staged(store), "ab12")
    store.acknowledge("ab12")
    assert (final / "data" / "file.pdf").read_bytes() == b"payload"
    assert not os.access(final / "data" / "file.pdf", os.W_OK) or os.geteuid() == 0
    assert (os.stat(final / "data" / "file.pdf").st_mode & 0o222) == 0
    with pytest.raises(StoreError, match="不可覆盖"):
        store.commit(_staged(store, b"other"), "ab12")
    assert (final / "data" / "file.pdf").read_bytes() == b"payload"


def test_recover_removes_an_unacknowledged_aip_but_keeps_catalogued_ones(tmp_path: Path) -> None:
    store = AIPStore(tmp_path / "store")
    store.commit(_staged(store), "aa01")  # crashed before the catalogue committed
    store.commit(_staged(store), "bb02")  # crashed after the catalogue committed
    removed = store.recover(lambda aip_id: aip_id == "bb02")
    assert removed == ["aa01"]
    assert not store.exists("aa01")
    assert store.exists("bb02")
    assert list(store.pending.iterdir()) == []


def test_sweep_staging_removes_folders_of_dead_processes_only(tmp_path: Path) -> None:
    store = AIPStore(tmp_path / "store")
    mine = store.new_staging()
    dead = store.staging_root / "999999999-deadbeef"
    dead.mkdir()
    assert store.sweep_staging() == 1
    assert mine.exists() and not dead.exists()
