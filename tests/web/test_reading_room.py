"""The clerk's reading room through the app (Flask test client, real archive, real files):
one person's file across cases, the viewer, watermarked copies, access requests with
separation of duties and their audit trail, certified copies checked at /verify."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from dangan.archive import audit_log
from dangan.ingest.service import ingest
from dangan.web.app import create_app
from tests.casekit import edit_case
from tests.web.webkit import WebArchive, add_user, app_config, csrf, sign_in


def file_case(archive, make_case, sender_key, item=None, edit=None) -> str:
    case = make_case(item) if item else make_case()
    if edit:
        edit_case(case, sender_key, edit)
    outcome = ingest(archive, case, actor="test", ocr=False)
    assert outcome.status == "archived", outcome
    return outcome.aip_id


def person_of(archive, aip_id) -> dict:
    from dangan.archive import catalogue

    with archive.db.session() as s:
        d = catalogue.item_to_dict(catalogue.get_item(s, aip_id))
    return d


@pytest.fixture
def room(archive, make_case, sender_key):
    """Two cases of one insured person (different years and service items) and a web app."""
    first = file_case(archive, make_case, sender_key)
    rec = person_of(archive, first)
    idx = next(i for i, p in enumerate(rec["parties"]) if p["id_type"] == "resident_id")
    person = rec["parties"][idx]

    def same_person(c):
        c["subjects"][0].update(name=person["name"], id_type="resident_id",
                                id_number=person["id_number"], kind="person")
        c["title"] = person["name"] + c["service_item"]["name"]

    second = file_case(archive, make_case, sender_key, "伤残待遇申领办理", same_person)
    web = WebArchive(archive)
    for login, role in (("clerk1", "clerk"), ("archivist1", "archivist"),
                        ("archivist2", "archivist"), ("inspector1", "inspector")):
        add_user(web, login, role)
    app = create_app(app_config(web))
    return {"web": web, "app": app, "first": first, "second": second, "rec": rec,
            "idx": idx, "person": person}


def client_for(room, login):
    c = room["app"].test_client()
    assert sign_in(c, room["web"], login).status_code == 302
    return c


def log_entries(archive, action):
    with archive.db.session() as s:
        return [e for e in audit_log.entries(s) if e.action == action]


def test_person_page_shows_every_case_of_the_person_masked_for_a_clerk(room):
    clerk = client_for(room, "clerk1")
    case_page = clerk.get(f"/case/{room['first']}").get_data(as_text=True)
    link = f"/person/{room['first']}/{room['idx']}"
    assert f'href="{link}"' in case_page  # linked from the case page
    html = clerk.get(link).get_data(as_text=True)
    number = room["person"]["id_number"]
    # the clerk sees the internal case; the restricted one (伤残待遇) stays invisible
    assert 'class="count">1<' in html and room["first"] in html and room["second"] not in html
    assert number not in html and number[-4:] in html
    arch = client_for(room, "archivist1").get(link).get_data(as_text=True)
    assert 'class="count">2<' in arch and room["second"] in arch and number in arch
    # timeline order: oldest completion first
    order = [m for m in re.findall(r'data-aip="([^"]+)"', arch)]
    assert sorted(order) == sorted([room["first"], room["second"]])


def test_clerk_needs_an_approved_request_then_views_and_downloads_with_watermark(room):
    archive = room["web"].archive
    pdf = next(f for f in room["rec"]["files"] if f["media_type"] == "application/pdf")
    clerk = client_for(room, "clerk1")
    content = f"/view/{room['first']}/{pdf['id']}/content"
    r = clerk.get(content)  # personal information, clerk lacks record.unmask
    assert r.status_code == 302 and r.headers["Location"].startswith("/access/?scope=item")
    page = clerk.get("/access/").get_data(as_text=True)
    r = clerk.post("/access/", data={"scope": "item", "target": room["first"],
                                      "on_behalf_of": "王某（本人，身份证已核验）",
                                      "purpose": "办理养老待遇核对", "days": "7",
                                      "csrf_token": csrf(page)})
    assert r.status_code == 302
    req_id = int(log_entries(archive, "access:request")[-1].object_id.split(":")[1])
    assert clerk.get(content).status_code == 302  # still pending
    # the clerk cannot decide, nor can the archivist decide their own request
    assert clerk.post(f"/access/{req_id}/decide", data={"decision": "approve",
                                                        "csrf_token": csrf(page)}).status_code == 403
    a1 = client_for(room, "archivist1")
    apage = a1.get("/access/").get_data(as_text=True)
    a1.post("/access/", data={"scope": "person", "target": room["person"]["id_number"],
                              "on_behalf_of": "x", "purpose": "y", "days": "1",
                              "csrf_token": csrf(apage)})
    own = int(log_entries(archive, "access:request")[-1].object_id.split(":")[1])
    r = a1.post(f"/access/{own}/decide", data={"decision": "approve", "csrf_token": csrf(apage)})
    assert r.status_code == 400 and 'data-code="access.self_approval"' in r.get_data(as_text=True)
    r = a1.post(f"/access/{req_id}/decide", data={"decision": "approve", "note": "同意",
                                                  "csrf_token": csrf(apage)})
    assert r.status_code == 302
    # now the clerk reads it, watermarked with who and when, under the request
    r = clerk.get(content)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "clerk1" in text and f"申请#{req_id}" in text and "查阅专用" in text
    r = clerk.get(f"/view/{room['first']}/{pdf['id']}/download")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(r.data))
    assert all("clerk1" in p.extract_text() for p in reader.pages)
    accesses = [e for e in log_entries(archive, "aip:access") if e.actor == "user:clerk1"]
    assert [(e.details["mode"], e.details["request"]) for e in accesses] == \
        [("view", req_id), ("download", req_id)]
    assert accesses[0].object_id == room["first"] and accesses[0].object_digest == pdf["sha256"]
    approve = log_entries(archive, "access:approve")
    assert approve[-1].object_id == f"access-request:{req_id}" and \
        approve[-1].actor == "user:archivist1"
    # the request covers only that item: the restricted case stays hidden from the clerk
    assert clerk.get(f"/view/{room['second']}/F01").status_code == 404


def test_refused_request_grants_nothing_and_is_logged(room):
    archive = room["web"].archive
    clerk = client_for(room, "clerk1")
    page = clerk.get("/access/").get_data(as_text=True)
    clerk.post("/access/", data={"scope": "case", "target": room["second"], "on_behalf_of": "甲",
                                 "purpose": "乙", "days": "3", "csrf_token": csrf(page)})
    req_id = int(log_entries(archive, "access:request")[-1].object_id.split(":")[1])
    a2 = client_for(room, "archivist2")
    a2.post(f"/access/{req_id}/decide", data={"decision": "refuse", "note": "理由不足",
                                              "csrf_token": csrf(a2.get("/access/").get_data(
                                                  as_text=True))})
    assert log_entries(archive, "access:refuse")[-1].object_id == f"access-request:{req_id}"
    assert clerk.get(f"/view/{room['second']}/F01").status_code == 404
    # approved for the restricted case: the clerk now sees and reads it
    clerk.post("/access/", data={"scope": "case", "target": room["second"], "on_behalf_of": "甲",
                                 "purpose": "工伤认定复核", "days": "3", "csrf_token": csrf(page)})
    req2 = int(log_entries(archive, "access:request")[-1].object_id.split(":")[1])
    a2.post(f"/access/{req2}/decide", data={"decision": "approve", "csrf_token": csrf(
        a2.get("/access/").get_data(as_text=True))})
    files = person_of(archive, room["second"])["files"]
    f = next(f for f in files if f["media_type"] == "application/pdf")
    assert clerk.get(f"/view/{room['second']}/{f['id']}").status_code == 200
    r = clerk.get(f"/view/{room['second']}/{f['id']}/content")
    assert r.status_code == 200
    assert log_entries(archive, "aip:access")[-1].details["request"] == req2


def test_ofd_is_offered_as_text_and_scans_as_watermarked_png(room):
    arch = client_for(room, "archivist1")
    for aip in (room["first"], room["second"]):
        for f in person_of(room["web"].archive, aip)["files"]:
            media = f["media_type"] or f["declared_media_type"]
            page = arch.get(f"/view/{aip}/{f['id']}")
            assert page.status_code == 200, (f, page.status_code)
            html = page.get_data(as_text=True)
            if media == "application/ofd":
                assert 'class="ofdpage"' in html
            elif media.startswith("image/"):
                r = arch.get(f"/view/{aip}/{f['id']}/content")
                assert r.mimetype == "image/png" and r.data[:4] == b"\x89PNG"
                t = arch.get(f"/view/{aip}/{f['id']}/thumb.png")
                assert t.mimetype == "image/png"
            elif media == "application/pdf":
                assert 'id="pdfview"' in html and "viewer.js" in html


def test_certified_copy_verifies_at_verify_and_a_tampered_one_is_refused(room):
    archive = room["web"].archive
    pdf = next(f for f in room["rec"]["files"] if f["media_type"] == "application/pdf")
    arch = client_for(room, "archivist1")
    page = arch.get(f"/view/{room['first']}/{pdf['id']}").get_data(as_text=True)
    r = arch.post(f"/verify/certify/{room['first']}/{pdf['id']}", data={"csrf_token": csrf(page)})
    assert r.status_code == 200 and r.data[:5] == b"%PDF-"
    copy = r.data
    assert log_entries(archive, "aip:export")[-1].details["kind"] == "certified_copy"
    text = PdfReader(io.BytesIO(copy)).pages[-1].extract_text()
    qr_url = re.search(r"http://\S+?/verify\?\S+?sha256=[0-9a-f]{64}",
                       text.replace("\n", "")).group(0)
    assert qr_url.endswith(pdf["sha256"])
    anon = room["app"].test_client()
    held = anon.get(qr_url.replace("http://localhost", "")).get_data(as_text=True)
    assert 'data-held="1"' in held

    def upload(data):
        form = anon.get("/verify").get_data(as_text=True)
        return anon.post("/verify", data={"csrf_token": csrf(form),
                                          "file": (io.BytesIO(data), "copy.pdf")},
                         content_type="multipart/form-data").get_data(as_text=True)

    assert 'data-ok="1" data-kind="copy"' in upload(copy)
    i = copy.index(b"/Contents", 200) if b"/Contents" in copy[200:] else len(copy) // 3
    tampered = copy[:i // 2] + bytes([copy[i // 2] ^ 1]) + copy[i // 2 + 1:]
    assert 'data-ok="0"' in upload(tampered)
    # an incremental update after signing is not covered by the signature
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(copy))
    w.root["/Lang"] = generic.TextStringObject("en")
    w.update_root()
    buf = io.BytesIO()
    w.write(buf)
    assert 'data-ok="0"' in upload(buf.getvalue())
    # a look-alike signed with another key (same certificate name) is not the archive's
    from dangan.archive import certified_copy

    keys = archive.home / "keys"
    real = {n: (keys / n).read_bytes() for n in (certified_copy.COPY_KEY, certified_copy.COPY_CERT)}
    for n in real:
        (keys / n).unlink()
    forged = arch.post(f"/verify/certify/{room['first']}/{pdf['id']}",
                       data={"csrf_token": csrf(page)}).data
    for n, data in real.items():
        (keys / n).write_bytes(data)
    assert 'data-ok="0"' in upload(forged)
    assert 'data-ok="0"' in upload(b"not a pdf")
    # the clerk cannot issue copies
    clerk = client_for(room, "clerk1")
    assert clerk.post(f"/verify/certify/{room['first']}/{pdf['id']}",
                      data={"csrf_token": csrf(page)}).status_code in (400, 403)


def test_evidence_package_verifies_at_verify(room, tmp_path):
    from dangan.archive.evidence import build_evidence

    archive = room["web"].archive
    dest = tmp_path / "evidence.zip"
    build_evidence(archive, room["first"], dest)
    anon = room["app"].test_client()
    form = anon.get("/verify").get_data(as_text=True)
    out = anon.post("/verify", data={"csrf_token": csrf(form),
                                     "file": (io.BytesIO(dest.read_bytes()), "e.zip")},
                    content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-ok="1" data-kind="evidence"' in out, out[-2000:]
    # larger than the forms' 1 MiB limit: still checked (and refused as not a package)
    form = anon.get("/verify").get_data(as_text=True)
    r = anon.post("/verify", data={"csrf_token": csrf(form),
                                   "file": (io.BytesIO(b"PK\x03\x04" + b"\0" * (3 << 20)), "e.zip")},
                  content_type="multipart/form-data")
    assert r.status_code == 200 and 'data-ok="0"' in r.get_data(as_text=True)
    # other forms keep the 1 MiB limit
    page = anon.get("/auth/login").get_data(as_text=True)
    r = anon.post("/auth/login", data={"csrf_token": csrf(page), "login": "x" * (2 << 20)})
    assert r.status_code == 413


def test_an_approved_request_expires_after_its_period(room, monkeypatch):
    from datetime import timedelta

    from dangan.archive import access_requests

    archive = room["web"].archive
    pdf = next(f for f in room["rec"]["files"] if f["media_type"] == "application/pdf")
    clerk = client_for(room, "clerk1")
    page = clerk.get("/access/").get_data(as_text=True)
    clerk.post("/access/", data={"scope": "person", "target": room["person"]["id_number"],
                                 "on_behalf_of": "本人", "purpose": "核对", "days": "2",
                                 "csrf_token": csrf(page)})
    req_id = int(log_entries(archive, "access:request")[-1].object_id.split(":")[1])
    a1 = client_for(room, "archivist1")
    a1.post(f"/access/{req_id}/decide", data={"decision": "approve", "csrf_token": csrf(
        a1.get("/access/").get_data(as_text=True))})
    content = f"/view/{room['first']}/{pdf['id']}/content"
    assert clerk.get(content).status_code == 200
    # a person-scoped request also reveals the person's restricted case, with full IDs
    html = clerk.get(f"/person/{room['first']}/{room['idx']}").get_data(as_text=True)
    assert 'class="count">2<' in html and room["person"]["id_number"] in html
    later = access_requests.utcnow() + timedelta(days=2, minutes=1)
    monkeypatch.setattr(access_requests, "utcnow", lambda: later)
    assert clerk.get(content).status_code == 302  # expired: back to the request form

