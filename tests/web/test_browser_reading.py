"""The reading room in a real browser (Debian's Chromium via Playwright): a clerk finds a
person, asks for access, an archivist approves, the clerk reads the PDF (pdf.js draws it)
and downloads a watermarked copy; an archivist issues a certified copy that an anonymous
visitor checks at /verify, where a tampered copy is refused."""

from __future__ import annotations

import io
import random

import pytest
from pypdf import PdfReader

from dangan.archive import audit_log, catalogue, keys
from dangan.packages import signing
from tests.casekit import SYSTEM
from tests.web.browserkit import chromium, serve, shot, sign_in
from tests.web.browserkit import new_page as _new_page
from tests.web.webkit import build

pytestmark = pytest.mark.slow


def file_restricted_case(archive, out) -> dict:
    """A 伤残待遇 case: classified ``restricted`` by the generator (a clerk cannot see it)."""
    from dangan.ingest.demo.generator import generate_submission
    from dangan.ingest.service import ingest

    key = signing.generate_private_key(signing.ED25519)
    keys.trust_add(archive.db, SYSTEM, "k-reading", signing.public_key_pem(key), actor="test")
    item = next(i for i in archive.filing_config.items if i.name == "伤残待遇申领办理")
    sub = generate_submission(out, rng=random.Random(11), signing_key=key, key_id="k-reading",
                              source_system=SYSTEM, service_item=item)
    outcome = ingest(archive, sub, actor="test", ocr=False)
    assert outcome.status == "archived", outcome
    with archive.db.session() as s:
        d = catalogue.item_to_dict(catalogue.get_item(s, outcome.aip_id))
    assert d["security_classification"] == "restricted"
    return d


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser-reading")
    w = build(root / "home")
    w.restricted = file_restricted_case(w.archive, root / "restricted")  # type: ignore[attr-defined]
    yield w
    w.archive.close()


@pytest.fixture(scope="module")
def server(web):
    yield from serve(web, "browser-reading")


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def new_page(browser):
    return _new_page(browser, height=900)


def request_access(page, server, scope: str, target: str) -> int:
    page.goto(f"{server}/access/?scope={scope}&target={target}")
    page.fill("input[name=on_behalf_of]", "王某（本人，身份证已核验）")
    page.fill("input[name=purpose]", "核对参保缴费记录")
    page.click("form.reqform button[type=submit]")
    flash = page.locator(".flash").inner_text()
    assert "已提交查阅申请" in flash
    return int(flash.split("#")[1].split("，")[0])


