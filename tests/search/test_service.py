"""The facade the CLI and the web layer call."""

from __future__ import annotations

import json

from dangan.search import Access, SearchService, render_text, search_json
from dangan.search.whoosh_engine import WhooshEngine
from tests.search.corpus import LI, ZHANG


def test_search_json_for_the_cli(engine: WhooshEngine) -> None:
    svc = SearchService(engine)
    out = search_json(svc, ZHANG[-6:], filters=["year=2024"], access=Access.everything())
    json.dumps(out, ensure_ascii=False)  # JSON-able as it is
    assert out["total"] == 1
    hit = out["hits"][0]
    assert set(hit) >= {"aip_id", "archival_code", "case_id", "title", "score", "highlights"}
    assert hit["aip_id"] == "aip-0001" and hit["case_id"] == "HZ2024-000001"
    assert out["facets"]["year"] == {"2024": 1}
    text = render_text(svc.search("zhangsan", access=Access.everything()))
    assert "共 1 件" in text and "【张三】" in text


def test_identifier_lookups_are_answered_by_the_index_under_access_rules(engine: WhooshEngine) -> None:
    svc = SearchService(engine)
    r = svc.search("HZ2023-000002", access=Access.everything())
    assert [h.aip_id for h in r.hits] == ["aip-0002"]
    # an exact identifier does not bypass access rules
    assert svc.search("HZ2023-000002", access=Access.of(["restricted"])).total == 0
    assert [h.aip_id for h in svc.search(LI, access=Access.everything()).hits] == ["aip-0002"]


def test_facets_name_coded_values_with_the_vocabulary(engine: WhooshEngine) -> None:
    """A clerk sees 办理结果：准予 1, not approved 1; JSON carries the same names."""
    from dangan.packages import vocabulary as V

    svc = SearchService(engine)
    out = search_json(svc, ZHANG[-6:], access=Access.everything())
    outcome = next(iter(out["facets"]["outcome"]))
    channel = next(iter(out["facets"]["channel"]))
    assert out["facet_labels"]["outcome"] == {outcome: V.OUTCOMES[outcome]}
    assert out["facet_labels"]["channel"] == {channel: V.CHANNELS[channel]}
    text = render_text(svc.search(ZHANG[-6:], access=Access.everything()))
    assert f"办理结果：{V.OUTCOMES[outcome]} 1" in text
    assert f"办理渠道：{V.CHANNELS[channel]} 1" in text
    assert outcome not in text and channel not in text
