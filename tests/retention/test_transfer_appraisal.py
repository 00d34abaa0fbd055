"""Transfer from an approved transfer appraisal; other appraisals are not a basis for it."""

from __future__ import annotations

import json

from tests.retention.transfer_kit import RECEIVER_NAME


def _decided(cli, action: str, *refs: str) -> str:
    code, prop = cli("retention", "appraisal", "propose", *refs, "--action", action,
                     "--reason", "保管期限已满，具有长期保存价值，拟移交综合档案馆", "--as-of",
                     "2026-06-01", "--json")
    assert code == 0, prop
    pid = str(prop["id"])
    for member in ("expert-zhao", "hrss-wang"):
        assert cli("retention", "appraisal", "opinion", pid, "--agree", "--comment", "同意",
                   actor=member)[0] == 0
    code, out = cli("retention", "appraisal", "decide", pid, "--conclusion", "同意", "--as-of",
                    "2026-06-01", "--json", actor="expert-zhao")
    assert code == 0 and out["state"] == "approved", out
    return pid


def test_the_items_of_an_approved_transfer_appraisal_are_packaged(archive, file_case, cli,
                                                                  tmp_path):
    a, b = file_case("D10", 2015), file_case("D10", 2014)
    pid = _decided(cli, "transfer", a.archival_code, b.archival_code)
    code, view = cli("transfer", "create", str(tmp_path / "yj.zip"), "--appraisal", pid,
                     "--receiver", RECEIVER_NAME, "--json")
    assert code == 0, view
    assert view["appraisal_id"] == int(pid)
    assert {i["aip_id"] for i in view["items"]} == {a.aip_id, b.aip_id}
    code, shown = cli("transfer", "show", view["transfer_id"], "--json")
    assert code == 0 and shown["state"] == "sent"


def test_a_destroy_appraisal_is_no_basis_for_a_transfer(archive, file_case, cli, tmp_path):
    a = file_case("D10", 2015)
    pid = _decided(cli, "destroy", a.archival_code)
    code, out = cli("transfer", "create", str(tmp_path / "yj.zip"), "--appraisal", pid,
                    "--receiver", RECEIVER_NAME, "--json")
    assert code == 3 and out["error"]["code"] == "transfer.not_transferable", out
    code, out = cli("transfer", "create", a.archival_code, str(tmp_path / "yj.zip"),
                    "--appraisal", pid, "--receiver", RECEIVER_NAME, "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "transfer.bad_input", out
    code, out = cli("transfer", "create", a.archival_code, str(tmp_path / "yj.zip"),
                    "--receiver", RECEIVER_NAME, "--json", actor="clerk-zhou")
    assert code == 3 and out["error"]["code"] == "retention.not_permitted", out
