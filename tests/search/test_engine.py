"""What a clerk gets from the Whoosh engine over a small corpus (see conftest)."""

from __future__ import annotations

from dangan.search import Access, SearchEngine
from dangan.search.whoosh_engine import WhooshEngine
from tests.search.corpus import LI, SHAN, UNIT, WANG, ZHANG, corpus, make_doc

ALL = Access.everything()


def ids(result) -> list[str]:
    return [h.aip_id for h in result.hits]


def test_engine_implements_the_interface(engine: WhooshEngine) -> None:
    assert isinstance(engine, SearchEngine)
    assert engine.count() == 4


def test_chinese_word_inside_a_sentence_is_found(engine: WhooshEngine) -> None:
    # "调查核实" only occurs inside a sentence of the second case's document.
    r = engine.search("调查核实", access=ALL)
    assert ids(r) == ["aip-0002"]
    assert any("<em>调查核实</em>" in h.fragment for h in r.hits[0].highlights)
    # two words, AND by default: both must occur
    assert ids(engine.search("事故 伤害", access=ALL)) == ["aip-0002"]
    assert engine.search("事故 养老", access=ALL).total == 0


def test_pinyin_and_initials_find_a_name(engine: WhooshEngine) -> None:
    assert ids(engine.search("zhangsan", access=ALL)) == ["aip-0001"]
    assert ids(engine.search("ZS", access=ALL)) == ["aip-0001"]
    assert ids(engine.search("wangxiaoming", access=ALL)) == ["aip-0003"]
    # the surname reading of 单 (shan) and the default reading (dan) both work
    assert ids(engine.search("shanxiongxin", access=ALL)) == ["aip-0004"]
    assert ids(engine.search("姓名:张三", access=ALL)) == ["aip-0001"]
    hl = engine.search("zhangsan", access=ALL).hits[0].highlights[0]
    assert hl.field == "names" and "<em>张三</em>" in hl.fragment


def test_last_digits_and_full_ids(engine: WhooshEngine) -> None:
    assert ids(engine.search(ZHANG[-6:], access=ALL)) == ["aip-0001"]
    assert ids(engine.search(LI[-4:], access=ALL)) == ["aip-0002"]
    assert ids(engine.search(WANG, access=ALL)) == ["aip-0003"]
    assert ids(engine.search(UNIT.lower(), access=ALL)) == ["aip-0002"]  # credit code, any case
    assert ids(engine.search(f"尾号:{SHAN[-6:]}", access=ALL)) == ["aip-0004"]
    frag = engine.search(ZHANG[-6:], access=ALL).hits[0].highlights[0].fragment
    assert f"<em>{ZHANG[-6:]}</em>" in frag and "19900307" not in frag  # birth date masked


def test_case_id_archival_code_and_decision_number(engine: WhooshEngine) -> None:
    assert ids(engine.search("hz2023-000002", access=ALL)) == ["aip-0002"]
    assert ids(engine.search("Z001-SB·2024-Y-ZF-00003", access=ALL)) == ["aip-0003"]
    assert ids(engine.search("档号:Z001-SB·2024-Y-ZF", access=ALL)) == ["aip-0003", "aip-0004"] or \
        set(ids(engine.search("档号:Z001-SB·2024-Y-ZF", access=ALL))) == {"aip-0003", "aip-0004"}
    assert ids(engine.search("杭人社工认〔2023〕118号", access=ALL)) == ["aip-0002"]


def test_quoted_phrase_is_an_exact_sequence(engine: WhooshEngine) -> None:
    assert ids(engine.search('"准予登记"', access=ALL)) == ["aip-0001"]
    # both words occur in the text of case 1, but not as this sequence
    assert engine.search('"登记准予"', access=ALL).total == 0
    assert ids(engine.search("“劳动合同期满”", access=ALL)) == ["aip-0003"]


