"""Small display rules shared by pages and the API: local time, masked ID numbers."""

from __future__ import annotations

from datetime import datetime

from dangan.archive.timeutil import local
from dangan.packages import vocabulary as V

# Labels come from the one vocabulary; these names are what the templates use.
CLASSIFICATION_NAMES = V.CLASSIFICATIONS
ID_TYPE_NAMES = V.ID_TYPES
_VALUE_NAMES = {"outcome": V.OUTCOMES, "channel": V.CHANNELS,
                "retention": V.RETENTIONS, "security": V.CLASSIFICATIONS}


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


def value_name(field: str, value: object, labels: dict[str, dict[str, str]] | None = None) -> str:
    """A coded value (facet or record field) as a clerk calls it; the code if unknown."""
    text = str(value)
    if labels and text in labels.get(field, {}):
        return labels[field][text]
    return _VALUE_NAMES.get(field, {}).get(text, text)
