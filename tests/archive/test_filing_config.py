"""The packaged filing configuration and the loader's refusal of broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dangan.archive.filing_config import (
    DOCUMENT_KINDS,
    OUTCOMES,
    FilingConfigError,
    load_filing_config,
)
from dangan.packages.archival_code import CATEGORY_CODES, RETENTION_CODES
from dangan.packages.checks import FilingRule

PACKAGED = Path(__file__).resolve().parents[2] / "archive" / "service_items.json"


@pytest.fixture(scope="module")
def config():
    return load_filing_config()


def test_packaged_config_has_the_catalogue(config):
    assert 30 <= len(config.items) <= 60
    item = next(i for i in config.items if i.name == "企业职工基本养老保险参保登记")
    assert item.category == "管理类" and item.category_code == "GL"
    assert item.retention == "D100"  # 参保人员登记材料 100年
    assert "参保人员登记材料" in item.legal_basis
    assert config.get(item.code) is item
    assert config.get("SB-NO-SUCH-999") is None
    names = {i.name for i in config.items}
    for expected in ("企业社会保险登记办理", "参保企业注销", "企业职工养老保险待遇申领办理",
                     "病残津贴申领办理", "企业职工丧葬补助金、抚恤金申领办理",
                     "企业职工个人账户一次性待遇申领办理", "领取养老金人员待遇资格认证办理",
                     "失业保险金申领办理", "企业社会保险费断缴补缴申报受理"):
        assert expected in names
    insured = {ins for i in config.items for ins in i.insurance}
    assert insured == {"pension", "injury", "unemployment"}


def test_every_item_is_well_formed(config):
    codes = [i.code for i in config.items]
    assert len(set(codes)) == len(codes)
    for item in config.items:
        assert item.retention in RETENTION_CODES, item.code
        assert CATEGORY_CODES[item.category_code] == item.category, item.code
        assert item.classification_code.split("-")[1] == item.category_code
        assert set(item.required_documents) == set(OUTCOMES)
        for kinds in item.required_documents.values():
            assert kinds and set(kinds) <= set(DOCUMENT_KINDS)
        assert "refusal_notice" in item.required_documents["not_accepted"]
        assert item.legal_basis


def test_retention_follows_the_2009_attachment(config):
    by_name = {i.name: i for i in config.items}
    assert by_name["企业社会保险登记办理"].retention == "Y"  # 参保单位登记材料 永久
    assert by_name["参保企业注销"].retention == "Y"
    assert by_name["领取养老金人员待遇资格认证办理"].retention == "D50"  # 资格认证 50年
    assert by_name["个人账户调整"].retention == "D100"  # 个人账户管理 100年


def test_transfers_require_letter_and_form(config):
    outs = [i for i in config.items if i.classification_code.endswith("-ZC")]
    ins = [i for i in config.items if i.classification_code.endswith("-ZR")]
    assert outs and ins
    for item in outs + ins:
        approved = item.required_documents["approved"]
        assert "transfer_letter" in approved and "transfer_form" in approved, item.code


def test_rules_are_the_check_engines_type(config):
    rules = config.rules()
    assert set(rules) == {i.code for i in config.items}
    rule = rules[config.items[0].code]
    assert isinstance(rule, FilingRule)
    assert isinstance(rule.required_documents["approved"], tuple)


def test_to_json_round_trips(config, tmp_path):
    text = config.to_json()
    doc = json.loads(text)
    assert doc["version"] == config.version and len(doc["items"]) == len(config.items)
    copy = tmp_path / "copy.json"
    copy.write_text(text, encoding="utf-8")
    again = load_filing_config(copy)
    assert again.rules() == config.rules()


def _broken(tmp_path, mutate) -> Path:
    doc = json.loads(PACKAGED.read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_unknown_retention_names_item_and_field(tmp_path):
    def mutate(doc):
        doc["items"][0]["retention"] = "D20"

    with pytest.raises(FilingConfigError) as info:
        load_filing_config(_broken(tmp_path, mutate))
    err = info.value
    assert err.code == "config.filing"
    first = json.loads(PACKAGED.read_text(encoding="utf-8"))["items"][0]
    assert first["code"] in err.message and "retention" in err.message and "保管期限" in err.message
    assert [(d["code"], d["item"], d["field"], d["found"]) for d in err.details] == [
        ("config.item_field", first["code"], "retention", "D20")
    ]


def test_every_problem_is_listed(tmp_path):
    def mutate(doc):
        doc["items"][1]["code"] = doc["items"][0]["code"]
        doc["items"][2]["required_documents"]["approved"].append("selfie")
        doc["items"][3]["category"] = "杂项类"
        del doc["items"][4]["required_documents"]["withdrawn"]

    with pytest.raises(FilingConfigError) as info:
        load_filing_config(_broken(tmp_path, mutate))
    fields = [d["field"] for d in info.value.details]
    assert "config.duplicate_code" in {d["code"] for d in info.value.details}
    assert "code" in fields and "category" in fields
    assert "required_documents.approved" in fields and "required_documents.withdrawn" in fields
    assert "重复" in info.value.message and "selfie" in info.value.message


def test_not_accepted_without_refusal_notice_is_refused(tmp_path):
    def mutate(doc):
        doc["items"][0]["required_documents"]["not_accepted"] = ["application_form"]

    with pytest.raises(FilingConfigError, match="refusal_notice"):
        load_filing_config(_broken(tmp_path, mutate))


def test_not_json_says_where(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"version": "1",\n "items": [', encoding="utf-8")
    with pytest.raises(FilingConfigError, match="不是合法 JSON（第 2 行") as info:
        load_filing_config(path)
    assert [(d["code"], d["line"]) for d in info.value.details] == [("config.not_json", 2)]
