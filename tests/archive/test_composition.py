"""The explicit wiring: one composition root, explicit schema upgrades, no import-time state.

Each test does what an operator or a second archive in the same process does and checks
the outcome: a catalogue left behind by an older release is refused at open (stable code,
exit 2) until ``dangan db upgrade``; session events and check registries belong to one
archive; Celery apps and the SM3 kernel choice are made when first needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.orm import Session

from dangan.archive import tree_heads
from dangan.archive.composition import create_archive
from dangan.archive.db import alembic_config, head_revision, schema_status
from dangan.archive.errors import SchemaBehind
from dangan.archive.instance import Archive
from dangan.packages.checks import (
    CheckContext,
    CheckRegistry,
    Nature,
    Stage,
    Verdict,
    check,
    default_registry,
    run_checks,
)
from dangan.web.cli import main


def cli(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    return result.exit_code, result.output


def _set_schema_back(archive: Archive, revision: str) -> None:
    cfg = alembic_config(archive.db.url)
    with archive.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_an_old_catalogue_is_refused_at_open_until_db_upgrade(archive: Archive) -> None:
    home = archive.home
    _set_schema_back(archive, "0003")
    archive.close()

    with pytest.raises(SchemaBehind):
        Archive.open(home)
    code, out = cli(home, "show", "X", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "archive.schema_behind"
    assert schema_status(create_archive(home, check_schema=False).db.engine).current == "0003"

    code, out = cli(home, "db", "status", "--json")
    assert code == 2 and json.loads(out) == {"current": "0003", "head": head_revision(),
                                             "up_to_date": False}
    code, out = cli(home, "db", "upgrade")
    assert code == 0 and "备份" in out and head_revision() in out
    assert cli(home, "db", "status")[0] == 0
    code, out = cli(home, "db", "upgrade", "--json")
    assert code == 0 and json.loads(out)["status"] == "up_to_date"
    Archive.open(home).close()  # opens again, and opening did not migrate anything itself


def test_opening_never_migrates(archive: Archive) -> None:
    home = archive.home
    _set_schema_back(archive, "0003")
    archive.close()
    for _ in range(2):
        with pytest.raises(SchemaBehind):
            create_archive(home)
    assert schema_status(create_archive(home, check_schema=False).db.engine).current == "0003"


def test_session_events_belong_to_the_archive_not_the_global_session_class(
        archive: Archive, tmp_path: Path) -> None:
    assert not event.contains(Session, "after_commit", tree_heads._export_after_commit)
    assert event.contains(archive.db._sessions, "after_commit", tree_heads._export_after_commit)
    other = Archive.init(tmp_path / "second", fonds="Z110")
    try:
        assert event.contains(other.db._filing_sessions, "after_soft_rollback",
                              tree_heads._drop_after_rollback)
        # a head signed in one archive is exported through that archive's sessions only
        with archive.db.filing_session() as s:
            tree_heads.sign_head(s, archive, anchor=False)
        with other.db.filing_session() as s:
            tree_heads.sign_head(s, other, anchor=False)
        with archive.db.session() as s, other.db.session() as t:
            assert len(tree_heads.heads(s)) == 1 and len(tree_heads.heads(t)) == 1
    finally:
        other.close()


def test_a_registry_runs_only_the_checks_given_to_it_with_their_group() -> None:
    @check("DG-9-1", Nature.INTEGRITY, "测试项", group="extra")
    def always_fails(ctx: CheckContext) -> Verdict:
        return Verdict.fail("总是不通过")

    mine = CheckRegistry()
    mine.add(always_fails)
    ctx = CheckContext(stage=Stage.GD, root=Path("/nonexistent"), case_bytes=None, case=None,
                       case_error=None, signature_bytes=None, files={}, extra_entries=[])
    report = run_checks(ctx, Stage.GD, group="extra", registry=mine)
    assert [r.code for r in report.results] == ["DG-9-1"] and not report.accepted
    assert run_checks(ctx, Stage.GD, group="submission", registry=mine).results == []
    # declaring a check registered it nowhere else
    assert "DG-9-1" not in {s.code for s in default_registry().all()}
    shipped = default_registry()
    assert shipped.get("GD-3-2").group == "catalogue" and shipped.get("GD-1-7").group == "package"
    with pytest.raises(ValueError):
        mine.add(always_fails)


def _python(code: str, **env: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, **env}).stdout.strip()


def test_celery_apps_are_built_by_their_entry_point_not_at_import() -> None:
    out = _python(
        "import dangan.ingest.tasks as t, dangan.archive.tasks as a\n"
        "print(t._app is None, a._app is None)\n"
        "print(t.INDEX_TASK in t.app.tasks, 'dangan.fixity.audit' in a.app.tasks)\n"
        "print(t.app is t.worker_app())")
    assert out.split() == ["True", "True", "True", "True", "True"]


def test_the_sm3_kernel_setting_is_read_when_first_needed() -> None:
    out = _python(
        "import os\n"
        "from dangan.packages import sm3_multi\n"
        "os.environ['DANGAN_SM3MB'] = 'off'\n"
        "print(sm3_multi.kernel())", DANGAN_SM3MB="")
    assert out == "None"


def test_search_for_the_word_reindex_searches(archive: Archive) -> None:
    code, out = cli(archive.home, "search", "reindex", "--json")
    assert code == 0 and "索引已重建" not in out
    assert json.loads(out)["total"] == 0
    code, out = cli(archive.home, "search", "reindex", "--no-ocr")
    assert code == 2  # --no-ocr belongs to `index rebuild` only
    code, out = cli(archive.home, "index", "rebuild", "--no-ocr")
    assert code == 0 and "索引已重建：0 件" in out


def test_an_unusable_public_key_is_refused_with_a_stable_code(archive: Archive,
                                                              tmp_path: Path) -> None:
    bogus = tmp_path / "key.pem"
    bogus.write_text("not a key", "utf-8")
    code, out = cli(archive.home, "audit", "verify", "--public-key", str(bogus), "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "archive.public_key"
