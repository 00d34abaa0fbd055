"""Where the Whoosh index lives on disk, and how writers take turns safely.

Layout of an index home::

    <home>/current        symlink → the generation in use (swapped atomically by reindex)
    <home>/gen-<stamp>/    one complete Whoosh index per generation
    <home>/jieba/          jieba's dictionary cache

Whoosh commits atomically (new segment files, then a TOC renamed into place), so a killed
writer never damages committed data. It does leave two things behind: its lock file and
an owner record of ours (``WRITER.json``: pid, host, time). The lock is an ``flock`` that
the kernel drops when the process dies, so the next writer gets it; finding the owner
record then proves the previous writer died mid-write, and its half-written files
(unreferenced segments, temporary folders) are removed before writing. A lock still held
by a dead owner (e.g. an orphaned child) is reported with that owner's data, not broken.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.util.filelock import FileLock

from dangan.archive.store import pid_alive

from .errors import IndexBusy

log = logging.getLogger(__name__)

CURRENT = "current"
OWNER_FILE = "WRITER.json"
LOCK_NAME = "MAIN_WRITELOCK"  # Whoosh's own writer lock for the default index name


class IndexHome:
    """The folder holding index generations and the pointer to the current one."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def jieba_dir(self) -> Path:
        return self.root / "jieba"

    def current(self) -> Path | None:
        link = self.root / CURRENT
        try:
            target = os.readlink(link)
        except OSError:
            return None
        path = self.root / target
        return path if path.is_dir() else None

    def new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.root / f"gen-{stamp}-{os.getpid()}"
        path.mkdir()
        return path

    def swap(self, generation: Path) -> None:
        """Point ``current`` at ``generation`` in one atomic rename."""
        tmp = self.root / f".current-{os.getpid()}-{time.monotonic_ns()}"
        os.symlink(generation.name, tmp)
        os.replace(tmp, self.root / CURRENT)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def prune(self, keep_previous: Path | None = None) -> None:
        """Delete generations other than the current one (and ``keep_previous``, which
        readers opened before a swap may still be using)."""
        current = self.current()
        for path in self.root.glob("gen-*"):
            if path in (current, keep_previous) or not path.is_dir():
                continue
            if _generation_locked(path):
                continue  # a reindex still building it
            shutil.rmtree(path, ignore_errors=True)


def _generation_locked(path: Path) -> bool:
    lock = FileLock(str(path / LOCK_NAME))
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True


def read_owner(gen: Path) -> dict[str, Any] | None:
    try:
        return json.loads((gen / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clean_after_dead_writer(gen: Path, owner: dict[str, Any]) -> None:
    """Remove what a killed writer left half-done; committed segments are untouched
    (Whoosh deletes unreferenced segment files at the next commit)."""
    log.warning("index writer pid %s (%s, since %s) died mid-write; clearing its lock",
                owner.get("pid"), owner.get("host"), owner.get("started"))
    for p in gen.iterdir():
        if p.name.endswith(".tmp"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
    (gen / OWNER_FILE).unlink(missing_ok=True)


@contextlib.contextmanager
def writer_lock(gen: Path, timeout: float) -> Iterator[FileStorage]:
    """Hold the generation's writer lock; yields its storage. ``IndexBusy`` on timeout."""
    lock = FileLock(str(gen / LOCK_NAME))
    deadline = time.monotonic() + timeout
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            owner = read_owner(gen) or {}
            pid = owner.get("pid")
            dead = (owner.get("host") == socket.gethostname() and isinstance(pid, int)
                    and not pid_alive(pid))
            note = ("写入进程已不存在，但锁仍被其子进程持有，请结束该进程后重试" if dead
                    else "另一个写入进程正在更新索引")
            raise IndexBusy(f"检索索引正忙：{note}", [{"path": str(gen), **owner,
                                                    "owner_alive": not dead, "note": note}])
        time.sleep(0.05)
    try:
        owner = read_owner(gen)
        if owner is not None:
            clean_after_dead_writer(gen, owner)
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.now(UTC).isoformat(timespec="seconds")}
        (gen / OWNER_FILE).write_text(json.dumps(record), encoding="utf-8")
        try:
            yield FileStorage(str(gen))
        finally:
            (gen / OWNER_FILE).unlink(missing_ok=True)
    finally:
        lock.release()
