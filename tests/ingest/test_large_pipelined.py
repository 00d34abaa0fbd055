"""Filing a large file pipelined: SM3 still hashing while the files are decoded and flushed.

Each test tries to break a guarantee of that overlap: a declared SM3 that does not match,
a file that cannot be read half-way, SM3 failing behind the copy, a step that raises
while SM3 runs, and a process killed in the overlap.
"""

from __future__ import annotations

import io
import json
import random
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from sqlalchemy import func, select

from dangan.archive.models import Item, Rejection
from dangan.ingest import service
from dangan.ingest.errors import UnusableSubmission
from dangan.ingest.service import ingest, recover
from dangan.packages import sm3_trailing
from dangan.packages.digests import CHUNK, OPENSSL_SM3, digest_file, new_sm3
from tests.casekit import edit_case
from tests.killing import kill_at_failpoint

pytestmark = pytest.mark.skipif(not OPENSSL_SM3, reason="trailing SM3 needs OpenSSL SM3")

DANGAN = [sys.executable, "-m", "dangan.web.cli"]
OVERLAP_MIN_BYTES = service.OVERLAP_MIN_BYTES  # as a separate process has it


def _scan_pdf(path: Path, pages: int = 2) -> None:
    """An image-only PDF of a few MB (each page a 200 dpi noise scan): several chunks."""
    rng = random.Random(11)
    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        img = Image.frombytes("L", (1654, 2339), rng.randbytes(1654 * 2339))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=92, dpi=(300, 300))
        c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, *A4)
        c.showPage()
    c.save()


@pytest.fixture
def large_case(make_case, sender_key):
    """A signed case whose PDF is several chunks long, so its SM3 trails the copy."""

    def make(pages: int = 2, **change: Any) -> tuple[Path, str]:
        root = make_case()
        case = json.loads((root / "case.json").read_text("utf-8"))
        entry = next(f for f in case["files"] if f["media_type"] == "application/pdf")
        target = root / "files" / entry["path"]
        _scan_pdf(target, pages)
        d = digest_file(target)
        assert d.size > 3 * CHUNK

        def relist(c: dict[str, Any]) -> None:
            e = next(f for f in c["files"] if f["path"] == entry["path"])
            e.update(size=d.size, sha256=d.sha256, sm3=d.sm3, origin="digitized")
            e.pop("pages", None)
            e.update(change)

        edit_case(root, sender_key, relist)
        return root, entry["path"]

    return make


@pytest.fixture(autouse=True)
def _read_back(monkeypatch):
    """A 1 MiB memory budget: most chunks are read back from the staged copy; and the
    overlap for a file of a few MB (in this process)."""
    monkeypatch.setattr(sm3_trailing, "DEFAULT_BUDGET", CHUNK)
    monkeypatch.setattr(service, "OVERLAP_MIN_BYTES", CHUNK)


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name in ("sm3-trailing", "flush-behind")]


def _nothing_filed(archive) -> None:
    with archive.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 0
    assert list(archive.store.iter_aip_ids()) == []
    assert list(archive.store.staging_root.iterdir()) == []
    assert not _workers()


def test_a_large_file_is_filed_with_the_sm3_of_its_bytes_in_both_copies(archive, large_case):
    root, rel = large_case()
    data = (root / "files" / rel).read_bytes()
    out = ingest(archive, root, index=False)
    assert out.status == "archived", out.reason
    want = new_sm3(data).hexdigest()
    for store in (archive.store, service.replica.replica_store(archive)):
        aip = store.path(out.aip_id)
        manifest = (aip / "manifest-sm3.txt").read_text("utf-8")
        line = next(x for x in manifest.splitlines() if x.endswith(f"files/{rel}"))
        assert line.split()[0] == want
        assert (aip / "data" / "submission" / "files" / rel).read_bytes() == data
    with archive.db.session() as s:
        item = s.get(Item, out.aip_id)
        assert any(f.sm3 == want for f in item.files)
    assert not _workers()


def test_a_declared_sm3_that_does_not_match_rejects_the_case(archive, large_case):
    root, rel = large_case(sm3="0" * 64)
    out = ingest(archive, root, index=False)
    assert out.status == "rejected"
    failed = next(c for c in out.checks if c["code"] == "GD-1-1-2")
    assert failed["result"] == "fail"
    assert any(e.get("extra", {}).get("algorithm") == "sm3" or "SM3" in str(e)
               for e in failed["evidence"])
    with archive.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Rejection)) == 1
    _nothing_filed(archive)


def test_a_file_that_fails_to_read_half_way_is_refused_and_leaves_nothing(
        archive, large_case, monkeypatch):
    root, rel = large_case()
    real_open = open

    class Failing(io.FileIO):
        reads = 0

        def readinto(self, buffer: Any) -> int | None:
            Failing.reads += 1
            if Failing.reads > 2:
                raise OSError(5, "Input/output error")
            return super().readinto(buffer)

    source = root / "files" / rel

    def fake_open(path, mode="r", *args, **kwargs):
        if mode == "rb" and Path(path) == source:
            return io.BufferedReader(Failing(path, "r"))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(sm3_trailing, "open", fake_open, raising=False)
    with pytest.raises(UnusableSubmission) as info:
        ingest(archive, root, index=False)
    assert info.value.code == "ingest.unusable_submission"
    assert Failing.reads == 3  # it failed after two chunks were copied
    _nothing_filed(archive)
    monkeypatch.undo()
    assert ingest(archive, root, index=False).status == "archived"


def test_sm3_failing_behind_the_copy_refuses_the_case_with_the_read_error_code(
        archive, large_case, monkeypatch):
    root, _rel = large_case()

    def broken(fd: int, length: int, offset: int, path: str) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sm3_trailing, "_pread_exactly", broken)
    with pytest.raises(UnusableSubmission) as info:
        ingest(archive, root, index=False)
    assert info.value.code == "ingest.unusable_submission"
    _nothing_filed(archive)


@pytest.mark.parametrize("error", [RuntimeError("decoder bug"), KeyboardInterrupt()])
def test_a_step_raising_while_sm3_still_runs_joins_it_and_removes_staging(
        archive, large_case, monkeypatch, error):
    root, _rel = large_case()
    seen = []

    def raising(arch, pending):
        seen.append(pending.trailing.pending)
        raise error

    monkeypatch.setattr(service, "_ahead", raising)
    with pytest.raises(type(error)):
        ingest(archive, root, index=False)
    assert seen == [True]  # it did raise while SM3 was pending
    _nothing_filed(archive)
    assert list(service.replica.replica_store(archive).staging_root.iterdir()) == []


def test_a_process_killed_in_the_overlap_leaves_nothing_taken_for_filed(
        archive, large_case, tmp_path):
    root, rel = large_case(pages=6)  # over OVERLAP_MIN_BYTES: the killed process overlaps
    assert (root / "files" / rel).stat().st_size >= OVERLAP_MIN_BYTES
    kill_at_failpoint([*DANGAN, "--home", str(archive.home), "ingest", str(root), "--json"],
                      "overlap", tmp_path / "ready")
    with archive.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 0
    assert list(archive.store.iter_aip_ids()) == []
    recover(archive)
    assert list(archive.store.staging_root.iterdir()) == []
    again = ingest(archive, root, index=False)
    assert again.status == "archived", again.reason
    assert list(archive.store.iter_aip_ids()) == [again.aip_id]