def test_filters_and_facets(engine: WhooshEngine) -> None:
    r = engine.search("失业保险金", access=ALL)
    assert r.total == 2
    assert r.facets["item"] == {"SB030": 2}
    assert r.facets["year"] == {"2024": 2}
    assert r.labels["item"]["SB030"] == "失业保险金申领"
    assert r.facets["security"] == {"internal": 1, "restricted": 1}
    r = engine.search("", filters={"security": "internal"}, access=ALL)
    assert ids(r) == ["aip-0003"]
    r = engine.search("", filters={"year": ["2023", "2024"], "outcome": "rejected"}, access=ALL)
    assert ids(r) == ["aip-0002"]
    assert r.facets["outcome"] == {"rejected": 1}
    assert ids(engine.search("结果:不予 渠道:网上", access=ALL)) == ["aip-0002"]
    assert engine.search("", access=ALL).facets["year"] == {"2024": 3, "2023": 1}


def test_date_range(engine: WhooshEngine) -> None:
    r = engine.search("date:2024-01-01..2024-03-31", access=ALL)
    assert set(ids(r)) == {"aip-0001", "aip-0004"}
    # whole month and open-ended forms; local (Asia/Shanghai) calendar days
    assert ids(engine.search("办结日期:2023-11", access=ALL)) == ["aip-0002"]
    assert set(ids(engine.search("date:2024-03-16..", access=ALL))) == {"aip-0003"}
    assert engine.search("date:2024-06-21..2024-12-31", access=ALL).total == 0


def test_boolean_operators(engine: WhooshEngine) -> None:
    assert set(ids(engine.search("张三 OR 李四", access=ALL))) == {"aip-0001", "aip-0002"}
    assert set(ids(engine.search("失业保险金 NOT 王小明", access=ALL))) == {"aip-0004"}
    assert set(ids(engine.search("失业保险金 -单雄信", access=ALL))) == {"aip-0003"}
    assert set(ids(engine.search("(张三 OR 李四) 工伤", access=ALL))) == {"aip-0002"}


def test_access_rule_hides_items_from_hits_and_facets(engine: WhooshEngine) -> None:
    public = Access.of(["public"])
    r = engine.search("失业保险金", access=public)
    assert r.total == 0 and r.hits == []
    assert all(not counts for counts in r.facets.values())
    r = engine.search("", access=public)
    assert set(ids(r)) == {"aip-0001", "aip-0002"}
    assert r.facets["security"] == {"public": 2}
    assert "SB030" not in r.facets["item"]
    # an agency rule: West Lake district only, internal allowed
    west = Access.of(["public", "internal"], agencies=["330106"])
    r = engine.search("", access=west)
    assert ids(r) == ["aip-0003"] and r.facets["agency"] == {"330106": 1}
    # a prefix rule covers the districts of a city
    assert engine.search("", access=Access.of(None, agency_prefixes=["330106"])).total == 2
    assert engine.search("", access=Access.of(None, agency_prefixes=["3301"])).total == 4
    # no "did you mean" that would reveal a hidden name
    assert engine.search("shanxiongxim", access=public).suggestion is None
    assert engine.search("shanxiongxim", access=ALL).suggestion == "shanxiongxin"


def test_remove_makes_an_item_vanish_at_once(engine: WhooshEngine) -> None:
    assert engine.search("zhangsan", access=ALL).total == 1
    assert engine.remove("aip-0001") is True
    assert engine.search("zhangsan", access=ALL).total == 0
    assert engine.search("", access=ALL).facets["item"].get("SB001") is None
    assert engine.count() == 3
    assert engine.remove("aip-0001") is False
    # another engine object on the same folder (another process) sees it too
    other = WhooshEngine(engine.home.root)
    assert other.search(ZHANG, access=ALL).total == 0


def test_remove_many_removes_what_is_indexed_and_skips_the_rest(engine: WhooshEngine) -> None:
    assert engine.remove_many(["aip-0001", "aip-0002", "aip-9999"]) == 2
    assert engine.count() == 2 and engine.search("zhangsan", access=ALL).total == 0
    assert engine.remove_many([]) == 0 and engine.remove_many(["aip-0001"]) == 0
    other = WhooshEngine(engine.home.root)  # another process sees the removal
    assert other.count() == 2


