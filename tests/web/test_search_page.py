"""The search page's own links (facets, filter chips) carry the query and the filters:
they are built once per page (``views.search.search_links``), not by ``url_for`` per link."""

from __future__ import annotations

import html
import re

from dangan.ingest.service import ingest
from dangan.web.app import create_app
from tests.web.webkit import WebArchive, add_user, app_config, sign_in

HREF = re.compile(r'href="(/search\?[^"]*)"')


def test_facet_and_chip_links_keep_the_query_and_narrow_or_widen(archive, make_case):
    outcome = ingest(archive, make_case(), actor="test", ocr=False)
    web = WebArchive(archive)
    add_user(web, "clerk1", "clerk")
    client = create_app(app_config(web)).test_client()
    assert sign_in(client, web, "clerk1").status_code == 302
    page = client.get(f"/search?q={outcome.case_id}").get_data(as_text=True)
    year = str(outcome.archival_code.split("·")[1][:4])
    links = [html.unescape(h) for h in HREF.findall(page)]
    facet = next(h for h in links if f"f=year%3A{year}" in h)
    assert facet.startswith(f"/search?q={outcome.case_id}&")
    narrowed = client.get(facet).get_data(as_text=True)
    assert "共 <strong>1</strong> 件" in narrowed and f"year:{year} ✕" in narrowed
    chip = next(html.unescape(h) for h in HREF.findall(narrowed) if "f=" not in h)
    assert chip == f"/search?q={outcome.case_id}"
    assert "共 <strong>1</strong> 件" in client.get(chip).get_data(as_text=True)
