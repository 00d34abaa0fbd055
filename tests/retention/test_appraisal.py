"""Appraisal (鉴定): a proposal, a group of two who are not the proposer, a recorded decision."""

from __future__ import annotations

from sqlalchemy import func, select

from dangan.archive import audit_log
from dangan.retention.models import Appraisal


def _audit_size(archive) -> int:
    with archive.db.session() as s:
        return audit_log.tree_size(s)


def test_destroy_proposal_needs_two_members_who_are_not_the_proposer(archive, file_case, cli):
    a, b = file_case("D10", 2015), file_case("D10", 2015)  # due 2026-01-01
    code, prop = cli("retention", "appraisal", "propose", a.archival_code, b.aip_id,
                     "--action", "destroy", "--reason", "保管期限已满，无继续保存价值", "--json")
    assert code == 0 and prop["state"] == "open" and len(prop["items"]) == 2
    pid = str(prop["id"])

    code, out = cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "同意",
                    "--json")  # the proposer, archivist-li
    assert code == 3 and out["error"]["code"] == "retention.self_approval"
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion", "同意销毁",
                    "--json", actor="expert-zhao")
    assert code == 3 and out["error"]["code"] == "retention.not_enough_opinions"
    code, out = cli("retention", "appraisal", "opinion", pid, "--agree", "--comment",
                    "经核无利用价值", "--json", actor="expert-zhao")
    assert code == 0 and len(out["opinions"]) == 1
    code, out = cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "再次同意",
                    "--json", actor="expert-zhao")
    assert code == 3 and out["error"]["code"] == "retention.duplicate_opinion"
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion", "同意销毁",
                    "--json", actor="expert-zhao")
    assert code == 3 and out["error"]["code"] == "retention.not_enough_opinions"
    code, out = cli("retention", "appraisal", "opinion", pid, "--agree", "--comment",
                    "人社部门同意", "--json", actor="hrss-wang")
    assert code == 0
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion", "同意销毁",
                    "--json")  # the proposer may not decide on their own proposal
    assert code == 3 and out["error"]["code"] == "retention.self_approval"
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion", "同意销毁",
                    "--json", actor="outsider-qian")
    assert code == 3 and out["error"]["code"] == "retention.self_approval"

    code, decided = cli("retention", "appraisal", "decide", pid, "--conclusion",
                        "经鉴定，两件均已满保管期限且无继续保存价值，同意列入销毁清册",
                        "--json", actor="expert-zhao")
    assert code == 0 and decided["state"] == "approved"
    with archive.db.session() as s:
        [entry] = audit_log.find_entries(s, action="appraisal:decide")
        tags = [e.action for e in audit_log.find_entries(s, object_id=f"appraisal:{pid}")]
    assert tags == ["appraisal:propose", "appraisal:opinion", "appraisal:opinion",
                    "appraisal:decide"]
    assert entry.object_digest == decided["record_sha256"]
    assert [o["member"] for o in entry.details["opinions"]] == ["expert-zhao", "hrss-wang"]
    assert {i["aip_id"] for i in entry.details["items"]} == {a.aip_id, b.aip_id}
    assert all(i["aip_sha256"] for i in entry.details["items"])
    code, out = cli("retention", "appraisal", "opinion", pid, "--disagree", "--comment", "晚了",
                    "--json", actor="late-sun")
    assert code == 3 and out["error"]["code"] == "retention.appraisal_closed"
    code, table = cli("stats", "retention", "--json")
    assert {r["retention"]: r["appraised"] for r in table["rows"]}["D10"] == 2
    assert cli("audit", "verify")[0] == 0


def test_held_not_yet_due_and_already_proposed_items_are_refused(archive, file_case, cli):
    a, later = file_case("D10", 2015), file_case("D10", 2016)  # due 2026 / 2027
    size = _audit_size(archive)
    code, out = cli("retention", "appraisal", "propose", later.aip_id, "--action", "destroy",
                    "--reason", "r", "--as-of", "2026-12-31", "--json")
    assert code == 3 and out["error"]["code"] == "retention.not_due"
    assert _audit_size(archive) == size
    code, out = cli("retention", "appraisal", "propose", later.aip_id, "--action", "destroy",
                    "--reason", "r", "--as-of", "2027-01-01", "--json")
    assert code == 0  # due on that day
    code, out = cli("hold", "place", "--item", a.aip_id, "--kind", "audit", "--reason", "稽核",
                    "--authority", "稽核通知")
    assert code == 0
    size = _audit_size(archive)
    code, out = cli("retention", "appraisal", "propose", a.aip_id, later.aip_id,
                    "--action", "transfer", "--reason", "r", "--as-of", "2027-01-01", "--json")
    assert code == 3 and out["error"]["code"] == "retention.item_held"
    assert {d["code"] for d in out["error"]["details"]} == {
        "retention.item_held", "retention.already_proposed"}  # every problem reported
    assert _audit_size(archive) == size
    with archive.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Appraisal)) == 1


