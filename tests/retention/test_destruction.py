"""Destruction (销毁): the whole life through the CLI, each refusal, SIGKILL at four points."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import select

from dangan.archive import audit_log, crosscheck, replica
from dangan.archive.models import Item
from dangan.archive.store import remove_tree
from dangan.archive.tombstones import Tombstone
from dangan.search.extract import derived_text_path
from dangan.search.feed import derived_dir, service_for
from tests.killing import kill_at_failpoint

DANGAN = [sys.executable, "-m", "dangan.web.cli"]
PRINCIPAL = ("--kind", "principal", "--by", "局长赵某", "--document-no", "某社保〔2026〕12号",
             "--date", "2026-03-01")
FILING = ("--kind", "filing", "--by", "某市人力资源和社会保障局", "--document-no",
          "人社备〔2026〕3号", "--date", "2026-03-05")
SUPERVISORS = ("--supervisor", "supervisor-he", "--supervisor", "supervisor-lu")


def _audit_size(archive) -> int:
    with archive.db.session() as s:
        return audit_log.tree_size(s)


def _approved(cli, *refs: str, proposer: str = "archivist-li") -> str:
    """Propose destroy, two agreeing opinions, an approving decision: the appraisal id."""
    code, prop = cli("retention", "appraisal", "propose", *refs, "--action", "destroy",
                     "--reason", "保管期限已满，无继续保存价值", "--as-of", "2026-06-01",
                     "--json", actor=proposer)
    assert code == 0, prop
    pid = str(prop["id"])
    for member in ("expert-zhao", "hrss-wang"):
        assert cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "同意销毁",
                   actor=member)[0] == 0
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion",
                    "经鉴定已无保存价值，同意销毁", "--as-of", "2026-06-01", "--json",
                    actor="expert-zhao")
    assert code == 0 and out["state"] == "approved"
    return pid


def _ready(cli, *refs: str) -> str:
    """An approved appraisal with the principal's approval and the 备案: the batch id."""
    pid = _approved(cli, *refs)
    code, batch = cli("retention", "destruction", "approve", pid, *PRINCIPAL, "--json")
    assert code == 0, batch
    code, batch = cli("retention", "destruction", "approve", pid, *FILING, "--json")
    assert code == 0 and set(batch["approvals"]) == {"principal", "filing"}
    return str(batch["id"])


def _copies(archive, aip_id: str) -> dict[str, bool]:
    return {"store": archive.store.exists(aip_id),
            "replica": replica.replica_store(archive).exists(aip_id),
            "derived": derived_text_path(derived_dir(archive), aip_id).exists(),
            "index": aip_id in _indexed(archive)}


def _indexed(archive) -> set[str]:
    """Every AIP id in the current search index generation (read from Whoosh itself)."""
    from whoosh import index as windex

    gen = service_for(archive).engine.home.current()
    with windex.open_dir(str(gen)).searcher() as s:
        return {f["aip_id"] for f in s.all_stored_fields()}


def _assert_gone_and_lawful(archive, cli, aip_ids: list[str], batch: str) -> None:
    for aip_id in aip_ids:
        assert _copies(archive, aip_id) == dict.fromkeys(
            ("store", "replica", "derived", "index"), False)
        code, out = cli("verify", aip_id, "--json")
        assert code == 0, out
        [item] = out["items"]
        step, reg = item["steps"]
        assert step["step"] == "lawful_removal" and step["ok"]
        assert reg["step"] == "register" and reg["ok"], reg
        assert step["evidence"]["register_ref"].startswith("XHQC-")
        code, text = cli("verify", aip_id)
        assert code == 0 and "已依法销毁" in text
    with archive.db.session() as s:
        assert s.scalars(select(Item).where(Item.aip_id.in_(aip_ids))).first() is None
        stones = list(s.scalars(select(Tombstone).where(Tombstone.aip_id.in_(aip_ids))))
        for t in stones:
            entry = audit_log.find_entries(s, object_id=t.aip_id, action="aip:destroy")
            assert [e.index for e in entry] == [t.audit_index]  # exactly once, even resumed
            assert entry[0].object_digest == t.aip_sha256
            assert t.facts["supervisors"] == ["supervisor-he", "supervisor-lu"]
            assert set(t.facts["approvals"]) == {"principal", "filing"}
        assert len(stones) == len(aip_ids)
        assert [e.action for e in audit_log.find_entries(s, object_id=f"destruction:{batch}")
                ] == ["destruction:approve", "destruction:file", "destruction:complete"]
    assert crosscheck.check(archive) == []
    assert cli("audit", "verify")[0] == 0
    _assert_register_filed(archive, cli, aip_ids, batch)