def test_clerk_finds_a_person_requests_access_reads_and_downloads(browser, server, web):
    clerk = new_page(browser)
    errors: list[str] = []
    clerk.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(clerk, server, web, "clerk1")
    person = next(p for p in web.case["parties"] if p["id_type"] == "resident_id")
    clerk.fill("input[name=q]", person["name"])
    clerk.click("form.searchbox button")
    link = clerk.locator(f".hit a.party:has-text('{person['name']}')").first
    assert person["id_number"] not in link.inner_text() + (link.get_attribute("href") or "")
    link.click()  # straight from the hit to 一人一档
    assert "/person/" in clerk.url
    assert clerk.locator("h1").inner_text().startswith("一人一档")
    assert person["id_number"] not in clerk.locator(".person .meta").inner_text()
    assert clerk.locator(".pitem").count() == 1  # the restricted case is not shown
    assert clerk.locator(".needreq").count() == 1  # personal information: request first
    shot(clerk, "11-person-clerk")
    clerk.click(".needreq a")
    req_item = request_access(clerk, server, "item", web.case["aip_id"])
    req_restricted = request_access(clerk, server, "item", web.restricted["archival_code"])
    shot(clerk, "12-access-requests")

    archivist = new_page(browser)
    sign_in(archivist, server, web, "archivist1")
    archivist.goto(f"{server}/access/")
    for rid in (req_item, req_restricted):
        row = archivist.locator(f"tr[data-id='{rid}']")
        row.locator("input[name=note]").fill("同意查阅")
        row.locator("button[value=approve]").click()
        assert archivist.locator(f"tr[data-id='{rid}']").get_attribute("data-status") == "approved"
    shot(archivist, "13-access-approved")

    clerk.goto(clerk.url.split("/access/")[0] + "/person/" + web.case["aip_id"] + "/"
               + str(web.case["parties"].index(person)))
    assert clerk.locator(".pitem").count() == 1
    pdf = next(f for f in web.case["files"] if f["media_type"] == "application/pdf")
    clerk.click(f".pfiles a:has-text('{pdf['title']}')")
    clerk.wait_for_selector("#pdfview[data-rendered]", timeout=30_000)
    assert clerk.locator("#pdfview canvas").count() >= 1
    assert f"依查阅申请 #{req_item}" in clerk.locator(".viewer .meta").inner_text()
    shot(clerk, "14-pdf-viewer")
    with clerk.expect_download() as dl:
        clerk.click("#download")
    data = open(dl.value.path(), "rb").read()
    pages = PdfReader(io.BytesIO(data)).pages
    assert all("测试查阅（clerk1）" in p.extract_text() for p in pages)
    # the restricted case, now approved for this clerk: its case page, then its PDF
    clerk.goto(f"{server}/case/{web.restricted['aip_id']}")
    assert clerk.locator("h1").inner_text() == web.restricted["title"]
    assert f"#{req_restricted}" in clerk.locator(".under-request").inner_text()
    shot(clerk, "14b-restricted-case-under-request")
    rpdf = next(f for f in web.restricted["files"] if f["media_type"] == "application/pdf")
    clerk.goto(f"{server}/view/{web.restricted['aip_id']}/{rpdf['id']}")
    clerk.wait_for_selector("#pdfview[data-rendered]", timeout=30_000)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    with web.archive.db.session() as s:
        used = [(e.object_id, e.details["mode"], e.details["request"])
                for e in audit_log.entries(s)
                if e.action == "aip:access" and e.actor == "user:clerk1"]
    assert (web.case["aip_id"], "view", req_item) in used
    assert (web.case["aip_id"], "download", req_item) in used
    assert (web.restricted["aip_id"], "view", req_restricted) in used
    assert (web.restricted["aip_id"], "case", req_restricted) in used


def test_archivist_reads_an_ofd_drawn_page_by_page(browser, server, web):
    archivist = new_page(browser)
    sign_in(archivist, server, web, "archivist1")
    ofd = next((aip, f) for rec in (web.case, web.restricted) for aip in [rec["aip_id"]]
               for f in rec["files"] if f["media_type"] == "application/ofd")
    archivist.goto(f"{server}/view/{ofd[0]}/{ofd[1]['id']}")
    img = archivist.locator("img.ofdimg").first
    img.scroll_into_view_if_needed()
    archivist.wait_for_function(
        "() => { const i = document.querySelector('img.ofdimg');"
        " return i && i.complete && i.naturalWidth > 0; }", timeout=30_000)
    assert img.evaluate("i => i.naturalWidth / i.naturalHeight") > 0.3
    shot(archivist, "18-ofd-viewer")


def test_archivist_issues_a_certified_copy_anyone_verifies_it(browser, server, web, tmp_path):
    archivist = new_page(browser)
    sign_in(archivist, server, web, "archivist1")
    pdf = next(f for f in web.case["files"] if f["media_type"] == "application/pdf")
    archivist.goto(f"{server}/view/{web.case['aip_id']}/{pdf['id']}")
    with archivist.expect_download() as dl:
        archivist.click("#certify")
    copy = tmp_path / "copy.pdf"
    dl.value.save_as(copy)
    data = copy.read_bytes()
    tampered = tmp_path / "tampered.pdf"
    i = len(data) // 3
    tampered.write_bytes(data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:])

    anyone = new_page(browser)  # no account
    anyone.goto(f"{server}/verify")
    anyone.set_input_files("input[name=file]", str(copy))
    anyone.click("main form button[type=submit]")
    assert anyone.locator(".result .verdict").get_attribute("data-ok") == "1"
    assert "真实" in anyone.locator(".result .verdict").inner_text()
    shot(anyone, "15-verify-authentic")
    anyone.set_input_files("input[name=file]", str(tampered))
    anyone.click("main form button[type=submit]")
    assert anyone.locator(".result .verdict").get_attribute("data-ok") == "0"
    shot(anyone, "16-verify-tampered")
