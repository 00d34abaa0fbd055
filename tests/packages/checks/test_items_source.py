"""GD-1-1-1 source signature, GD-1-1-2 file digests, GD-1-8 duplicates — on real submissions."""

from __future__ import annotations

import json

import pytest

from dangan.packages import signing
from dangan.packages.checks import Result
from dangan.packages.checks.context import CatalogueFacts, PriorRecord
from tests.packages.checks.casebuilder import (
    KEY_ID,
    SYSTEM,
    Options,
    build,
    make_case,
    payloads,
    pdf_bytes,
    run,
    trusted,
)


@pytest.mark.parametrize("alg", [signing.ED25519, signing.ECDSA_P256])
def test_real_signature_verifies(tmp_path, alg: str) -> None:
    verdict = run("GD-1-1-1", build(tmp_path, opts=Options(alg=alg)))
    assert verdict.result is Result.PASS, verdict.message
    assert alg in verdict.message


def _codes(verdict) -> list[str]:
    return [e["code"] for e in verdict.evidence]


def test_missing_signature_file(tmp_path) -> None:
    verdict = run("GD-1-1-1", build(tmp_path, opts=Options(sign=False)))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.missing"]


def test_malformed_signature_file(tmp_path) -> None:
    verdict = run("GD-1-1-1", build(tmp_path, opts=Options(signature_bytes=b"not json")))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.malformed"]


def test_unknown_source_system(tmp_path) -> None:
    opts = Options(trusted_keys=[trusted(system="other-system")])
    verdict = run("GD-1-1-1", build(tmp_path, opts=opts))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.system_unknown"]
    assert verdict.evidence[0]["system"] == SYSTEM


def test_unknown_key_id(tmp_path) -> None:
    opts = Options(trusted_keys=[trusted(key_id="sbjb-2023-09")])
    verdict = run("GD-1-1-1", build(tmp_path, opts=opts))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.key_unknown"]
    assert verdict.evidence[0]["found"] == KEY_ID


def test_revoked_key(tmp_path) -> None:
    verdict = run("GD-1-1-1", build(tmp_path, opts=Options(trusted_keys=[trusted(revoked=True)])))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.key_revoked"]


def test_algorithm_mismatch_with_registered_key(tmp_path) -> None:
    # Signed with Ed25519, but the trust store registered the key id as ECDSA P-256.
    opts = Options(trusted_keys=[trusted(signing.ECDSA_P256)])
    verdict = run("GD-1-1-1", build(tmp_path, opts=opts))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.algorithm_mismatch"]


def test_sm2_is_reported_unsupported_not_passed(tmp_path) -> None:
    key = trusted()
    sm2_key = type(key)(system=SYSTEM, key_id=KEY_ID, algorithm="sm2-sm3",
                        public_key_pem=key.public_key_pem)
    sig = json.dumps({"alg": "sm2-sm3", "key_id": KEY_ID, "signature": "AAAA"}).encode()
    verdict = run("GD-1-1-1", build(tmp_path, opts=Options(trusted_keys=[sm2_key], signature_bytes=sig)))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.algorithm_unsupported"]


def test_signature_by_a_different_key_fails(tmp_path) -> None:
    other = signing.generate_private_key(signing.ED25519)
    case_bytes = json.dumps(make_case(), ensure_ascii=False).encode()
    sig = signing.sign(other, KEY_ID, case_bytes).to_json()
    opts = Options(case_bytes=case_bytes, signature_bytes=sig)
    verdict = run("GD-1-1-1", build(tmp_path, opts=opts))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.invalid"]


def test_tampered_case_json_fails(tmp_path) -> None:
    from tests.packages.checks.casebuilder import keypair

    original = json.dumps(make_case(), ensure_ascii=False).encode()
    sig = signing.sign(keypair()[0], KEY_ID, original).to_json()
    tampered = original.replace("准予参保登记".encode(), "不予参保登记".encode())
    assert tampered != original
    verdict = run("GD-1-1-1", build(tmp_path, opts=Options(case_bytes=tampered, signature_bytes=sig)))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.invalid"]


def test_unparseable_case_json_cannot_pass(tmp_path) -> None:
    verdict = run("GD-1-1-1", build(tmp_path, opts=Options(case_bytes=b"{broken")))
    assert verdict.result is Result.FAIL and _codes(verdict) == ["signature.system_missing"]


def test_digests_match_received_bytes(tmp_path) -> None:
    verdict = run("GD-1-1-2", build(tmp_path))
    assert verdict.result is Result.PASS and "8 项" in verdict.message


def test_every_changed_file_is_listed(tmp_path) -> None:
    case = make_case()
    files = payloads()
    files["01-application.pdf"] = pdf_bytes(3)
    files["04-decision.pdf"] = pdf_bytes(2)
    verdict = run("GD-1-1-2", build(tmp_path, case, files))
    assert verdict.result is Result.FAIL
    assert {e["code"] for e in verdict.evidence} == {"source.digest_mismatch"}
    wrong = {(e["path"], e["algorithm"]) for e in verdict.evidence}
    assert wrong == {("$.files[0].sha256", "sha256"), ("$.files[0].sm3", "sm3"),
                     ("$.files[3].sha256", "sha256"), ("$.files[3].sm3", "sm3")}


