"""The package description round-trips through XML and is checked by the XSD."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree

from dangan.packages.aip import parse_description, render_description, xsd_errors
from dangan.packages.aip.bag import digest_bytes
from dangan.packages.aip.description import NS
from dangan.packages.aip.model import describe
from dangan.packages.errors import AIPInvalid
from tests.packages.aip.aip_factory import make_keys, write_submission


@pytest.fixture
def model(tmp_path: Path) -> dict:
    inp = write_submission(tmp_path, make_keys().source)
    payload = {f"data/submission/{k}": v for k, v in inp.file_digests.items()}
    payload["data/submission/case.json"] = digest_bytes(inp.case_bytes)
    payload["data/submission/case.json.sig"] = digest_bytes((tmp_path / "case.json.sig").read_bytes())
    return describe(inp, payload, (tmp_path / "case.json.sig").read_bytes())


def test_round_trip_gives_back_every_value(model: dict) -> None:
    data = render_description(model)
    assert parse_description(data) == model
    assert xsd_errors(data) == []
    assert render_description(parse_description(data)) == data  # byte-stable


def test_text_xml_cannot_hold_round_trips_and_stays_valid(model: dict) -> None:
    odd = "控制符\x00\x1f、回车\r、孤立代理\ud800、\ufffe 结束"
    m = copy.deepcopy(model)
    m["signed_object"]["content"]["record"]["description"]["title"] = odd
    m["signed_object"]["content"]["record"]["description"]["channel"] = "win\x01dow"
    m["signed_object"]["content"]["check_report"][0]["evidence"] = [{"found": "\ud800\x00"}]
    data = render_description(m)
    assert xsd_errors(data) == []
    back = parse_description(data)
    assert back == m


def test_default_namespace_and_chinese_element_names(model: dict) -> None:
    root = etree.fromstring(render_description(model))
    assert root.nsmap == {None: NS}
    assert root.tag == f"{{{NS}}}电子文件封装包"
    so = root.find(f"{{{NS}}}被签名对象")
    assert so.find(f"{{{NS}}}封装包类型").text == "原始型"
    assert so.find(f"{{{NS}}}封装包类型").get("代码") == "original"
    assert [c.tag.split("}")[1] for c in so.find(f"{{{NS}}}封装内容")] == [
        "文件实体块", "业务实体块", "机构人员实体块", "检测报告"]


@pytest.mark.parametrize(
    ("change", "word"),
    [
        (lambda m: m["signed_object"]["content"]["record"]["description"].update(archival_code=""), "档号"),
        (lambda m: m["signed_object"]["content"]["record"]["description"].update(retention="D20"), "D20"),
        (lambda m: m["signed_object"].update(package_type="copy"), "copy"),
        (lambda m: m["signed_object"]["content"]["record"]["documents"][0]["digests"].update(sha256="XYZ"),
         "SHA256"),
        (lambda m: m["signed_object"]["explanation"].update(software=None), "软件环境"),
        (lambda m: m["signed_object"].update(catalogue=[dict(m["signed_object"]["catalogue"][0],
                                                             file_name="/etc/passwd")]), "电子档案名称"),
    ],
)
def test_xsd_names_what_is_wrong(model: dict, change, word: str) -> None:
    m = copy.deepcopy(model)
    change(m)
    errors = xsd_errors(render_description(m))
    assert errors and any(word in e["message"] or word in (e["element"] or "") for e in errors), errors


def test_entities_and_garbage_are_refused() -> None:
    with pytest.raises(AIPInvalid):
        parse_description(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    with pytest.raises(AIPInvalid):
        parse_description(b"<unclosed>")
    with pytest.raises(AIPInvalid):
        parse_description(b"<other xmlns='urn:x'/>")
