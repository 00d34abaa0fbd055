"""The case page of a restricted item: hidden from a clerk (not found), shown under an
approved, current request covering it — each view an ``aip:access`` entry naming the
request — and hidden again once the request has expired or if it covers something else."""

from __future__ import annotations

from datetime import timedelta

from dangan.archive import access_requests
from tests.web.test_reading_room import client_for, log_entries, room  # noqa: F401
from tests.web.webkit import csrf


def approved_request(setup, clerk, scope: str, target: str) -> int:
    """A request of ``clerk`` approved by archivist1; its id."""
    archive = setup["web"].archive
    page = clerk.get("/access/").get_data(as_text=True)
    r = clerk.post("/access/", data={"scope": scope, "target": target,
                                      "on_behalf_of": "本人（已核验身份）", "purpose": "待遇复核",
                                      "days": "3", "csrf_token": csrf(page)})
    assert r.status_code == 302
    req_id = int(log_entries(archive, "access:request")[-1].object_id.split(":")[1])
    a1 = client_for(setup, "archivist1")
    r = a1.post(f"/access/{req_id}/decide", data={"decision": "approve", "csrf_token": csrf(
        a1.get("/access/").get_data(as_text=True))})
    assert r.status_code == 302
    return req_id


def test_restricted_case_page_under_an_approved_request_only(room, monkeypatch):  # noqa: F811
    archive = room["web"].archive
    restricted = room["second"]
    clerk = client_for(room, "clerk1")
    r = clerk.get(f"/case/{restricted}")
    assert r.status_code == 404 and 'data-code="archive.not_found"' in r.get_data(as_text=True)
    # a request for another item grants nothing here
    approved_request(room, clerk, "item", room["first"])
    assert clerk.get(f"/case/{restricted}").status_code == 404
    req_id = approved_request(room, clerk, "item", restricted)
    for _ in range(2):
        r = clerk.get(f"/case/{restricted}")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and f"查阅申请 #{req_id}" in html
        assert room["person"]["id_number"] in html  # the request is the purpose: full ID
    views = [e for e in log_entries(archive, "aip:access")
             if e.actor == "user:clerk1" and e.details["mode"] == "case"]
    assert [(e.object_id, e.details["request"]) for e in views] == [(restricted, req_id)] * 2
    count = len(views)
    # the API's item metadata follows the same rule (and is logged the same way)
    r = clerk.get(f"/api/v1/items/{restricted}")
    assert r.status_code == 200 and r.get_json()["aip_id"] == restricted
    # an archivist reads it without a request, and nothing is logged as request use
    before = len(log_entries(archive, "aip:access"))
    assert client_for(room, "archivist2").get(f"/case/{restricted}").status_code == 200
    assert len(log_entries(archive, "aip:access")) == before
    # expired: refused again
    later = access_requests.utcnow() + timedelta(days=3, minutes=1)
    monkeypatch.setattr(access_requests, "utcnow", lambda: later)
    assert clerk.get(f"/case/{restricted}").status_code == 404
    assert clerk.get(f"/api/v1/items/{restricted}").status_code == 404
    views = [e for e in log_entries(archive, "aip:access")
             if e.actor == "user:clerk1" and e.details["mode"] == "case"]
    assert len(views) == count + 1  # the API read under the request, nothing after expiry


def test_an_approved_request_leads_its_requester_to_what_it_covers(room, monkeypatch):  # noqa: F811
    """A restricted case is not found by search: the requests page is the way in, for a
    request for the case and for a person's file alike — and only for its requester,
    only while it is current."""
    restricted, number = room["second"], room["person"]["id_number"]
    clerk = client_for(room, "clerk1")
    case_req = approved_request(room, clerk, "case", restricted)
    assert f'href="/access/{case_req}/open"' in clerk.get("/access/").get_data(as_text=True)
    r = clerk.get(f"/access/{case_req}/open")
    assert r.status_code == 302 and number not in r.headers["Location"]
    html = clerk.get(r.headers["Location"]).get_data(as_text=True)
    assert f"查阅申请 #{case_req}" in html and restricted in html
    person_req = approved_request(room, clerk, "person", number)
    assert f'href="/access/{person_req}/open"' in clerk.get("/access/").get_data(as_text=True)
    r = clerk.get(f"/access/{person_req}/open")
    assert r.status_code == 302 and number not in r.headers["Location"]  # no ID in a URL
    html = clerk.get(r.headers["Location"]).get_data(as_text=True)
    assert 'class="count">2<' in html and restricted in html and number in html
    # someone else's request, a pending one, an unknown id: nothing
    room["web"].add_user("clerk2", "clerk")
    other = client_for(room, "clerk2")
    assert other.get(f"/access/{case_req}/open").status_code == 404
    pending = other.post("/access/", data={
        "scope": "case", "target": restricted, "on_behalf_of": "x", "purpose": "y",
        "days": "1", "csrf_token": csrf(other.get("/access/").get_data(as_text=True))})
    assert pending.status_code == 302
    pending_id = int(log_entries(room["web"].archive, "access:request")[-1]
                     .object_id.split(":")[1])
    assert other.get(f"/access/{pending_id}/open").status_code == 404
    assert f'href="/access/{pending_id}/open"' not in other.get("/access/").get_data(as_text=True)
    assert clerk.get("/access/999999/open").status_code == 404
    # expired: no link, and the old one leads nowhere
    later = access_requests.utcnow() + timedelta(days=3, minutes=1)
    monkeypatch.setattr(access_requests, "utcnow", lambda: later)
    page = clerk.get("/access/").get_data(as_text=True)
    assert f'href="/access/{case_req}/open"' not in page and "已过期" in page
    assert clerk.get(f"/access/{case_req}/open").status_code == 404
