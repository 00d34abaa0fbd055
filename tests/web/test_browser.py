"""The web UI in a real browser: Debian's Chromium driven by Playwright, against the app
served on a loopback port (``tests/web/browserkit.py``). Screenshots go to
tests/artifacts/ (gitignored)."""

from __future__ import annotations

import pytest

from tests.web.browserkit import chromium, new_page, serve, shot, sign_in
from tests.web.webkit import PASSWORD, build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    w = build(tmp_path_factory.mktemp("browser") / "home")
    yield w
    w.archive.close()


@pytest.fixture(scope="module")
def server(web):
    yield from serve(web, "browser-test")


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture
def page(browser):
    p = new_page(browser)
    yield p
    p.context.close()


def test_archivist_signs_in_with_totp_searches_and_opens_the_case(page, server, web):
    page.goto(f"{server}/auth/login")
    shot(page, "01-login")
    page.fill("input[name=login]", "archivist1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/auth/totp")
    shot(page, "02-totp")
    page.fill("input[name=code]", web.code("archivist1"))
    page.click("main button[type=submit]")
    assert "/search" in page.url
    assert page.locator("header .who").inner_text().startswith("测试档案管理")
    name = web.case["parties"][0]["name"]
    page.fill("input[name=q]", name)
    page.click("form.searchbox button")
    assert page.locator(".total strong").inner_text() == "1"
    shot(page, "03-search-results")
    page.click(".hit a.title")
    assert f"/case/{web.case['aip_id']}" in page.url
    assert page.locator("h1").inner_text() == web.case["title"]
    assert page.locator(".timeline .step").count() == len(web.case["events"])
    # the archivist may see the full resident ID
    person = next(p for p in web.case["parties"] if p["id_type"] == "resident_id")
    assert person["id_number"] in page.locator("table.meta").inner_text()
    shot(page, "04-case")


def test_clerk_signs_in_without_second_factor_sees_masked_ids_and_is_refused_admin(
        page, server, web):
    sign_in(page, server, web, "clerk1")
    assert "/search" in page.url
    page.goto(f"{server}/case/{web.case['aip_id']}")
    person = next(p for p in web.case["parties"] if p["id_type"] == "resident_id")
    number = person["id_number"]
    shown = page.locator(".idno").nth(web.case["parties"].index(person)).inner_text()
    assert shown != number and shown.endswith(number[-4:]) and "*" in shown
    response = page.goto(f"{server}/admin/users")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "您没有权限访问此页面"
    assert page.locator("[data-code]").first.get_attribute("data-code") == "web.forbidden"
    shot(page, "05-clerk-forbidden")


@pytest.mark.parametrize("login,refused", [
    ("sysadmin1", "/search"),          # users and configuration, never records
    ("secadmin1", "/search"),          # grants roles, cannot use them
    ("auditor1", "/admin/users"),      # reads the audit log, changes nothing
    ("appraiser1", "/admin/users"),
    ("inspector1", "/admin/users"),
    ("archivist1", "/admin/users"),
])
def test_one_refused_action_per_role(page, server, web, login, refused):
    sign_in(page, server, web, login)
    assert "/auth/" not in page.url, page.url
    response = page.goto(f"{server}{refused}")
    assert response.status == 403
    assert "您没有权限访问此页面" in page.content()


def test_sysadmin_manages_users_in_the_admin_page(page, server, web):
    sign_in(page, server, web, "sysadmin1")
    assert "/admin/users" in page.url
    page.fill("form.card input[name=login]", "zhangsan")
    page.fill("form.card input[name=display_name]", "张三")
    page.click("form.card button[type=submit]")
    assert "已创建用户 zhangsan" in page.locator(".flash").inner_text()
    assert page.locator("table.users").get_by_text("张三").count() == 1
    shot(page, "06-admin-users")


