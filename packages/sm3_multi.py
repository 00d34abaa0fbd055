"""SHA-256 and SM3 of many files at once: multi-buffer SM3 beside SHA-256, one read each.

Why: an audit must compute both digests of every stored byte, and SM3 from OpenSSL runs
at a fraction of SHA-256's speed (one SM3 stream is bound by its round latency). The C
kernel ``_sm3mb`` compresses up to sixteen independent messages at once (AVX-512; eight
with AVX2), so SM3 of many files costs less per byte than SHA-256 of them. SHA-256
(hashlib, GIL released) runs in a second thread meanwhile, so both cores work.

Without a SIMD kernel (extension not built, or a CPU where only its scalar code runs,
which is slower than OpenSSL) each file goes through ``digests.digest_file`` instead:
same results, slower. Tests pick a kernel with ``_sm3mb.set_kernel``; the environment
variable ``DANGAN_SM3MB`` can turn the kernel off or force one (see below).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import struct
from array import array
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

from dangan.packages.digests import CHUNK, Digests, digest_file

_sm3mb: ModuleType | None
try:
    from dangan.packages import _sm3mb
except ImportError:  # built without a compiler: OpenSSL SM3 per file
    _sm3mb = None

_disabled: bool | None = None  # DANGAN_SM3MB applied: not yet (None), off (True), on


def _active() -> ModuleType | None:
    """The kernel module in use, the environment applied when first needed (not at import).

    ``DANGAN_SM3MB=off`` leaves the kernel unused; ``=avx2`` or ``=scalar`` forces that
    kernel. Read once per process, on the first digest.
    """
    global _disabled
    if _sm3mb is None:
        return None
    if _disabled is None:
        choice = os.environ.get("DANGAN_SM3MB", "").strip().lower()
        _disabled = choice in ("off", "0", "no")
        if not _disabled and choice in _sm3mb.kernels():
            _sm3mb.set_kernel(choice)
    return None if _disabled else _sm3mb

IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600,
      0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)
_BE_STATE = struct.Struct(">8I")


def kernel() -> str | None:
    """The active multi-buffer kernel ("avx512", "avx2", "scalar"), None if not built."""
    module = _active()
    return None if module is None else module.kernel()


def available() -> bool:
    """Whether ``digest_files`` uses the multi-buffer kernel here (a SIMD one)."""
    return kernel() not in (None, "scalar")


def _padding(size: int) -> bytes:
    return b"\x80" + b"\x00" * ((55 - size) % 64) + struct.pack(">Q", size * 8)


class MultiSM3:
    """SM3 of ``lanes`` independent messages fed side by side, one message per lane.

    ``update`` takes one piece per lane and compresses all their whole blocks in one
    kernel call (in place, no copies; only a partial block of under 64 bytes is kept).
    ``finish`` pads and finalises some lanes in one call and readies them for a new
    message. Needs the ``_sm3mb`` extension (any kernel).
    """

    def __init__(self, lanes: int) -> None:
        module = _active()
        if module is None:
            raise RuntimeError("the _sm3mb extension is not built (or DANGAN_SM3MB=off)")
        self._kernel: ModuleType = module
        self.lanes = lanes
        self._state = array("I", IV * lanes)
        self._tail = [b""] * lanes
        self._size = [0] * lanes

    def update(self, pieces: Sequence[bytes | bytearray | memoryview | None]) -> None:
        """Append ``pieces[i]`` to lane i's message (None or empty: nothing)."""
        joins: list[bytes | None] = [None] * self.lanes
        blocks: list[memoryview | None] = [None] * self.lanes
        for i, piece in enumerate(pieces):
            if piece is None:
                continue
            view = memoryview(piece).cast("B")
            if not view:
                continue
            self._size[i] += len(view)
            tail = self._tail[i]
            if tail:
                need = 64 - len(tail)
                if len(view) < need:
                    self._tail[i] = tail + bytes(view)
                    continue
                joins[i] = tail + bytes(view[:need])
                view = view[need:]
            cut = len(view) - len(view) % 64
            blocks[i] = view[:cut]
            self._tail[i] = bytes(view[cut:])
        if any(j is not None for j in joins):
            self._kernel.compress(self._state, joins)
        self._kernel.compress(self._state, blocks)

    def finish(self, lanes: Sequence[int]) -> list[str]:
        """Hex SM3 of each given lane's message; those lanes then start a new message."""
        last: list[bytes | None] = [None] * self.lanes
        for i in lanes:
            last[i] = self._tail[i] + _padding(self._size[i])
        self._kernel.compress(self._state, last)
        out = []
        for i in lanes:
            out.append(_BE_STATE.pack(*self._state[8 * i:8 * i + 8]).hex())
            self._state[8 * i:8 * i + 8] = array("I", IV)
            self._tail[i] = b""
            self._size[i] = 0
        return out


