"""Write-once AIP store on a local folder.

An AIP is built in ``staging/`` on the same file system, made read-only, fsynced and
renamed into ``aips/<2 hex>/<aip_id>`` in one step, so a crash leaves the whole AIP or
nothing. A ``pending/<aip_id>`` marker is written before the rename and removed once
the catalogue has committed; ``recover()`` (run inside the filing window) deletes an
AIP whose marker survived without a catalogue row: it was never acknowledged.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import StoreError


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _libc_syncfs() -> object | None:
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _libc_syncfs()
HAS_SYNCFS = _SYNCFS is not None


def _syncfs(path: Path) -> bool:
    """Flush the whole file system holding ``path`` in one call (Linux ``syncfs``)."""
    if _SYNCFS is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return _SYNCFS(fd) == 0  # type: ignore[operator]
    finally:
        os.close(fd)


def seal_tree(root: Path) -> None:
    """Make every file and folder read-only to the service account alone (0400 / 0500:
    an AIP holds personal data), then durable.

    One ``syncfs`` flushes them all where the platform has it (an fsync costs a few
    milliseconds on our disks, and an AIP has a dozen files and folders); otherwise each
    file and folder is fsynced.
    """
    files = [Path(d) / n for d, _dirs, names in os.walk(root) for n in names]
    folders = [Path(d) for d, _dirs, _names in os.walk(root, topdown=False)]
    for path in files:
        os.chmod(path, 0o400)
    for path in folders:
        os.chmod(path, 0o500)
    if _syncfs(root):
        return
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for path in folders:
        _fsync_dir(path)


def remove_tree(path: Path) -> None:
    """Delete a tree even when it was made read-only. A tree (or part of it) that another
    process removes meanwhile — two runs resuming one destruction or transfer — is not
    an error: what is gone is what was asked for."""
    if not path.exists():
        return
    for dirpath, _dirnames, _filenames in os.walk(path):
        try:
            os.chmod(dirpath, stat.S_IRWXU)
        except FileNotFoundError:
            continue

    def _gone_already(func: Any, p: str, exc: Any) -> None:
        if not issubclass(exc[0], FileNotFoundError):
            raise exc[1]

    shutil.rmtree(path, onerror=_gone_already)


class AIPStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.aips = root / "aips"
        self.pending = root / "pending"
        self.staging_root = root / "staging"

    def ensure(self) -> None:
        for d in (self.aips, self.pending, self.staging_root):
            d.mkdir(parents=True, exist_ok=True)

    def key_for(self, aip_id: str) -> str:
        return f"aips/{aip_id[:2]}/{aip_id}"

    def path(self, aip_id: str) -> Path:
        return self.root / self.key_for(aip_id)

    def exists(self, aip_id: str) -> bool:
        return self.path(aip_id).is_dir()

    def new_staging(self) -> Path:
        """A fresh private staging folder tagged with our pid (for sweeping)."""
        self.ensure()
        path = self.staging_root / f"{os.getpid()}-{uuid.uuid4().hex}"
        path.mkdir()
        return path

    def commit(self, staged: Path, aip_id: str) -> Path:
        """Move a finished AIP into place atomically; never overwrite."""
        final = self.path(aip_id)
        if final.exists():
            raise StoreError(f"存储中已有 AIP {aip_id}：一经写入不可覆盖")
        final.parent.mkdir(parents=True, exist_ok=True)
        marker = self.pending / aip_id
        with open(marker, "x") as f:
            f.write(str(os.getpid()))
            if not HAS_SYNCFS:  # else seal_tree's syncfs makes the marker durable too
                f.flush()
                os.fsync(f.fileno())
        if not HAS_SYNCFS:
            _fsync_dir(self.pending)
        seal_tree(staged)
        os.rename(staged, final)
        _fsync_dir(final.parent)
        return final

    def flush(self) -> None:
        """Write back staged bytes before the filing window, so the flush inside it is short."""
        self.ensure()
        _syncfs(self.staging_root)

    def acknowledge(self, aip_id: str) -> None:
        """The catalogue has committed: the AIP is no longer pending."""
        (self.pending / aip_id).unlink(missing_ok=True)

    def abandon(self, aip_id: str) -> None:
        """Undo a commit whose catalogue transaction failed."""
        remove_tree(self.path(aip_id))
        (self.pending / aip_id).unlink(missing_ok=True)

    def has_pending(self) -> bool:
        return self.pending.exists() and any(self.pending.iterdir())

    def recover(self, is_catalogued: Callable[[str], bool]) -> list[str]:
        """Resolve pending markers left by a crash; return the AIP ids removed."""
        removed: list[str] = []
        if not self.pending.exists():
            return removed
        for marker in sorted(self.pending.iterdir()):
            aip_id = marker.name
            if is_catalogued(aip_id):
                marker.unlink(missing_ok=True)
                continue
            remove_tree(self.path(aip_id))
            marker.unlink(missing_ok=True)
            removed.append(aip_id)
        return removed

    def sweep_staging(self) -> int:
        """Remove staging folders of processes that no longer run."""
        count = 0
        if not self.staging_root.exists():
            return count
        for folder in self.staging_root.iterdir():
            pid_text = folder.name.split("-", 1)[0]
            if pid_text.isdigit() and pid_alive(int(pid_text)):
                continue
            remove_tree(folder)
            count += 1
        return count

    def iter_aip_ids(self) -> Iterator[str]:
        if not self.aips.exists():
            return
        for shard in sorted(self.aips.iterdir()):
            for aip in sorted(shard.iterdir()):
                yield aip.name


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (ours counts; another user's too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
