"""A restricted case with two versions (a correction superseded the first AIP), read by a
clerk under an approved request: a request for the case opens every version, each
readable and the superseded one marked, as an archivist sees them; a request for one AIP
opens that AIP only; neither opens another case, whatever the URL claims."""

from __future__ import annotations

import re
import shutil

import pytest

from dangan.ingest.service import ingest
from dangan.web.app import create_app
from tests.casekit import edit_case
from tests.web.browserkit import chromium, new_page, serve, shot
from tests.web.browserkit import sign_in as browser_sign_in
from tests.web.test_case_request import approved_request
from tests.web.test_reading_room import log_entries, person_of
from tests.web.webkit import WebArchive, add_user, app_config, sign_in

RESTRICTED_ITEM = "伤残待遇申领办理"


def _filed(archive, path):
    outcome = ingest(archive, path, actor="test", ocr=False)
    assert outcome.status == "archived", outcome
    return outcome


@pytest.fixture
def versions(archive, make_case, sender_key):
    """Case A in two versions (v1 superseded by v2) and another case B, all restricted."""
    path = make_case(RESTRICTED_ITEM)
    v1 = _filed(archive, path)
    corrected = path.parent / "corrected"
    shutil.copytree(path, corrected)

    def correction(c):
        c["title"] += "（更正）"
        c["supersedes"] = v1.archival_code
        c["correction_reason"] = "申请人姓名错字更正"

    edit_case(corrected, sender_key, correction)
    v2 = _filed(archive, corrected)
    assert v2.version == 2 and v2.archival_code == v1.archival_code
    other = _filed(archive, make_case(RESTRICTED_ITEM))
    web = WebArchive(archive)
    for login, role in (("clerk1", "clerk"), ("archivist1", "archivist"),
                        ("archivist2", "archivist")):
        add_user(web, login, role)
    app = create_app(app_config(web))
    assert person_of(archive, v1.aip_id)["security_classification"] == "restricted"
    return {"web": web, "app": app, "v1": v1.aip_id, "v2": v2.aip_id, "code": v1.archival_code,
            "other": other.aip_id, "other_code": other.archival_code}


def client(setup, login):
    c = setup["app"].test_client()
    assert sign_in(c, setup["web"], login).status_code == 302
    return c


def listed(html):
    """The version list of a case page: (aip, status) per entry."""
    return re.findall(r'<li data-aip="([^"]+)" data-status="([^"]+)"', html)


def a_file(archive, aip_id):
    return next(f for f in person_of(archive, aip_id)["files"]
                if f["media_type"] == "application/pdf")["id"]


def test_a_request_for_the_case_opens_every_version_marked_as_the_archivist_sees_it(versions):
    archive = versions["web"].archive
    clerk = client(versions, "clerk1")
    assert clerk.get(f"/case/{versions['code']}").status_code == 404
    req = approved_request(versions, clerk, "case", versions["code"])
    whole = [(versions["v1"], "superseded"), (versions["v2"], "active")]
    html = clerk.get(f"/case/{versions['code']}").get_data(as_text=True)
    assert listed(html) == whole
    assert "已被更正" in html and "申请人姓名错字更正" in html
    assert f'href="/case/{versions["v1"]}"' in html  # the older version is a link
    archivist = client(versions, "archivist2").get(f"/case/{versions['code']}")
    assert listed(archivist.get_data(as_text=True)) == whole  # the same list as a full reader
    for aip in (versions["v1"], versions["v2"]):
        r = clerk.get(f"/case/{aip}")
        page = r.get_data(as_text=True)
        assert r.status_code == 200 and f"查阅申请 #{req}" in page and listed(page) == whole
        r = clerk.get(f"/view/{aip}/{a_file(archive, aip)}/content")
        assert r.status_code == 200 and r.mimetype == "application/pdf"
    r = clerk.get(f"/api/v1/items/{versions['v1']}")
    assert r.status_code == 200
    assert [(v["aip_id"], v["status"]) for v in r.get_json()["versions"]] == whole
    opened = {(e.object_id, e.details["request"]) for e in log_entries(archive, "aip:access")
              if e.actor == "user:clerk1"}
    assert opened == {(versions["v1"], req), (versions["v2"], req)}
    # the approved request opens nothing of another case, however it is named
    for ref in (versions["other"], versions["other_code"], f"{versions['other']}?request={req}"):
        assert clerk.get(f"/case/{ref}").status_code == 404
    r = clerk.get(f"/view/{versions['other']}/{a_file(archive, versions['other'])}/content"
                  f"?request={req}")
    assert r.status_code == 404
    assert clerk.get(f"/api/v1/items/{versions['other']}").status_code == 404
    assert not [e for e in log_entries(archive, "aip:access")
                if e.object_id == versions["other"]]


