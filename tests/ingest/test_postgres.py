"""The filing path on PostgreSQL: same guarantees as on the embedded SQLite default."""

from __future__ import annotations

import json
import random

import pytest

from dangan.archive.chain import verify_ref
from dangan.ingest.demo.generator import generate_submission
from dangan.ingest.service import ingest
from tests.casekit import KEY_ID, SYSTEM
from tests.ingest.test_concurrency_and_crash import _finish, _start_ingest

pytestmark = pytest.mark.postgres


def _case(archive, key, tmp_path, n: int, year: int = 2024):
    item = next(i for i in archive.filing_config.items if i.name == "企业职工基本养老保险参保登记")
    return generate_submission(tmp_path / f"pg-case-{n}", rng=random.Random(500 + n),
                               signing_key=key, key_id=KEY_ID, source_system=SYSTEM,
                               service_item=item, year=year)


def test_filing_on_postgresql_archives_verifies_and_is_idempotent(pg_archive, pg_sender_key,
                                                                   tmp_path):
    path = _case(pg_archive, pg_sender_key, tmp_path, 1)
    first = ingest(pg_archive, path)
    assert first.status == "archived", first.reason
    assert ingest(pg_archive, path).status == "duplicate"
    [verification] = verify_ref(pg_archive, first.aip_id)
    assert verification.ok, [s.to_dict() for s in verification.steps if not s.ok]


def test_concurrent_processes_on_postgresql_get_gap_free_codes(pg_archive, pg_sender_key,
                                                               tmp_path):
    paths = [_case(pg_archive, pg_sender_key, tmp_path, n) for n in range(4)]
    procs = [_start_ingest(pg_archive.home, p) for p in [*paths, paths[0]]]
    results = [_finish(p) for p in procs]
    archived = [r for r in results if r["status"] == "archived"]
    assert len(archived) == 4 and [r["status"] for r in results].count("duplicate") == 1
    numbers = sorted(int(r["archival_code"].rsplit("-", 1)[1]) for r in archived)
    assert numbers == [1, 2, 3, 4]
    json.dumps(results, ensure_ascii=False)
