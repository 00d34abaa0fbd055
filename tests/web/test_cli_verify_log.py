"""``dangan verify REF`` establishes that the log up to the case's entry is what was signed:
a deleted or edited earlier entry fails the case (issue 9, item 9)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from dangan.archive import audit_log
from dangan.archive.instance import Archive
from dangan.ingest.service import ingest
from dangan.web.cli import main


def run(archive: Archive, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(archive.home), *args])


def audit_step(result: Result) -> dict[str, Any]:
    [item] = json.loads(result.stdout)["items"]
    return next(s for s in item["steps"] if s["step"] == "audit_log")


@pytest.fixture
def filed_twice(archive: Archive, make_case: Callable[..., Path]) -> dict[str, Any]:
    """Case A, then case B; between their aip:file entries lies A's replica:write entry."""
    a = ingest(archive, make_case(), index=False)
    b = ingest(archive, make_case(), index=False)
    with archive.db.session() as s:
        [fa] = audit_log.find_entries(s, object_id=a.aip_id, action="aip:file")
        [middle] = audit_log.find_entries(s, object_id=a.aip_id, action="replica:write")
        [fb] = audit_log.find_entries(s, object_id=b.aip_id, action="aip:file")
    assert fa.index < middle.index < fb.index
    return {"a": a.aip_id, "b": b.aip_id, "middle": middle.index, "b_index": fb.index}


def test_verify_rebuilds_the_log_up_to_the_case(archive: Archive,
                                               filed_twice: dict[str, Any]) -> None:
    result = run(archive, "verify", filed_twice["b"], "--json")
    assert result.exit_code == 0, result.output
    step = audit_step(result)
    assert step["ok"] and step["evidence"]["prefix_verified"]["size"] == filed_twice["b_index"] + 1


def test_a_deleted_middle_entry_fails_verify_of_a_later_case(
    archive: Archive, filed_twice: dict[str, Any]
) -> None:
    with archive.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE idx = :i"), {"i": filed_twice["middle"]})

    result = run(archive, "verify", filed_twice["b"], "--json")
    assert result.exit_code == 3
    step = audit_step(result)
    assert not step["ok"]
    assert f"第 {filed_twice['middle']} 条审计记录缺失" in step["message"]
    human = run(archive, "verify", filed_twice["b"])
    assert human.exit_code == 3 and f"第 {filed_twice['middle']} 条审计记录缺失" in human.stdout
    # The log up to case A's own entry is intact, so A still verifies.
    assert run(archive, "verify", filed_twice["a"]).exit_code == 0


def test_an_edited_middle_entry_fails_verify_of_a_later_case(
    archive: Archive, filed_twice: dict[str, Any]
) -> None:
    with archive.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET actor = 'nobody' WHERE idx = :i"),
                     {"i": filed_twice["middle"]})
    result = run(archive, "verify", filed_twice["b"], "--json")
    assert result.exit_code == 3
    assert f"第 {filed_twice['middle']} 条审计记录的内容与其叶子哈希不符" in audit_step(result)["message"]
