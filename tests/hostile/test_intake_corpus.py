"""Every hostile intake input in ``tests/hostile/intake/`` goes through ``dangan ingest``
and must be refused (exit 2 or 3) with its stable code, quickly, never with exit 1."""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from dangan.web.cli import main
from tests.casekit import sign_case
from tests.hostile.intake.kit import Submission, zip_tree

CORPUS = Path(__file__).parent / "intake"
HELPERS = {"kit", "pdfgen"}
ENTRIES = sorted(p.stem for p in CORPUS.glob("*.py")
                 if p.stem not in HELPERS and not p.stem.startswith("_"))
SECONDS = 30  # each refusal, generous for a shared 2-core machine; most take well under 2 s


def load(name: str) -> ModuleType:
    return importlib.import_module(f"tests.hostile.intake.{name}")


def test_corpus_is_not_empty_and_every_entry_says_what_it_expects():
    assert len(ENTRIES) >= 15
    for name in ENTRIES:
        entry = load(name)
        assert entry.__doc__ and entry.EXPECT["exit"] in (2, 3) and entry.EXPECT["code"], name


@pytest.mark.parametrize("name", ENTRIES)
def test_hostile_intake_input_is_refused(name, archive, make_case, sender_key, tmp_path):
    entry = load(name)
    root = make_case()
    sub = Submission(root)
    entry.build(sub)
    sub.finish()
    sign_case(root, sender_key)
    if sub.after_signing is not None:
        sub.after_signing(root)
    target = zip_tree(root, tmp_path / "sub.zip") if sub.zip_instead else root
    started = time.monotonic()
    result = CliRunner().invoke(main, ["--home", str(archive.home), "ingest", str(target),
                                       "--json"])
    elapsed = time.monotonic() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        name, result.exception)
    assert result.exit_code == entry.EXPECT["exit"], (name, result.output[-2000:])
    if entry.EXPECT["exit"] == 2:
        # with --json the CLI reports the error as JSON carrying its stable code
        error = json.loads(result.stdout)
        assert error["status"] == "error" and error["error"]["code"] == entry.EXPECT["code"], (
            name, result.output[-2000:])
    else:
        out = json.loads(result.output)
        failed = {c["code"] for c in out["checks"] if c["result"] == "fail"}
        assert out["status"] == "rejected" and entry.EXPECT["code"] in failed, (name, failed)
    assert elapsed < SECONDS, f"{name}: refusal took {elapsed:.1f} s"