def test_a_request_for_one_aip_opens_that_version_only(versions):
    archive = versions["web"].archive
    clerk = client(versions, "clerk1")
    req = approved_request(versions, clerk, "item", versions["v1"])
    html = clerk.get(f"/case/{versions['v1']}").get_data(as_text=True)
    assert f"查阅申请 #{req}" in html
    assert listed(html) == [] and versions["v2"] not in html  # one version: no list, no hint
    # the archival code names the current version, which the request does not cover
    assert clerk.get(f"/case/{versions['code']}").status_code == 404
    assert clerk.get(f"/case/{versions['v2']}").status_code == 404
    assert clerk.get(f"/view/{versions['v2']}/{a_file(archive, versions['v2'])}/content") \
        .status_code == 404
    r = clerk.get(f"/view/{versions['v1']}/{a_file(archive, versions['v1'])}/content")
    assert r.status_code == 200
    r = clerk.get(f"/api/v1/items/{versions['v1']}")
    assert [v["aip_id"] for v in r.get_json()["versions"]] == [versions["v1"]]


@pytest.fixture
def raised(archive, make_case, sender_key):
    """A case the clerk reads by role in version 1 (internal), whose correction (version 2)
    was classified restricted."""
    path = make_case()
    v1 = _filed(archive, path)
    corrected = path.parent / "corrected"
    shutil.copytree(path, corrected)

    def correction(c):
        c["supersedes"] = v1.archival_code
        c["correction_reason"] = "补充伤残鉴定材料，密级调整为受限"
        c["security"]["classification"] = "restricted"

    edit_case(corrected, sender_key, correction)
    v2 = _filed(archive, corrected)
    web = WebArchive(archive)
    for login, role in (("clerk1", "clerk"), ("archivist1", "archivist")):
        add_user(web, login, role)
    assert person_of(archive, v1.aip_id)["security_classification"] != "restricted"
    assert person_of(archive, v2.aip_id)["security_classification"] == "restricted"
    return {"web": web, "app": create_app(app_config(web)), "v1": v1.aip_id, "v2": v2.aip_id,
            "code": v1.archival_code}


def test_a_version_seen_by_role_lists_a_later_restricted_version_only_under_a_request(raised):
    archive = raised["web"].archive
    clerk = client(raised, "clerk1")
    page = clerk.get(f"/case/{raised['v1']}").get_data(as_text=True)
    assert listed(page) == [] and raised["v2"] not in page  # no hint of the hidden version
    assert clerk.get(f"/case/{raised['v2']}").status_code == 404
    req = approved_request(raised, clerk, "case", raised["code"])
    page = clerk.get(f"/case/{raised['v1']}").get_data(as_text=True)
    assert listed(page) == [(raised["v1"], "superseded"), (raised["v2"], "active")]
    assert f'href="/case/{raised["v2"]}"' in page and f"依据查阅申请 #{req}" in page
    api = clerk.get(f"/api/v1/items/{raised['v1']}").get_json()
    assert [(v["aip_id"], v.get("request")) for v in api["versions"]] == [
        (raised["v1"], None), (raised["v2"], req)]
    r = clerk.get(f"/case/{raised['v2']}")
    assert r.status_code == 200 and f"查阅申请 #{req}" in r.get_data(as_text=True)
    assert (raised["v2"], req) in {(e.object_id, e.details.get("request"))
                                   for e in log_entries(archive, "aip:access")}


@pytest.mark.slow
def test_the_later_version_under_a_request_in_a_real_browser(raised):
    """What the clerk sees: version 1's page lists version 2 with the request, and the
    link opens it (Chromium via Playwright; screenshot 14c)."""
    clerk = client(raised, "clerk1")
    req = approved_request(raised, clerk, "case", raised["code"])
    for browser in chromium():
        for server in serve(raised["web"], "versions-browser"):
            page = new_page(browser)
            browser_sign_in(page, server, raised["web"], "clerk1")
            page.goto(f"{server}/case/{raised['v1']}")
            items = page.locator("ul.versions li")
            assert items.count() == 2
            assert f"依据查阅申请 #{req}" in items.nth(1).inner_text()
            shot(page, "14c-later-restricted-version-under-request")
            items.nth(1).locator("a").click()
            page.wait_for_url(f"**/case/{raised['v2']}")
            assert f"查阅申请 #{req}" in page.content()
