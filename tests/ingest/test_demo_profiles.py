"""The demo's profiles of service items: complete, in the submission vocabulary, and kept
out of the archive's filing configuration."""

from __future__ import annotations

from dataclasses import fields, replace

from dangan.archive.filing_config import OUTCOMES, ServiceItem, load_filing_config
from dangan.ingest.demo.generator import demo_items
from dangan.ingest.demo.profiles import DemoItem, demo_item, profiles
from dangan.packages.case_schema import (
    CHANNEL_NAMES,
    DOCUMENT_KIND_NAMES,
    ORIGIN_NAMES,
    PARTY_KIND_NAMES,
)

DEMO_FIELDS = {"subject_kind", "applicant_kind", "channels", "materials", "decision_titles"}


def test_every_configured_item_has_a_profile_the_submission_schema_accepts() -> None:
    config = demo_items(load_filing_config())  # not the archive's own destruction registers
    assert set(profiles()) == {item.code for item in config}
    for item in map(demo_item, config):
        assert {item.subject_kind, item.applicant_kind} <= set(PARTY_KIND_NAMES), item.code
        assert item.channels and set(item.channels) <= set(CHANNEL_NAMES), item.code
        assert {m.kind for m in item.materials} <= set(DOCUMENT_KIND_NAMES), item.code
        assert {m.origin for m in item.materials} <= set(ORIGIN_NAMES), item.code
        assert set(item.decision_titles) <= set(OUTCOMES), item.code
        # the demo can produce every document kind the filing rule requires
        for outcome, kinds in item.required_documents.items():
            assert set(kinds) <= {m.kind for m in item.materials}, (item.code, outcome)


def test_the_filing_configuration_carries_no_demo_fields() -> None:
    assert not DEMO_FIELDS & {f.name for f in fields(ServiceItem)}
    item = load_filing_config().get("SB-YL-ZC-001")
    assert item is not None and not DEMO_FIELDS & set(item.to_dict())
    planned = demo_item(item)
    assert isinstance(planned, DemoItem) and planned.rule() == item.rule()
    assert planned.materials_of("transfer_letter")


def test_an_item_unknown_to_the_profiles_gets_a_plain_one() -> None:
    item = load_filing_config().get("SB-YL-ZC-001")
    assert item is not None
    stranger = demo_item(replace(item, code="SB-YL-ZC-999"))
    assert (stranger.subject_kind, stranger.channels, stranger.materials) == (
        "person", ("window", "online"), ())
