"""SM3 trailing the copy: the digest is of the archived copy, never made up, never leaked."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from dangan.packages import sm3_trailing
from dangan.packages.digests import CHUNK, OPENSSL_SM3, new_sm3
from dangan.packages.sm3_trailing import SM3Failed, TrailingSM3, copy_measuring

pytestmark = pytest.mark.skipif(not OPENSSL_SM3, reason="trailing SM3 needs OpenSSL SM3")


def _sm3(data: bytes) -> str:
    return new_sm3(data).hexdigest()


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sm3-trailing"]


@pytest.mark.parametrize("budget", [0, 3 * CHUNK, 64 << 20])
def test_digests_equal_one_pass_hashes_whatever_the_memory_budget(tmp_path, budget):
    """Budget 0: every chunk is read back from the copy; 3 chunks: a mix; 64 MiB: none."""
    sizes = {"a": 5 * CHUNK + 17, "b": 100, "c": 2 * CHUNK, "d": CHUNK}
    blobs = {k: os.urandom(n) for k, n in sizes.items()}
    with TrailingSM3(budget) as trailing:
        measured = {}
        for k, data in blobs.items():
            (tmp_path / f"{k}.src").write_bytes(data)
            measured[k] = copy_measuring(tmp_path / f"{k}.src", tmp_path / f"{k}.dst",
                                         tmp_path / f"{k}.tee", trailing, k)
        results = trailing.results()
    for k, data in blobs.items():
        d = measured[k].complete(results, k)
        assert (d.size, d.sha256, d.sm3) == (len(data), hashlib.sha256(data).hexdigest(), _sm3(data))
        assert (tmp_path / f"{k}.dst").read_bytes() == data == (tmp_path / f"{k}.tee").read_bytes()
    assert measured["b"].sm3 is not None  # one chunk or less: hashed on the spot
    assert measured["a"].sm3 is None  # larger: left to the worker
    trailed = sizes["a"] + sizes["c"] + sizes["d"]
    if budget == 0:
        assert trailing.read_back == trailed
    elif budget >= trailed:
        assert trailing.read_back == 0
    assert not _workers()


@pytest.fixture
def read_back_gate(monkeypatch):
    """Hold the worker's read-back of the copy until the test opens the gate."""
    gate = threading.Event()
    real = sm3_trailing._pread_exactly

    def gated(fd: int, length: int, offset: int, path: str) -> bytes:
        gate.wait(10)
        return real(fd, length, offset, path)

    monkeypatch.setattr(sm3_trailing, "_pread_exactly", gated)
    return gate


def test_the_digest_is_of_the_copy_as_archived_when_read_back(tmp_path, read_back_gate):
    """A copy changed after it was written (same length) gets the SM3 of what it now holds:
    the SM3 describes the archived bytes, so a declared SM3 no longer matches."""
    data = os.urandom(4 * CHUNK)
    (tmp_path / "src").write_bytes(data)
    trailing = TrailingSM3(0)
    m = copy_measuring(tmp_path / "src", tmp_path / "dst", None, trailing, "f")
    with open(tmp_path / "dst", "r+b") as f:
        f.seek(CHUNK)
        f.write(b"\0" * 10)
    read_back_gate.set()
    got = trailing.results()["f"]
    assert m.sha256 == hashlib.sha256(data).hexdigest()
    assert got == _sm3((tmp_path / "dst").read_bytes()) != _sm3(data)


def test_a_copy_cut_short_behind_the_worker_fails_instead_of_hashing_less(tmp_path, read_back_gate):
    (tmp_path / "src").write_bytes(os.urandom(3 * CHUNK))
    trailing = TrailingSM3(0)
    copy_measuring(tmp_path / "src", tmp_path / "dst", None, trailing, "f")
    os.truncate(tmp_path / "dst", CHUNK + 5)
    read_back_gate.set()
    with pytest.raises(SM3Failed) as info:
        trailing.results()
    assert info.value.code == "package.sm3_failed"
    assert not _workers()


def test_leaving_the_block_early_stops_and_joins_the_worker(tmp_path):
    (tmp_path / "src").write_bytes(os.urandom(8 * CHUNK))
    with pytest.raises(RuntimeError, match="check failed"):
        with TrailingSM3(0) as trailing:
            copy_measuring(tmp_path / "src", tmp_path / "dst", None, trailing, "f")
            assert trailing.pending
            raise RuntimeError("check failed")
    assert not trailing.pending
    assert not _workers()
    with pytest.raises(SM3Failed, match="已停止"):
        trailing.results()