def test_did_you_mean_for_mistyped_names(engine: WhooshEngine) -> None:
    r = engine.search("zhangsna", access=ALL)
    assert r.total == 0 and r.suggestion == "zhangsan"
    r = engine.search("张山", access=ALL)  # same pinyin as 张三
    assert r.total == 0 and r.suggestion == "张三"
    r = engine.search("wnagxiaoming 失业", access=ALL)
    assert r.total == 0 and r.suggestion == "wangxiaoming 失业"
    # a typed prefix of a long pinyin name already finds the person
    assert ids(engine.search("wangxiaomin", access=ALL)) == ["aip-0003"]
    assert engine.search("zhangsan", access=ALL).suggestion is None


def test_update_replaces_by_aip_id_and_paging(tmp_path) -> None:
    eng = WhooshEngine(tmp_path / "ix")
    eng.index_many([make_doc(i, f"测试{i:02d}", ZHANG, body="养老保险待遇核定") for i in range(1, 26)])
    assert eng.count() == 25
    eng.index(make_doc(3, "赵六", WANG, body="工伤认定"))
    assert eng.count() == 25
    assert eng.search("赵六", access=ALL).total == 1
    pages = [eng.search("待遇核定", page=p, page_size=10, access=ALL) for p in (1, 2, 3)]
    assert [len(p.hits) for p in pages] == [10, 10, 4]
    assert pages[0].total == 24 and pages[0].pages == 3
    seen = [h.aip_id for p in pages for h in p.hits]
    assert len(set(seen)) == 24


def test_reindex_swaps_in_a_fresh_index(engine: WhooshEngine) -> None:
    old = engine.home.current()
    docs = corpus()[1:]  # the archive no longer holds case 1
    assert engine.reindex(docs) == 3
    assert engine.home.current() != old
    assert engine.count() == 3
    assert engine.search("zhangsan", access=ALL).total == 0
    assert ids(engine.search("lisi", access=ALL)) == ["aip-0002"]
    engine.index(corpus()[0])  # incremental writes go to the new generation
    assert engine.count() == 4
    engine.reindex(corpus())
    assert len(list(engine.home.root.glob("gen-*"))) <= 2  # old generations pruned


def test_total_and_facets_count_every_match_not_just_the_top_page(tmp_path) -> None:
    eng = WhooshEngine(tmp_path / "ix")
    strong = [make_doc(i, f"甲{i:02d}", ZHANG, body="工伤认定 工伤认定 工伤认定 事故伤害") for i in range(1, 31)]
    weak = [make_doc(i, f"乙{i:02d}", WANG, body="普通材料说明" + "填充" * 200 + "失业登记",
                     item=("SB031", "失业登记")) for i in range(31, 36)]
    eng.index_many(strong + weak)
    r = eng.search("工伤认定 OR 失业登记", page_size=5, access=ALL)
    assert r.total == 35
    assert r.facets["item"] == {"SB001": 30, "SB031": 5}
    assert eng.search("工伤认定 OR 失业登记", page=7, page_size=5, access=ALL).hits != []


def test_cached_postings_never_resurrect_a_removed_item(engine: WhooshEngine) -> None:
    engine.segments.min_ids = 1  # cache even tiny lists
    clerk = Access.of(["public", "internal"])
    assert engine.search('"失业保险金"', access=clerk).total == 1  # warms the cache
    assert engine.search("", filters={"year": "2024"}, access=clerk).total == 2
    engine.remove("aip-0003")
    assert engine.search('"失业保险金"', access=clerk).total == 0
    assert engine.search("", filters={"year": "2024"}, access=clerk).total == 1
    assert engine.search("", filters={"year": "2024"}, access=clerk).facets["year"] == {"2024": 1}


def test_date_and_prefix_filters(engine: WhooshEngine) -> None:
    r = engine.search("", filters={"date": "2024-01..2024-03"}, access=ALL)
    assert set(ids(r)) == {"aip-0001", "aip-0004"}
    r = engine.search("失业保险金", filters={"日期": ["2023", "2024-06"]}, access=ALL)
    assert ids(r) == ["aip-0003"]
    assert engine.search("", filters={"agency": "330106"}, access=ALL).total == 2
    assert engine.search("", filters={"受理日期": "..2023-12-31"}, access=ALL).total == 1
