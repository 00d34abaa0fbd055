"""Reading a stored description once per distinct content, for every copy that holds it.

Why: an audit validates the description of each copy of an AIP, and the copies carry
the same bytes; XSD validity and the model are functions of the bytes alone.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..errors import AIPInvalid
from .description import model_of, parse_xml, xsd_errors_of


@dataclass(frozen=True)
class DescriptionReading:
    """One description read: malformed (``malformed`` says why), else its XSD errors and
    the model, or why the model cannot be read (``unreadable``)."""

    malformed: str | None = None
    errors: tuple[dict[str, Any], ...] = ()
    model: dict[str, Any] | None = None
    unreadable: str | None = None


_READINGS: OrderedDict[bytes, DescriptionReading] = OrderedDict()
_READINGS_KEPT = 8
_READINGS_LOCK = threading.Lock()


def read_description(data: bytes) -> DescriptionReading:
    """XSD validation and the model from one parse, remembered for the same bytes.

    Why: the copies of an AIP carry the same description, and an audit reads both;
    the result is a function of the bytes alone, so the second copy costs a SHA-256
    (keyed with the length) instead of a parse and a validation. Treat ``model`` as
    read-only: copies with equal bytes share it.
    """
    key = hashlib.sha256(data).digest() + len(data).to_bytes(8, "big")
    with _READINGS_LOCK:
        found = _READINGS.get(key)
        if found is not None:
            _READINGS.move_to_end(key)
            return found
    try:
        root = parse_xml(data)
    except AIPInvalid as exc:
        reading = DescriptionReading(malformed=exc.message)
    else:
        errors = tuple(xsd_errors_of(root))
        try:
            reading = DescriptionReading(errors=errors, model=model_of(root))
        except AIPInvalid as exc:
            reading = DescriptionReading(errors=errors, unreadable=exc.message)
    with _READINGS_LOCK:
        _READINGS[key] = reading
        while len(_READINGS) > _READINGS_KEPT:
            _READINGS.popitem(last=False)
    return reading