def test_missing_file_cannot_have_its_digest_checked(tmp_path) -> None:
    case = make_case()
    files = payloads()
    del files["02-id-card.jpg"]
    verdict = run("GD-1-1-2", build(tmp_path, case, files))
    assert verdict.result is Result.FAIL
    assert [(e["code"], e["path"]) for e in verdict.evidence] == [("source.file_missing", "$.files[1]")]


def _prior(sha: str, code: str = "Z001-SB·2024-D100-GL-0007", status: str = "active") -> PriorRecord:
    return PriorRecord(aip_id="aip-1", archival_code=code, case_sha256=sha, version=1, status=status)


def test_new_case_has_no_duplicates(tmp_path) -> None:
    assert run("GD-1-8", build(tmp_path)).result is Result.PASS


def test_same_case_id_with_other_content_needs_supersedes(tmp_path) -> None:
    opts = Options(catalogue=CatalogueFacts(same_case=[_prior("0" * 64)]))
    verdict = run("GD-1-8", build(tmp_path, opts=opts))
    assert verdict.result is Result.FAIL and "supersedes" in verdict.message
    assert [e["code"] for e in verdict.evidence] == ["source.already_filed"]


def test_identical_resubmission_is_not_a_failure(tmp_path) -> None:
    import hashlib

    case_bytes = json.dumps(make_case(), ensure_ascii=False).encode()
    sha = hashlib.sha256(case_bytes).hexdigest()
    opts = Options(case_bytes=case_bytes, catalogue=CatalogueFacts(same_case=[_prior(sha)]))
    verdict = run("GD-1-8", build(tmp_path, opts=opts))
    assert verdict.result is Result.PASS and "重复提交" in verdict.message


def _correction(tmp_path, target, same):
    case = make_case()
    case["supersedes"] = "Z001-SB·2024-D100-GL-0007"
    case["correction_reason"] = "更正申请人姓名"
    opts = Options(catalogue=CatalogueFacts(same_case=same, supersedes_target=target))
    return run("GD-1-8", build(tmp_path, case, opts=opts))


def test_correction_of_current_version_passes(tmp_path) -> None:
    prior = _prior("0" * 64)
    assert _correction(tmp_path, prior, [prior]).result is Result.PASS


def test_correction_of_unknown_version_fails(tmp_path) -> None:
    verdict = _correction(tmp_path, None, [])
    assert verdict.result is Result.FAIL
    assert [(e["code"], e["found"]) for e in verdict.evidence] == [
        ("source.supersedes_unknown", "Z001-SB·2024-D100-GL-0007")]


def test_correction_of_superseded_version_fails(tmp_path) -> None:
    prior = _prior("0" * 64, status="superseded")
    verdict = _correction(tmp_path, prior, [prior])
    assert verdict.result is Result.FAIL and "已被更正" in verdict.message  # the status label
    assert [e["code"] for e in verdict.evidence] == ["source.supersedes_not_current"]


def test_correction_of_another_case_fails(tmp_path) -> None:
    verdict = _correction(tmp_path, _prior("0" * 64), [])
    assert verdict.result is Result.FAIL
    assert [e["code"] for e in verdict.evidence] == ["source.supersedes_other_case"]


def test_decision_number_held_by_another_case(tmp_path) -> None:
    opts = Options(catalogue=CatalogueFacts(decision_no_holders=["Z001-SB·2024-D100-GL-0003"]))
    verdict = run("GD-1-8", build(tmp_path, opts=opts))
    assert verdict.result is Result.FAIL
    assert [(e["code"], e["found"]) for e in verdict.evidence] == [
        ("source.decision_no_taken", ["Z001-SB·2024-D100-GL-0003"])]
    assert "朝社保登〔2024〕123号" in verdict.message  # the number itself, for a person


def test_decision_number_held_by_the_corrected_version_is_fine(tmp_path) -> None:
    prior = _prior("0" * 64)
    case = make_case()
    case["supersedes"], case["correction_reason"] = prior.archival_code, "更正"
    cat = CatalogueFacts(same_case=[prior], supersedes_target=prior,
                         decision_no_holders=[prior.archival_code])
    assert run("GD-1-8", build(tmp_path, case, opts=Options(catalogue=cat))).result is Result.PASS


def test_duplicate_file_ids_and_paths(tmp_path) -> None:
    case = make_case()
    case["files"][1]["id"] = "f1"
    case["files"][3]["path"] = "03-ACCEPTANCE.pdf"  # collides with 03-acceptance.pdf ignoring case
    verdict = run("GD-1-8", build(tmp_path, case))
    assert verdict.result is Result.FAIL
    assert {e["path"] for e in verdict.evidence} == {"$.files[1].id", "$.files[3].path"}
