"""Catalogue rows that fail GD-3-2 inside the filing window: the case is rejected, nothing
is filed, and the control-flow error that carried the report belongs to the ingest layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from dangan.archive import catalogue
from dangan.archive.instance import Archive
from dangan.archive.models import Item
from dangan.ingest.errors import IngestError, PackageRejected
from dangan.ingest.service import ingest
from dangan.packages.checks import CheckReport, Stage
from dangan.packages.checks.engine import CheckResult


def test_rows_read_back_wrong_reject_the_case_with_its_report(
        archive: Archive, make_case: Callable[..., Path], monkeypatch) -> None:
    real_read_back = catalogue.read_back
    monkeypatch.setattr(catalogue, "read_back",
                        lambda session, aip_id: {**real_read_back(session, aip_id), "file_count": 99})
    outcome = ingest(archive, make_case(), index=False)
    assert outcome.status == "rejected" and outcome.exit_code == 3
    [gd32] = [c for c in outcome.checks if c["code"] == "GD-3-2"]
    assert gd32["result"] == "fail"
    with archive.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
    assert not list(archive.store.staging_root.iterdir())  # nothing left behind

    rejected = PackageRejected(CheckReport(Stage.GD, [CheckResult.from_dict(c)
                                                      for c in outcome.checks]))
    assert isinstance(rejected, IngestError) and rejected.code == "ingest.package_rejected"
    assert [d["code"] for d in rejected.details] == ["GD-3-2"]
    assert "GD-3-2" in rejected.message
