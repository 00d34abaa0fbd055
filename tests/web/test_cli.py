"""The command line as an archivist uses it: exit codes, JSON, Chinese messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dangan.packages import signing
from dangan.web.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_init_trust_and_config(runner, tmp_path):
    home = tmp_path / "home"
    code, out = run(runner, home, "init", "--fonds", "Z200")
    assert code == 0 and "Z200" in out
    code, out = run(runner, home, "init")
    assert code == 2 and "已是一个档案实例" in out
    pem = tmp_path / "k.pem"
    pem.write_bytes(signing.public_key_pem(signing.generate_private_key(signing.ECDSA_P256)))
    assert run(runner, home, "trust", "add", "jbxt", "k1", str(pem))[0] == 0
    code, out = run(runner, home, "trust", "list", "--json")
    [entry] = json.loads(out)
    assert entry["algorithm"] == "ecdsa-p256-sha256" and entry["revoked_at"] is None
    assert run(runner, home, "trust", "revoke", "jbxt", "k1", "--reason", "轮换")[0] == 0
    code, out = run(runner, home, "trust", "list")
    assert "已吊销" in out
    code, out = run(runner, home, "config", "service-items", "--json")
    items = json.loads(out)["items"]
    assert any(i["name"] == "企业职工基本养老保险参保登记" for i in items)


def test_commands_on_a_missing_instance_say_how_to_start(runner, tmp_path):
    code, out = run(runner, tmp_path / "none", "show", "X")
    assert code == 2 and "dangan init" in out


def test_ingest_show_export_validate(runner, archive, make_case, tmp_path):
    home = archive.home
    case = make_case()
    code, out = run(runner, home, "ingest", str(case), "--json")
    assert code == 0, out
    receipt = json.loads(out)
    assert receipt["status"] == "archived"
    code, out = run(runner, home, "ingest", str(case), "--json")
    assert code == 0 and json.loads(out)["status"] == "duplicate"
    code, out = run(runner, home, "show", receipt["case_id"], "--json")
    shown = json.loads(out)
    assert shown["aip_id"] == receipt["aip_id"] and shown["archival_code"] == receipt["archival_code"]
    code, out = run(runner, home, "show", receipt["archival_code"])
    assert code == 0 and "档号" in out and "存档" in out
    dest = tmp_path / "out.zip"
    assert run(runner, home, "export", receipt["aip_id"], str(dest))[0] == 0
    key = home / "keys" / "archive-key.pub.pem"
    code, out = run(runner, home, "package", "validate", str(dest), "--key", str(key), "--json")
    assert code == 0 and json.loads(out)["valid"] is True
    code, out = run(runner, home, "export", receipt["aip_id"], str(dest))
    assert code == 2 and "已存在" in out


def test_ingest_exit_codes_for_rejected_and_unusable(runner, archive, make_case, tmp_path):
    case = make_case()
    first = sorted((case / "files").iterdir())[0]
    first.write_bytes(first.read_bytes() + b"x")
    code, out = run(runner, archive.home, "ingest", str(case), "--json")
    assert code == 3
    report = json.loads(out)
    assert report["status"] == "rejected"
    assert any(c["result"] == "fail" and c["code"] == "GD-1-1-2" for c in report["checks"])
    code, out = run(runner, archive.home, "ingest", str(tmp_path / "missing"))
    assert code == 2 and "找不到" in out


def test_validate_reports_a_tampered_export(runner, archive, make_case, tmp_path):
    import zipfile

    code, out = run(runner, archive.home, "ingest", str(make_case()), "--json")
    aip_id = json.loads(out)["aip_id"]
    dest = tmp_path / "aip.zip"
    run(runner, archive.home, "export", aip_id, str(dest))
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(dest) as src, zipfile.ZipFile(tampered, "w") as out_zip:
        for info in src.infolist():
            data = src.read(info)
            if "/data/submission/files/" in info.filename and not info.is_dir():
                data = bytes([data[0] ^ 1]) + data[1:]
            out_zip.writestr(info, data)
    code, out = run(runner, archive.home, "package", "validate", str(tampered))
    assert code == 3 and "无效" in out


def test_config_checks_lists_every_item_with_nature_and_stages(runner, tmp_path):
    code, out = run(runner, tmp_path, "config", "checks", "--json")
    items = {c["code"]: c for c in json.loads(out)}
    assert code == 0 and len(items) >= 35
    assert items["GD-1-1-1"]["nature"] == "authenticity" and items["GD-1-1-1"]["stages"] == ["GD"]
    assert items["GD-2-7"]["stages"] == ["GD", "YJ", "BC"]
    assert items["GD-4-1"]["blocking"] is False


def test_an_archivist_reads_the_report_of_a_rejected_case(runner, archive, make_case):
    case = make_case()
    first = sorted((case / "files").iterdir())[0]
    first.write_bytes(first.read_bytes() + b"x")
    code, out = run(runner, archive.home, "ingest", str(case), "--json")
    rejected = json.loads(out)
    code, out = run(runner, archive.home, "rejections")
    assert code == 0 and f"#{rejected['rejection_id']}" in out and rejected["case_id"] in out
    code, out = run(runner, archive.home, "rejections", rejected["case_id"], "--json")
    [record] = json.loads(out)
    assert record["checks"] == rejected["checks"]
    code, out = run(runner, archive.home, "rejections", str(rejected["rejection_id"]))
    assert code == 0 and "GD-1-1-2" in out and "不通过" in out
    code, out = run(runner, archive.home, "rejections", "no-such-case")
    assert code == 2 and "没有" in out


def test_show_prints_labels_not_codes(runner, archive, make_case):
    """A clerk reads 办理渠道 窗口 and 办理结果 准予, never window or approved."""
    from dangan.packages import vocabulary as V

    home = archive.home
    code, out = run(runner, home, "ingest", str(make_case()), "--json")
    assert code == 0, out
    ref = json.loads(out)["archival_code"]
    shown = json.loads(run(runner, home, "show", ref, "--json")[1])
    code, out = run(runner, home, "show", ref)
    assert code == 0
    assert f"办理渠道 {V.CHANNELS[shown['channel']]}" in out
    assert f"办理结果 {V.OUTCOMES[shown['outcome']]}" in out
    assert f"第 1 版，{V.RECORD_STATUSES[shown['status']]}" in out
    for p in shown["parties"]:
        assert V.ID_TYPES[p["id_type"]] in out
    for raw in (shown["channel"], shown["outcome"], shown["status"], "resident_id", "applicant"):
        assert raw not in out.split(), raw
        assert f" {raw} " not in out and f"（{raw} " not in out


def test_config_service_items_names_outcomes_and_documents(runner, tmp_path):
    code, out = run(runner, tmp_path / "h", "config", "service-items")
    assert code == 0
    assert "准予：" in out and "不予受理：" in out and "不予受理决定书" in out
    assert "approved:" not in out and "refusal_notice" not in out
