"""Self-service password change and the administrator's reset, through the app: the
current password is required (and failures count towards lock-out), the new one twice
and by the policy; other sessions of the account end; a reset password must be changed
before anything else; every change is an audit-log entry."""

from __future__ import annotations

import re

import pytest

from dangan.archive import accounts, audit_log
from dangan.web.app import create_app
from tests.web.webkit import PASSWORD, WebArchive, add_user, app_config, csrf, sign_in

NEW = "new-password-2027"


@pytest.fixture
def web(archive):
    w = WebArchive(archive)
    add_user(w, "clerk1", "clerk")
    add_user(w, "sysadmin1", "sysadmin")
    return w


def change(client, current, new, repeat=None, **extra):
    page = client.get("/auth/password").get_data(as_text=True)
    return client.post("/auth/password", data={"current": current, "new": new,
                                                "repeat": new if repeat is None else repeat,
                                                "csrf_token": csrf(page), **extra})


def password_entries(archive, login):
    with archive.db.session() as s:
        return [e for e in audit_log.find_entries(s, object_id=f"user:{login}")
                if e.action == "user:password"]


def test_change_needs_the_current_password_and_ends_other_sessions(archive, web):
    app = create_app(app_config(web))
    here, elsewhere = app.test_client(), app.test_client()
    assert sign_in(here, web, "clerk1").status_code == 302
    assert sign_in(elsewhere, web, "clerk1").status_code == 302
    assert elsewhere.get("/search").status_code == 200
    r = change(here, "wrong-password-1", NEW)
    assert r.status_code == 401 and 'data-code="account.signin_failed"' in r.get_data(as_text=True)
    r = change(here, PASSWORD, NEW, repeat=NEW + "x")
    assert r.status_code == 400 and "两次输入的新口令不一致" in r.get_data(as_text=True)
    for weak in ("short1", "onlyletterslong", "clerk1-is-my-name"):
        r = change(here, PASSWORD, weak)
        assert r.status_code == 400 and 'data-code="account.invalid"' in r.get_data(as_text=True)
    r = change(here, PASSWORD, PASSWORD)
    assert r.status_code == 400 and "不能与当前口令相同" in r.get_data(as_text=True)
    assert not password_entries(archive, "clerk1")  # nothing changed so far
    r = change(here, PASSWORD, NEW)
    assert r.status_code == 302
    assert here.get("/search").status_code == 200  # this session stays
    r = elsewhere.get("/search")  # the other one is over
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")
    [entry] = password_entries(archive, "clerk1")
    assert entry.actor == "user:clerk1" and entry.details["event"] == "changed"
    assert sign_in(app.test_client(), web, "clerk1").status_code == 401  # old one is gone
    assert sign_in(app.test_client(), web, "clerk1", password=NEW).status_code == 302
    # the wrong current password counted as a failure, the sign-ins reset the count
    with archive.db.session() as s:
        fails = [e for e in audit_log.find_entries(s, object_id="user:clerk1")
                 if e.action == "user:signin-fail"]
    assert [e.details["reason"] for e in fails] == ["password-change", "password"]


def test_guessing_the_current_password_locks_the_account(archive, web):
    client = create_app(app_config(web)).test_client()
    assert sign_in(client, web, "clerk1").status_code == 302
    for _ in range(accounts.LOCKOUT_THRESHOLD):
        change(client, "wrong-password-1", NEW)
    r = client.get("/search")  # locked: the session ends too
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")
    assert sign_in(client, web, "clerk1").status_code == 403


def test_a_reset_password_must_be_changed_at_next_sign_in(archive, web):
    app = create_app(app_config(web))
    admin = app.test_client()
    assert sign_in(admin, web, "sysadmin1").status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    r = admin.post("/admin/users/clerk1/password", data={"csrf_token": csrf(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "下次登录时须先设置新口令" in html
    temp = re.search(r"临时口令：<code>([^<]+)</code>", html).group(1)
    assert [e.actor for e in password_entries(archive, "clerk1")] == ["user:sysadmin1"]
    assert "待修改口令" in html
    assert next(u for u in accounts.list_users(archive.db) if u.login == "clerk1") \
        .must_change_password
    clerk = app.test_client()
    r = sign_in(clerk, web, "clerk1", password=temp)
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/password")
    r = clerk.get("/search?q=x")  # nothing else until the password is changed
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/password")
    r = clerk.get("/api/v1/search?q=x")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "account.must_change_password"
    r = change(clerk, temp, NEW, next="/search?q=x")
    assert r.status_code == 302 and r.headers["Location"] == "/search?q=x"
    assert clerk.get("/search").status_code == 200
