"""A fixity audit run in a process of its own, for a caller that may not start workers.

Why: a Celery prefork worker runs each task in a daemonic process, and multiprocessing
forbids a daemonic process to start children ("daemonic processes are not allowed to
have children"): there an audit would examine every batch on one core, half the speed
of ``dangan fixity run`` on two. The task starts this module as a plain subprocess
(``python -m dangan.archive.fixity_child '<json arguments>'``), which may start the
audit's workers; it prints the task's summary as its last line of JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from .errors import ArchiveError


class FixityChildFailed(ArchiveError):
    """The audit's own process ended without a summary (killed, or it failed)."""

    code = "archive.fixity_child_failed"


def run_in_child(arguments: dict[str, Any]) -> dict[str, Any]:
    """``tasks.fixity_audit(**arguments)`` in a subprocess; its summary. The subprocess
    inherits the environment (``DANGAN_HOME``, the key passphrase or its file); if this
    process is stopped while waiting (a revoked task), the audit is stopped too, and
    the next audit starts from the items it did not record."""
    with subprocess.Popen([sys.executable, "-m", __name__, json.dumps(arguments)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            out, err = child.communicate()
        except BaseException:
            child.kill()
            raise
    lines = out.strip().splitlines()
    if child.returncode != 0 or not lines:
        raise FixityChildFailed(
            f"固定性检查子进程异常结束（退出码 {child.returncode}）：{err.strip()[-500:] or '无输出'}",
            [{"returncode": child.returncode}])
    return json.loads(lines[-1])


def main() -> int:
    from .tasks import fixity_audit  # tasks imports this module

    summary = fixity_audit(**json.loads(sys.argv[1]))
    sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
