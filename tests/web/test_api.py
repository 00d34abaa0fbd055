"""The JSON API as case-handling systems and scripts use it: tokens issued at the
console, a case zip submitted and filed in the background, a system refused when it
submits as another, and the OpenAPI document fuzzed with schemathesis (no 500s)."""

from __future__ import annotations

import io
import json
import random
import shutil
import time
import zipfile

import pytest
from click.testing import CliRunner

from dangan.archive import api_tokens, keys
from dangan.packages import signing
from dangan.web.app import create_app
from dangan.web.cli import main
from tests.casekit import SYSTEM
from tests.web.webkit import app_config, build, csrf, sign_in

API_KEY_ID = "api-test-key"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    w = build(tmp_path_factory.mktemp("api") / "home")
    w.key = signing.generate_private_key(signing.ED25519)
    keys.trust_add(w.archive.db, SYSTEM, API_KEY_ID, signing.public_key_pem(w.key), actor="test")
    w.tmp = tmp_path_factory.mktemp("api-subs")
    yield w
    w.archive.close()


@pytest.fixture(scope="module")
def app(web):
    return create_app(app_config(web, DANGAN_API_MAX_CASE_BYTES=8 << 20))


@pytest.fixture(scope="module")
def system_token(web):
    r = CliRunner().invoke(main, ["--home", str(web.archive.home), "api", "token", "add",
                                  SYSTEM, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)["token"]


def case_zip(web, name: str, *, system: str = SYSTEM, seed: int = 11) -> bytes:
    from dangan.ingest.demo.generator import generate_submission

    item = next(i for i in web.archive.filing_config.items
                if i.name == "企业职工基本养老保险参保登记")
    out = generate_submission(web.tmp / name, rng=random.Random(seed), signing_key=web.key,
                              key_id=API_KEY_ID, source_system=system, service_item=item)
    return (web.tmp / shutil.make_archive(str(web.tmp / name), "zip", out)).read_bytes()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submit(client, token: str, data: bytes):
    return client.post("/api/v1/cases", headers=bearer(token),
                       data={"case": (io.BytesIO(data), "case.zip")},
                       content_type="multipart/form-data")


def wait_for(client, token: str, url: str) -> dict:
    for _ in range(600):
        doc = client.get(url, headers=bearer(token)).get_json()
        if doc["state"] in ("done", "failed"):
            return doc
        time.sleep(0.1)
    raise AssertionError("the job did not finish in 60 s")


def test_token_is_printed_once_and_stored_hashed(web, system_token):
    r = CliRunner().invoke(main, ["--home", str(web.archive.home), "api", "token", "list"])
    assert r.exit_code == 0 and SYSTEM in r.output
    assert system_token not in r.output and system_token[:12] in r.output
    rows = api_tokens.list_tokens(web.archive.db)
    assert all(system_token not in json.dumps(row) for row in rows)


def test_a_system_submits_a_case_gets_202_then_the_receipt(app, web, system_token):
    client = app.test_client()
    r = submit(client, system_token, case_zip(web, "good"))
    assert r.status_code == 202, r.get_data(as_text=True)
    body = r.get_json()
    assert body["state"] == "queued" and body["status_url"] == f"/api/v1/jobs/{body['job_id']}"
    done = wait_for(client, system_token, body["status_url"])
    assert done["state"] == "done", done
    assert done["result"]["status"] == "archived"
    assert done["result"]["receipt"]["signature"]
    aip = done["result"]["aip_id"]
    # the system may only submit: reading and verifying are refused
    assert client.get(f"/api/v1/items/{aip}", headers=bearer(system_token)).status_code == 403
    assert client.get("/api/v1/search?q=x", headers=bearer(system_token)).status_code == 403
    # an inspector's personal token verifies the filed case
    _, personal = api_tokens.add_token(web.archive.db, login="inspector1", actor="test")
    v = client.get(f"/api/v1/verify/{aip}", headers=bearer(personal))
    assert v.status_code == 200 and v.get_json()["status"] == "ok"
    # another submitter cannot read this job
    _, other = api_tokens.add_token(web.archive.db, system="另一个系统", actor="test")
    assert client.get(body["status_url"], headers=bearer(other)).status_code == 404


def test_a_system_cannot_submit_as_another(app, web):
    _, token = api_tokens.add_token(web.archive.db, system="医保经办系统", actor="test")
    r = submit(app.test_client(), token, case_zip(web, "foreign", seed=12))
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "api.source_system_mismatch"
    assert not list((web.archive.home / "api-uploads").glob("*.zip"))


def test_rejected_case_answers_with_the_check_report(app, web, system_token):
    data = case_zip(web, "tampered", seed=13)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            raw = src.read(info)
            if info.filename.endswith("case.json"):
                raw += b" "  # one byte more: the source signature no longer holds
            dst.writestr(info, raw)
    client = app.test_client()
    r = submit(client, system_token, buf.getvalue())
    assert r.status_code == 202
    done = wait_for(client, system_token, r.get_json()["status_url"])
    assert done["result"]["status"] == "rejected"
    assert any(c["result"] == "fail" for c in done["result"]["checks"])


@pytest.mark.parametrize("entry", ["../escape.txt", "/abs.txt"])
def test_unsafe_zip_is_refused_before_any_job(app, web, system_token, entry):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(entry, b"x")
        z.writestr("case.json", b"{}")
    r = submit(app.test_client(), system_token, buf.getvalue())
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "ingest.unusable_submission"
    assert not (web.archive.home / "escape.txt").exists()


def test_oversized_upload_is_refused(web, system_token):
    app = create_app(app_config(web, DANGAN_API_MAX_CASE_BYTES=1000))
    r = submit(app.test_client(), system_token, b"PK" + b"\0" * 5000)
    assert r.status_code in (400, 413)
    assert r.get_json()["error"]["code"] in ("web.too_large", "ingest.unusable_submission")


def test_revoked_or_unknown_token_is_401(app, web):
    token_id, token = api_tokens.add_token(web.archive.db, system="临时系统", actor="test")
    api_tokens.revoke_token(web.archive.db, token_id, actor="test")
    client = app.test_client()
    for t in (token, "dgn_not-a-token"):
        r = submit(client, t, b"x")
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "web.unauthenticated"


def test_session_posts_need_the_csrf_token(app, web):
    client = app.test_client()
    assert sign_in(client, web, "archivist1").status_code == 302
    r = client.post("/api/v1/cases", data={"case": (io.BytesIO(b"x"), "c.zip")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "web.csrf"
    token = csrf(client.get("/search").get_data(as_text=True))
    r = client.post("/api/v1/cases", data={"case": (io.BytesIO(b"x"), "c.zip"),
                                           "csrf_token": token},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "ingest.unusable_submission"


def test_openapi_document_describes_every_api_route(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    api_rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    import re
    assert {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", r) for r in api_rules} == set(doc["paths"])
    assert "202" in doc["paths"]["/api/v1/cases"]["post"]["responses"]
