"""Generated demo submissions follow the case-submission contract with real, valid files."""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image
from pypdf import PdfReader

from dangan.archive.filing_config import OUTCOMES, load_filing_config
from dangan.ingest.demo import scans
from dangan.ingest.demo.generator import generate_batch, generate_flawed, generate_submission
from dangan.ingest.demo.layout import Page, Text
from dangan.ingest.demo.plan import plan_case
from dangan.packages.case_schema import schema_errors
from dangan.packages.digests import sha256_hex, sm3_hex
from dangan.packages.formats.identify import identify
from dangan.packages.formats.ofd import read_ofd
from dangan.packages.formats.pdf import inspect_pdf
from dangan.packages.identity import validate_party_id
from dangan.packages.signing import DetachedSignature, generate_private_key, public_key_pem, verify

SOURCE = "sb-jingban-demo"
OFD_NS = "{http://www.ofdspec.org/2016}"


@pytest.fixture(scope="module")
def config():
    return load_filing_config()


@pytest.fixture(scope="module")
def key():
    return generate_private_key()


@pytest.fixture(scope="module")
def batch(tmp_path_factory, config, key) -> list[Path]:
    out = tmp_path_factory.mktemp("batch")
    return generate_batch(out, 16, seed=2024, signing_key=key, key_id="k-2024",
                          source_system=SOURCE, config=config, workers=1)


def _case(path: Path) -> dict:
    return json.loads((path / "case.json").read_text(encoding="utf-8"))


def _all_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_case_json_validates_against_the_schema(batch):
    assert len({p.name for p in batch}) == len(batch)
    for path in batch:
        assert schema_errors(_case(path)) == [], path.name


def test_submission_holds_exactly_what_case_json_lists(batch):
    for path in batch:
        case = _case(path)
        listed = {"case.json", "case.json.sig"} | {f"files/{f['path']}" for f in case["files"]}
        assert _all_files(path) == listed
        for f in case["files"]:
            data = (path / "files" / f["path"]).read_bytes()
            assert f["size"] == len(data)
            assert f["sha256"] == sha256_hex(data) and f["sm3"] == sm3_hex(data)
            assert identify(path / "files" / f["path"]).media_type == f["media_type"]


def test_signature_verifies_over_case_json(batch, key):
    for path in batch:
        sig = DetachedSignature.from_json((path / "case.json.sig").read_bytes())
        assert sig.key_id == "k-2024" and sig.alg == "ed25519"
        verify(public_key_pem(key), sig, (path / "case.json").read_bytes())


def test_parties_have_valid_identity_numbers(batch):
    for path in batch:
        case = _case(path)
        for party in [case["applicant"], *case["subjects"]]:
            assert validate_party_id(party["id_type"], party["id_number"]) is None, party


def test_trail_is_lead_accept_handle_feedback(batch):
    for path in batch:
        case = _case(path)
        events = case["events"]
        steps = [e["step"] for e in events]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        times = [datetime.fromisoformat(e["at"]) for e in events]
        assert times == sorted(times)
        assert steps.count("feedback") == 1 and steps[-1] == "feedback"
        assert "accept" in steps and steps.index("accept") <= 1
        assert set(steps[: steps.index("accept")]) <= {"lead"}
        body = steps[steps.index("accept") + 1 : -1]
        assert set(body) <= {"handle"}
        assert bool(body) == (case["result"]["outcome"] != "not_accepted")
        assert datetime.fromisoformat(case["completed_at"]) >= datetime.fromisoformat(case["accepted_at"])
        ids = {f["id"] for f in case["files"]}
        referenced = [i for e in events for i in e["files"]]
        assert set(referenced) == ids and len(referenced) == len(ids)


def test_required_documents_of_the_outcome_are_present(batch, config):
    rules = config.rules()
    for path in batch:
        case = _case(path)
        rule = rules[case["service_item"]["code"]]
        assert case["service_item"]["name"] == rule.name
        kinds = Counter(f["kind"] for f in case["files"])
        for kind in rule.required_documents[case["result"]["outcome"]]:
            assert kinds[kind] >= 1, (path.name, kind)


