"""Hostile queries: every one ends in hits or in a search error with a stable code.

The corpus (tests/hostile/search/queries.json) holds what hostile testing found — lone
operators, a thousand "(", bytes that are not UTF-8, a 100 KB OR-chain — and runs through
the CLI as a clerk types it; a property test throws token soup at the parser and the
service.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangan.search import Access, SearchResult, SearchService
from dangan.search.errors import QuerySyntaxError, SearchError
from dangan.search.query import LIMITS, parse
from dangan.search.whoosh_engine import WhooshEngine
from dangan.web.cli import main

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "hostile" / "search" / "queries.json"
EVERYONE = Access(classifications=frozenset({"public", "internal", "restricted"}))


def _load() -> list[dict[str, Any]]:
    return json.loads(CORPUS.read_text("utf-8"))["queries"]


def corpus_query(entry: dict[str, Any]) -> str:
    """The query as the program receives it (argv bytes decoded as the OS does)."""
    if "argv_hex" in entry:
        return os.fsdecode(bytes.fromhex(entry["argv_hex"]))
    if "repeat" in entry:
        return entry["repeat"] * entry["times"] + entry.get("suffix", "")
    return entry["query"]


ENTRIES = _load()


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("hostile-search") / "home"
    result = CliRunner().invoke(main, ["--home", str(home), "init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return home


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["why"] for e in ENTRIES])
def test_hostile_query_through_the_cli(cli_home: Path, entry: dict[str, Any]) -> None:
    query = corpus_query(entry)
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["--home", str(cli_home), "search", query])
    elapsed = time.perf_counter() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{entry['why']}: crashed with {result.exception!r}")
    assert elapsed < 10, f"{entry['why']}: took {elapsed:.1f} s"
    if entry["code"] is None:
        assert result.exit_code == 0, result.output
        assert result.output.startswith("共 ")
    else:
        assert result.exit_code == 2, result.output
        assert f"错误 [{entry['code']}]：" in result.stderr
        assert "Traceback" not in result.output


def test_plain_text_error_names_the_problem(cli_home: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(cli_home), "search", "AND", "OR", "NOT"])
    assert result.exit_code == 2
    assert "search.query_syntax" in result.output and "缺少检索词" in result.output
    assert "Traceback" not in result.output


def test_bytes_that_are_not_utf8_on_a_real_command_line(cli_home: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "dangan.web.cli", "--home", str(cli_home),
                           "search", b"\xe5\xbc\xa0\xff"], cwd=ROOT, capture_output=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr.decode("utf-8", "replace")
    assert b"[search.query_encoding]" in proc.stderr and b"Traceback" not in proc.stderr


def test_labelled_queries_fit_the_limits() -> None:
    labelled = json.loads((Path(__file__).parent / "labelled.json").read_text("utf-8"))
    for q in labelled["queries"]:
        parse(q["query"])  # raises if a clerk's real query were refused


def test_the_largest_allowed_query_is_fast(engine: WhooshEngine) -> None:
    service = SearchService(engine)
    words = ["养老保险参保登记", "张三", "zhangsan", "110101199001011234", "date:2024"]
    query = " OR ".join(words[i % len(words)] for i in range(LIMITS.max_terms))
    assert len(query) <= LIMITS.max_chars
    started = time.perf_counter()
    result = service.search(query, access=EVERYONE)
    assert result.total >= 0
    assert time.perf_counter() - started < 5


# --- property test: token soup --------------------------------------------------------

TOKENS = st.sampled_from([
    "(", ")", "（", "）", "AND", "OR", "NOT", "-", "或", "且", "非", "&&", "||", '"', "“", "”",
    "「", "」", "姓名:", "date:", "year:", "结果:", "id:", "日期:", "..", "~", "至", ":", "：",
    "张三", "养老", "zhangsan", "2024", "2024-13-01", "0000", "9999-12-31", "123456",
    "110101199001011234", "ZJ-2024-001", " ", "\t", "\u3000", "，", "\x00", "\udcff", "😀",
])
SOUP = st.one_of(
    st.lists(TOKENS, max_size=40).map(" ".join),
    st.lists(TOKENS, max_size=40).map("".join),
    st.text(max_size=200),
)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(SOUP)
def test_parser_answers_a_tree_or_a_query_error(query: str) -> None:
    try:
        parse(query)
    except QuerySyntaxError as exc:
        assert exc.code.startswith("search.query")
        assert exc.message


@pytest.fixture(scope="module")
def soup_service(tmp_path_factory: pytest.TempPathFactory) -> SearchService:
    from tests.search.corpus import corpus

    eng = WhooshEngine(tmp_path_factory.mktemp("soup") / "index")
    eng.index_many(corpus())
    return SearchService(eng)


@settings(max_examples=120, deadline=5000,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(query=SOUP, filter_value=st.one_of(st.none(), st.text(max_size=30), TOKENS))
def test_service_answers_hits_or_a_search_error(soup_service: SearchService, query: str,
                                                filter_value: str | None) -> None:
    filters = {"year": filter_value} if filter_value is not None else None
    try:
        result = soup_service.search(query, filters=filters, access=EVERYONE)
    except SearchError as exc:
        assert exc.code.startswith("search.")
        return
    assert isinstance(result, SearchResult)
