"""The due list and holds on PostgreSQL: the same answers as on the embedded SQLite."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest

from dangan.archive import audit_log
from dangan.ingest.demo.generator import generate_submission
from dangan.ingest.service import ingest
from dangan.retention import appraisal, holds, schedule, stats
from dangan.retention.errors import ItemHeld, SelfApproval
from tests.casekit import KEY_ID, SYSTEM
from tests.retention.conftest import add_staff

pytestmark = pytest.mark.postgres


def _file(archive, key, tmp_path, n: int, retention: str, year: int):
    item = next(i for i in archive.filing_config.items if i.retention == retention)
    path = generate_submission(tmp_path / f"pg-ret-{n}", rng=random.Random(700 + n),
                               signing_key=key, key_id=KEY_ID, source_system=SYSTEM,
                               service_item=item, year=year)
    outcome = ingest(archive, path)
    assert outcome.status == "archived", outcome.reason
    return outcome, json.loads((path / "case.json").read_text("utf-8"))


def test_due_list_holds_and_statistics_on_postgresql(pg_archive, pg_sender_key, tmp_path):
    a, case_a = _file(pg_archive, pg_sender_key, tmp_path, 1, "D10", 2015)
    b, _ = _file(pg_archive, pg_sender_key, tmp_path, 2, "D10", 2016)
    c, _ = _file(pg_archive, pg_sender_key, tmp_path, 3, "Y", 2000)
    config = pg_archive.filing_config
    with pg_archive.db.session() as s:
        assert schedule.due_list(s, config, date(2025, 12, 31)).total == 0
        due = schedule.due_list(s, config, date(2027, 1, 1))
    assert due.total == 2 and {i.aip_id for i in due.items} == {a.aip_id, b.aip_id}

    person = next(p["id_number"] for p in [case_a["applicant"], *case_a["subjects"]]
                  if p["kind"] == "person")
    placed = holds.place(pg_archive, scope="person", target=person, kind="legal",
                         reason="诉讼保全", authority="（2026）某民初1号", actor="archivist-li")
    assert placed.items >= 1
    with pg_archive.db.session() as s:
        due = schedule.due_list(s, config, date(2027, 1, 1))
        assert due.held == 1 and [i.aip_id for i in due.items if i.held] == [a.aip_id]
        assert holds.held_among(s, [a.aip_id, b.aip_id, c.aip_id]) == {a.aip_id}
        table = stats.retention_stats(s, date(2027, 1, 1))
    by_code = {r["retention"]: r for r in table.rows}
    assert by_code["D10"]["items"] == 2 and by_code["D10"]["due"] == 2
    assert by_code["D10"]["held"] == 1 and by_code["Y"]["due"] == 0
    holds.lift(pg_archive, placed.id, reason="已结案", actor="archivist-wang")
    with pg_archive.db.session() as s:
        assert holds.held_among(s, [a.aip_id]) == set()
        assert [e.action for e in audit_log.find_entries(s, object_id=f"hold:{placed.id}")] == [
            "hold:place", "hold:lift"]
        months = stats.intake_stats(s)
    assert sum(r["items"] for r in months.rows) == 3


def test_appraisal_on_postgresql(pg_archive, pg_sender_key, tmp_path):
    add_staff(pg_archive)
    a, _ = _file(pg_archive, pg_sender_key, tmp_path, 4, "D10", 2015)
    b, _ = _file(pg_archive, pg_sender_key, tmp_path, 5, "D10", 2015)
    holds.place(pg_archive, scope="item", target=a.aip_id, kind="audit", reason="稽核",
                authority="稽核通知", actor="archivist-li")
    with pytest.raises(ItemHeld):
        appraisal.propose(pg_archive, action="destroy", refs=[a.aip_id, b.aip_id],
                          reason="期满", actor="archivist-li", as_of=date(2026, 6, 1))
    p = appraisal.propose(pg_archive, action="extend", refs=[b.aip_id], new_retention="D50",
                          reason="待遇追溯", actor="archivist-li", as_of=date(2026, 6, 1))
    with pytest.raises(SelfApproval):
        appraisal.opinion(pg_archive, p.id, member="archivist-li", agree=True, comment="同意")
    for member in ("expert-zhao", "hrss-wang"):
        appraisal.opinion(pg_archive, p.id, member=member, agree=True, comment="同意")
    decided = appraisal.decide(pg_archive, p.id, conclusion="延长至50年", actor="hrss-wang",
                               as_of=date(2026, 6, 1))
    assert decided.state == "approved"
    with pg_archive.db.session() as s:
        assert schedule.schedule_of(s, pg_archive.filing_config, b.aip_id).due_on == "2066-01-01"
        [entry] = audit_log.find_entries(s, action="appraisal:decide")
    assert entry.object_digest == decided.record_sha256


def test_destruction_on_postgresql(pg_archive, pg_sender_key, tmp_path):
    from dangan.archive import crosscheck
    from dangan.archive.chain import verify_ref
    from dangan.retention import destruction
    from dangan.retention.errors import AlreadyInBatch
    from dangan.web.lifecycle import file_register

    add_staff(pg_archive)
    a, _ = _file(pg_archive, pg_sender_key, tmp_path, 6, "D10", 2015)
    day = date(2026, 6, 1)
    p = appraisal.propose(pg_archive, action="destroy", refs=[a.aip_id], reason="期满",
                          actor="archivist-li", as_of=day)
    for member in ("expert-zhao", "hrss-wang"):
        appraisal.opinion(pg_archive, p.id, member=member, agree=True, comment="同意")
    appraisal.decide(pg_archive, p.id, conclusion="同意销毁", actor="hrss-wang", as_of=day)
    batch = destruction.record_approval(pg_archive, p.id, kind="principal", approver="局长赵某",
                                        document_no="12号", approved_on=day,
                                        actor="archivist-li")
    destruction.record_approval(pg_archive, p.id, kind="filing", approver="市人社局",
                                document_no="备3号", approved_on=day, actor="archivist-wang")
    p2 = appraisal.propose(pg_archive, action="destroy", refs=[a.aip_id], reason="期满",
                           actor="archivist-wang", as_of=day)
    for member in ("expert-zhao", "hrss-wang"):
        appraisal.opinion(pg_archive, p2.id, member=member, agree=True, comment="同意")
    appraisal.decide(pg_archive, p2.id, conclusion="同意销毁", actor="hrss-wang", as_of=day)
    with pytest.raises(AlreadyInBatch):
        destruction.record_approval(pg_archive, p2.id, kind="principal", approver="局长赵某",
                                    document_no="13号", approved_on=day, actor="archivist-li")
    done = destruction.execute(pg_archive, batch.id, supervisors=["supervisor-he",
                                                                  "supervisor-lu"],
                               method="彻底删除", actor="archivist-wang", as_of=day,
                               file_register=file_register)
    assert done.state == "complete" and done.register is not None
    assert not pg_archive.store.exists(a.aip_id)
    [v] = verify_ref(pg_archive, a.aip_id)
    assert v.ok and v.steps[0].step == "lawful_removal"
    assert crosscheck.check(pg_archive) == []
    with pg_archive.db.session() as s:
        assert [e.action for e in audit_log.find_entries(s, object_id=a.aip_id)][-1] == \
            "aip:destroy"
