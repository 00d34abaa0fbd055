"""One record for every problem a check, a validation or a configuration load reports.

Like bagit-python's ``ChecksumMismatch(path, algorithm, expected, found)``: a problem is
data, not a sentence. ``code`` is stable (tests, reports and the web UI key on it);
``note`` is the Chinese sentence for a person and may be reworded freely. ``to_dict``
gives the JSON shape stored in check reports and printed by ``--json``, so the output
format does not depend on which layer found the problem.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found wrong: where (``path``, ``field``), what was ``expected`` and
    ``found``, a stable ``code`` and a ``note`` for people. ``extra`` carries facts
    particular to one kind of problem (an algorithm, a line number, a service item)."""

    code: str
    path: str | None = None
    field: str | None = None
    expected: Any = None
    found: Any = None
    note: str = ""
    extra: Mapping[str, Any] = dataclasses.field(default_factory=lambda: _NO_EXTRA)

    def __post_init__(self) -> None:
        if not self.code or not self.note:
            raise ValueError("a problem needs a stable code and a note for people")
        if self.extra:  # a record, not a view of the caller's dict
            object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def to_dict(self) -> dict[str, Any]:
        """``{code, path, [field], expected, found, note, **extra}``; ``field`` only
        when the problem concerns a named field, as the reports have always shown."""
        out: dict[str, Any] = {"code": self.code, "path": self.path}
        if self.field is not None:
            out["field"] = self.field
        out.update(expected=self.expected, found=self.found, note=self.note)
        out.update(self.extra)
        return out


def as_dicts(problems: Iterable[Problem | dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON form of a list of problems, in order (dicts read back pass through)."""
    return [p.to_dict() if isinstance(p, Problem) else p for p in problems]
