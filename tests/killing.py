"""Kill a real ``dangan`` process at a named failpoint (``archive/failpoints``), as a power
cut or an OOM kill would, so a test can check what the next run makes of it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def kill_at_failpoint(cmd: list[str], point: str, ready: Path, *, actor: str | None = None,
                      timeout: float = 120) -> None:
    """Run ``cmd`` until it reaches ``point`` (it touches ``ready`` there), then SIGKILL it."""
    env = {**os.environ, "DANGAN_FAILPOINT": point, "DANGAN_FAILPOINT_READY": str(ready)}
    if actor is not None:
        env["DANGAN_ACTOR"] = actor
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        assert time.monotonic() < deadline, "never reached the failpoint"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
