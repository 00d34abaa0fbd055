"""SHA-256 and SM3 of the same bytes in one read.

SM3 (GB/T 32905) comes from OpenSSL through ``hashlib`` where it is exposed, else from
the pure-Python ``gmssl``. Both digests are fed from one read; SM3 runs in a second
thread so that the two hashes (which release the GIL on large buffers) use both cores.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 1 << 20


class _GmsslSM3:
    """hashlib-like wrapper over gmssl's pure-Python SM3 (slow; a fallback only)."""

    name = "sm3"

    def __init__(self, data: bytes = b"") -> None:
        self._buf = bytearray(data)

    def update(self, data: bytes) -> None:
        self._buf.extend(data)

    def hexdigest(self) -> str:
        from gmssl import func, sm3

        return sm3.sm3_hash(func.bytes_to_list(bytes(self._buf)))

    def digest(self) -> bytes:
        return bytes.fromhex(self.hexdigest())


def _openssl_has_sm3() -> bool:
    try:
        hashlib.new("sm3", b"abc")
    except (ValueError, TypeError):
        return False
    return True


OPENSSL_SM3 = _openssl_has_sm3()


def new_sm3(data: bytes = b"", *, force_fallback: bool = False):
    """A fresh SM3 hash object (OpenSSL when available unless ``force_fallback``)."""
    if OPENSSL_SM3 and not force_fallback:
        return hashlib.new("sm3", data)
    return _GmsslSM3(data)


def sm3_hex(data: bytes) -> str:
    return new_sm3(data).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Digests:
    size: int
    sha256: str
    sm3: str


class _ParallelSM3:
    """Feeds chunks to an SM3 hash in a worker thread while the caller goes on reading."""

    def __init__(self) -> None:
        self._hash = new_sm3()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._hash.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        self._queue.put(None)
        self._thread.join()
        return self._hash.hexdigest()


def digest_stream(chunks: Iterable[bytes], sink: BinaryIO | None = None,
                  tee: BinaryIO | None = None) -> Digests:
    """SHA-256 and SM3 of a stream of chunks, optionally copying them to ``sink`` and
    ``tee``: each chunk is read once, hashed and written to both (SM3 in a second thread
    for large inputs; hashlib releases the GIL on large buffers)."""
    sha = hashlib.sha256()
    sm3: Any = None
    size = 0
    for chunk in chunks:
        if sm3 is None:
            # A second thread pays off only for large inputs (first chunk full).
            sm3 = _ParallelSM3() if OPENSSL_SM3 and len(chunk) >= CHUNK else new_sm3()
        size += len(chunk)
        sm3.update(chunk)
        sha.update(chunk)
        if sink is not None:
            sink.write(chunk)
        if tee is not None:
            tee.write(chunk)
    sm3_hex_value = (sm3 or new_sm3()).hexdigest()
    return Digests(size=size, sha256=sha.hexdigest(), sm3=sm3_hex_value)


def _read_chunks(f: BinaryIO) -> Iterable[bytes]:
    while chunk := f.read(CHUNK):
        yield chunk


def digest_file(path: Path | str) -> Digests:
    with open(path, "rb") as f:
        return digest_stream(_read_chunks(f))


def copy_and_digest(src: Path | str, dst: Path | str, tee: Path | str | None = None) -> Digests:
    """Copy ``src`` to a new file ``dst`` (and to a new file ``tee``, from the same
    read) and return the digests of what was written.

    Not fsynced here: the caller makes the final home of the bytes durable once.
    """
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        if tee is None:
            return digest_stream(_read_chunks(fin), fout)
        with open(tee, "xb") as ftee:
            return digest_stream(_read_chunks(fin), fout, ftee)
