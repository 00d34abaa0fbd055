"""The case.json JSON Schema, the metadata scheme table, and that they agree."""

import copy

import pytest
from jsonschema import Draft202012Validator

from dangan.packages.case_schema import (
    CHANNEL_NAMES,
    CLASSIFICATION_NAMES,
    DOCUMENT_KIND_NAMES,
    INSURANCE_NAMES,
    METADATA,
    METADATA_BY_PATH,
    ORIGIN_NAMES,
    OUTCOME_NAMES,
    PARTY_KIND_NAMES,
    STEP_NAMES,
    SUBMISSION_STEPS,
    load_schema,
    parse_datetime,
    schema_errors,
)
from dangan.packages.identity import ID_TYPE_NAMES
from tests.packages.checks.casebuilder import make_case


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _subschema(path: str) -> tuple[dict, dict | None, str]:
    """(subschema of element, its parent object schema or None for array items, key)."""
    schema = load_schema()
    node, parent, key = schema, None, ""
    for part in path.split("."):
        name, each = (part[:-2], True) if part.endswith("[]") else (part, False)
        parent, key = _resolve(schema, node), name
        node = _resolve(schema, parent["properties"][name])
        if each:
            parent, node = None, _resolve(schema, node["items"])
    return node, parent, key


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["properties"]["schema"]["const"] == "dangan/case-submission/1"


def test_valid_case_has_no_errors() -> None:
    assert schema_errors(make_case()) == []


@pytest.mark.parametrize("element", METADATA, ids=lambda e: e.path)
def test_metadata_row_agrees_with_schema(element) -> None:
    node, parent, key = _subschema(element.path)
    expected_type = "string" if element.type == "date-time" else element.type
    assert node["type"] == expected_type
    if element.type == "date-time":
        assert node["format"] == "date-time"
    if element.type == "string":
        assert node.get("maxLength") == element.max_length
    if element.type == "array":
        assert node.get("maxItems") == element.max_length
    if element.values is not None:
        assert tuple(node.get("enum") or [node.get("const")]) == element.values
    assert node.get("pattern") == element.pattern
    assert node.get("minimum") == element.minimum and node.get("maximum") == element.maximum
    if parent is not None:
        assert (key in parent.get("required", [])) == (element.constraint == "M")


def test_every_schema_property_has_a_metadata_row() -> None:
    schema = load_schema()
    missing = []

    def walk(node: dict, prefix: str) -> None:
        node = _resolve(schema, node)
        for name, child in node.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            if path not in METADATA_BY_PATH:
                missing.append(path)
            child = _resolve(schema, child)
            if child.get("type") == "object":
                walk(child, path)
            if child.get("type") == "array":
                items = _resolve(schema, child["items"])
                if items.get("type") == "object":
                    walk(items, f"{path}[]")

    walk(schema, "")
    assert missing == []


def test_every_string_has_a_max_length() -> None:
    for element in METADATA:
        if element.type in ("string", "date-time") and element.values is None:
            assert element.max_length, element.path


def test_chinese_value_names_cover_every_enum() -> None:
    schema = load_schema()
    assert set(CHANNEL_NAMES) == set(schema["properties"]["channel"]["enum"])
    assert set(INSURANCE_NAMES) == set(schema["properties"]["insurance"]["items"]["enum"])
    assert set(OUTCOME_NAMES) == set(_subschema("result.outcome")[0]["enum"])
    assert set(DOCUMENT_KIND_NAMES) == set(_subschema("files[].kind")[0]["enum"])
    assert set(ORIGIN_NAMES) == set(_subschema("files[].origin")[0]["enum"])
    assert set(PARTY_KIND_NAMES) == set(_subschema("applicant.kind")[0]["enum"])
    assert set(ID_TYPE_NAMES) == set(_subschema("applicant.id_type")[0]["enum"])
    assert set(CLASSIFICATION_NAMES) == set(_subschema("security.classification")[0]["enum"])
    assert set(SUBMISSION_STEPS) == set(_subschema("events[].step")[0]["enum"])
    assert STEP_NAMES["archive"] == "存档" and CHANNEL_NAMES["window"] == "窗口"
    assert OUTCOME_NAMES["not_accepted"] == "不予受理" and CLASSIFICATION_NAMES["restricted"] == "受限"


