"""Multi-buffer SM3 beside SHA-256: the same digests as OpenSSL, for every file given."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from dangan.packages import sm3_multi
from dangan.packages.digests import digest_file

needs_kernel = pytest.mark.skipif(not sm3_multi.available(),
                                  reason="multi-buffer SM3 kernel not built or no AVX-512")


def _write(folder: Path, sizes: list[int], seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for i, size in enumerate(sizes):
        path = folder / f"f{i:03d}.bin"
        path.write_bytes(rng.randbytes(size))
        paths.append(path)
    return paths


@needs_kernel
def test_standard_examples_of_gb_t_32905(tmp_path: Path) -> None:
    abc, abcd = tmp_path / "abc", tmp_path / "abcd"
    abc.write_bytes(b"abc")
    abcd.write_bytes(b"abcd" * 16)
    got = sm3_multi.digest_files([abc, abcd])
    assert got[0].sm3 == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert got[1].sm3 == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


@needs_kernel
def test_files_of_every_awkward_length_match_openssl(tmp_path: Path) -> None:
    chunk = 1 << 20
    sizes = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, chunk - 1, chunk, chunk + 1,
             3 * chunk + 17] + [random.Random(5).randrange(200_000) for _ in range(40)]
    paths = _write(tmp_path, sizes)  # more files than lanes, lanes ending at different rounds
    assert sm3_multi.digest_files(paths) == [digest_file(p) for p in paths]


def test_without_the_kernel_results_are_the_same(tmp_path: Path, monkeypatch) -> None:
    paths = _write(tmp_path, [0, 10, 70_000, 1 << 20])
    expected = [digest_file(p) for p in paths]
    monkeypatch.setattr(sm3_multi, "available", lambda: False)
    assert sm3_multi.digest_files(paths) == expected


@needs_kernel
def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    paths = _write(tmp_path, [100, 200])
    with pytest.raises(OSError, match="missing.bin"):
        sm3_multi.digest_files([*paths, tmp_path / "missing.bin"])


@needs_kernel
def test_the_kernel_refuses_blocks_that_are_not_whole() -> None:
    from dangan.packages import _sm3mb

    with pytest.raises(ValueError, match="multiple of 64"):
        _sm3mb.compress(bytearray(512), [b"x" * 65])
