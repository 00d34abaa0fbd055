"""An insider deletes a filed case's catalogue rows: every check must notice, and the case
must not be filed a second time (issue 9, item 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text

from dangan.archive import audit_log, replica
from dangan.archive.crosscheck import CatalogueRecordMissing
from dangan.archive.instance import Archive
from dangan.archive.models import FiledCase, Item
from dangan.archive.timeutil import utcnow
from dangan.archive.tombstones import Tombstone
from dangan.ingest.service import ingest
from dangan.web.cli import main


def run(archive: Archive, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(archive.home), *args])


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def delete_catalogue_record(archive: Archive, aip_id: str) -> None:
    """What the attacker does: raw SQL on the SQLite catalogue, the log left alone."""
    with archive.db.engine.begin() as conn:
        for table in ("item_files", "parties", "item_events", "items"):
            conn.execute(text(f"DELETE FROM {table} WHERE aip_id = :a"), {"a": aip_id})


@pytest.fixture
def two_filed(archive: Archive, make_case: Callable[..., Path]) -> dict[str, Any]:
    """Two archived cases, each with its replica; the first one's submission kept."""
    path = make_case()
    victim = ingest(archive, path, index=False)
    other = ingest(archive, make_case(), index=False)
    assert victim.status == other.status == "archived"
    for o in (victim, other):
        assert replica.replica_store(archive).exists(o.aip_id or "")
    with archive.db.session() as s:
        [entry] = audit_log.find_entries(s, object_id=victim.aip_id, action="aip:file")
    return {"path": path, "aip_id": victim.aip_id, "code": victim.archival_code,
            "index": entry.index, "other": other.aip_id}


