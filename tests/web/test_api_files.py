"""File download through the API: the reading room's watermarked copy, by the same rules
(``record.download``; an access request where the item needs one), logged as
``aip:access``, declared in the OpenAPI document."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader

from dangan.archive import api_tokens
from tests.web.test_case_request import approved_request
from tests.web.test_reading_room import client_for, log_entries, person_of, room  # noqa: F401


def by_media(rec, prefix):
    return next(f for f in rec["files"]
                if (f["media_type"] or f["declared_media_type"]).startswith(prefix))


def test_download_by_permission_watermarked_and_logged(room):  # noqa: F811
    archive = room["web"].archive
    first, rec = room["first"], room["rec"]
    pdf = by_media(rec, "application/pdf")
    token = api_tokens.add_token(archive.db, login="archivist1", actor="test")[1]
    api = room["app"].test_client()
    auth = {"Authorization": f"Bearer {token}"}
    r = api.get(f"/api/v1/items/{first}/files/{pdf['id']}", headers=auth)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    assert all("archivist1" in p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    last = log_entries(archive, "aip:access")[-1]
    assert (last.actor, last.object_id, last.details["mode"], last.details["file"]) == \
        ("user:archivist1", first, "download", pdf["id"])
    scans = [f for f in person_of(archive, room["second"])["files"]
             if (f["media_type"] or "").startswith("image/")]
    for f in scans[:1]:
        r = api.get(f"/api/v1/items/{room['second']}/files/{f['id']}", headers=auth)
        assert r.mimetype == "image/png" and Image.open(io.BytesIO(r.data)).size[0] > 0
    r = api.get(f"/api/v1/items/{first}/files/NOPE", headers=auth)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "archive.not_found"
    # a personal token of an inspector (no record.download) is refused; a system's too
    for kwargs in ({"login": "inspector1"}, {"system": "社保经办系统"}):
        t = api_tokens.add_token(archive.db, actor="test", **kwargs)[1]
        r = api.get(f"/api/v1/items/{first}/files/{pdf['id']}",
                    headers={"Authorization": f"Bearer {t}"})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "web.forbidden"


def test_clerk_needs_a_request_and_restricted_stays_hidden(room):  # noqa: F811
    archive = room["web"].archive
    pdf = by_media(room["rec"], "application/pdf")
    clerk = client_for(room, "clerk1")
    url = f"/api/v1/items/{room['first']}/files/{pdf['id']}"
    r = clerk.get(url)  # personal information: the clerk needs a request
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "access.request_required"
    r = clerk.get(f"/api/v1/items/{room['second']}/files/F01")  # restricted: not even there
    assert r.status_code == 404
    req_id = approved_request(room, clerk, "item", room["first"])
    r = clerk.get(url)
    assert r.status_code == 200
    assert f"申请#{req_id}" in PdfReader(io.BytesIO(r.data)).pages[0].extract_text()
    last = log_entries(archive, "aip:access")[-1]
    assert (last.actor, last.details["request"]) == ("user:clerk1", req_id)


def test_the_route_is_in_the_openapi_document(room):  # noqa: F811
    doc = room["app"].test_client().get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/items/{ref}/files/{file_id}"]["get"]
    assert set(op["responses"]["200"]["content"]) == {"application/pdf", "image/png"}
    assert "record.download" in op["description"]
