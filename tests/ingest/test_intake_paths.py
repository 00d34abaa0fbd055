"""Item 1 of issue 9: both readings of ``files[].path`` file the same case, everywhere."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dangan.packages.aip import validate_aip
from dangan.packages.case_schema import submission_path
from dangan.web.cli import main
from tests.casekit import edit_case


def _run(home, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_the_one_rule_reads_both_spellings_as_one_path():
    assert submission_path("01-登记表.pdf") == submission_path("files/01-登记表.pdf") \
        == "files/01-登记表.pdf"
    assert submission_path("sub/a.pdf") == "files/sub/a.pdf"
    assert submission_path("") is None and submission_path(7) is None


def test_paths_written_with_the_files_prefix_are_filed(archive, make_case, sender_key):
    """Once: every check passed, then the catalogue rows looked up files/files/… (exit 1)."""
    root = make_case()
    plain = json.loads((root / "case.json").read_text("utf-8"))["files"]
    half = len(plain) // 2 or 1

    def prefix(case):  # some entries with the prefix, some without: both readings at once
        for f in case["files"][:half]:
            f["path"] = "files/" + f["path"]

    edit_case(root, sender_key, prefix)
    code, out = _run(archive.home, "ingest", str(root), "--json")
    assert code == 0, out
    receipt = json.loads(out)
    assert receipt["status"] == "archived"
    code, out = _run(archive.home, "show", receipt["aip_id"], "--json")
    shown = json.loads(out)
    assert sorted(f["path"] for f in shown["files"]) == sorted(
        f"data/submission/files/{f['path']}" for f in plain)
    # the AIP description names the same payload files, and the package validates
    assert validate_aip(archive.store.path(receipt["aip_id"]), archive.key.public_pem).valid
    # and the same case sent again with the other spelling is not a new case
    code, out = _run(archive.home, "ingest", str(root), "--json")
    assert code == 0 and json.loads(out)["status"] == "duplicate"


def test_pdf_limits_come_from_dangan_toml(archive, make_case, sender_key):
    """``[limits] pdf_max_pages`` reaches the checks: a 30-page PDF passes GD-3-4 by
    default and is refused with the page count once the archive allows 20."""
    from tests.casekit import sign_case
    from tests.hostile.intake import pdfgen
    from tests.hostile.intake.kit import Submission

    def submit(limit: int | None) -> tuple[int, str]:
        root = make_case()
        sub = Submission(root)
        sub.replace_first_pdf(pdfgen.many_pages(30))
        sub.finish()
        sign_case(root, sender_key)
        toml = archive.settings.config_file
        text = toml.read_text("utf-8")
        if limit is not None:
            toml.write_text(text.replace("pdf_max_pages = 5000", f"pdf_max_pages = {limit}"),
                            "utf-8")
        return _run(archive.home, "ingest", str(root), "--json")

    code, out = submit(None)
    report = {c["code"]: c for c in json.loads(out)["checks"]}
    assert report["GD-3-4"]["result"] == "pass", report["GD-3-4"]
    code, out = submit(20)
    assert code == 3, out
    report = {c["code"]: c for c in json.loads(out)["checks"]}
    assert report["GD-3-4"]["result"] == "fail"
    assert "页数 30" in report["GD-3-4"]["evidence"][0]["note"]


def test_colliding_names_are_refused_naming_both(archive, make_case, sender_key, tmp_path):
    """Item 5: ``café.pdf`` composed and decomposed, in a folder and in a .zip."""
    import unicodedata

    import pytest

    from dangan.ingest.errors import NameCollision
    from dangan.ingest.service import ingest
    from tests.casekit import sign_case
    from tests.hostile.intake.kit import Submission, zip_tree

    root = make_case()
    sub = Submission(root)
    pdf = next((root / "files").rglob("*.pdf")).read_bytes()
    composed, decomposed = (unicodedata.normalize(f, "café.pdf") for f in ("NFC", "NFD"))
    sub.add_file(composed, pdf)
    sub.add_file(decomposed, pdf + b"\n")
    sub.finish()
    sign_case(root, sender_key)
    for target in (root, zip_tree(root, tmp_path / "sub.zip")):
        with pytest.raises(NameCollision) as refused:
            ingest(archive, target)
        assert refused.value.code == "ingest.name_collision"
        assert f"files/{composed}" in refused.value.message
        assert f"files/{decomposed}" in refused.value.message