def test_pdfs_open_and_carry_the_applicants_name(batch):
    seen = 0
    for path in batch:
        case = _case(path)
        names = {case["applicant"]["name"], case["subjects"][0]["name"]}
        for f in case["files"]:
            if f["media_type"] != "application/pdf":
                continue
            reader = PdfReader(path / "files" / f["path"])
            assert len(reader.pages) == f["pages"]
            if f["origin"] == "born_digital":
                text = "".join(page.extract_text() for page in reader.pages)
                assert any(n in text for n in names), (path.name, f["path"])
                if f["kind"] == "application_form":
                    assert case["applicant"]["name"] in text
                seen += 1
            else:  # a scanner's image-only PDF at scanning resolution
                dpis = inspect_pdf(path / "files" / f["path"]).page_image_dpi
                assert dpis and all(d and d[0] >= 200 for d in dpis)
    assert seen >= len(batch)


def test_scans_carry_their_resolution(batch):
    seen = 0
    for path in batch:
        for f in _case(path)["files"]:
            if f["media_type"] in ("image/jpeg", "image/tiff"):
                with Image.open(path / "files" / f["path"]) as im:
                    dpi = im.info.get("dpi")
                    assert dpi and round(dpi[0]) >= 200, f["path"]
                    ratio = im.height / im.width
                    assert abs(ratio - 297 / 210) < 0.02
                    assert f["origin"] == "digitized"
                seen += 1
    assert seen


def test_ofd_is_a_readable_package_with_chinese_text(tmp_path, config, key):
    found = 0
    for n in range(12):
        rng = random.Random(f"ofd-{n}")
        path = generate_submission(tmp_path, rng=rng, signing_key=key, key_id="k", source_system=SOURCE,
                                   service_item=config.get("SB-YL-HD-004"), outcome="approved")
        for f in _case(path)["files"]:
            if f["media_type"] != "application/ofd":
                continue
            data = (path / "files" / f["path"]).read_bytes()
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                root = etree.fromstring(zf.read("OFD.xml"))
                assert root.tag == f"{OFD_NS}OFD"
                content = etree.fromstring(zf.read("Doc_0/Pages/Page_0/Content.xml"))
                text = "".join(t.text or "" for t in content.iter(f"{OFD_NS}TextCode"))
                assert "决定书" in text or "告知书" in text
            info = read_ofd(path / "files" / f["path"])
            assert info.problems == [] and info.pages == f["pages"]
            found += 1
    assert found


def test_same_seed_same_case_json(tmp_path, config, key):
    a = generate_batch(tmp_path / "a", 3, seed=99, signing_key=key, key_id="k", source_system=SOURCE,
                       config=config, workers=1)
    b = generate_batch(tmp_path / "b", 3, seed=99, signing_key=key, key_id="k", source_system=SOURCE,
                       config=config, workers=2)
    for x, y in zip(a, b, strict=True):
        assert (x / "case.json").read_bytes() == (y / "case.json").read_bytes()
        assert (x / "case.json.sig").read_bytes() == (y / "case.json.sig").read_bytes()
    c = generate_batch(tmp_path / "c", 1, seed=100, signing_key=key, key_id="k", source_system=SOURCE,
                       config=config, workers=1)
    assert (c[0] / "case.json").read_bytes() != (a[0] / "case.json").read_bytes()


def test_outcomes_are_mostly_approved_but_all_occur(config):
    outcomes = Counter()
    for n in range(300):
        rng = random.Random(n)
        outcomes[plan_case(rng.choice(config.items), rng).facts.outcome] += 1
    assert set(outcomes) == set(OUTCOMES)
    assert outcomes["approved"] > 0.7 * 300


