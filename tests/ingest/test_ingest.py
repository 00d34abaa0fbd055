"""Filing a case end to end: archived, duplicate, corrected, rejected — nothing half-stored."""

from __future__ import annotations

import json
import shutil
import zipfile

import bagit
import pytest

from dangan.archive import catalogue
from dangan.archive.export import export_aip
from dangan.archive.models import Item, Rejection
from dangan.archive.receipts import verify_receipt
from dangan.archive.replica import replica_store
from dangan.ingest.errors import UnusableSubmission
from dangan.ingest.service import ingest
from dangan.packages.aip import validate_aip
from tests.casekit import edit_case


def _results(outcome) -> dict[str, str]:
    return {c["code"]: c["result"] for c in outcome.checks}


def _store_aips(archive) -> list[str]:
    return list(archive.store.iter_aip_ids())


def _count(archive, model) -> int:
    from sqlalchemy import func, select

    with archive.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_complete_case_is_archived_with_a_signed_receipt(archive, make_case, tmp_path):
    outcome = ingest(archive, make_case())
    assert outcome.status == "archived", outcome.reason
    assert outcome.exit_code == 0
    assert outcome.archival_code == "Z109-SB·" + outcome.archival_code.split("·")[1]
    assert outcome.archival_code.endswith("-00001")
    assert {c["result"] for c in outcome.checks} <= {"pass", "warn"}
    assert len(outcome.checks) >= 30
    verify_receipt(outcome.receipt, archive.key.public_pem)
    # the AIP validates offline and with the bagit package's own validator
    aip_path = archive.store.path(outcome.aip_id)
    assert validate_aip(aip_path, archive.key.public_pem).valid
    bagit.Bag(str(aip_path)).validate()
    # the second copy is written at ingest and verifies on its own
    assert "replica_error" not in outcome.extra
    replica = replica_store(archive).path(outcome.aip_id)
    assert validate_aip(replica, archive.key.public_pem).valid
    dest = tmp_path / "export" / "aip.zip"
    export_aip(archive, outcome.aip_id, dest)
    assert validate_aip(dest, archive.key.public_pem).valid
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(dest) as zf:
        zf.extractall(unpacked)
    [bag_dir] = list(unpacked.iterdir())
    bagit.Bag(str(bag_dir)).validate()


def test_show_walks_the_case_link_both_ways(archive, make_case):
    outcome = ingest(archive, make_case())
    with archive.db.session() as s:
        by_case = catalogue.lookup(s, outcome.case_id)
        by_system_case = catalogue.lookup(s, f"{outcome.source_system}/{outcome.case_id}")
        by_code = catalogue.lookup(s, outcome.archival_code)
        by_aip = catalogue.lookup(s, outcome.aip_id)
        record = catalogue.item_to_dict(by_code.item)
    assert {by_case.item.aip_id, by_system_case.item.aip_id, by_code.item.aip_id,
            by_aip.item.aip_id} == {outcome.aip_id}
    assert record["case_id"] == outcome.case_id
    assert record["events"][-1]["step"] == "archive"
    assert [e["seq"] for e in record["events"]] == list(range(1, len(record["events"]) + 1))
    assert record["files"] and all(f["sha256"] and f["sm3"] for f in record["files"])


def test_identical_resubmission_returns_the_first_receipt(archive, make_case):
    path = make_case()
    first = ingest(archive, path)
    again = ingest(archive, path)
    assert again.status == "duplicate" and again.exit_code == 0
    assert again.receipt == first.receipt
    assert again.aip_id == first.aip_id
    assert _store_aips(archive) == [first.aip_id]


def test_same_case_id_with_other_content_is_rejected_unless_a_correction(
    archive, make_case, sender_key
):
    path = make_case()
    first = ingest(archive, path)
    changed = path.parent / "changed"
    shutil.copytree(path, changed)
    edit_case(changed, sender_key, lambda c: c.update(title=c["title"] + "（补正）"))
    outcome = ingest(archive, changed)
    assert outcome.status == "rejected"
    assert _results(outcome)["GD-1-8"] == "fail"
    assert _store_aips(archive) == [first.aip_id]

    def correction(c):
        c["supersedes"] = first.archival_code
        c["correction_reason"] = "题名错字更正"

    edit_case(changed, sender_key, correction)
    corrected = ingest(archive, changed)
    assert corrected.status == "archived", corrected.reason
    assert corrected.archival_code == first.archival_code
    assert corrected.version == 2
    with archive.db.session() as s:
        found = catalogue.lookup(s, first.archival_code)
        assert found.item.aip_id == corrected.aip_id
        assert [v.status for v in found.versions] == ["superseded", "active"]


