"""``dangan user`` as the person who installs the server bootstraps the administrators."""

from __future__ import annotations

import json

import pyotp
from click.testing import CliRunner

from dangan.web.cli import main


def run(home, *args, input=None):
    r = CliRunner().invoke(main, ["--home", str(home), *args], input=input,
                           catch_exceptions=False)
    return r.exit_code, r.output


def test_bootstrap_administrators_and_grant_rules(archive, tmp_path):
    home = archive.home
    code, out = run(home, "user", "add", "sec", "--name", "安全员", "--role", "secadmin")
    assert code == 0 and "初始口令" in out
    code, out = run(home, "user", "add", "sys", "--name", "系统员", "--role", "sysadmin",
                    "--password-stdin", "--json", input="a-long-password-1\n")
    assert code == 0 and "password" not in json.loads(out)
    code, out = run(home, "user", "grant", "sys", "auditor")
    assert code == 2 and "account.role_refused" in out
    code, out = run(home, "user", "add", "li", "--name", "李四", "--role", "clerk",
                    "--role", "inspector")
    assert code == 0
    code, out = run(home, "user", "revoke", "li", "inspector")
    assert code == 0
    code, out = run(home, "user", "list", "--json")
    users = {u["login"]: u for u in json.loads(out)}
    assert users["li"]["roles"] == ["clerk"] and users["sec"]["roles"] == ["secadmin"]
    png = tmp_path / "qr.png"
    code, out = run(home, "user", "totp", "sys", "--png", str(png))
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    uri = next(line.split("：", 1)[1] for line in out.splitlines() if "otpauth://" in line)
    assert pyotp.parse_uri(uri).issuer == "Dangan 档案"
    code, out = run(home, "user", "list", "--json")
    assert {u["login"]: u for u in json.loads(out)}["sys"]["totp_enrolled"] is True
    code, out = run(home, "audit", "entries", "--json")
    assert code == 0
    actions = [e["action"] for e in json.loads(out)]
    assert actions.count("role:grant") == 4 and "role:revoke" in actions and "user:totp" in actions


def test_console_password_reset_forces_a_change_and_ends_sessions(archive):
    from dangan.archive import accounts

    accounts.create_user(archive.db, "wang", "王五", password="first-password-1", by=None)
    before = accounts.check_password(archive.db, "wang", "first-password-1")
    code, out = run(archive.home, "user", "password", "wang")
    assert code == 0 and "临时口令" in out
    temp = out.split("临时口令：")[1].split()[0]
    p = accounts.check_password(archive.db, "wang", temp)
    assert p.must_change_password and p.credential_epoch != before.credential_epoch
    changed = accounts.change_password(archive.db, p.id, temp, "second-password-2",
                                       "second-password-2")
    assert not changed.must_change_password
    code, out = run(archive.home, "audit", "entries", "--json")
    events = [(e["actor"].split(":")[0], e["details"].get("event")) for e in json.loads(out)
              if e["action"] == "user:password"]
    assert events == [("os", "reset"), ("user", "changed")]
