"""The role table over the whole URL map, and sign-in as an attacker would try it.

Every route of the app is requested for real: anonymously, by each role, and as a POST
without a CSRF token; the expected outcome comes from ``dangan.archive.permissions``.
"""

from __future__ import annotations

import re
import time

import pytest

from dangan.archive.permissions import ROLES, permissions_of
from dangan.web.app import create_app
from tests.web.webkit import app_config, build, csrf, sign_in

PUBLIC = {"auth.login", "auth.totp", "auth.enrol", "auth.enrol_qr", "auth.logout", "static",
          "api.openapi_document",
          "verify.page"}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    w = build(tmp_path_factory.mktemp("web") / "home")
    yield w
    w.archive.close()


@pytest.fixture(scope="module")
def app(web):
    return create_app(app_config(web))


def concrete(rule, web) -> str:
    """A URL for ``rule`` with its variables filled in (the filed case, a real login)."""
    values = {"ref": web.case["aip_id"], "login": "clerk1", "filename": "dangan.css",
              "index": "0", "job_id": "0" * 32,
              "file_id": web.case["files"][0]["id"], "req_id": "1", "number": "1"}
    if rule.endpoint == "reading.ofd_page":  # drawn pages exist for OFD files only
        values["file_id"] = next(f["id"] for f in web.case["files"]
                                 if f["media_type"] == "application/ofd")
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)


def routes(app):
    return [r for r in app.url_map.iter_rules()]


def test_every_route_is_public_by_design_or_requires_a_permission(app):
    for rule in routes(app):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in PUBLIC:
            assert getattr(view, "is_public", False), rule.endpoint
        else:
            perms = getattr(view, "required_permissions", None)
            assert perms, f"{rule.rule} ({rule.endpoint}) declares no permission"


def test_anonymous_is_sent_to_sign_in_or_gets_401_on_the_api(app, web):
    client = app.test_client()
    for rule in routes(app):
        if rule.endpoint in PUBLIC:
            continue
        url = concrete(rule, web)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(url, method=method)
            if url.startswith("/api/"):
                assert r.status_code == 401, url
                assert r.get_json()["error"]["code"] == "web.unauthenticated"
            elif method == "GET":
                assert r.status_code == 302, url
                assert r.headers["Location"].startswith("/auth/login?next="), url
            else:  # a POST without a session is refused before anything runs
                assert r.status_code in (302, 400), (url, r.status_code)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_gets_exactly_its_routes(app, web, role):
    client = app.test_client()
    r = sign_in(client, web, f"{role}1")
    assert r.status_code == 302, r.get_data(as_text=True)
    token = csrf(client.get("/", follow_redirects=True).get_data(as_text=True))
    granted = permissions_of([role])
    for rule in routes(app):
        if rule.endpoint in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        allowed = any(p in granted for p in view.required_permissions)
        url = concrete(rule, web)
        if "GET" in rule.methods:
            r = client.get(url)
            if allowed and rule.endpoint == "api.job":  # nobody's job: not found, as JSON
                assert r.get_json()["error"]["code"] == "api.job_not_found", (role, url)
            elif allowed and rule.endpoint == "requests.open_request":  # nobody's request
                assert r.status_code == 404 and 'data-code="archive.not_found"' in \
                    r.get_data(as_text=True), (role, url)
            elif allowed and url.startswith("/api/") and r.status_code == 403:
                # the permission is there, the item's personal data needs a request first
                assert r.get_json()["error"]["code"] == "access.request_required", (role, url)
            elif allowed:
                assert r.status_code in (200, 302), (role, url, r.status_code)
            else:
                assert r.status_code == 403, (role, url, r.status_code)
                if not url.startswith("/api/"):
                    assert "您没有权限访问此页面" in r.get_data(as_text=True)
        if "POST" in rule.methods and not allowed:
            r = client.post(url, data={"csrf_token": token, "role": "clerk",
                                       "login": "x", "display_name": "x"})
            assert r.status_code == 403, (role, url, r.status_code)


def test_every_post_without_csrf_token_is_refused_even_for_the_right_role(app, web):
    clients = {}
    for rule in routes(app):
        if "POST" not in rule.methods:
            continue
        view = app.view_functions[rule.endpoint]
        perms = getattr(view, "required_permissions", ())
        role = next((r for r in sorted(ROLES) if set(perms) & permissions_of([r])), "clerk")
        if role not in clients:
            clients[role] = app.test_client()
            assert sign_in(clients[role], web, f"{role}1").status_code == 302
        r = clients[role].post(concrete(rule, web), data={"role": "clerk", "login": "y",
                                                          "display_name": "y", "code": "1"})
        assert r.status_code == 400, (rule.rule, r.status_code)
        if rule.rule.startswith("/api/"):
            assert r.get_json()["error"]["code"] == "web.csrf", rule.rule
        else:
            assert 'data-code="web.csrf"' in r.get_data(as_text=True)