def _assert_register_filed(archive, cli, aip_ids: list[str], batch: str) -> None:
    """The 销毁清册 is a permanent record of the archive, proved like any case."""
    code, shown = cli("retention", "destruction", "show", batch, "--json")
    assert code == 0 and shown["register"], shown
    reg = shown["register"]
    code, item = cli("show", reg["archival_code"], "--json")
    assert code == 0 and item["retention"] == "Y" and item["case_id"] == shown["register_ref"]
    assert item["source_system"] == "dangan-archive"
    assert {f["media_type"] for f in item["files"]} == {"application/pdf", "application/xml"}
    code, out = cli("verify", reg["archival_code"], "--json")
    assert code == 0, out
    code, text = cli("verify", aip_ids[0])
    assert code == 0 and reg["archival_code"] in text
    with archive.db.session() as s:
        [e] = audit_log.find_entries(s, action="destruction:register",
                                     object_id=shown["register_ref"])
        assert e.details["aip_id"] == reg["aip_id"] and e.object_digest == item["sha256"]


def test_a_whole_life_ends_in_a_lawful_destruction(archive, file_case, cli):
    a, b, keep = file_case("D10", 2015), file_case("D10", 2015), file_case("D10", 2015)
    assert all(_copies(archive, a.aip_id).values())  # filed, replicated, indexed, text kept
    batch = _ready(cli, a.archival_code, b.aip_id)
    code, out = cli("retention", "destruction", "execute", batch, *SUPERVISORS,
                    "--method", "电子档案彻底删除（含全部副本）", "--as-of", "2026-06-01",
                    "--json", actor="archivist-wang")
    assert code == 0 and out["state"] == "complete", out
    assert {i["step"] for i in out["items"]} == {"destroyed"}
    _assert_gone_and_lawful(archive, cli, [a.aip_id, b.aip_id], batch)
    assert all(_copies(archive, keep.aip_id).values())  # the rest untouched
    code, out = cli("verify", keep.aip_id, "--json")
    assert code == 0
    code, table = cli("stats", "retention", "--json")
    assert {r["retention"]: r["destroyed"] for r in table["rows"]}["D10"] == 2
    # by case id too: the case link of the tombstone answers
    code, out = cli("verify", a.case_id, "--json")
    assert code == 0 and out["items"][0]["steps"][0]["step"] == "lawful_removal"


def test_a_copy_that_vanished_without_a_destruction_is_still_an_alarm(archive, file_case,
                                                                       cli):
    a = file_case("D10", 2015)
    remove_tree(archive.store.path(a.aip_id))
    problems = crosscheck.check(archive)
    assert [p.kind for p in problems] == ["aip_missing"]
    code, out = cli("verify", a.aip_id, "--json")
    assert code == 3


