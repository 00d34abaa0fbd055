"""The destruction register (销毁清册): its documents, its filing, and a crash while filing."""

from __future__ import annotations

import io

import pytest
from lxml import etree
from pypdf import PdfReader

from dangan.archive import audit_log
from tests.killing import kill_at_failpoint
from tests.retention.test_destruction import (
    DANGAN,
    SUPERVISORS,
    _assert_gone_and_lawful,
    _ready,
)


def _register_files(archive, aip_id: str) -> tuple[bytes, bytes]:
    root = archive.store.path(aip_id)
    [pdf] = [p for p in root.rglob("*.pdf")]
    [xml] = [p for p in root.rglob("*.xml") if "销毁清册" in p.name]
    return pdf.read_bytes(), xml.read_bytes()


def test_the_register_states_the_destruction_in_pdf_and_xml(archive, file_case, cli):
    from pyhanko.pdf_utils.reader import PdfFileReader

    a, b = file_case("D10", 2015), file_case("D10", 2014)
    batch = _ready(cli, a.aip_id, b.aip_id)
    code, out = cli("retention", "destruction", "execute", batch, *SUPERVISORS, "--method",
                    "电子档案彻底删除", "--as-of", "2026-06-01", "--json", actor="archivist-wang")
    assert code == 0 and out["register"], out
    pdf, xml = _register_files(archive, out["register"]["aip_id"])
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("社会保险业务档案销毁清册", out["register_ref"], a.archival_code,
                     b.archival_code, "局长赵某", "supervisor-he", "电子档案彻底删除",
                     "经鉴定已无保存价值，同意销毁", "10年"):
        assert expected in text.replace(" ", ""), expected
    # signed by the archive (PAdES), the signature covering the whole file
    [sig] = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    assert sig.field_name == "DanganDestructionRegister"
    root = etree.fromstring(xml)
    ns = {"r": "urn:dangan:destruction-register:1"}
    assert root.get("ref") == out["register_ref"]
    items = root.findall("r:items/r:item", ns)
    assert {i.get("aipId") for i in items} == {a.aip_id, b.aip_id}
    assert {i.get("archivalCode") for i in items} == {a.archival_code, b.archival_code}
    assert [s.text for s in root.findall("r:supervisors/r:supervisor", ns)] == [
        "supervisor-he", "supervisor-lu"]
    assert {ap.get("kind") for ap in root.findall("r:approval", ns)} == {"principal", "filing"}
    # a register is never due: 永久
    code, sch = cli("retention", "schedule", out["register"]["archival_code"], "--json")
    assert code == 0 and sch["due_on"] is None


@pytest.mark.parametrize("point", ["register.after_stage", "register.after_file"])
def test_a_register_interrupted_while_filing_is_filed_once_on_the_next_run(
        archive, file_case, cli, tmp_path, point):
    a = file_case("D10", 2015)
    batch = _ready(cli, a.aip_id)
    ready = tmp_path / "ready"
    kill_at_failpoint(
        [*DANGAN, "--home", str(archive.home), "retention", "destruction", "execute", batch,
         *SUPERVISORS, "--method", "彻底删除", "--as-of", "2026-06-01"],
        point, ready, actor="archivist-wang", timeout=120)
    code, shown = cli("retention", "destruction", "show", batch, "--json")  # opening resumes
    assert code == 0 and shown["state"] == "complete" and shown["register"], shown
    with archive.db.session() as s:
        filed = [e for e in audit_log.find_entries(s, action="aip:file")
                 if e.details["case_id"] == shown["register_ref"]]
        assert len(filed) == 1  # the same bytes filed again got the first receipt
    _assert_gone_and_lawful(archive, cli, [a.aip_id], batch)
    assert not (archive.home / "registers" / shown["register_ref"]).exists()