def test_an_intact_archive_cross_checks_clean(archive: Archive,
                                               two_filed: dict[str, Any]) -> None:
    result = run(archive, "verify", "--all", "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["crosscheck"] == []
    assert "交叉核对一致" in run(archive, "verify", "--all").stdout
    assert run(archive, "audit", "verify").exit_code == 0
    assert run(archive, "fixity", "run", "--all", "--no-content").exit_code == 0


def test_a_deleted_catalogue_record_fails_verify_audit_and_fixity(
    archive: Archive, two_filed: dict[str, Any]
) -> None:
    aip_id, code, index = two_filed["aip_id"], two_filed["code"], two_filed["index"]
    delete_catalogue_record(archive, aip_id)

    result = run(archive, "verify", "--all", "--json")
    assert result.exit_code == 3
    doc = as_json(result)
    assert [i["aip_id"] for i in doc["items"]] == [two_filed["other"]]  # the rest still holds
    found = {(p["kind"], p["store"]) for p in doc["crosscheck"] if p["aip_id"] == aip_id}
    assert found == {("catalogue_missing", None), ("uncatalogued_aip", "primary"),
                     ("uncatalogued_aip", "replica")}
    missing = next(p for p in doc["crosscheck"] if p["kind"] == "catalogue_missing")
    assert (missing["archival_code"], missing["audit_index"]) == (code, index)
    human = run(archive, "verify", "--all")
    assert human.exit_code == 3 and aip_id in human.stdout and code in human.stdout
    assert f"第 {index} 条" in human.stdout

    result = run(archive, "audit", "verify", "--json")
    assert result.exit_code == 3
    [problem] = as_json(result)["problems"]
    assert (problem["kind"], problem["index"], problem["aip_id"], problem["archival_code"]) == (
        "catalogue_missing", index, aip_id, code)

    result = run(archive, "fixity", "run", "--all", "--no-content", "--json")
    assert result.exit_code == 3
    [lost] = [i for i in as_json(result)["items"] if i["aip_id"] == aip_id]
    assert lost["outcome"] == "catalogue_missing" and lost["archival_code"] == code
    assert {p["kind"] for p in lost["catalogue"]["problems"]} == {"catalogue_missing",
                                                                  "uncatalogued_aip"}
    report = as_json(run(archive, "fixity", "report", "--json"))
    assert aip_id in {p["aip_id"] for p in report["open_problems"]}


def test_a_case_whose_record_was_deleted_is_not_filed_again(
    archive: Archive, two_filed: dict[str, Any]
) -> None:
    delete_catalogue_record(archive, two_filed["aip_id"])
    before = sorted(archive.store.iter_aip_ids())

    result = run(archive, "ingest", str(two_filed["path"]))
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "错误 [archive.catalogue_record_missing]" in result.stderr
    for fact in (two_filed["aip_id"], two_filed["code"], f"第 {two_filed['index']} 条",
                 "目录记录缺失", "dangan verify --all"):
        assert fact in result.stderr
    with pytest.raises(CatalogueRecordMissing) as refused:  # the service says the same
        ingest(archive, two_filed["path"], index=False)
    assert refused.value.details == [{"aip_id": two_filed["aip_id"],
                                      "archival_code": two_filed["code"],
                                      "audit_index": two_filed["index"]}]

    assert sorted(archive.store.iter_aip_ids()) == before  # nothing filed a second time
    with archive.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 1
        assert s.scalar(select(func.count()).select_from(FiledCase)) == 2


def test_the_filed_case_index_cannot_be_emptied_unnoticed(
    archive: Archive, two_filed: dict[str, Any]
) -> None:
    with archive.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM filed_cases WHERE aip_id = :a"), {"a": two_filed["aip_id"]})
    result = run(archive, "audit", "verify", "--json")
    assert result.exit_code == 3
    assert [(p["kind"], p["index"]) for p in as_json(result)["problems"]] == [
        ("index_missing", two_filed["index"])]


def test_a_lawfully_removed_record_is_not_a_loss(archive: Archive,
                                                 two_filed: dict[str, Any]) -> None:
    """Lawful = a tombstone whose ``aip:destroy`` entry agrees (retention writes both;
    tests/retention/test_destruction.py walks the real destruction)."""
    aip_id = two_filed["aip_id"]
    with archive.db.session() as s:
        digest = s.get(Item, aip_id).aip_sha256
    delete_catalogue_record(archive, aip_id)
    entry = audit_log.record(archive.db, actor="archivist-01", action="aip:destroy",
                             object_id=aip_id, object_digest=digest,
                             details={"archival_code": two_filed["code"]})
    result = run(archive, "audit", "verify", "--json")
    assert result.exit_code == 3  # a log entry without its tombstone is no destruction
    with archive.db.session() as s:
        s.add(Tombstone(aip_id=aip_id, kind="destroyed", archival_code=two_filed["code"],
                        version=1, source_system="x", case_id="x", title="x", year=2015,
                        retention="D10", aip_sha256=digest, case_sha256="0" * 64, batch_id=1,
                        appraisal_id=1, register_ref="XHQC-2026-0001", method="x", facts={},
                        removed_at=utcnow(), audit_index=entry.index))
    result = run(archive, "audit", "verify", "--json")
    assert result.exit_code == 0, as_json(result)["problems"]


def test_verifying_one_case_whose_record_was_deleted_names_the_loss(
    archive: Archive, two_filed: dict[str, Any]
) -> None:
    aip_id, index = two_filed["aip_id"], two_filed["index"]
    with archive.db.session() as s:
        case_id = s.get(FiledCase, index).case_id
    delete_catalogue_record(archive, aip_id)
    for ref in (aip_id, case_id):
        result = run(archive, "verify", ref, "--json")
        assert result.exit_code == 3, result.output
        assert as_json(result)["error"]["code"] == "archive.catalogue_record_missing"
    human = run(archive, "verify", case_id)
    assert human.exit_code == 3 and aip_id in human.output and f"第 {index} 条" in human.output
    # a reference the log never saw is still just unknown
    assert run(archive, "verify", "no-such-case").exit_code == 2
