"""``dangan verify``, ``dangan fixity``, ``dangan evidence`` and ``package verify-evidence``
as an operator and an inspector use them: exit codes, JSON, Chinese messages."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from dangan.archive import keys, replica
from dangan.archive.instance import Archive
from dangan.ingest.service import ingest
from dangan.web.cli import main


def run(archive: Archive, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(archive.home), *args])


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def filed(archive: Archive, make_case: Callable[..., Path]) -> dict[str, str]:
    outcome = ingest(archive, make_case(), ocr=False)
    assert outcome.status == "archived", outcome.reason
    replica.write_replica(archive, outcome.aip_id)
    return {"aip_id": outcome.aip_id, "case_id": outcome.case_id or "",
            "code": outcome.archival_code or ""}


def flip_first_pdf(root: Path) -> Path:
    victim = sorted((root / "data/submission/files").rglob("*.pdf"))[0]
    for p in [victim, *victim.parents]:
        if p.name == "aips":
            break
        os.chmod(p, stat.S_IRWXU if p.is_dir() else 0o644)
    data = bytearray(victim.read_bytes())
    data[120] ^= 0x04
    victim.write_bytes(bytes(data))
    return victim


def test_verify_json_lists_every_step_with_evidence(archive: Archive,
                                                    filed: dict[str, str]) -> None:
    for ref in filed.values():
        result = run(archive, "verify", ref, "--json")
        assert result.exit_code == 0, result.output
        doc = as_json(result)
        assert doc["status"] == "ok"
        [item] = doc["items"]
        assert item["aip_id"] == filed["aip_id"] and item["ok"]
        for step in item["steps"]:
            assert set(step) == {"step", "ok", "evidence", "message"} and step["ok"]
    human = run(archive, "verify", filed["code"])
    assert human.exit_code == 0 and "全部验证通过" in human.stdout and "[通过] 来源签名" in human.stdout


def test_verify_exits_3_after_a_flipped_byte_and_all_names_it(
        archive: Archive, filed: dict[str, str]) -> None:
    flip_first_pdf(archive.store.path(filed["aip_id"]))
    result = run(archive, "verify", filed["case_id"], "--json")
    assert result.exit_code == 3
    bad = [s for s in as_json(result)["items"][0]["steps"] if not s["ok"]]
    assert [s["step"] for s in bad] == ["manifest_digests"]
    assert "摘要与清单不符" in bad[0]["message"]
    everything = run(archive, "verify", "--all")
    assert everything.exit_code == 3 and "[不通过] 内容摘要" in everything.stdout
    assert "共 1 件，0 件通过，1 件不通过" in everything.stdout


def test_verify_needs_a_reference_or_all(archive: Archive, filed: dict[str, str]) -> None:
    assert run(archive, "verify").exit_code == 2
    assert run(archive, "verify", filed["aip_id"], "--all").exit_code == 2
    missing = run(archive, "verify", "no-such-case")
    assert missing.exit_code == 2 and "archive.not_found" in missing.output


def test_fixity_run_repairs_then_reports(archive: Archive, filed: dict[str, str]) -> None:
    victim = flip_first_pdf(replica.replica_store(archive).path(filed["aip_id"]))
    result = run(archive, "fixity", "run", "--all", "--json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["counts"]["repaired"] == 1 and doc["items"][0]["copies"]["replica"]["status"] == "damaged"
    assert victim.read_bytes() == (archive.store.path(filed["aip_id"]) /
                                   victim.relative_to(replica.replica_store(archive)
                                                      .path(filed["aip_id"]))).read_bytes()
    assert run(archive, "verify", filed["aip_id"]).exit_code == 0
    report = run(archive, "fixity", "report", "--json")
    assert as_json(report)["latest_outcomes"] == {"repaired": 1}
    assert "最近结果：已修复 1" in run(archive, "fixity", "report").stdout
    due = run(archive, "fixity", "run")
    assert due.exit_code == 0 and "无到期条目" in due.stdout


def test_fixity_run_exits_3_when_both_copies_are_damaged(archive: Archive,
                                                          filed: dict[str, str]) -> None:
    for store in replica.stores(archive).values():
        flip_first_pdf(store.path(filed["aip_id"]))
    result = run(archive, "fixity", "run", "--sample", "5")
    assert result.exit_code == 3 and "两个副本均损坏，无法自动修复" in result.stdout
    assert run(archive, "fixity", "run", "--sample", "1", "--all").exit_code == 2


def test_evidence_and_offline_verification(archive: Archive, filed: dict[str, str],
                                           tmp_path: Path) -> None:
    dest = tmp_path / "证据包.zip"
    made = run(archive, "evidence", filed["case_id"], str(dest))
    assert made.exit_code == 0 and "已生成证据包" in made.stdout and dest.is_file()
    assert run(archive, "evidence", filed["case_id"], str(dest)).exit_code == 2  # no overwrite
    pem = archive.home / keys.KEY_DIR / keys.PUBLIC_KEY
    ok = CliRunner().invoke(main, ["package", "verify-evidence", str(dest), "--key", str(pem),
                                   "--json"])
    assert ok.exit_code == 0 and as_json(ok)["valid"] and as_json(ok)["aip_id"] == filed["aip_id"]
    human = CliRunner().invoke(main, ["package", "verify-evidence", str(dest)])  # no key: not verified
    assert human.exit_code == 4 and "内部一致，但未经独立密钥认证" in human.stdout
    assert "验证通过" not in human.stdout
    with archive.db.engine.begin() as conn:  # the package is a snapshot: later edits don't matter
        conn.execute(text("UPDATE items SET title = 'x'"))
    assert CliRunner().invoke(main, ["package", "verify-evidence", str(dest), "--key",
                                     str(pem)]).exit_code == 0
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(dest) as src, zipfile.ZipFile(forged, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            out.writestr(info.filename, data.replace(b"2", b"3") if info.filename ==
                         "receipt.json" else data)
    bad = CliRunner().invoke(main, ["package", "verify-evidence", str(forged), "--key", str(pem)])
    assert bad.exit_code == 3 and "[不通过] 归档回执" in bad.stdout


def test_verify_with_the_key_from_the_registry_catches_a_replaced_archive_key(
        archive: Archive, filed: dict[str, str], tmp_path: Path) -> None:
    from dangan.packages import signing
    from tests.archive.test_replica_fixity import reseal

    registered = tmp_path / "registered.pem"
    registered.write_bytes(archive.key.public_pem)
    assert run(archive, "verify", filed["code"], "--key", str(registered)).exit_code == 0

    # An insider swaps the archive's key pair and re-signs the stored package with it.
    forged = signing.generate_private_key()
    public = archive.home / keys.KEY_DIR / keys.PUBLIC_KEY
    os.chmod(public, 0o644)
    public.write_bytes(signing.public_key_pem(forged))
    reseal(archive.store.path(filed["aip_id"]), forged, "archive-forged")

    pinned = run(archive, "verify", filed["code"], "--key", str(registered), "--json")
    assert pinned.exit_code == 3
    steps = {s["step"]: s for s in as_json(pinned)["items"][0]["steps"]}
    assert not steps["aip_signature"]["ok"]


def test_verify_refuses_a_key_file_that_is_not_a_public_key(
        archive: Archive, filed: dict[str, str], tmp_path: Path) -> None:
    bogus = tmp_path / "key.pem"
    bogus.write_text("not a key", "utf-8")
    result = run(archive, "verify", filed["code"], "--key", str(bogus))
    assert result.exit_code == 2 and "archive.public_key" in result.output