def test_refusals_change_nothing(archive, file_case, cli):
    held, later, self_ok, ok = (file_case("D10", 2015), file_case("D10", 2016),
                                file_case("D10", 2015), file_case("D10", 2015))
    # not yet due: proposed on 2027-01-01 for an item due then, executed as of 2026-06-01
    code, prop = cli("retention", "appraisal", "propose", later.aip_id, "--action", "destroy",
                     "--reason", "期满", "--as-of", "2027-01-01", "--json")
    pid = str(prop["id"])
    for m in ("expert-zhao", "hrss-wang"):
        cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "同意", actor=m)
    assert cli("retention", "appraisal", "decide", pid, "--conclusion", "同意", "--as-of",
               "2027-01-01", actor="hrss-wang")[0] == 0
    assert cli("retention", "destruction", "approve", pid, *PRINCIPAL)[0] == 0
    code, out = cli("retention", "destruction", "execute", "1", *SUPERVISORS, "--method", "删除",
                    "--as-of", "2026-06-01", "--json")
    assert code == 3 and out["error"]["code"] == "retention.approvals_missing"
    assert cli("retention", "destruction", "approve", pid, *FILING)[0] == 0
    size = _audit_size(archive)
    code, out = cli("retention", "destruction", "execute", "1", *SUPERVISORS, "--method", "删除",
                    "--as-of", "2026-06-01", "--json")
    assert code == 3 and out["error"]["code"] == "retention.not_due"
    # supervisors: fewer than two, the same twice, a member of the group, not a user
    for sup in (("supervisor-he",), ("supervisor-he", "supervisor-he"),
                ("supervisor-he", "expert-zhao"), ("supervisor-he", "nobody-x")):
        args = [x for s in sup for x in ("--supervisor", s)]
        code, out = cli("retention", "destruction", "execute", "1", *args, "--method", "删除",
                        "--as-of", "2027-06-01", "--json")
        assert code == 3 and out["error"]["code"] in (
            "retention.supervisors", "retention.not_permitted"), (sup, out)
    assert _audit_size(archive) == size and archive.store.exists(later.aip_id)

    # held: a hold placed after the approvals blocks the execution
    batch = _ready(cli, held.aip_id)
    assert cli("hold", "place", "--item", held.aip_id, "--kind", "legal", "--reason", "诉讼",
               "--authority", "法院函")[0] == 0
    size = _audit_size(archive)
    code, out = cli("retention", "destruction", "execute", batch, *SUPERVISORS, "--method", "删除",
                    "--as-of", "2026-06-01", "--json")
    assert code == 3 and out["error"]["code"] == "retention.item_held"
    assert _audit_size(archive) == size and all(_copies(archive, held.aip_id).values())

    # self-approved: the proposer (or a group member) signs as the principal
    pid = _approved(cli, self_ok.aip_id)
    for who in ("archivist-li", "hrss-wang"):
        code, out = cli("retention", "destruction", "approve", pid, "--kind", "principal",
                        "--by", who, "--document-no", "1号", "--json")
        assert code == 3 and out["error"]["code"] == "retention.self_approval"
    # without an approved destroy appraisal
    code, other = cli("retention", "appraisal", "propose", ok.aip_id, "--action", "destroy",
                      "--reason", "期满", "--as-of", "2026-06-01", "--json")
    code, out = cli("retention", "destruction", "approve", str(other["id"]), *PRINCIPAL, "--json")
    assert code == 3 and out["error"]["code"] == "retention.not_approved"

    # already in another batch: the first batch of self_ok claims it; a second appraisal
    # of the same item, approved too, cannot open another batch
    assert cli("retention", "destruction", "approve", pid, *PRINCIPAL)[0] == 0
    pid2 = _approved(cli, self_ok.aip_id, proposer="archivist-wang")
    size = _audit_size(archive)
    code, out = cli("retention", "destruction", "approve", pid2, *PRINCIPAL, "--json")
    assert code == 3 and out["error"]["code"] == "retention.already_in_batch"
    assert _audit_size(archive) == size
    # a clerk may not record approvals
    code, out = cli("retention", "destruction", "approve", pid, *FILING, "--json",
                    actor="clerk-zhou")
    assert code == 3 and out["error"]["code"] == "retention.not_permitted"


@pytest.mark.parametrize("point", ["destroy.after_intent", "destroy.after_store",
                                   "destroy.after_replica",
                                   "destroy.before_tombstone_commit"])
def test_a_killed_destruction_is_completed_on_the_next_run(archive, file_case, cli, tmp_path,
                                                           point):
    a, b = file_case("D10", 2015), file_case("D10", 2015)
    batch = _ready(cli, a.aip_id, b.aip_id)
    ready = tmp_path / "ready"
    kill_at_failpoint(
        [*DANGAN, "--home", str(archive.home), "retention", "destruction", "execute", batch,
         *SUPERVISORS, "--method", "彻底删除", "--as-of", "2026-06-01"],
        point, ready, actor="archivist-wang", timeout=90)
    code, shown = cli("retention", "destruction", "show", batch, "--json")  # opening resumes
    assert code == 0 and shown["state"] == "complete", shown
    code, out = cli("retention", "destruction", "execute", "--resume")
    assert code == 0
    _assert_gone_and_lawful(archive, cli, [a.aip_id, b.aip_id], batch)
