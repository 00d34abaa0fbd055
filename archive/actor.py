"""Who acts: the name recorded in the audit log for work started from this process."""

from __future__ import annotations

import getpass
import os


def default_actor() -> str:
    """``$DANGAN_ACTOR`` (set by a service or the web layer), else the operating-system user."""
    return os.environ.get("DANGAN_ACTOR") or f"os:{getpass.getuser()}"
