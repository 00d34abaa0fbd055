"""Each item's latest fixity result, kept as results are written: what the next audit
chooses and what the report counts must be the latest pass, never an older one, also
for a catalogue upgraded from before the table existed."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, select

from dangan.archive import fixity, replica
from dangan.archive.composition import upgrade_schema
from dangan.archive.db import alembic_config
from dangan.archive.fixity_models import FixityLatest, FixityResult
from dangan.archive.instance import Archive
from dangan.archive.store import remove_tree
from dangan.ingest.demo.generator import generate_submission
from dangan.ingest.service import ingest
from tests.archive.test_replica_fixity import file_case
from tests.casekit import KEY_ID, SYSTEM


def _latest(archive: Archive) -> dict[str, tuple[int, str]]:
    with archive.db.session() as s:
        return {r.aip_id: (r.result_id, r.outcome) for r in s.scalars(select(FixityLatest))}


def _newest_results(archive: Archive) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    with archive.db.session() as s:
        for r in s.scalars(select(FixityResult).order_by(FixityResult.id)):
            out[r.aip_id] = (r.id, r.outcome)
    return out


def test_a_later_problem_and_its_repair_each_replace_the_latest_result(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    a, b, c = (file_case(archive, make_case) for _ in range(3))
    fixity.audit(archive, cycle_days=0)
    assert {o for _, o in _latest(archive).values()} == {"ok"}
    for copy in replica.stores(archive).values():  # both copies gone: not repairable
        remove_tree(copy.path(b))
    fixity.audit(archive, aip_ids=[b])
    assert _latest(archive) == _newest_results(archive)
    assert _latest(archive)[b][1] == "unrepairable"
    report = fixity.report(archive)
    assert report["latest_outcomes"] == {"ok": 2, "unrepairable": 1}
    assert [p["aip_id"] for p in report["open_problems"]] == [b]
    with archive.db.session() as s:  # the items audited longest ago come first
        assert set(fixity.choose(s, sample=2, cycle_days=365)) == {a, c}
        assert fixity.choose(s, sample=3, cycle_days=0)[-1] == b

def test_an_upgraded_catalogue_starts_with_each_items_latest_result(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    a, b = file_case(archive, make_case), file_case(archive, make_case)
    for _ in range(3):
        fixity.audit(archive, cycle_days=0)
    expected = _newest_results(archive)
    cfg = alembic_config(archive.db.url)
    with archive.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012_audit_object_action")
    upgrade_schema(archive)
    assert _latest(archive) == expected and set(expected) == {a, b}


def test_a_lost_latest_row_makes_the_item_due_first(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    """Derived data: a deleted row can only make an item be audited sooner, never hide it."""
    a, b = file_case(archive, make_case), file_case(archive, make_case)
    fixity.audit(archive, aip_ids=[a])
    fixity.audit(archive, aip_ids=[b])
    with archive.db.session() as s:
        s.execute(delete(FixityLatest).where(FixityLatest.aip_id == b))
        s.commit()
    with archive.db.session() as s:
        assert fixity.choose(s, sample=1, cycle_days=365) == [b]
    assert fixity.report(archive)["due"] == 1


@pytest.mark.postgres
def test_latest_results_on_postgresql(pg_archive: Archive, pg_sender_key, tmp_path: Path) -> None:
    item = pg_archive.filing_config.items[0]
    ids = []
    for n in range(2):
        sub = generate_submission(tmp_path / f"pg-fix-{n}", rng=random.Random(900 + n),
                                  signing_key=pg_sender_key, key_id=KEY_ID, source_system=SYSTEM,
                                  service_item=item)
        outcome = ingest(pg_archive, sub, ocr=False)
        assert outcome.status == "archived", outcome.reason
        ids.append(outcome.aip_id)
    replica.backfill(pg_archive)
    fixity.audit(pg_archive, cycle_days=0)
    fixity.audit(pg_archive, aip_ids=[ids[1]])
    assert _latest(pg_archive) == _newest_results(pg_archive)
    report = fixity.report(pg_archive)
    assert report["latest_outcomes"] == {"ok": 2} and report["due"] == 0
    with pg_archive.db.session() as s:
        assert fixity.choose(s, sample=1, cycle_days=365) == [ids[0]]


def test_a_stamp_moved_into_the_future_does_not_keep_an_item_from_its_audit(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    a, b = file_case(archive, make_case), file_case(archive, make_case)
    fixity.audit(archive, aip_ids=[a])
    fixity.audit(archive, aip_ids=[b])
    with archive.db.session() as s:  # an insider (or a wrong clock) moves a's stamp ahead
        s.get(FixityLatest, a).checked_at = datetime(2099, 1, 1, tzinfo=UTC)
        s.commit()
    with archive.db.session() as s:
        assert fixity.choose(s, sample=1, cycle_days=365) == [a]
        assert fixity.choose(s, sample=None, cycle_days=365) == [a]
    assert fixity.report(archive)["due"] == 1
    fixity.audit(archive, sample=1)
    assert _latest(archive) == _newest_results(archive)
    with archive.db.session() as s:
        assert s.get(FixityLatest, a).checked_at.year < 2099
