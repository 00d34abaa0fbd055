"""What the demo needs to invent realistic cases of a service item beyond how it is filed.

Who the parties are, which channels a case comes through, which materials the seeds list
and what the decision is titled are facts of case handling, not of filing: the archive's
filing configuration (``archive/service_items.json``) does not carry them. They live in
``profiles.json`` beside this module, keyed by service-item code, and only the demo reads
them. An item without a profile gets a plain one (a person, window or online, no seeded
materials).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from typing import Any

from dangan.archive.filing_config import ServiceItem

PROFILES_RESOURCE = "profiles.json"


@dataclass(frozen=True)
class Material:
    """One material the seeds list for an item, and which document kind it is."""

    title: str
    kind: str
    origin: str = "born_digital"


@dataclass(frozen=True)
class DemoItem(ServiceItem):
    """A service item as the demo plans cases of it: its filing rule plus its profile."""

    subject_kind: str = "person"
    applicant_kind: str = "person"
    channels: tuple[str, ...] = ("window", "online")
    materials: tuple[Material, ...] = ()
    decision_titles: Mapping[str, str] = field(default_factory=dict)

    def materials_of(self, kind: str) -> list[Material]:
        return [m for m in self.materials if m.kind == kind]


@lru_cache(maxsize=1)
def profiles() -> dict[str, dict[str, Any]]:
    """The packaged profiles, service-item code → profile fields."""
    text = resources.files("dangan.ingest.demo").joinpath(PROFILES_RESOURCE).read_text("utf-8")
    out: dict[str, dict[str, Any]] = {}
    for code, raw in json.loads(text)["items"].items():
        subject = raw.get("subject_kind", "person")
        out[code] = {
            "subject_kind": subject,
            "applicant_kind": raw.get("applicant_kind", subject),
            "channels": tuple(raw.get("channels", ("window", "online"))),
            "materials": tuple(Material(m["title"], m["kind"], m.get("origin", "born_digital"))
                               for m in raw.get("materials", ())),
            "decision_titles": dict(raw.get("decision_titles", {})),
        }
    return out


def demo_item(item: ServiceItem) -> DemoItem:
    """``item`` with its demo profile (a plain one when the profiles do not know it)."""
    if isinstance(item, DemoItem):
        return item
    rule = {f.name: getattr(item, f.name) for f in fields(ServiceItem)}
    return DemoItem(**rule, **profiles().get(item.code, {}))