def sm3_hex_many(messages: Sequence[bytes | bytearray | memoryview]) -> list[str]:
    """Hex SM3 of each in-memory message, hashed side by side by the kernel."""
    hasher = MultiSM3(len(messages))
    hasher.update(messages)
    return hasher.finish(range(len(messages)))


def digest_files(paths: Sequence[Path | str]) -> list[Digests]:
    """SHA-256 and SM3 of each file, reading each once; results in the order given.

    With the multi-buffer kernel, up to 16 files are open at once and read 1 MiB at a
    time round-robin: SM3 of a round's chunks in one kernel call (this thread) while a
    second thread SHA-256-hashes them. A lane that reaches its file's end is padded and
    finalised, then takes the next file. Raises ``OSError`` naming a file that cannot be
    opened or read.
    """
    paths = list(paths)
    if not available() or len(paths) < 2:
        return [digest_file(p) for p in paths]
    return _digest_files_mb(paths)


class _Lane:
    """One file in flight: its unbuffered handle, SHA-256 and bytes read so far."""

    def __init__(self, index: int, path: Path | str) -> None:
        self.index = index
        self.path = path
        self.file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the caller
        try:
            self.expected = os.fstat(self.file.fileno()).st_size
        except OSError:
            self.file.close()
            raise
        self.sha = hashlib.sha256()
        self.size = 0

    def want(self) -> int:
        """Bytes to ask for next: a chunk, or one more than is left (a short read ends)."""
        return min(CHUNK, max(self.expected - self.size, 0) + 1)

    def read(self, buf: bytearray) -> tuple[memoryview, bool]:
        """The next chunk (read into ``buf``) and whether the file has ended."""
        want = min(len(buf), self.want())
        try:
            n = self.file.readinto(memoryview(buf)[:want])
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc
        assert n is not None  # a regular file's descriptor is blocking
        self.size += n
        # A short read of a regular file is its end; tolerate a file that shrank.
        ended = n == 0 or (n < want and self.size >= self.expected)
        return memoryview(buf)[:n], ended


def _sha_updates(jobs: list[tuple[hashlib._Hash, memoryview]]) -> None:
    for sha, view in jobs:
        sha.update(view)


def _digest_files_mb(paths: Sequence[Path | str]) -> list[Digests]:
    """``digest_files`` with the kernel (whichever is active, even scalar: tests)."""
    module = _active()
    assert module is not None
    width = min(max(module.width(), 8), len(paths))
    todo: Iterator[tuple[int, Path | str]] = iter(enumerate(paths))
    hasher = MultiSM3(width)
    # Two buffer sets: the SHA thread may still hash round r-1's chunks while this thread
    # reads round r's. Grown on demand, so that a call over small files stays cheap.
    buffers = [[bytearray() for _ in range(width)] for _ in range(2)]
    lanes: list[_Lane | None] = [None] * width
    results: list[Digests | None] = [None] * len(paths)
    finished: list[tuple[_Lane, str]] = []
    own = 0  # chunks per round whose SHA-256 this thread does itself (load balance)
    pool = ThreadPoolExecutor(1, thread_name_prefix="sha256")
    previous: Future[None] | None = None
    try:
        for rnd in itertools.count():
            for slot in range(width):
                if lanes[slot] is None and (nxt := next(todo, None)) is not None:
                    lanes[slot] = _Lane(*nxt)
            if all(lane is None for lane in lanes):
                break
            views: list[memoryview | None] = [None] * width
            ending = []
            jobs = []
            for slot, lane in enumerate(lanes):
                if lane is None:
                    continue
                buf = buffers[rnd % 2][slot]
                if len(buf) < lane.want():
                    buf = bytearray(min(CHUNK, max(lane.want(), 2 * len(buf), 1 << 16)))
                    buffers[rnd % 2][slot] = buf
                view, ended = lane.read(buf)
                views[slot] = view
                if view:
                    jobs.append((lane.sha, view))
                if ended:
                    ending.append(slot)
                    lane.file.close()
            own = min(own, len(jobs))
            current = pool.submit(_sha_updates, jobs[own:])
            hasher.update(views)
            if ending:
                for slot, sm3 in zip(ending, hasher.finish(ending), strict=True):
                    lane = lanes[slot]
                    assert lane is not None
                    finished.append((lane, sm3))
                    lanes[slot] = None
            # Our share of SHA-256 waits for the other thread's previous round: a file's
            # chunks must reach its hash in order.
            behind = previous is not None and not previous.done()
            if previous is not None:
                previous.result()
            _sha_updates(jobs[:own])
            if behind:
                own += 1
            elif current.done() and own > 0:
                own -= 1
            previous = current
        if previous is not None:
            previous.result()
    finally:
        pool.shutdown(wait=True)
        for lane in lanes:
            if lane is not None:
                lane.file.close()
    for lane, sm3 in finished:
        results[lane.index] = Digests(lane.size, lane.sha.hexdigest(), sm3)
    return [r for r in results if r is not None]