def test_every_item_and_outcome_renders(tmp_path, config, key):
    from dangan.ingest.demo.generator import demo_items

    assert len(demo_items(config)) == len(config.items) - 1  # not the archive's own register
    for n, item in enumerate(demo_items(config)):
        outcome = OUTCOMES[n % len(OUTCOMES)]
        path = generate_submission(tmp_path, rng=random.Random(n), signing_key=key, key_id="k",
                                   source_system=SOURCE, service_item=item, outcome=outcome)
        case = _case(path)
        assert schema_errors(case) == []
        assert case["result"]["outcome"] == outcome
        kinds = {f["kind"] for f in case["files"]}
        assert set(item.required_documents[outcome]) <= kinds, item.code


def test_transfer_out_carries_letter_and_information_sheet(tmp_path, config, key):
    path = generate_submission(tmp_path, rng=random.Random(5), signing_key=key, key_id="k",
                               source_system=SOURCE, service_item=config.get("SB-YL-ZC-001"),
                               outcome="approved")
    files = {f["kind"]: f for f in _case(path)["files"]}
    sheet = files["transfer_form"]
    assert sheet["media_type"] == "application/xml"
    root = etree.fromstring((path / "files" / sheet["path"]).read_bytes())
    person = _case(path)["subjects"][0]
    assert root.findtext("参保人员/公民身份号码") == person["id_number"]
    assert root.find("缴费明细") is not None and len(root.find("缴费明细")) >= 1
    assert "transfer_letter" in files


def test_flawed_submissions_each_have_their_one_defect(tmp_path, config, key):
    flawed = generate_flawed(tmp_path, seed=1, signing_key=key, key_id="k", source_system=SOURCE,
                             config=config)
    assert len(flawed) == 7 and all(desc for _, desc in flawed)
    public = public_key_pem(key)
    for path, _ in flawed:  # every one is properly signed: only the named defect is wrong
        verify(public, DetachedSignature.from_json((path / "case.json.sig").read_bytes()),
               (path / "case.json").read_bytes())
    (tampered, _), (missing, _), (bad_id, _), (no_feedback, _), (png, _), (eicar, _), (extra, _) = flawed

    def mismatches(path: Path) -> list[str]:
        return [f["path"] for f in _case(path)["files"]
                if sha256_hex((path / "files" / f["path"]).read_bytes()) != f["sha256"]]

    assert len(mismatches(tampered)) == 1
    assert all(not mismatches(p) for p, _ in flawed[1:])
    assert "decision" not in {f["kind"] for f in _case(missing)["files"]}
    assert validate_party_id("resident_id", _case(bad_id)["subjects"][0]["id_number"])
    assert "feedback" not in {e["step"] for e in _case(no_feedback)["events"]}
    lying = [f for f in _case(png)["files"] if f["path"].endswith(".pdf")
             and identify(png / "files" / f["path"]).media_type == "image/png"]
    assert lying and lying[0]["media_type"] == "application/pdf"
    assert any(b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in (eicar / "files" / f["path"]).read_bytes()
               for f in _case(eicar)["files"])
    listed = {f"files/{f['path']}" for f in _case(extra)["files"]} | {"case.json", "case.json.sig"}
    assert _all_files(extra) - listed == {"files/scans/extra-scan.jpg"}
    for path, _ in flawed:
        assert schema_errors(_case(path)) == [] or path == eicar


def test_scan_without_a_cjk_font_still_draws_the_page(monkeypatch):
    monkeypatch.setattr(scans, "cjk_font_path", lambda: None)
    page = Page([Text(30, 40, "参保登记表 No. 652302197307228641", 12)])
    img = scans.render_page(page, dpi=200)
    assert img.size == (1654, 2339)
    band = img.crop((200, 250, 1400, 330))
    assert band.getextrema()[0] < 100  # ink was laid down for CJK marks and digits
    data = scans.to_jpeg(img, 200)
    with Image.open(io.BytesIO(data)) as im:
        assert im.info["dpi"] == (200, 200)
