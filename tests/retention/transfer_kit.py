"""Two real Dangan instances for the transfer tests: the agency (sender) and the archive."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dangan.archive.instance import Archive
from dangan.web.cli import main

RECEIVER_NAME = "测试市档案馆"


def runner_for(home: Path) -> Callable[..., tuple[int, Any]]:
    """``dangan --home HOME ARGS`` as a user runs it: exit code and parsed JSON or text."""
    runner = CliRunner()

    def run(*args: str, actor: str = "archivist-li") -> tuple[int, Any]:
        result = runner.invoke(main, ["--home", str(home), *args],
                               env={"DANGAN_ACTOR": actor}, catch_exceptions=False)
        if "--json" in args and result.exit_code in (0, 3):
            return result.exit_code, json.loads(result.stdout)
        return result.exit_code, result.output

    return run


def public_key_file(archive: Archive, path: Path) -> Path:
    """The archive's public key as its operator hands it to the other side."""
    path.write_bytes(archive.public_pem)
    return path

