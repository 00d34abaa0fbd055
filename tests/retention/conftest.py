"""Retention fixtures: real cases filed through ingest, and the CLI as an archivist runs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dangan.archive import accounts
from dangan.archive.instance import Archive
from dangan.ingest.service import ingest
from dangan.web.cli import main


def item_name_with(archive: Archive, retention: str) -> str:
    """The name of a service item of the filing configuration with this period."""
    return next(i.name for i in archive.filing_config.items if i.retention == retention)


@pytest.fixture
def file_case(archive: Archive, make_case: Callable[..., Path]) -> Callable[..., Any]:
    """File a real case of a service item with ``retention``, completed in ``year``."""

    def file(retention: str = "D10", year: int = 2015, path: Path | None = None) -> Any:
        src = path or make_case(item_name_with(archive, retention), year=year)
        outcome = ingest(archive, src)
        assert outcome.status == "archived", outcome.reason
        return outcome

    return file


# The people of the retention tests and their roles (archive.permissions).
STAFF: dict[str, tuple[str, ...]] = {
    "archivist-li": ("archivist",), "archivist-wang": ("archivist",),
    "expert-zhao": ("appraiser",), "hrss-wang": ("appraiser",), "late-sun": ("appraiser",),
    "outsider-qian": ("appraiser",), "clerk-zhou": ("clerk",),
    "both-chen": ("archivist", "appraiser"),
    "supervisor-he": ("inspector",), "supervisor-lu": ("inspector",),
}


def add_staff(archive: Archive) -> None:
    """Create the test users with their roles, as the console (secadmin) would."""
    for login, roles in STAFF.items():
        accounts.create_user(archive.db, login, f"用户{login}", password="correct-horse-9",
                             by=None)
        for role in roles:
            accounts.grant_role(archive.db, login, role, by=None)


@pytest.fixture
def staff(archive: Archive) -> Archive:
    add_staff(archive)
    return archive


@pytest.fixture
def cli(staff: Archive) -> Callable[..., tuple[int, Any]]:
    """Run ``dangan --home <archive> ARGS``; returns the exit code and parsed JSON or text."""
    runner = CliRunner()

    def run(*args: str, actor: str = "archivist-li") -> tuple[int, Any]:
        result = runner.invoke(main, ["--home", str(staff.home), *args],
                               env={"DANGAN_ACTOR": actor}, catch_exceptions=False)
        if "--json" in args and result.exit_code in (0, 3):
            return result.exit_code, json.loads(result.stdout)
        return result.exit_code, result.output

    return run


@pytest.fixture
def receiver(tmp_path: Path) -> Any:
    """A second instance, the comprehensive archive that transfers are sent to (移交)."""
    a = Archive.init(tmp_path / "receiver", fonds="Z001", organization="测试市档案馆")
    add_staff(a)
    yield a
    a.close()
