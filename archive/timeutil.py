"""Time stamps: stored as UTC, shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 with an offset into an aware UTC datetime (naive input is refused)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"时间 {text!r} 缺少时区偏移")
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_precise(value: datetime) -> str:
    """``iso`` to the microsecond: for instants that are compared with each other (a key's
    revocation and a case's receipt can fall within one second)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def local(value: datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
