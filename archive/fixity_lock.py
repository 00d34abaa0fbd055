"""One fixity audit at a time per archive: a second one is refused at once, naming the first.

Why refuse rather than wait: two audits chosen at the same moment pick the same least
recently audited items and hash every byte twice; an archivist who starts one while the
nightly run is going wants to hear so now, not find a command hanging for hours. The
lock is an OS file lock (``flock``) in the archive's home, held by the auditing process
for the whole run: the kernel releases it when that process ends in any way, so an
audit that was killed (power cut, OOM, SIGKILL) never blocks the next one. The holder
writes who it is into the lock file, for the refusal message only (the lock itself is
the ``flock``, never the file's content).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .errors import ConflictError
from .instance import Archive
from .timeutil import iso, utcnow

LOCK_NAME = "fixity.lock"


class AuditRunning(ConflictError):
    """Another fixity audit of this archive is running."""

    code = "archive.fixity_running"


class Holder:
    """The lock held by this process; ``name_run`` records the run for later refusals."""

    def __init__(self, fd: int, info: dict[str, Any]) -> None:
        self._fd, self.info = fd, info

    def name_run(self, run_id: int) -> None:
        self.info["run_id"] = run_id
        data = json.dumps(self.info, ensure_ascii=False).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)


def _refusal(fd: int) -> AuditRunning:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:  # the holder is writing it this instant
        info = {}
    run = f"第 {info['run_id']} 次" if info.get("run_id") else ""
    who = "，".join(f"{label}{info[k]}" for k, label in (
        ("actor", "由 "), ("started_at", "开始于 "), ("host", "主机 "), ("pid", "进程 "))
        if info.get(k))
    return AuditRunning(
        f"固定性检查{run}正在运行{f'（{who}）' if who else ''}，请待其结束后再运行"
        "（进程被终止时锁随之释放）", [{k: info.get(k) for k in ("run_id", "actor", "pid")}])


@contextmanager
def exclusive(archive: Archive, actor: str) -> Iterator[Holder]:
    """Hold the archive's fixity lock for the block, or raise ``AuditRunning`` at once."""
    fd = os.open(archive.home / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refusal(fd) from None
        holder = Holder(fd, {"actor": actor, "started_at": iso(utcnow()),
                             "host": socket.gethostname(), "pid": os.getpid()})
        holder.name_run(0)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
