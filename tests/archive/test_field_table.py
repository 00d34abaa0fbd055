"""One field table (packages/aip/fields.FIELDS) carries every case field through filing:
case.json → description.xml → catalogue row → item JSON → read-back and AIP comparison.

These tests iterate over the table itself, so a field added to it is covered without
touching them: it must reach the AIP, the catalogue and the JSON with the same value,
and an edited catalogue value of it must be caught by the fixity audit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from dangan.archive import catalogue, catalogue_fields, fixity
from dangan.archive.chain_facts import catalogue_differences
from dangan.archive.instance import Archive
from dangan.archive.models import Item
from dangan.archive.timeutil import parse_iso
from dangan.ingest import records
from dangan.ingest.service import ingest
from dangan.packages.aip import validate_aip
from dangan.packages.aip.bag import CASE_JSON
from dangan.packages.aip.fields import FIELDS, Field, described, field, raw_value

BENEFIT_CLAIM = "企业职工养老保险待遇申领办理"


def _at(d: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        d = d.get(key) if isinstance(d, dict) else None
    return d


def _filed(archive: Archive, make_case: Callable[..., Path]) -> tuple[str, dict[str, Any]]:
    # an approved benefit claim: it carries a decision number, so every field is present
    outcome = ingest(archive, make_case(BENEFIT_CLAIM, outcome="approved"), ocr=False)
    assert outcome.status == "archived", outcome.reason
    validation = validate_aip(archive.store.path(outcome.aip_id), archive.key.public_pem)
    assert validation.valid, validation.problems
    return outcome.aip_id, validation.description or {}


def test_every_table_field_round_trips_on_a_filed_case(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    aip_id, desc = _filed(archive, make_case)
    case = json.loads((archive.store.path(aip_id) / CASE_JSON).read_bytes())
    d = desc["signed_object"]["content"]["record"]["description"]
    with archive.db.session() as s:
        item = catalogue.get_item(s, aip_id)
        item_json = catalogue.item_to_dict(item)
        read = catalogue.read_back(s, aip_id)
        rule = archive.filing_config.get(case["service_item"]["code"])
        assert rule is not None
        filing = records.filing_dict(rule, archive.settings)
        sources = {"case": case, "filing": filing, "aip": {"archival_code": item.archival_code}}
        # the description read back from the XML is exactly what the table derives
        assert d == described(case, filing, item.archival_code)
        for f in FIELDS:
            value = _at(d, f.name)
            source = raw_value(f.source, sources) or (
                raw_value(f.fallback, sources) if f.fallback else None)
            assert source not in (None, "", []), f"the demo case lacks {f.name}; test is blind"
            assert value not in (None, "", []), f.name
            if f.column is None:
                continue
            column = getattr(item, f.column)
            if f.kind == "time":
                assert column == parse_iso(value), f.name
                assert _at(item_json, f.json_key or "") == column.isoformat(), f.name
            else:
                assert column == value, f.name
                assert _at(item_json, f.json_key or "") == value, f.name
            if f.read_back:
                assert read is not None and read[f.column] == column, f.name
        assert catalogue_differences(item, desc, item.aip_sha256, item.case_sha256) == []
        s.rollback()


def _tampered(f: Field, value: Any) -> Any:
    if f.kind == "time":
        return value + timedelta(days=1)
    if f.kind == "bool":
        return not value
    if f.kind in ("int", "year"):
        return value + 1
    if f.kind == "codes":
        return [*value, "tampered"]
    return f"{value or ''}篡改"


def test_an_edited_catalogue_value_of_any_table_field_is_caught(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    aip_id, desc = _filed(archive, make_case)
    # the archival code also names the copies, so an edited code makes them unusable for
    # the audit (tested in test_replica_fixity); the comparison below covers it too
    edited = [f for f in catalogue_fields.CATALOGUED if f.column != "archival_code"]
    with archive.db.session() as s:
        item = s.get(Item, aip_id)
        assert item is not None
        for f in edited:
            setattr(item, f.column or "", _tampered(f, getattr(item, f.column or "")))
    audit = fixity.audit_item(archive, aip_id, content=False)
    assert audit.outcome == "catalogue_mismatch"
    reported = {p.get("field") for p in audit.catalogue_problems}
    assert {f.column for f in edited} <= reported
    # GD-3-2 reads the table's read-back columns from the database and holds them to case.json
    assert "GD-3-2" in reported
    with archive.db.session() as s:
        item = catalogue.get_item(s, aip_id)
        item.archival_code = _tampered(field("archival_code"), item.archival_code)
        found = {p["field"] for p in catalogue_differences(item, desc, None, None)}
        s.rollback()
    assert {f.column for f in catalogue_fields.CATALOGUED} <= found
