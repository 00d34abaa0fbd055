"""The PDF reader on real PDFs: Chinese text, active content, encryption, truncation."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.packages.errors import FormatError
from dangan.packages.formats.pdf import extract_text, inspect_pdf
from tests.packages.formats.dangan_format_samples import (
    CHINESE_PAGES,
    chinese_pdf,
    embedded_file_pdf,
    encrypted_pdf,
    javascript_pdf,
    launch_annotation_pdf,
    open_action_javascript_pdf,
    scanned_pdf,
    truncated_copy,
)


def test_chinese_text_per_page(tmp_path: Path) -> None:
    pdf = chinese_pdf(tmp_path / "a.pdf")
    assert [t.strip() for t in extract_text(pdf)] == CHINESE_PAGES
    info = inspect_pdf(pdf)
    assert info.readable and info.pages == 2 and not info.problems
    assert info.text_chars == sum(len(t.replace(" ", "")) for t in CHINESE_PAGES)
    assert not info.active_content and not info.encrypted and not info.truncated


def test_javascript_in_names_tree(tmp_path: Path) -> None:
    info = inspect_pdf(javascript_pdf(tmp_path / "js.pdf"))
    assert info.has_javascript


def test_javascript_in_open_action(tmp_path: Path) -> None:
    info = inspect_pdf(open_action_javascript_pdf(tmp_path / "oa.pdf"))
    assert info.has_javascript and not info.has_launch


def test_launch_at_end_of_annotation_action_chain(tmp_path: Path) -> None:
    info = inspect_pdf(launch_annotation_pdf(tmp_path / "l.pdf"))
    assert info.has_launch
    assert "URI" in info.active_content


def test_embedded_file(tmp_path: Path) -> None:
    info = inspect_pdf(embedded_file_pdf(tmp_path / "e.pdf"))
    assert info.has_embedded_files and not info.has_javascript


def test_encrypted_pdf_is_reported_and_unreadable(tmp_path: Path) -> None:
    info = inspect_pdf(encrypted_pdf(tmp_path / "enc.pdf"))
    assert info.encrypted and not info.decryptable and not info.readable
    with pytest.raises(FormatError):
        extract_text(tmp_path / "enc.pdf")


def test_owner_password_only_is_still_encrypted(tmp_path: Path) -> None:
    info = inspect_pdf(encrypted_pdf(tmp_path / "enc.pdf", user_password=""))
    assert info.encrypted and info.decryptable and info.pages == 2


def test_truncated_pdf(tmp_path: Path) -> None:
    full = chinese_pdf(tmp_path / "full.pdf")
    info = inspect_pdf(truncated_copy(full, tmp_path / "cut.pdf"))
    assert info.truncated
    assert any("%%EOF" in p for p in info.problems)


def test_wrong_startxref_is_found(tmp_path: Path) -> None:
    full = chinese_pdf(tmp_path / "full.pdf")
    data = full.read_bytes()
    head, _, _ = data.rpartition(b"startxref")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(head + b"startxref\n999999999\n%%EOF\n")
    info = inspect_pdf(bad)
    assert info.truncated


def test_scanned_pdf_resolution(tmp_path: Path) -> None:
    info = inspect_pdf(scanned_pdf(tmp_path / "s.pdf", dpi=150, pages=2), with_text=False)
    assert info.is_image_only
    assert all(abs(d[0] - 150) < 1 and abs(d[1] - 150) < 1 for d in info.page_image_dpi)
    assert not inspect_pdf(chinese_pdf(tmp_path / "t.pdf")).is_image_only


def test_signature_field_counts(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        ByteStringObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    src = chinese_pdf(tmp_path / "src.pdf")
    w = PdfWriter(clone_from=PdfReader(str(src)))
    sig_value = w._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Sig"),
        NameObject("/Filter"): NameObject("/Adobe.PPKLite"),
        NameObject("/Contents"): ByteStringObject(b"\x00" * 16),
    }))
    field = w._add_object(DictionaryObject({
        NameObject("/FT"): NameObject("/Sig"),
        NameObject("/T"): TextStringObject("签章1"),
        NameObject("/V"): sig_value,
        NameObject("/F"): NumberObject(132),
    }))
    w._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([field])})
    out = tmp_path / "signed.pdf"
    with open(out, "wb") as f:
        w.write(f)
    assert inspect_pdf(out).signatures == 1
    assert inspect_pdf(src).signatures == 0


def test_not_a_pdf(tmp_path: Path) -> None:
    junk = tmp_path / "x.pdf"
    junk.write_bytes(b"hello, this is not a pdf at all")
    info = inspect_pdf(junk)
    assert not info.readable and info.problems


def test_object_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dangan.packages.formats import pdf as pdf_module

    monkeypatch.setattr(pdf_module, "MAX_OBJECTS", 3)
    info = inspect_pdf(launch_annotation_pdf(tmp_path / "l.pdf"))
    assert not info.walk_complete and info.objects_walked == 4
    assert any("未能全部检查" in p for p in info.problems)
