"""Holds (冻结) on items, cases, persons and units: placed, evaluated at query time, lifted."""

from __future__ import annotations

import json
import shutil

from sqlalchemy import func, select

from dangan.archive import audit_log
from dangan.retention import holds
from dangan.retention.models import Hold
from tests.casekit import edit_case
from tests.retention.conftest import item_name_with


def _party(path, kind: str) -> str:
    case = json.loads((path / "case.json").read_text("utf-8"))
    parties = [case["applicant"], *case["subjects"]]
    return next(p["id_number"] for p in parties if p["kind"] == kind)


def _held(archive, aip_ids) -> set[str]:
    with archive.db.session() as s:
        return holds.held_among(s, list(aip_ids))


def test_person_hold_covers_items_filed_later_and_lifting_releases_them(
        archive, make_case, file_case, cli):
    src = make_case(item_name_with(archive, "D10"), year=2015)
    person = _party(src, "person")
    code, placed = cli("hold", "place", "--person", person, "--kind", "legal",
                       "--reason", "工伤待遇诉讼", "--authority", "（2026）某01民初123号",
                       "--json")
    assert code == 0 and placed["items"] == 0 and placed["active"]
    outcome = file_case(path=src)  # filed after the hold was placed
    other = file_case("D10", 2015)
    code, due = cli("retention", "due", "--as-of", "2026-01-01", "--json")
    assert due["total"] == 2 and due["held"] == 1
    assert {i["aip_id"] for i in due["items"] if i["held"]} == {outcome.aip_id}
    code, listed = cli("hold", "list", "--json")
    assert [h["items"] for h in listed] == [1]
    code, sch = cli("retention", "schedule", outcome.aip_id, "--json")
    assert sch["holds"] == [placed["id"]]

    code, lifted = cli("hold", "lift", str(placed["id"]), "--reason", "判决已生效", "--json",
                       actor="archivist-wang")
    assert code == 0 and not lifted["active"] and lifted["lifted_by"] == "archivist-wang"
    assert _held(archive, [outcome.aip_id, other.aip_id]) == set()
    code, refused = cli("hold", "lift", str(placed["id"]), "--reason", "再次", "--json")
    assert code == 3 and refused["error"]["code"] == "retention.hold_not_active"

    with archive.db.session() as s:
        place_entry, = audit_log.find_entries(s, action="hold:place")
        lift_entry, = audit_log.find_entries(s, action="hold:lift")
    assert place_entry.actor == "archivist-li" and place_entry.details["target"] == person
    assert place_entry.details["authority"] == "（2026）某01民初123号"
    assert place_entry.details["items"] == []
    assert lift_entry.details["items"] == [outcome.aip_id]
    assert lift_entry.details["reason"] == "判决已生效"
    code, out = cli("audit", "verify")
    assert code == 0, out


def test_case_hold_covers_every_version_and_item_hold_only_that_item(
        archive, make_case, file_case, sender_key, cli):
    src = make_case(item_name_with(archive, "D10"), year=2015)
    first = file_case(path=src)
    corrected = src.parent / "corrected"
    shutil.copytree(src, corrected)

    def correction(c):
        c["supersedes"] = first.archival_code
        c["correction_reason"] = "题名错字更正"
        c["title"] += "（更正）"

    edit_case(corrected, sender_key, correction)
    second = file_case(path=corrected)
    third = file_case("D10", 2015)
    case_id = json.loads((src / "case.json").read_text("utf-8"))["case_id"]
    code, placed = cli("hold", "place", "--case", case_id, "--kind", "dispute",
                       "--reason", "参保人对缴费记录有异议", "--authority", "信访件 2026-17",
                       "--json")
    assert code == 0 and placed["items"] == 2
    assert _held(archive, [first.aip_id, second.aip_id, third.aip_id]) == {
        first.aip_id, second.aip_id}
    code, placed = cli("hold", "place", "--item", third.archival_code, "--kind", "audit",
                       "--reason", "基金稽核抽查", "--authority", "稽核通知 2026-3", "--json")
    assert code == 0 and placed["items"] == 1 and placed["target"] == third.aip_id
    code, due = cli("retention", "due", "--as-of", "2026-01-01", "--json")
    assert due["total"] == 3 and due["held"] == 3


def test_unit_hold_matches_the_unit_by_credit_code(archive, make_case, file_case, cli):
    src = make_case(item_name_with(archive, "Y"), year=2020)
    unit = _party(src, "unit")
    outcome = file_case(path=src)
    other = file_case("D10", 2015)
    code, placed = cli("hold", "place", "--unit", unit.lower(), "--kind", "audit",
                       "--reason", "欠费稽核", "--authority", "稽核通知 2026-9", "--json")
    assert code == 0 and placed["target"] == unit and placed["items"] == 1
    assert _held(archive, [outcome.aip_id, other.aip_id]) == {outcome.aip_id}


def test_bad_hold_requests_are_refused_and_change_nothing(archive, file_case, cli):
    outcome = file_case("D10", 2015)
    with archive.db.session() as s:
        size = audit_log.tree_size(s)
    code, out = cli("hold", "place", "--person", "110101199001011234", "--kind", "legal",
                    "--reason", "r", "--authority", "a")
    assert code == 2 and "retention.bad_input" in out
    code, out = cli("hold", "place", "--item", "Z109-NOPE", "--kind", "legal",
                    "--reason", "r", "--authority", "a")
    assert code == 2 and "retention.not_found" in out
    code, out = cli("hold", "place", "--item", outcome.aip_id, "--kind", "legal",
                    "--reason", "  ", "--authority", "a")
    assert code == 2 and "retention.bad_input" in out
    code, out = cli("hold", "place", "--item", outcome.aip_id, "--case", "x", "--kind", "legal",
                    "--reason", "r", "--authority", "a")
    assert code == 2
    code, out = cli("hold", "lift", "99", "--reason", "r")
    assert code == 2 and "retention.not_found" in out
    with archive.db.session() as s:
        assert audit_log.tree_size(s) == size
        assert s.scalar(select(func.count()).select_from(Hold)) == 0
