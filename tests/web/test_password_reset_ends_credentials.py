"""A password reset is what an administrator does when an account may be compromised:
it ends every session of the account (including a sign-in half-way through the second
factor) and revokes every personal API token, and says so. A user's own change keeps
their tokens unless they ask for them to be revoked. Each is tried with the old
credential, through the app, the JSON API and the console."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from dangan.archive import api_tokens, audit_log
from dangan.web.app import create_app
from dangan.web.cli import main
from tests.web.webkit import PASSWORD, WebArchive, add_user, app_config, csrf, sign_in

NEW = "new-password-2027"
COOKIE = "dangan_session"


@pytest.fixture
def web(archive):
    w = WebArchive(archive)
    for login, role in (("clerk1", "clerk"), ("clerk2", "clerk"), ("sysadmin1", "sysadmin"),
                        ("archivist1", "archivist")):
        add_user(w, login, role)
    return w


def bearer(client, token, path="/api/v1/search?q=x"):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def entries(archive, action):
    with archive.db.session() as s:
        return [e for e in audit_log.entries(s) if e.action == action]


def admin_reset(app, web, login):
    admin = app.test_client()
    assert sign_in(admin, web, "sysadmin1").status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    r = admin.post(f"/admin/users/{login}/password", data={"csrf_token": csrf(page)})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    return html, re.search(r"临时口令：<code>([^<]+)</code>", html).group(1)


def change(client, current, new, **extra):
    page = client.get("/auth/password").get_data(as_text=True)
    return client.post("/auth/password", data={"current": current, "new": new, "repeat": new,
                                                "csrf_token": csrf(page), **extra})


def test_reset_ends_the_users_tokens_and_sessions_and_nobody_elses(archive, web):
    app = create_app(app_config(web))
    _, token = api_tokens.add_token(archive.db, login="clerk1", actor="test")
    _, spare = api_tokens.add_token(archive.db, login="clerk1", actor="test")
    _, other = api_tokens.add_token(archive.db, login="clerk2", actor="test")
    _, system = api_tokens.add_token(archive.db, system="sbjb", actor="test")
    api_tokens.revoke_token(archive.db, 2, actor="test")  # already revoked: not counted again
    api = app.test_client()
    assert bearer(api, token).status_code == 200
    clerk = app.test_client()
    assert sign_in(clerk, web, "clerk1").status_code == 302
    assert clerk.get("/search").status_code == 200
    stolen = clerk.get_cookie(COOKIE).value  # a copy of the session cookie, as a thief has it

    html, temp = admin_reset(app, web, "clerk1")
    assert "全部登录已失效" in html and "个人 API 令牌已撤销 1 个" in html

    # the old token is dead on every API path, and so is every session of the account
    for path in ("/api/v1/search?q=x", "/api/v1/items/Z109-anything"):
        r = bearer(api, token, path)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "web.unauthenticated"
    r = clerk.get("/search")
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")
    thief = app.test_client()
    thief.set_cookie(COOKIE, stolen)
    r = thief.get("/api/v1/search?q=x")
    assert r.status_code == 401
    r = thief.get("/search")
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")
    # other accounts' tokens and the system token are untouched
    assert bearer(api, other).status_code == 200
    r = api.post("/api/v1/cases", headers={"Authorization": f"Bearer {system}"})
    assert r.status_code == 400  # authenticated (no upload given), not 401

    [reset] = [e for e in entries(archive, "user:password") if e.object_id == "user:clerk1"]
    assert reset.actor == "user:sysadmin1"
    assert reset.details == {"event": "reset", "sessions": "ended", "api_tokens_revoked": 1}
    revoked = [e for e in entries(archive, "api:token") if e.details.get("reason")]
    assert [(e.object_id, e.details["reason"]) for e in revoked] == \
        [("api-token:1", "password-reset")]

    # the user sets a new password; the old token stays dead, a new one works
    clerk = app.test_client()
    assert sign_in(clerk, web, "clerk1", password=temp).status_code == 302
    assert change(clerk, temp, NEW).status_code == 302
    assert bearer(api, token).status_code == 401
    _, fresh = api_tokens.add_token(archive.db, login="clerk1", actor="test")
    r = bearer(api, fresh)
    assert r.status_code == 200 and "total" in r.get_json()


def test_a_sign_in_begun_with_the_old_password_cannot_be_finished(archive, web):
    """The password step passed just before the reset; the second factor must not finish
    it (a thief holding the password and a code would otherwise get in)."""
    app = create_app(app_config(web))
    thief = app.test_client()
    page = thief.get("/auth/login").get_data(as_text=True)
    r = thief.post("/auth/login", data={"login": "archivist1", "password": PASSWORD,
                                         "csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/totp")
    admin_reset(app, web, "archivist1")
    page = thief.get("/auth/totp").get_data(as_text=True)
    r = thief.post("/auth/totp", data={"code": web.code("archivist1"), "csrf_token": csrf(page)})
    assert r.status_code == 401 and 'data-code="account.signin_failed"' in r.get_data(as_text=True)
    r = thief.get("/search")
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login")
    assert not [e for e in entries(archive, "user:signin") if e.object_id == "user:archivist1"
                and e.index > entries(archive, "user:password")[-1].index]


def test_own_change_keeps_tokens_unless_the_user_asks(archive, web):
    app = create_app(app_config(web))
    _, token = api_tokens.add_token(archive.db, login="clerk1", actor="test")
    api = app.test_client()
    clerk = app.test_client()
    assert sign_in(clerk, web, "clerk1").status_code == 302
    page = clerk.get("/auth/password").get_data(as_text=True)
    assert "同时撤销我的 1 个个人 API 令牌" in page
    assert change(clerk, PASSWORD, NEW).status_code == 302
    assert bearer(api, token).status_code == 200  # a routine change: integrations go on
    r = change(clerk, NEW, "third-password-3", revoke_tokens="yes")
    assert r.status_code == 302
    assert "个人 API 令牌已全部撤销" in clerk.get("/search").get_data(as_text=True)
    assert bearer(api, token).status_code == 401
    assert clerk.get("/search").status_code == 200  # this session stays
    events = [(e.details["event"], e.details["api_tokens_revoked"])
              for e in entries(archive, "user:password")]
    assert events == [("changed", 0), ("changed", 1)]
    # nothing left to revoke: no box offered
    assert "个人 API 令牌" not in clerk.get("/auth/password").get_data(as_text=True).split(
        "<form")[1].split("</form>")[0]


def test_console_reset_and_console_revocation_say_what_they_ended(archive, web):
    def run(*args):
        r = CliRunner().invoke(main, ["--home", str(archive.home), *args],
                               catch_exceptions=False)
        return r.exit_code, r.output

    app = create_app(app_config(web))
    _, token = api_tokens.add_token(archive.db, login="clerk1", actor="test")
    _, other = api_tokens.add_token(archive.db, login="clerk2", actor="test")
    code, out = run("user", "password", "clerk1")
    assert code == 0 and "此前的登录已全部失效" in out and "已撤销其个人 API 令牌 1 个" in out
    api = app.test_client()
    assert bearer(api, token).status_code == 401
    assert bearer(api, other).status_code == 200
    code, out = run("api", "token", "revoke", "--user", "clerk2")
    assert code == 0 and "已撤销用户 clerk2 的个人令牌 1 个" in out
    assert bearer(api, other).status_code == 401
    code, out = run("api", "token", "revoke", "--user", "nobody")
    assert code != 0 and "api.token_not_found" in out
    code, out = run("api", "token", "revoke")
    assert code == 2
