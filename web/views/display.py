"""Small display rules shared by pages and the API: local time, masked ID numbers."""

from __future__ import annotations

from datetime import datetime

from dangan.archive.timeutil import local


def local_time(value: str | datetime | None) -> str:
    """An ISO time stamp or aware datetime shown in Asia/Shanghai."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return local(value)


def mask_id(number: str | None, unmasked: bool = False) -> str:
    """A resident ID shown as 110101********1234 unless the reader may see it whole."""
    if not number or unmasked:
        return number or ""
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
