"""The reading room through the app: metadata with HTML renders inert, restricted items stay
invisible to a clerk (not even their existence), IDs are masked for the clerk in the API."""

from __future__ import annotations

from dangan.archive import accounts
from dangan.ingest.service import ingest
from dangan.web.app import create_app
from tests.casekit import edit_case
from tests.web.webkit import WebArchive, add_user, app_config, sign_in

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def setup_web(archive) -> WebArchive:
    web = WebArchive(archive)
    add_user(web, "clerk1", "clerk")
    add_user(web, "archivist1", "archivist")
    return web


def test_html_in_metadata_renders_inert(archive, make_case, sender_key):
    case = make_case()
    edit_case(case, sender_key, lambda c: c.update(title=c["title"] + XSS))
    outcome = ingest(archive, case, actor="test", ocr=False)
    assert outcome.status == "archived"
    web = setup_web(archive)
    client = create_app(app_config(web)).test_client()
    assert sign_in(client, web, "archivist1").status_code == 302
    for url in (f"/case/{outcome.aip_id}", f"/search?q={outcome.case_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html, url
        assert "<script" not in html and "<img src=x" not in html, url


def test_restricted_case_is_invisible_to_a_clerk_and_visible_to_an_archivist(
        archive, make_case, sender_key):
    case = make_case()
    edit_case(case, sender_key, lambda c: c["security"].update(classification="restricted"))
    outcome = ingest(archive, case, actor="test", ocr=False)
    assert outcome.status == "archived"
    web = setup_web(archive)
    app = create_app(app_config(web))
    clerk = app.test_client()
    assert sign_in(clerk, web, "clerk1").status_code == 302
    r = clerk.get(f"/case/{outcome.aip_id}")
    assert r.status_code == 404 and 'data-code="archive.not_found"' in r.get_data(as_text=True)
    assert clerk.get(f"/api/v1/search?q={outcome.case_id}").get_json()["total"] == 0
    assert clerk.get(f"/api/v1/items/{outcome.aip_id}").status_code == 404
    arch = app.test_client()
    assert sign_in(arch, web, "archivist1").status_code == 302
    assert arch.get(f"/case/{outcome.aip_id}").status_code == 200
    assert arch.get(f"/api/v1/search?q={outcome.case_id}").get_json()["total"] == 1


def test_api_masks_resident_ids_for_a_clerk(archive, make_case):
    outcome = ingest(archive, make_case(), actor="test", ocr=False)
    web = setup_web(archive)
    app = create_app(app_config(web))
    clerk = app.test_client()
    assert sign_in(clerk, web, "clerk1").status_code == 302
    parties = clerk.get(f"/api/v1/items/{outcome.aip_id}").get_json()["parties"]
    person = next(p for p in parties if p["id_type"] == "resident_id")
    assert "*" in person["id_number"] and len(person["id_number"]) == 18
    arch = app.test_client()
    assert sign_in(arch, web, "archivist1").status_code == 302
    full = arch.get(f"/api/v1/items/{outcome.aip_id}").get_json()["parties"]
    assert "*" not in next(p for p in full if p["id_type"] == "resident_id")["id_number"]


def test_sign_ins_and_failures_are_in_the_audit_log(archive):
    from dangan.archive import audit_log

    web = setup_web(archive)
    client = create_app(app_config(web)).test_client()
    sign_in(client, web, "clerk1", password="wrong-password-9")
    sign_in(client, web, "clerk1")
    with archive.db.session() as s:
        actions = [e.action for e in audit_log.find_entries(s, object_id="user:clerk1")]
    assert actions[-2:] == ["user:signin-fail", "user:signin"]
    clerk = next(u for u in accounts.list_users(archive.db) if u.login == "clerk1")
    assert clerk.failed_attempts == 0 and clerk.last_signin_at is not None
