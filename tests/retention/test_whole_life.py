"""Whole lives on SQLite and PostgreSQL, through the CLI as the staff run it: file → due →
propose → two opinions → decision → principal's approval and 备案 → destruction under two
supervisors → register filed → verify says lawfully destroyed under the register → the
evidence package verifies offline → a tampered register fails both; and keep-longer."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from dangan.ingest.demo.generator import generate_submission
from dangan.ingest.service import ingest
from dangan.web.cli import main
from tests.casekit import KEY_ID, SYSTEM
from tests.retention.conftest import add_staff
from tests.retention.test_destruction import FILING, PRINCIPAL, SUPERVISORS

AS_OF = ("--as-of", "2026-06-01")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def life(request, tmp_path):
    """(archive, file a case, run the CLI) on the embedded SQLite or on PostgreSQL."""
    pg = request.param == "postgres"
    archive = request.getfixturevalue("pg_archive" if pg else "archive")
    key = request.getfixturevalue("pg_sender_key" if pg else "sender_key")
    add_staff(archive)
    runner, counter = CliRunner(), iter(range(1, 100))

    def file(retention: str, year: int):
        n = next(counter)
        item = next(i for i in archive.filing_config.items if i.retention == retention)
        path = generate_submission(tmp_path / f"life-{n}", rng=random.Random(900 + n),
                                   signing_key=key, key_id=KEY_ID, source_system=SYSTEM,
                                   service_item=item, year=year)
        outcome = ingest(archive, path)
        assert outcome.status == "archived", outcome.reason
        return outcome

    def cli(*args: str, actor: str = "archivist-li"):
        r = runner.invoke(main, ["--home", str(archive.home), *args],
                          env={"DANGAN_ACTOR": actor}, catch_exceptions=False)
        if "--json" in args and r.exit_code in (0, 3, 4):
            return r.exit_code, json.loads(r.stdout)
        return r.exit_code, r.output

    return archive, file, cli


def _decided(cli, action: str, ref: str, *extra: str) -> str:
    code, p = cli("retention", "appraisal", "propose", ref, "--action", action, "--reason",
                  "保管期限已满", *extra, *AS_OF, "--json")
    assert code == 0, p
    for member in ("expert-zhao", "hrss-wang"):
        assert cli("retention", "appraisal", "opinion", str(p["id"]), "--agree", "--comment",
                   "同意", actor=member)[0] == 0
    code, d = cli("retention", "appraisal", "decide", str(p["id"]), "--conclusion",
                  "经鉴定同意", *AS_OF, "--json", actor="hrss-wang")
    assert code == 0 and d["state"] == "approved", d
    return str(p["id"])


def test_a_whole_life_to_a_lawful_destruction_and_its_evidence(life, tmp_path):
    archive, file, cli = life
    gone, longer, kept = file("D10", 2015), file("D10", 2015), file("Y", 2015)
    code, due = cli("retention", "due", *AS_OF, "--json")
    assert code == 0 and {gone.aip_id, longer.aip_id} <= {i["aip_id"] for i in due["items"]}
    assert kept.aip_id not in {i["aip_id"] for i in due["items"]}

    appraisal = _decided(cli, "destroy", gone.archival_code)
    assert cli("retention", "destruction", "approve", appraisal, *PRINCIPAL)[0] == 0
    code, batch = cli("retention", "destruction", "approve", appraisal, *FILING, "--json",
                      actor="archivist-wang")
    assert code == 0
    code, done = cli("retention", "destruction", "execute", str(batch["id"]), *SUPERVISORS,
                     "--method", "电子档案彻底删除", *AS_OF, "--json", actor="archivist-wang")
    assert code == 0 and done["state"] == "complete" and done["register"], done
    register = done["register"]["archival_code"]
    code, shown = cli("retention", "destruction", "show", str(batch["id"]))
    assert code == 0 and f"销毁清册已归档：档号 {register}" in shown

    code, out = cli("verify", gone.case_id, "--json")
    assert code == 0, out
    assert [(s["step"], s["ok"]) for s in out["items"][0]["steps"]] == [
        ("lawful_removal", True), ("register", True)]
    code, text = cli("verify", gone.aip_id)
    assert code == 0 and "已依法销毁" in text and register in text
    assert cli("verify", register)[0] == 0

    key = tmp_path / "archive.pub.pem"
    key.write_bytes(archive.public_pem)
    pkg = tmp_path / "gone.zip"
    assert cli("evidence", gone.aip_id, str(pkg), actor="supervisor-he")[0] == 0
    code, report = cli("package", "verify-evidence", str(pkg), "--key", str(key), "--json")
    assert code == 0 and report["status"] == "verified", report
    assert register in report["steps"][-1]["message"]

    # keep longer: a new period, the due date moves, the item stays
    _decided(cli, "extend", longer.aip_id, "--new-retention", "D30")
    code, sch = cli("retention", "schedule", longer.aip_id, "--json")
    assert code == 0 and sch["due_on"] == "2046-01-01"
    code, due = cli("retention", "due", *AS_OF, "--json")
    assert longer.aip_id not in {i["aip_id"] for i in due["items"]}
    assert cli("verify", longer.aip_id)[0] == 0

    # the register tampered with in the store: its own verification and the destroyed
    # case's both fail, and so does a fresh evidence package
    [xml] = [p for p in archive.store.path(done["register"]["aip_id"]).rglob("*.xml")
             if "销毁清册" in p.name]
    xml.write_bytes(xml.read_bytes().replace(b"supervisor-he", b"supervisor-xx"))
    assert cli("verify", register)[0] == 3
    code, out = cli("verify", gone.aip_id, "--json")
    assert code == 3 and out["items"][0]["steps"][1]["step"] == "register"
    assert not out["items"][0]["steps"][1]["ok"]
    tampered = tmp_path / "tampered.zip"
    assert cli("evidence", gone.aip_id, str(tampered), actor="supervisor-he")[0] == 0
    code, report = cli("package", "verify-evidence", str(tampered), "--key", str(key), "--json")
    assert code == 3 and report["failed_steps"] == ["register"], report
    # the package taken before the tampering still proves what happened
    assert cli("package", "verify-evidence", str(pkg), "--key", str(key))[0] == 0
