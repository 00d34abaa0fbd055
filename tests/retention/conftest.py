"""Retention fixtures: real cases filed through ingest, and the CLI as an archivist runs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

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


@pytest.fixture
def cli(archive: Archive) -> Callable[..., tuple[int, Any]]:
    """Run ``dangan --home <archive> ARGS``; returns the exit code and parsed JSON or text."""
    runner = CliRunner()

    def run(*args: str, actor: str = "archivist-li") -> tuple[int, Any]:
        result = runner.invoke(main, ["--home", str(archive.home), *args],
                               env={"DANGAN_ACTOR": actor}, catch_exceptions=False)
        if "--json" in args and result.exit_code in (0, 3):
            return result.exit_code, json.loads(result.stdout)
        return result.exit_code, result.output

    return run
