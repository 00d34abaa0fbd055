"""The inspector's desk through the web app: chain verification green, then red after
tampering; the dashboard counts a real rejection; audit proofs verify; the evidence zip
downloaded from the page verifies offline with ``dangan.packages`` only."""

from __future__ import annotations

import io
import random
import re
import zipfile

import pytest

from dangan.archive import keys
from dangan.packages import signing
from dangan.packages.evidence import VERIFIED, verify_evidence
from dangan.web.app import create_app
from tests.casekit import KEY_ID, SYSTEM
from tests.web.webkit import app_config, build, csrf, sign_in


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    w = build(tmp_path_factory.mktemp("inspect") / "home")
    yield w
    w.archive.close()


@pytest.fixture
def inspector(web):
    client = create_app(app_config(web)).test_client()
    assert sign_in(client, web, "inspector1").status_code == 302
    return client


def steps(html: str) -> dict[str, str]:
    """Step name → pass/fail, as the report rows show them."""
    return {step: mark for mark, step in
            re.findall(r'<tr class="step (pass|fail)" data-step="([a-z_]+)"', html)}


def test_evidence_download_verifies_offline_and_needs_csrf(web, inspector, tmp_path):
    ref = web.case["aip_id"]
    page = inspector.get(f"/inspect/verify/{ref}").get_data(as_text=True)
    assert inspector.post(f"/inspect/evidence/{ref}").status_code == 400  # no CSRF token
    r = inspector.post(f"/inspect/evidence/{ref}", data={"csrf_token": csrf(page)})
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert f"evidence-{ref}.zip" in r.headers["Content-Disposition"]
    assert zipfile.is_zipfile(io.BytesIO(r.data))
    out = tmp_path / "e.zip"
    out.write_bytes(r.data)
    pem = (web.archive.home / keys.KEY_DIR / keys.PUBLIC_KEY).read_bytes()
    assert verify_evidence(out, pem).status == VERIFIED


def test_dashboard_counts_filed_cases_and_a_rejection_by_check_item(web, inspector, tmp_path):
    from dangan.ingest.demo.generator import generate_submission
    from dangan.ingest.service import ingest

    untrusted = signing.generate_private_key(signing.ED25519)
    item = web.archive.filing_config.items[0]
    sub = generate_submission(tmp_path / "bad", rng=random.Random(3), signing_key=untrusted,
                              key_id=KEY_ID + "-x", source_system=SYSTEM, service_item=item)
    outcome = ingest(web.archive, sub, actor="test", ocr=False)
    assert outcome.status == "rejected"
    failed = {c["code"] for c in outcome.checks if c["result"] == "fail" and c["blocking"]}

    html = inspector.get("/inspect/").get_data(as_text=True)
    assert "已归档 1 件，拒收 1 件" in html
    auth = re.search(r'data-nature="authenticity"><td>[^<]+</td><td>(\d+) / (\d+)</td>', html)
    assert auth.groups() == ("1", "2")
    for code in failed:
        assert f"<code>{code}</code>" in html
    assert "企业职工基本养老保险参保登记" in html
    assert re.search(r"<p>条目 1 件：已检查 \d+，从未检查 \d+", html)


def test_audit_proof_page_shows_verified_inclusion_and_consistency(web, inspector):
    from dangan.archive import tree_heads

    tree_heads.publish_head(web.archive, anchor=False)
    html = inspector.get("/audit/").get_data(as_text=True)
    assert 'href="/audit/proof/0"' in html
    html = inspector.get("/audit/proof/1?old=1").get_data(as_text=True)
    assert re.search(r'id="inclusion" data-verified="true"', html)
    assert re.search(r'id="consistency" data-verified="true"', html)
    assert inspector.get("/audit/proof/999999").status_code == 400


@pytest.mark.parametrize("login", ["clerk1", "archivist1", "auditor1"])
def test_roles_without_verify_cannot_open_the_desk(web, login):
    client = create_app(app_config(web)).test_client()
    assert sign_in(client, web, login).status_code == 302
    assert client.get(f"/inspect/verify/{web.case['aip_id']}").status_code == 403
    assert client.get("/inspect/").status_code == 403




def test_verify_report_is_green_for_a_filed_case_and_red_after_tampering(web, inspector):
    ref = web.case["aip_id"]
    r = inspector.get(f"/inspect/verify?ref={web.case['archival_code']}")
    assert r.status_code == 302 and "/inspect/verify/" in r.headers["Location"]
    html = inspector.get(f"/inspect/verify/{ref}").get_data(as_text=True)
    got = steps(html)
    assert set(got) >= {"source_signature", "process_trail", "manifest_digests", "aip_signature",
                        "catalogue", "audit_log", "replicas"}
    assert set(got.values()) == {"pass"}, got
    assert 'data-ok="true"' in html

    payload = next(p for p in (web.archive.store.path(ref) / "data").rglob("*") if p.is_file())
    payload.write_bytes(payload.read_bytes() + b"tampered")
    got = steps(inspector.get(f"/inspect/verify/{ref}").get_data(as_text=True))
    assert got["manifest_digests"] == "fail"