def test_a_rejected_case_leaves_only_its_rejection_record_and_no_gap(
    archive, make_case, sender_key
):
    bad = make_case()
    (bad / "files" / next(p.name for p in (bad / "files").iterdir())).write_bytes(b"tampered")
    outcome = ingest(archive, bad)
    assert outcome.status == "rejected" and outcome.exit_code == 3
    assert _results(outcome)["GD-1-1-2"] == "fail"
    assert all(c["result"] in ("pass", "fail", "warn") for c in outcome.checks)
    assert _store_aips(archive) == []
    assert _count(archive, Item) == 0
    assert _count(archive, Rejection) == 1
    good = ingest(archive, make_case())
    assert good.archival_code.endswith("-00001")  # the rejected case consumed no number


def test_a_case_from_an_unknown_key_is_rejected(archive, make_case, sender_key):
    from dangan.packages import signing
    from tests.casekit import sign_case

    path = make_case()
    sign_case(path, signing.generate_private_key(signing.ED25519))
    outcome = ingest(archive, path)
    assert outcome.status == "rejected"
    assert _results(outcome)["GD-1-1-1"] == "fail"


def test_a_zip_submission_is_filed_like_a_folder(archive, make_case, tmp_path):
    path = make_case()
    zpath = tmp_path / "case.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in sorted(path.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(path).as_posix())
    assert ingest(archive, zpath).status == "archived"


@pytest.mark.parametrize(
    ("name", "entries", "message"),
    [
        ("escape", {"../evil.txt": b"x", "case.json": b"{}"}, "越出目录"),
        ("absolute", {"/etc/evil": b"x", "case.json": b"{}"}, "绝对路径"),
        ("bomb", {"case.json": b"{}", "files/zeros.pdf": b"\0" * (20 << 20)}, "压缩"),
    ],
)
def test_unsafe_zip_is_refused_before_anything_is_written(archive, tmp_path, name, entries, message):
    zpath = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in entries.items():
            zf.writestr(zipfile.ZipInfo(arcname), data, compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(UnusableSubmission, match=message):
        ingest(archive, zpath)
    assert _store_aips(archive) == []
    assert not any(archive.store.staging_root.iterdir())


def test_not_a_submission_is_unusable_input(archive, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(UnusableSubmission, match="case.json"):
        ingest(archive, folder)
    (folder / "case.json").write_text("{not json", "utf-8")
    with pytest.raises(UnusableSubmission, match="JSON"):
        ingest(archive, folder)


def test_symlink_in_a_submission_folder_is_refused(archive, make_case):
    path = make_case()
    (path / "files" / "link.pdf").symlink_to("/etc/passwd")
    with pytest.raises(UnusableSubmission, match="符号链接"):
        ingest(archive, path)


def test_json_report_has_every_check_with_nature_and_message(archive, make_case):
    outcome = ingest(archive, make_case()).to_dict()
    assert outcome["status"] == "archived"
    for key in ("aip_id", "archival_code", "sha256", "received_at", "checks"):
        assert outcome[key]
    natures = {c["nature"] for c in outcome["checks"]}
    assert natures == {"authenticity", "integrity", "usability", "security"}
    assert all(c["message"] for c in outcome["checks"])
    json.dumps(outcome, ensure_ascii=False)


def test_the_receipt_proves_the_filing_is_in_the_signed_audit_log(archive, make_case):
    from dangan.archive.audit_log import canonical_json
    from dangan.packages import merkle
    from dangan.packages.tree_head import SignedTreeHead, verify_tree_head

    first = ingest(archive, make_case())
    second = ingest(archive, make_case())
    for outcome in (first, second):
        audit = outcome.receipt["audit"]
        assert audit["entry"]["action"] == "aip:file"
        assert audit["entry"]["object_id"] == outcome.aip_id
        assert audit["entry"]["object_digest"] == outcome.sha256
        sth = SignedTreeHead.from_dict(audit["signed_tree_head"])
        verify_tree_head(sth, archive.key.public_pem)
        leaf = merkle.leaf_hash(canonical_json(audit["entry"]))
        proof = [bytes.fromhex(h) for h in audit["inclusion_proof"]]
        assert merkle.verify_inclusion(leaf, audit["index"], sth.head.size, proof, sth.head.root)
        assert not merkle.verify_inclusion(leaf, audit["index"] + 1, sth.head.size, proof,
                                           sth.head.root)
    assert second.receipt["audit"]["index"] > first.receipt["audit"]["index"]
