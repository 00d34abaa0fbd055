"""The index records which items' scans await OCR; search says so until the pass ends."""

from __future__ import annotations

import json

import pytest

from dangan.ingest.service import ingest
from dangan.search import ocr_background
from dangan.search.feed import flag_ocr_pending, ocr_pending, reindex, service_for
from dangan.search.interface import Access
from dangan.search.ocr import ocr_status
from dangan.search.service import result_json

EVERYONE = Access(classifications=frozenset({"public", "internal", "restricted"}))


def test_items_filed_without_ocr_are_flagged_in_results_and_counted(archive, make_case):
    path = make_case()
    case = json.loads((path / "case.json").read_text("utf-8"))
    outcome = ingest(archive, path, ocr=False)
    assert ocr_pending(archive) == {outcome.aip_id}
    result = flag_ocr_pending(archive, service_for(archive).search(case["case_id"],
                                                                   access=EVERYONE))
    assert [h.ocr_pending for h in result.hits] == [True]
    assert result_json(result)["hits"][0]["ocr_pending"] is True
    state = ocr_background.progress(archive)
    assert state is not None and state["pending"] == 1 and state["state"] == "idle"


def test_a_reindex_forgets_markers_of_items_no_longer_in_the_archive(archive):
    from dangan.search.feed import mark_ocr_pending

    mark_ocr_pending(archive, "gone-aip", True)
    assert ocr_pending(archive) == {"gone-aip"}
    reindex(archive, ocr=False, workers=1)
    assert ocr_pending(archive) == set()


@pytest.mark.slow
@pytest.mark.skipif(not ocr_status().available, reason=ocr_status().reason)
def test_the_background_pass_clears_the_flag_and_the_scan_becomes_findable(archive, make_case):
    path = make_case()
    case = json.loads((path / "case.json").read_text("utf-8"))
    outcome = ingest(archive, path, ocr=False)
    issuer_only_on_the_card = '"签发机关"'
    service = service_for(archive)
    assert service.search(issuer_only_on_the_card, access=EVERYONE).hits == []
    assert ocr_background.run(archive, workers=1) == 1
    assert ocr_pending(archive) == set()
    state = ocr_background.progress(archive)
    assert state["state"] == "done" and state["done"] == state["total"] == 1
    assert state["pending"] == 0
    hits = service_for(archive).search(issuer_only_on_the_card, access=EVERYONE).hits
    assert [h.aip_id for h in hits] == [outcome.aip_id]
    found = flag_ocr_pending(archive, service_for(archive).search(case["case_id"], access=EVERYONE))
    assert [h.ocr_pending for h in found.hits] == [False]


@pytest.mark.slow
@pytest.mark.skipif(not ocr_status().available, reason=ocr_status().reason)
def test_a_pass_killed_before_the_swap_leaves_the_items_marked_and_says_stopped(
        archive, make_case, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    outcome = ingest(archive, make_case(), ocr=False)
    ready = tmp_path / "ready"
    env = dict(os.environ, DANGAN_FAILPOINT="reindex.before_swap",
               DANGAN_FAILPOINT_READY=str(ready))
    proc = subprocess.Popen([sys.executable, "-m", "dangan.search.ocr_background",
                             str(archive.home), "1"], env=env)
    try:
        deadline = time.monotonic() + 600
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.exists(), "the pass never reached the swap"
        assert ocr_background.progress(archive)["state"] == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert ocr_pending(archive) == {outcome.aip_id}  # the old index is still the live one
    state = ocr_background.progress(archive)
    assert state["state"] == "stopped" and state["pending"] == 1
    assert service_for(archive).search('"签发机关"', access=EVERYONE).hits == []
