"""Multi-buffer SM3 beside SHA-256: the same digests as OpenSSL, for every kernel and file."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dangan.packages import sm3_multi
from dangan.packages.digests import OPENSSL_SM3, digest_file

_sm3mb = sm3_multi._sm3mb
KERNELS = list(_sm3mb.kernels()) if _sm3mb is not None else []
needs_extension = pytest.mark.skipif(_sm3mb is None, reason="_sm3mb extension not built")
needs_openssl_sm3 = pytest.mark.skipif(not OPENSSL_SM3, reason="OpenSSL without SM3")

ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


@pytest.fixture(params=KERNELS or [None])
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each kernel this CPU runs, forced for the duration of the test."""
    if request.param is None:
        pytest.skip("_sm3mb extension not built")
    previous = _sm3mb.set_kernel(request.param)
    try:
        yield request.param
    finally:
        _sm3mb.set_kernel(previous)


def _openssl(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def _write(folder: Path, sizes: list[int], seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for i, size in enumerate(sizes):
        path = folder / f"f{i:03d}.bin"
        path.write_bytes(rng.randbytes(size))
        paths.append(path)
    return paths


def test_standard_examples_of_gb_t_32905(kernel: str) -> None:
    assert sm3_multi.sm3_hex_many([b"abc", b"abcd" * 16]) == [ABC, ABCD16]
    assert sm3_multi.sm3_hex_many([b"abcd" * 16] * 17 + [b"abc"]) == [ABCD16] * 17 + [ABC]


@needs_openssl_sm3
def test_random_lengths_match_openssl(kernel: str) -> None:
    rng = random.Random(7)
    lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128] + [
        rng.randrange(10_001) for _ in range(150)]
    messages = [rng.randbytes(n) for n in lengths]
    assert sm3_multi.sm3_hex_many(messages) == [_openssl(m) for m in messages]


@needs_openssl_sm3
def test_lanes_of_very_different_lengths_in_one_call(kernel: str) -> None:
    rng = random.Random(3)
    lengths = [3 << 20, 0, 64, 1, 5 << 20, 100_000, 10, 2 << 20, 63, 700, 0, 1 << 20,
               65, 4096, 3, 999_999, 12, 64 * 1000]  # 18 lanes: two groups, ragged
    messages = [rng.randbytes(n) for n in lengths]
    assert sm3_multi.sm3_hex_many(messages) == [_openssl(m) for m in messages]


@needs_openssl_sm3
def test_streaming_pieces_of_any_size(kernel: str) -> None:
    """Pieces that split blocks anywhere, lanes that skip rounds, lanes reused."""
    rng = random.Random(11)
    hasher = sm3_multi.MultiSM3(5)
    whole = [bytearray() for _ in range(5)]
    for _ in range(40):
        pieces = [None if rng.random() < 0.2 else rng.randbytes(rng.randrange(300))
                  for _ in range(5)]
        hasher.update(pieces)
        for w, piece in zip(whole, pieces, strict=True):
            w.extend(piece or b"")
    assert hasher.finish([4, 1]) == [_openssl(bytes(whole[4])), _openssl(bytes(whole[1]))]
    hasher.update([None, b"abc", None, None, memoryview(b"abcd" * 16)])
    assert hasher.finish([1, 4]) == [ABC, ABCD16]
    assert hasher.finish([0, 2, 3]) == [_openssl(bytes(w)) for w in (whole[0], whole[2],
                                                                       whole[3])]


@needs_extension
def test_the_kernel_refuses_blocks_that_are_not_whole() -> None:
    with pytest.raises(ValueError, match="64-byte blocks"):
        _sm3mb.compress(bytearray(32), [b"x" * 65])
    with pytest.raises(ValueError, match="lanes need"):
        _sm3mb.compress(bytearray(32), [b"x" * 64, b"y" * 64])


@needs_extension
def test_an_unknown_kernel_is_refused() -> None:
    with pytest.raises(ValueError, match="not available"):
        _sm3mb.set_kernel("neon")
    assert _sm3mb.kernel() == KERNELS[0]  # the fastest one, unless a test forgot to reset


def test_files_of_every_awkward_length(tmp_path: Path, kernel: str) -> None:
    chunk = 1 << 20
    rng = random.Random(5)
    sizes = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, chunk - 1, chunk, chunk + 1,
             3 * chunk + 17, 0] + [rng.randrange(200_000) for _ in range(30)]
    paths = _write(tmp_path, sizes)  # more files than lanes, lanes ending at different rounds
    assert sm3_multi._digest_files_mb(paths) == [digest_file(p) for p in paths]


@pytest.mark.slow
def test_a_few_multi_megabyte_files(tmp_path: Path, kernel: str) -> None:
    paths = _write(tmp_path, [9 << 20, (6 << 20) + 1, 5 << 20, 1 << 20, 3], seed=2)
    assert sm3_multi._digest_files_mb(paths) == [digest_file(p) for p in paths]


def test_digest_files_equals_digest_file(tmp_path: Path) -> None:
    paths = _write(tmp_path, [0, 3, 4096, (2 << 20) + 5] * 5)
    assert sm3_multi.digest_files(paths) == [digest_file(p) for p in paths]
    assert sm3_multi.digest_files([str(paths[3])]) == [digest_file(paths[3])]
    assert sm3_multi.digest_files([]) == []


def test_without_the_extension_results_are_the_same(tmp_path: Path, monkeypatch) -> None:
    paths = _write(tmp_path, [0, 10, 70_000, 1 << 20])
    expected = [digest_file(p) for p in paths]
    monkeypatch.setattr(sm3_multi, "_sm3mb", None)
    assert not sm3_multi.available()
    assert sm3_multi.digest_files(paths) == expected
    with pytest.raises(RuntimeError, match="not built"):
        sm3_multi.MultiSM3(2)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    paths = _write(tmp_path, [100, 200, 300])
    with pytest.raises(OSError, match="missing.bin"):
        sm3_multi.digest_files([*paths, tmp_path / "missing.bin"])
    with pytest.raises(OSError, match="a-folder"):
        (tmp_path / "a-folder").mkdir()
        sm3_multi.digest_files([paths[0], tmp_path / "a-folder", paths[1]])


@needs_extension
@pytest.mark.parametrize("setting", ["off", "scalar"])
def test_the_environment_can_turn_the_kernel_off_or_force_one(setting: str) -> None:
    code = "from dangan.packages import sm3_multi as s; print(s.kernel(), s.available())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "DANGAN_SM3MB": setting}).stdout.split()
    assert out == (["None", "False"] if setting == "off" else ["scalar", "False"])
