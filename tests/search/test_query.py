"""The clerks' query language: how typed queries are understood."""

from __future__ import annotations

from datetime import date

import pytest

from dangan.search import QuerySyntaxError
from dangan.search.analysis import name_pinyin, segment
from dangan.search.query import And, DateRange, Not, Or, Word, classify, parse
from dangan.search.service import parse_filters


def test_bare_words_are_classified_as_a_clerk_means_them() -> None:
    assert classify("330102199003071230") == "id"
    assert classify("91330100MA2B3C4D5N") == "id"
    assert classify("071230") == "suffix" and classify("123X") == "suffix"
    assert classify("zhangsan") == "pinyin"
    assert classify("Z001-SB·2024-Y-GL-00001") == "code"
    assert classify("养老保险") == "text"


def test_fields_aliases_phrases_and_operators() -> None:
    q = parse('姓名:张三 "参保登记表" OR 事项:“失业 保险” -李四')
    assert q == Or([And([Word("张三", "name"), Word("参保登记表", phrase=True)]),
                    And([Word("失业 保险", "item", phrase=True), Not(Word("李四"))])])
    assert parse("结果:准予 渠道:窗口") == And([Word("approved", "outcome"), Word("window", "channel")])
    assert parse("10:30") == Word("10:30")  # not a field: an ordinary word
    assert parse("") is None and parse("张三 OR") == Word("张三")  # a dangling OR is ignored
    with pytest.raises(QuerySyntaxError) as exc:  # operators alone used to match everything
        parse("OR")
    assert exc.value.code == "search.query_syntax" and "缺少检索词" in exc.value.message


def test_date_ranges() -> None:
    assert parse("date:2024-01-01..2024-06-30") == DateRange("date", date(2024, 1, 1), date(2024, 6, 30))
    assert parse("受理日期:2024-02") == DateRange("accepted", date(2024, 2, 1), date(2024, 2, 29))
    assert parse("日期:..2023") == DateRange("date", None, date(2023, 12, 31))
    with pytest.raises(QuerySyntaxError) as exc:
        parse("date:2024-13-01")
    assert "日期" in exc.value.message


def test_segmentation_and_pinyin() -> None:
    assert "参保登记" in segment("申请人办理了企业职工基本养老保险参保登记手续")
    assert name_pinyin("张三") == ["zhangsan", "zs"]
    assert set(name_pinyin("曾小贤")) >= {"zengxiaoxian", "zxx"}


def test_cli_filters() -> None:
    assert parse_filters(["year=2024", "year=2023", "事项:SB001"]) == {
        "year": ["2024", "2023"], "事项": ["SB001"]}
    with pytest.raises(QuerySyntaxError):
        parse_filters(["2024"])
