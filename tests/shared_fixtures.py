"""Where the real third-party files live: ``shared/fixtures`` beside the repository.

CI clones the repository with ``shared/`` beside it; ``DANGAN_SHARED`` overrides.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DANGAN_SHARED") or _REPO.parent / "shared")
if not SHARED.is_dir() and Path("/work/shared").is_dir():
    SHARED = Path("/work/shared")
FIXTURES = SHARED / "fixtures"
OFD_FIXTURES = FIXTURES / "ofd"
