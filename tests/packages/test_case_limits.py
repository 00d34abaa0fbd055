"""Item 4 of issue 9: oversized input is refused before it is parsed, fast and small."""

from __future__ import annotations

import json
import time
import tracemalloc

from dangan.packages.case_limits import CaseLimits, case_limit_problem
from dangan.packages.formats.pdf import PdfLimits, inspect_pdf
from tests.hostile.intake import pdfgen


def _measured(fn):
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = fn()
        return result, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_million_events_are_counted_not_built():
    data = b'{"schema": "x", "events": [' + b",".join([b'{"seq": 1}'] * 1_000_000) + b"]}"
    assert len(data) < CaseLimits().max_bytes  # the byte cap alone would let it through
    why, seconds, peak = _measured(lambda: case_limit_problem(data, CaseLimits()))
    assert why and "events" in why
    assert seconds < 10 and peak < 5 << 20, (seconds, peak)  # it once took over 300 s and 2 GB


def test_each_count_and_the_depth_have_their_own_cap():
    limits = CaseLimits(max_events=2, max_parties=3, max_files=2, max_depth=4)
    ok = {"events": [{}, {}], "subjects": [{}, {}], "files": [{}, {}], "x": [[1]]}
    assert case_limit_problem(json.dumps(ok).encode(), limits) is None
    for key, value in (("events", [{}] * 3), ("subjects", [{}] * 3), ("files", [{}] * 3),
                       ("x", [[[[1]]]])):
        assert case_limit_problem(json.dumps({**ok, key: value}).encode(), limits), key
    # an array named like a counted one but nested deeper is not counted
    assert case_limit_problem(json.dumps({"a": {"events": [{}] * 5}}).encode(), limits) is None
    assert "字节" in case_limit_problem(b" " * 11, CaseLimits(max_bytes=10))


def test_malformed_json_is_left_to_the_parser_to_report():
    for data in (b"{", b'{"events": [1', b"nope", b'{"a": 1}garbage'):
        assert case_limit_problem(data, CaseLimits()) is None


def test_a_pdf_of_100000_pages_is_refused_in_a_moment(tmp_path):
    path = tmp_path / "big.pdf"
    path.write_bytes(pdfgen.many_pages(100_000))
    info, seconds, peak = _measured(lambda: inspect_pdf(path, with_text=False))
    assert not info.readable and info.over_limit and "对象" in info.over_limit
    assert seconds < 10 and peak < 20 << 20, (seconds, peak)  # once 40 s and 360 MB


def test_pdf_limits_on_pages_objects_and_depth(tmp_path):
    pages = tmp_path / "pages.pdf"
    pages.write_bytes(pdfgen.many_pages(30))
    assert inspect_pdf(pages, with_text=False).readable
    info = inspect_pdf(pages, with_text=False, limits=PdfLimits(max_pages=20))
    assert not info.readable and "页数 30" in info.over_limit
    info = inspect_pdf(pages, with_text=False, limits=PdfLimits(max_objects=20))
    assert not info.readable and "对象" in info.over_limit
    chain = tmp_path / "chain.pdf"
    chain.write_bytes(pdfgen.deep_chain(200))
    assert inspect_pdf(chain, with_text=False).readable
    info, seconds, _ = _measured(
        lambda: inspect_pdf(chain, with_text=False, limits=PdfLimits(max_depth=50)))
    assert not info.readable and "嵌套" in info.over_limit and seconds < 10
