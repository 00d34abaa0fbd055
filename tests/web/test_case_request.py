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
