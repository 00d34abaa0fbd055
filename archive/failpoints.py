"""Named pause points for crash tests.

When ``DANGAN_FAILPOINT`` names a point, the process writes ``<point>`` into the file
named by ``DANGAN_FAILPOINT_READY`` and sleeps there, so a test can SIGKILL it at that
exact step of a real ingest or destruction. Unset (always, in production), a point costs one dict lookup.
"""

from __future__ import annotations

import os
import time


def reach(point: str) -> None:
    if os.environ.get("DANGAN_FAILPOINT") != point:
        return
    ready = os.environ.get("DANGAN_FAILPOINT_READY")
    if ready:
        with open(ready, "w") as f:
            f.write(point)
    time.sleep(3600)
