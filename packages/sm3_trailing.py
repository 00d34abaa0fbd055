"""SM3 of files being copied, computed by one worker thread that trails the copy.

One file's SM3 is one sequential stream, and the slowest step of filing a large file
(OpenSSL SM3 runs at about half SHA-256's rate without SHA extensions). So the copy
hashes SHA-256 and writes in the reading thread and hands each chunk to this worker
without waiting for it; the filing goes on with what needs no SM3 (decoding the formats,
flushing the writes) and joins the worker where an SM3 digest is needed (``results``).
No digest exists before the worker has computed it: ``results`` raises when it could not.

Memory stays bounded: while the chunks handed over and not yet hashed stay under
``budget`` bytes the worker gets the chunk itself; beyond that it is told where the chunk
lies in the copy just written and reads it back from there (the page cache: the pages
were just written). That copy is the file that is checked and archived, so SM3 is
always of the archived bytes.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .digests import CHUNK, OPENSSL_SM3, Digests, new_sm3
from .errors import PackageError

DEFAULT_BUDGET = 64 << 20


class SM3Failed(PackageError):
    """The SM3 of a copied file could not be computed (its copy unreadable or cut short)."""

    code = "package.sm3_failed"


class TrailingSM3:
    """One worker thread computing the SM3 of each copied file, in the order copied.

    Use it as a context manager: leaving the block without ``results`` (an error, a
    check that raised) stops the worker and waits for it, so no thread outlives the
    filing and no file stays open.
    """

    def __init__(self, budget: int | None = None) -> None:
        self._budget = DEFAULT_BUDGET if budget is None else budget
        self._held = 0  # bytes handed over in memory and not yet hashed
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._results: dict[str, str] = {}
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread: threading.Thread | None = None
        self._closed = False
        self.read_back = 0  # bytes the worker read back from the copies (over budget)

    def __enter__(self) -> TrailingSM3:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    @property
    def pending(self) -> bool:
        """True while a started worker has not been joined."""
        return self._thread is not None and not self._closed

    def begin(self, key: str, copy: Path) -> None:
        """The chunks that follow are those of ``copy`` (written from offset 0), under ``key``."""
        if self._closed:
            raise RuntimeError("TrailingSM3 already joined")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sm3-trailing", daemon=True)
            self._thread.start()
        self._queue.put(("begin", key, os.fspath(copy)))

    def update(self, chunk: bytes, offset: int) -> None:
        """``chunk`` has been written at ``offset`` of the current copy (and reached the OS)."""
        with self._lock:
            in_memory = self._held + len(chunk) <= self._budget
            if in_memory:
                self._held += len(chunk)
        self._queue.put(("data", chunk) if in_memory else ("at", offset, len(chunk)))

    def end(self) -> None:
        """The current copy is complete: its digest is the next result."""
        self._queue.put(("end",))

    def results(self) -> dict[str, str]:
        """Wait for the worker; every copied file's SM3 by key. Raises ``SM3Failed``."""
        self._join()
        if self._error is not None:
            raise SM3Failed(f"无法计算 SM3 摘要：{self._error}") from self._error
        if self._cancelled:
            raise SM3Failed("SM3 计算已停止，摘要不完整")
        return dict(self._results)

    def cancel(self) -> None:
        """Stop hashing (what is queued is dropped) and wait for the worker."""
        self._cancelled = True
        self._join()

    def _join(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        state = _Current()
        try:
            while (item := self._queue.get()) is not None:
                if item[0] == "data":
                    with self._lock:
                        self._held -= len(item[1])
                if self._cancelled or self._error is not None:
                    continue  # drained, not hashed
                try:
                    self._step(state, item)
                except Exception as exc:  # noqa: BLE001 - raised to the caller by results()
                    self._error = exc
                    state.close()
        finally:
            state.close()

    def _step(self, state: _Current, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "begin":
            state.close()
            state.key, state.path, state.hash = item[1], item[2], new_sm3()
        elif kind == "data":
            state.hash.update(item[1])
        elif kind == "at":
            _, offset, length = item
            if state.fd is None:
                state.fd = os.open(state.path, os.O_RDONLY)
            state.hash.update(_pread_exactly(state.fd, length, offset, state.path))
            self.read_back += length
        elif kind == "end":
            self._results[state.key] = state.hash.hexdigest()
            state.close()


@dataclass
class _Current:
    key: str = ""
    path: str = ""
    hash: Any = None
    fd: int | None = None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _pread_exactly(fd: int, length: int, offset: int, path: str) -> bytes:
    data = os.pread(fd, length, offset)
    while len(data) < length:
        more = os.pread(fd, length - len(data), offset + len(data))
        if not more:
            raise OSError(f"{path} 在第 {offset + len(data)} 字节处变短（写入后被改动）")
        data += more
    return data


@dataclass(frozen=True)
class Measured:
    """A copied file's size and SHA-256, and its SM3 when it is already known.

    ``sm3`` is None while the worker of a ``TrailingSM3`` still computes it;
    ``complete`` gives the ``Digests`` once it has.
    """

    size: int
    sha256: str
    sm3: str | None

    def complete(self, trailing_results: dict[str, str], key: str) -> Digests:
        sm3 = self.sm3 if self.sm3 is not None else trailing_results.get(key)
        if sm3 is None:
            raise SM3Failed(f"{key} 的 SM3 摘要未计算完成")
        return Digests(self.size, self.sha256, sm3)


def copy_measuring(src: Path | str, dst: Path | str, tee: Path | str | None,
                   trailing: TrailingSM3, key: str) -> Measured:
    """Copy ``src`` to a new file ``dst`` (and ``tee``) in one read, measuring it.

    A file of one chunk or less is hashed on the spot, as before; a larger one's SM3 is
    left to ``trailing`` under ``key``. Not fsynced: the caller makes the bytes durable.
    """
    with open(src, "rb") as fin, open(dst, "xb") as fout, \
            (open(tee, "xb") if tee is not None else _NoTee()) as ftee:
        first = fin.read(CHUNK)
        if len(first) < CHUNK or not OPENSSL_SM3:
            sha, sm3, size, chunk = hashlib.sha256(), new_sm3(), 0, first
            while chunk:
                size += len(chunk)
                sha.update(chunk)
                sm3.update(chunk)
                fout.write(chunk)
                ftee.write(chunk)
                chunk = fin.read(CHUNK)
            return Measured(size, sha.hexdigest(), sm3.hexdigest())
        sha, size, chunk = hashlib.sha256(), 0, first
        trailing.begin(key, Path(dst))
        while chunk:
            sha.update(chunk)
            fout.write(chunk)
            fout.flush()  # the worker may read this chunk back from the copy
            trailing.update(chunk, size)
            ftee.write(chunk)
            size += len(chunk)
            chunk = fin.read(CHUNK)
        trailing.end()
        return Measured(size, sha.hexdigest(), None)


class _NoTee:
    def __enter__(self) -> _NoTee:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, data: bytes) -> int:
        return len(data)
