"""The catalogue's schema as the migrations build it, and the plans of its hot queries.

An operator's archive gets its schema from ``dangan db upgrade`` (the migrations), the
code reads it through the models: the two must agree table by table, index by index,
on SQLite and on PostgreSQL. And a query run once per batch of a fixity audit must find
its rows through an index on what it asks for, not read every filing entry of the
archive (what it did on SQLite: quadratic in the archive's size).
"""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from dangan.archive import audit_log
from dangan.archive.audit_models import AuditEntryRow
from dangan.archive.fixity_item import filing_entries
from dangan.archive.instance import Archive
from dangan.archive.models import Base

MODEL_MODULES = [
    "dangan.archive.access_models", "dangan.archive.account_models", "dangan.archive.api_models",
    "dangan.archive.audit_models", "dangan.archive.fixity_models", "dangan.archive.models",
    "dangan.archive.tombstones", "dangan.archive.transfer_records",
    "dangan.retention.models", "dangan.retention.transfer_models",
]


def _drift(archive: Archive) -> list:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    with archive.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # SQLite enforces no VARCHAR length, so 0010_webrest widens users.totp_secret to TEXT
    # on PostgreSQL only (a batch copy of ``users`` would break its foreign keys).
    if archive.db.engine.dialect.name == "sqlite":
        diff = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type"
                                        and d[0][2:4] == ("users", "totp_secret"))]
    return diff


def test_the_migrated_sqlite_schema_is_the_models_schema(archive: Archive) -> None:
    assert _drift(archive) == []


def test_the_migrated_postgresql_schema_is_the_models_schema(pg_archive: Archive) -> None:
    assert _drift(pg_archive) == []


def _plan(archive: Archive, statement) -> str:
    sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with archive.db.engine.connect() as conn:
        return " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_a_fixity_batch_finds_its_filing_entries_by_aip_id_not_by_action(
        archive: Archive) -> None:
    with archive.db.filing_session() as session:
        for n in range(50):
            audit_log.append(session, actor="test", action="aip:file", object_id=f"aip-{n:03d}",
                             object_digest="0" * 64, details={})
    plan = _plan(archive, filing_entries([f"aip-{n:03d}" for n in range(16)]))
    assert "ix_audit_entries_object_action (object_id=? AND action=?)" in plan, plan
    with archive.db.session() as session:
        found = dict(session.execute(filing_entries(["aip-007", "aip-042", "nope"])).all())
    assert found == {"aip-007": "0" * 64, "aip-042": "0" * 64}


@pytest.mark.parametrize("aip_ids", [["one"], [f"aip-{n}" for n in range(16)]])
def test_no_fixity_batch_query_scans_the_audit_log(archive: Archive, aip_ids: list[str]) -> None:
    plan = _plan(archive, filing_entries(aip_ids))
    assert "SCAN audit_entries" not in plan and "(action=?)" not in plan, plan


def test_one_items_filing_entry_is_found_by_its_id(archive: Archive) -> None:
    """``chain.reference_digest`` (verify, the case page) asks for one AIP's filing entry."""
    plan = _plan(archive, select(AuditEntryRow).order_by(AuditEntryRow.idx).where(
        AuditEntryRow.object_id == "one", AuditEntryRow.action == "aip:file"))
    assert "ix_audit_entries_object_action (object_id=? AND action=?)" in plan, plan