def test_every_error_is_reported_with_path_and_chinese_note() -> None:
    case = make_case()
    case["title"] = "题" * 201
    case["files"][1]["sha256"] = case["files"][1]["sha256"].upper()
    del case["agency"]["code"]
    case["channel"] = "fax"
    case["events"][2]["step"] = "archive"
    case["files"][0]["size"] = "1024"
    case["unexpected"] = True
    errors = {(e["path"], e["keyword"]): e for e in schema_errors(case)}
    assert set(errors) == {
        ("$.title", "maxLength"),
        ("$.files[1].sha256", "pattern"),
        ("$.agency.code", "required"),
        ("$.channel", "enum"),
        ("$.events[2].step", "enum"),
        ("$.files[0].size", "type"),
        ("$.unexpected", "additionalProperties"),
    }
    assert "题名" in errors[("$.title", "maxLength")]["note"]
    assert errors[("$.title", "maxLength")]["found"] == "201 字符"
    assert "经办机构代码" in errors[("$.agency.code", "required")]["note"]
    assert errors[("$.files[0].size", "type")]["expected"] == "整数"
    assert all(e["code"] == f"schema.{kw}" for (_, kw), e in errors.items())


def test_supersedes_requires_correction_reason() -> None:
    case = make_case()
    case["supersedes"] = "Z001-SB·2024-D100-GL-0001"
    errors = schema_errors(case)
    assert [(e["path"], e["keyword"]) for e in errors] == [("$.correction_reason", "dependentRequired")]
    case["correction_reason"] = "更正申请人姓名"
    assert schema_errors(case) == []


def test_id_type_and_id_number_come_together() -> None:
    case = make_case()
    del case["subjects"][0]["id_number"]
    paths = [e["path"] for e in schema_errors(case)]
    assert paths == ["$.subjects[0].id_number"]
    del case["subjects"][0]["id_type"]
    assert schema_errors(case) == []


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-03-01T09:00:00+08:00", True),
        ("2024-03-01T01:00:00Z", True),
        ("2024-03-01T09:00:00.123456789+08:00", True),
        ("2024-03-01T09:00:00", False),  # no offset
        ("2024-03-01 09:00:00+08:00", False),
        ("2024-02-30T09:00:00+08:00", False),  # no such day
        ("2024-03-01T25:00:00+08:00", False),
    ],
)
def test_date_times_need_an_offset_and_a_real_date(value: str, ok: bool) -> None:
    case = make_case()
    case["accepted_at"] = value
    assert (schema_errors(case) == []) is ok
    assert (parse_datetime(value) is not None) is ok


@pytest.mark.parametrize(
    ("path", "value", "ok"),
    [
        (("case_id",), "BJ-2024.000_1", True),
        (("case_id",), "BJ 2024", False),
        (("case_id",), "x" * 65, False),
        (("agency", "code"), "110105", True),
        (("agency", "code"), "110105-01", True),
        (("agency", "code"), "11010", False),
        (("agency", "code"), "010105", False),
        (("files", 0, "media_type"), "application/ofd", True),
        (("files", 0, "media_type"), "pdf", False),
        (("files", 0, "sm3"), "A" * 64, True),
        (("files", 0, "sm3"), "g" * 64, False),
        (("files", 0, "sha256"), "a" * 63, False),
    ],
)
def test_field_patterns(path: tuple, value: str, ok: bool) -> None:
    case = copy.deepcopy(make_case())
    node = case
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert (schema_errors(case) == []) is ok