def test_a_locked_account_stays_locked_even_with_the_right_password(page, server, web):
    web.add_user("clerk9", "clerk")
    for _ in range(5):
        sign_in(page, server, web, "clerk9", password="wrong-password-1")
        assert page.locator("[data-code]").first.get_attribute("data-code") == \
            "account.signin_failed"
    sign_in(page, server, web, "clerk9")
    assert "/auth/login" in page.url
    assert page.locator(".error").get_attribute("data-code") == "account.locked"
    assert "锁定" in page.locator(".error").inner_text()
    shot(page, "07-locked")
    page.goto(f"{server}/search")
    assert "/auth/login" in page.url


def test_auditor_reads_the_audit_log_and_sysadmin_cannot(page, server, web):
    sign_in(page, server, web, "auditor1")
    assert "/audit/" in page.url
    table = page.locator("table.audit").inner_text()
    assert "role:grant" in table and "user:signin" in table and "auditor1" in table
    assert page.locator("form button", has_text="授予").count() == 0  # changes nothing
    shot(page, "08-audit-log")
    page.context.clear_cookies()
    sign_in(page, server, web, "sysadmin1")
    assert page.goto(f"{server}/audit/").status == 403


def test_inspector_verifies_a_case_reads_the_dashboard_and_a_log_proof(page, server, web):
    from dangan.archive import tree_heads

    tree_heads.publish_head(web.archive, anchor=False)
    sign_in(page, server, web, "inspector1")
    page.click("header nav a:has-text('链条验证')")
    page.fill("input[name=ref]", web.case["archival_code"])
    page.click("main button[type=submit]")
    report = page.locator("section.verify-report")
    assert report.get_attribute("data-ok") == "true"
    assert page.locator("tr.step.pass").count() == 7
    assert page.locator("tr.step.fail").count() == 0
    shot(page, "09-inspector-verify")
    with page.expect_download() as dl:
        page.click("text=下载证据包（ZIP）")
    assert dl.value.suggested_filename == f"evidence-{web.case['aip_id']}.zip"

    page.click("header nav a:has-text('检查')")
    assert page.locator("#natures tr[data-nature]").count() == 4
    assert "已归档 1 件" in page.locator("main").inner_text()
    shot(page, "10-inspector-dashboard")

    page.click("header nav a:has-text('审计日志')")
    page.locator("table.audit tbody tr a").last.click()
    assert page.locator("#inclusion").get_attribute("data-verified") == "true"
    assert page.locator("#consistency").get_attribute("data-verified") == "true"
    shot(page, "11-audit-proof")

    # refused: an inspector files nothing, even with a valid session and CSRF token
    status = page.evaluate("""async () => {
        const f = new FormData();
        f.append('csrf_token', document.querySelector('input[name=csrf_token]').value);
        f.append('case', new Blob(['x']), 'c.zip');
        const r = await fetch('/api/v1/cases', {method: 'POST', body: f});
        return [r.status, (await r.json()).error.code];
    }""")
    assert status == [403, "web.forbidden"]


def test_clerk_changes_the_password_and_the_other_session_ends(browser, server, web):
    web.add_user("clerk7", "clerk")
    here, there = new_page(browser), new_page(browser)  # two devices of the same clerk
    sign_in(here, server, web, "clerk7")
    sign_in(there, server, web, "clerk7")
    assert "/search" in there.url
    here.click("header a.password")
    assert "/auth/password" in here.url
    here.fill("input[name=current]", PASSWORD)
    here.fill("input[name=new]", "browser-new-pass-7")
    here.fill("input[name=repeat]", "browser-new-pass-8")
    here.click("main button[type=submit]")
    assert here.locator(".error").get_attribute("data-code") == "account.invalid"  # refused
    here.fill("input[name=current]", PASSWORD)
    here.fill("input[name=new]", "browser-new-pass-7")
    here.fill("input[name=repeat]", "browser-new-pass-7")
    shot(here, "17-password-change")
    here.click("main button[type=submit]")
    assert "口令已更改" in here.locator(".flash").inner_text()
    there.goto(f"{server}/search")
    assert "/auth/login" in there.url  # the other device is signed out
    sign_in(there, server, web, "clerk7", password="browser-new-pass-7")
    assert "/search" in there.url
    for p in (here, there):
        p.context.close()
