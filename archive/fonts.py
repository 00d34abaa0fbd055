"""A font with Chinese glyphs, for what Dangan draws itself (watermarks, demo scans).

Looked up once: ``$DANGAN_CJK_FONT``, then fontconfig's first font for ``zh``, then the
usual font folders by file name. None when the machine has no CJK font at all.
"""

from __future__ import annotations

import glob
import os
import subprocess
from functools import lru_cache

_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts"),
              "/System/Library/Fonts", "C:/Windows/Fonts")
_CJK_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehan", "droidsansfallback", "simsun",
              "simhei", "msyh", "uming", "ukai", "arphic", "fangsong", "songti", "pingfang")


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """A font file that has Chinese glyphs, or None when the machine has none."""
    env = os.environ.get("DANGAN_CJK_FONT")
    if env and os.path.isfile(env):
        return env
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
        files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
        if files:
            return files[0]
    except (OSError, subprocess.SubprocessError):
        pass
    for root in _FONT_DIRS:
        for path in sorted(glob.glob(os.path.join(root, "**", "*.tt[fc]"), recursive=True)
                           + sorted(glob.glob(os.path.join(root, "**", "*.otf"), recursive=True))):
            if any(h in os.path.basename(path).lower().replace("-", "").replace("_", "")
                   for h in _CJK_HINTS):
                return path
    return None
