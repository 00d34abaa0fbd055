"""Search hits link to the person page (一人一档) and the unit page of the parties they
name: the link is keyed by case and party index (never the ID number), the link text
shows the ID masked for a clerk; restricted hits (and so their parties) stay hidden."""

from __future__ import annotations

import re

from tests.web.test_reading_room import client_for, room  # noqa: F401


def party_links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a class="party" href="([^"]+)"[^>]*>(.*?)</a>', html)


def test_hits_link_to_person_and_unit_pages_without_ids_in_urls(room):  # noqa: F811
    person, rec = room["person"], room["rec"]
    number = person["id_number"]
    clerk = client_for(room, "clerk1")
    html = clerk.get(f"/search?q={person['name']}").get_data(as_text=True)
    links = party_links(html)
    assert links, html
    mine = [(href, text) for href, text in links if href.startswith(f"/person/{room['first']}/")]
    own = f"/person/{room['first']}/{room['idx']}"
    assert any(href == own and "一人一档" in text and number[-4:] in text for href, text in mine)
    assert number not in html  # masked for the clerk, in text and URLs alike
    assert not any(room["second"] in href for href, _ in links)  # restricted: no hit, no link
    units = [p for p in rec["parties"] if p["id_type"] != "resident_id"]
    assert units  # the pension registration names the employer by its credit code
    for i, p in enumerate(rec["parties"]):
        if p in units:
            assert any(href == f"/person/{room['first']}/{i}" and "单位档案" in text
                       and p["id_number"] in text for href, text in mine)
    page = clerk.get(own)
    assert page.status_code == 200 and number not in page.get_data(as_text=True)
    arch = client_for(room, "archivist1").get(f"/search?q={person['name']}").get_data(as_text=True)
    hrefs = [href for href, text in party_links(arch)]
    assert any(number in text for _, text in party_links(arch))  # whole for an archivist
    assert f"/person/{room['second']}/0" in hrefs or any(room["second"] in h for h in hrefs)
    assert not any(number in h for h in hrefs)