def test_security_headers_and_cookie_flags(web):
    app = create_app({"DANGAN_ARCHIVE": web.archive, "SECRET_KEY": "k"})  # defaults: Secure
    client = app.test_client()
    r = client.get("/auth/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "<script" not in r.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil.example"])
def test_next_never_leaves_the_site(app, web, target):
    client = app.test_client()
    page = client.get("/auth/login")
    r = client.post("/auth/login", data={"login": "clerk1", "password": "test-password-2026",
                                          "next": target,
                                          "csrf_token": csrf(page.get_data(as_text=True))})
    assert r.status_code == 302 and r.headers["Location"] == "/", r.headers["Location"]


def test_next_inside_the_site_is_followed(app, web):
    client = app.test_client()
    page = client.get("/auth/login")
    r = client.post("/auth/login", data={"login": "inspector1", "password": "test-password-2026",
                                          "next": "/search?q=x",
                                          "csrf_token": csrf(page.get_data(as_text=True))})
    assert r.status_code == 302 and r.headers["Location"] == "/search?q=x"


def test_second_factor_is_required_for_roles_that_change_records(app, web):
    client = app.test_client()
    page = client.get("/auth/login")
    r = client.post("/auth/login", data={"login": "appraiser1", "password": "test-password-2026",
                                          "csrf_token": csrf(page.get_data(as_text=True))})
    assert r.headers["Location"].endswith("/auth/totp")
    assert client.get("/search").status_code == 302  # not signed in before the code
    page = client.get("/auth/totp")
    r = client.post("/auth/totp", data={"code": "000000" if web.code("appraiser1") != "000000"
                                         else "111111",
                                         "csrf_token": csrf(page.get_data(as_text=True))})
    assert r.status_code == 401 and 'data-code="account.second_factor"' in r.get_data(as_text=True)
    assert client.get("/search").status_code == 302


def test_idle_session_ends(web):
    app = create_app(app_config(web, DANGAN_IDLE_MINUTES=0.02))  # 1.2 s
    client = app.test_client()
    assert sign_in(client, web, "clerk1").status_code == 302
    assert client.get("/search").status_code == 200
    time.sleep(1.5)
    r = client.get("/search")
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")
    assert client.get("/search").status_code == 302  # the session is gone, not just refused


def test_first_sign_in_enrols_totp_with_a_qr_code(tmp_path):
    import pyotp

    from dangan.archive import accounts

    web = build(tmp_path / "home", file_case=False)
    accounts.create_user(web.archive.db, "newarch", "新档案员", password="test-password-2026",
                         by=None)
    accounts.grant_role(web.archive.db, "newarch", "archivist", by=None)
    app = create_app(app_config(web))
    client = app.test_client()
    page = client.get("/auth/login")
    r = client.post("/auth/login", data={"login": "newarch", "password": "test-password-2026",
                                          "csrf_token": csrf(page.get_data(as_text=True))})
    assert r.headers["Location"].endswith("/auth/enrol")
    page = client.get("/auth/enrol").get_data(as_text=True)
    qr = client.get("/auth/enrol/qr.png")
    assert qr.status_code == 200 and qr.data[:4] == b"\x89PNG"
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1)
    code = pyotp.TOTP(secret.replace(" ", "")).now()
    r = client.post("/auth/enrol", data={"code": code, "csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert client.get("/search").status_code == 200
    web.archive.close()


def test_roles_are_granted_in_the_admin_page_by_the_security_officer_only(app, web):
    web.add_user("secadmin2", "secadmin")
    sec = app.test_client()
    assert sign_in(sec, web, "secadmin2").status_code == 302
    page = sec.get("/admin/users").get_data(as_text=True)
    r = sec.post("/admin/users/secadmin2/roles",
                 data={"role": "archivist", "action": "grant", "csrf_token": csrf(page)})
    assert "account.role_refused" in sec.get("/admin/users").get_data(as_text=True)
    r = sec.post("/admin/users/appraiser1/roles",
                 data={"role": "clerk", "action": "grant", "csrf_token": csrf(page)})
    assert r.status_code == 302
    assert "已授予 appraiser1" in sec.get("/admin/users").get_data(as_text=True)
