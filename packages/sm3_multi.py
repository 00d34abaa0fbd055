"""SHA-256 and SM3 of many files at once: multi-buffer SM3 beside SHA-256, one read each.

Why: an audit must compute both digests of every stored byte, and SM3 from OpenSSL runs
at a fraction of SHA-256's speed. The AVX-512 kernel (``_sm3mb``) hashes sixteen files
per pass; SHA-256 (hashlib, GIL released) runs in a second thread meanwhile, so both
cores work. Without the kernel (no compiler at install, another CPU) each file is hashed
by ``digests.digest_file`` instead: same results, slower.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from .digests import CHUNK, Digests, digest_file

try:
    from . import _sm3mb
except ImportError:  # built without a compiler: OpenSSL SM3 per file
    _sm3mb = None

LANES = 16
_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600,
       0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)
_STATE = struct.Struct("=8I")


def available() -> bool:
    """Whether the multi-buffer kernel runs here."""
    return _sm3mb is not None and _sm3mb.available()


def _padding(total: int) -> bytes:
    return b"\x80" + b"\x00" * ((55 - total) % 64) + struct.pack(">Q", total * 8)


class _Lane:
    """One file in flight: its open handle, SHA-256, bytes read, unhashed tail."""

    def __init__(self, index: int, path: Path) -> None:
        self.index = index
        self.path = path
        self.file: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in finish()
        self.sha = hashlib.sha256()
        self.size = 0
        self.tail = b""
        self.done = False

    def next_blocks(self) -> bytes:
        """Read the next chunk, hash it with SHA-256; return the whole blocks for SM3."""
        chunk = self.file.read(CHUNK)
        self.sha.update(chunk)
        self.size += len(chunk)
        data = self.tail + chunk if self.tail else chunk
        if len(chunk) < CHUNK:  # a short read of a regular file: its end
            self.done = True
            self.tail = b""
            return data + _padding(self.size)
        cut = len(data) - len(data) % 64
        self.tail = data[cut:]
        return data[:cut]

    def finish(self) -> None:
        self.file.close()


def digest_files(paths: Sequence[Path | str]) -> list[Digests]:
    """SHA-256 and SM3 of each file, one read per file, in the order given.

    Each round compresses one chunk of up to sixteen files (SM3, this thread) while the
    next chunk of each is read and SHA-256-hashed (a second thread, joined by this one
    once the kernel returns). Raises ``OSError`` naming a file that could not be read.
    """
    paths = [Path(p) for p in paths]
    if not available() or len(paths) < 2:
        return [digest_file(p) for p in paths]
    results: list[Digests | None] = [None] * len(paths)
    todo = iter(enumerate(paths))
    states = bytearray(_STATE.pack(*_IV) * LANES)
    opened: list[_Lane] = []
    with ThreadPoolExecutor(1) as pool:
        try:
            lanes = [_open_next(todo, opened) for _ in range(LANES)]
            blocks = _read_round(pool, lanes)
            while any(lane is not None for lane in lanes):
                ending = [lane is not None and lane.done for lane in lanes]  # before reading on
                following = [lane if lane is not None and not end else _open_next(todo, opened)
                             for lane, end in zip(lanes, ending, strict=True)]
                reading = _ReadRound(following)
                helper = pool.submit(reading.run)
                _sm3mb.compress(states, blocks)
                reading.run()
                helper.result()
                for slot, lane in enumerate(lanes):
                    if lane is not None and ending[slot]:
                        sm3 = struct.pack(">8I", *_STATE.unpack_from(states, slot * 32)).hex()
                        results[lane.index] = Digests(lane.size, lane.sha.hexdigest(), sm3)
                        lane.finish()
                        _STATE.pack_into(states, slot * 32, *_IV)
                lanes, blocks = following, reading.blocks
        finally:
            for lane in opened:
                lane.finish()
    return [r for r in results if r is not None]


def _open_next(todo: Iterator[tuple[int, Path]], opened: list[_Lane]) -> _Lane | None:
    nxt = next(todo, None)
    if nxt is None:
        return None
    opened.append(_Lane(*nxt))
    return opened[-1]


class _ReadRound:
    """One chunk of every lane, read and SHA-256-hashed by whichever thread is free."""

    def __init__(self, lanes: list[_Lane | None]) -> None:
        self.blocks: list[bytes | None] = [None] * len(lanes)
        self._slots = iter([(i, lane) for i, lane in enumerate(lanes) if lane is not None])

    def run(self) -> None:
        for slot, lane in self._slots:
            self.blocks[slot] = lane.next_blocks()


def _read_round(pool: ThreadPoolExecutor, lanes: list[_Lane | None]) -> list[bytes | None]:
    reading = _ReadRound(lanes)
    helper = pool.submit(reading.run)
    reading.run()
    helper.result()
    return reading.blocks