def test_a_hold_placed_after_the_proposal_blocks_its_approval(archive, file_case, cli):
    a = file_case("D10", 2015)
    code, prop = cli("retention", "appraisal", "propose", a.aip_id, "--action", "destroy",
                     "--reason", "期满", "--json")
    pid = str(prop["id"])
    for member in ("expert-zhao", "hrss-wang"):
        assert cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "同意",
                   actor=member)[0] == 0
    assert cli("hold", "place", "--person", _person(archive, a.aip_id), "--kind", "legal",
               "--reason", "诉讼", "--authority", "法院函")[0] == 0
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion", "同意销毁",
                    "--json", actor="hrss-wang")
    assert code == 3 and out["error"]["code"] == "retention.item_held"
    code, shown = cli("retention", "appraisal", "show", pid, "--json")
    assert shown["state"] == "open" and shown["decided_at"] is None


def _person(archive, aip_id: str) -> str:
    from dangan.archive.models import Item
    with archive.db.session() as s:
        return next(p.id_number for p in s.get(Item, aip_id).parties if p.kind == "person")


def test_keep_longer_moves_the_due_date_and_a_disagreement_changes_nothing(
        archive, file_case, cli):
    a, b = file_case("D10", 2015), file_case("D10", 2015)
    code, out = cli("retention", "appraisal", "propose", a.aip_id, "--action", "extend",
                    "--new-retention", "D10", "--reason", "r")
    assert code == 2 and "retention.bad_input" in out
    code, prop = cli("retention", "appraisal", "propose", a.aip_id, "--action", "extend",
                     "--new-retention", "D30", "--reason", "涉及待遇追溯，需继续保存", "--json")
    pid = str(prop["id"])
    code, other = cli("retention", "appraisal", "propose", b.aip_id, "--action", "extend",
                      "--new-retention", "Y", "--reason", "r", "--json")
    for member, agree in (("expert-zhao", "--agree"), ("hrss-wang", "--agree")):
        assert cli("retention", "appraisal", "opinion", pid, agree, "--comment", "同意",
                   actor=member)[0] == 0
    for member, agree in (("expert-zhao", "--agree"), ("hrss-wang", "--disagree")):
        assert cli("retention", "appraisal", "opinion", str(other["id"]), agree,
                   "--comment", "意见", actor=member)[0] == 0
    code, decided = cli("retention", "appraisal", "decide", pid, "--conclusion",
                        "延长保管期限至30年", "--json", actor="hrss-wang")
    assert code == 0 and decided["state"] == "approved"
    code, rejected = cli("retention", "appraisal", "decide", str(other["id"]), "--conclusion",
                         "意见不一致，不予延长", "--json", actor="expert-zhao")
    assert code == 0 and rejected["state"] == "rejected"

    code, sch = cli("retention", "schedule", a.aip_id, "--json")
    assert sch["due_on"] == "2046-01-01" and sch["extended_by_appraisal"] == int(pid)
    assert sch["retention"] == "D10" and sch["effective_retention"] == "D30"
    code, sch = cli("retention", "schedule", b.aip_id, "--json")
    assert sch["due_on"] == "2026-01-01" and sch["extended_by_appraisal"] is None
    code, due = cli("retention", "due", "--as-of", "2026-12-01", "--json")
    assert [i["aip_id"] for i in due["items"]] == [b.aip_id]
    with archive.db.session() as s:
        [entry] = [e for e in audit_log.find_entries(s, action="appraisal:decide")
                   if e.details["outcome"] == "approved"]
    assert entry.details["due_changes"] == [
        {"aip_id": a.aip_id, "due_on_before": "2026-01-01", "due_on_after": "2046-01-01"}]


def test_roles_come_from_the_accounts_a_login_without_the_role_is_refused(
        archive, file_case, cli):
    a = file_case("D10", 2015)
    size = _audit_size(archive)
    for actor in ("nobody-x", "clerk-zhou", "expert-zhao"):  # unknown, clerk, appraiser
        code, out = cli("retention", "appraisal", "propose", a.aip_id, "--action", "destroy",
                        "--reason", "期满", "--json", actor=actor)
        assert code == 3 and out["error"]["code"] == "retention.not_permitted", actor
    assert _audit_size(archive) == size
    code, prop = cli("retention", "appraisal", "propose", a.aip_id, "--action", "destroy",
                     "--reason", "期满", "--json", actor="both-chen")
    pid = str(prop["id"])
    # holding the appraiser role too does not let the proposer judge their own proposal
    code, out = cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "同意",
                    "--json", actor="both-chen")
    assert code == 3 and out["error"]["code"] == "retention.self_approval"
    for actor in ("archivist-wang", "nobody-x", "user:clerk-zhou"):
        code, out = cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "同意",
                        "--json", actor=actor)
        assert code == 3 and out["error"]["code"] == "retention.not_permitted", actor
    for member in ("expert-zhao", "user:hrss-wang"):  # the web's actor form names the login
        assert cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "同意",
                   actor=member)[0] == 0
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion", "同意销毁",
                    "--json", actor="archivist-wang")
    assert code == 3 and out["error"]["code"] == "retention.not_permitted"
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion", "同意销毁",
                    "--json", actor="hrss-wang")
    assert code == 0 and out["state"] == "approved"
    assert [o["member"] for o in out["opinions"]] == ["expert-zhao", "hrss-wang"]
