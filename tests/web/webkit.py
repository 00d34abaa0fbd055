"""What web tests do as users: an archive with one account per role and a filed case, a
client that signs in (password, then TOTP computed with pyotp) and posts forms with the
CSRF token read off the page, as a browser would."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp

from dangan.archive import accounts, keys, second_factor
from dangan.archive.instance import Archive
from dangan.archive.permissions import ROLES
from dangan.packages import signing
from tests.casekit import KEY_ID, SYSTEM

PASSWORD = "test-password-2026"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class WebArchive:
    archive: Archive
    totp: dict[str, pyotp.TOTP] = field(default_factory=dict)  # login → authenticator
    used_steps: dict[str, int] = field(default_factory=dict)
    case: dict[str, Any] = field(default_factory=dict)  # the filed case: aip_id, case_id …

    def code(self, login: str) -> str:
        """The next unused TOTP code of ``login`` (a code is accepted once per 30 s step)."""
        t = self.totp[login]
        step = max(int(time.time()) // t.interval, self.used_steps.get(login, -1) + 1)
        wait = (step - 1) * t.interval - time.time()
        if wait > 0:  # the server accepts at most one step ahead: wait like a person would
            time.sleep(wait + 0.1)
        self.used_steps[login] = step
        return t.generate_otp(step)

    def add_user(self, login: str, role: str) -> None:
        """Another account with ``role`` (TOTP enrolled), created at the console."""
        add_user(self, login, role)


def build(home: Path, *, file_case: bool = True) -> WebArchive:
    """An archive with user ``<role>1`` per role (TOTP enrolled for all) and one filed case."""
    archive = Archive.init(home, fonds="Z109", organization="测试市社会保险事业管理中心")
    web = WebArchive(archive)
    for role in ROLES:
        add_user(web, f"{role}1", role)
    if file_case:
        web.case = file_one_case(archive, home.parent / "submission")
    return web


def add_user(web: WebArchive, login: str, role: str) -> None:
    db = web.archive.db
    accounts.create_user(db, login, f"测试{ROLES[role]}", password=PASSWORD, by=None)
    accounts.grant_role(db, login, role, by=None)
    web.totp[login] = pyotp.parse_uri(second_factor.enrol_totp_at_console(db, login, by=None))


def file_one_case(archive: Archive, out: Path) -> dict[str, Any]:
    from dangan.ingest.demo.generator import generate_submission
    from dangan.ingest.service import ingest

    key = signing.generate_private_key(signing.ED25519)
    keys.trust_add(archive.db, SYSTEM, KEY_ID, signing.public_key_pem(key), actor="test")
    item = next(i for i in archive.filing_config.items if i.name == "企业职工基本养老保险参保登记")
    sub = generate_submission(out, rng=random.Random(7), signing_key=key, key_id=KEY_ID,
                              source_system=SYSTEM, service_item=item)
    outcome = ingest(archive, sub, actor="test", ocr=False)
    assert outcome.status == "archived", outcome
    from dangan.archive import catalogue

    with archive.db.session() as s:
        d = catalogue.item_to_dict(catalogue.get_item(s, outcome.aip_id))
    return d


def csrf(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def sign_in(client: Any, web: WebArchive, login: str, password: str = PASSWORD) -> Any:
    """Sign in through the forms; returns the last response (after the second factor)."""
    page = client.get("/auth/login")
    r = client.post("/auth/login", data={"login": login, "password": password,
                                          "csrf_token": csrf(page.get_data(as_text=True))})
    if r.status_code == 302 and r.headers["Location"].endswith("/auth/totp"):
        page = client.get("/auth/totp")
        r = client.post("/auth/totp", data={"code": web.code(login),
                                             "csrf_token": csrf(page.get_data(as_text=True))})
    return r


def app_config(web: WebArchive, **extra: Any) -> dict[str, Any]:
    return {"DANGAN_ARCHIVE": web.archive, "SECRET_KEY": "test-secret-key",
            "SESSION_COOKIE_SECURE": False, **extra}
