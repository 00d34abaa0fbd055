"""Opening ZIP containers safely: what is refused before anything is written."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from dangan.packages.errors import UnsafeContainer
from dangan.packages.safezip import ZipLimits, extract_zip
from tests.shared_fixtures import OFD_FIXTURES


def _zip(path: Path, entries: list[tuple[str, bytes, int | None]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize(
    ("name", "mode", "message"),
    [
        ("../escape.txt", None, "越出目录"),
        ("/etc/passwd", None, "绝对路径"),
        ("a\\..\\b.txt", None, "反斜杠"),
        ("files/link.pdf", stat.S_IFLNK | 0o777, "符号链接"),
        ("files/fifo", stat.S_IFIFO | 0o644, "特殊文件"),
    ],
)
def test_unsafe_entries_are_refused_and_nothing_is_written(tmp_path, name, mode, message):
    bad = _zip(tmp_path / "bad.zip", [("ok.txt", b"ok", None), (name, b"x", mode)])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnsafeContainer, match=message):
        extract_zip(bad, dest)
    assert list(dest.iterdir()) == []


def test_entries_without_file_type_bits_are_plain_files(tmp_path):
    """Windows and Java ZIP writers (e.g. e-invoice tools) leave the type bits out."""
    z = _zip(tmp_path / "plain.zip", [("files/a.txt", b"hello", 0o600)])
    dest = tmp_path / "out"
    dest.mkdir()
    assert extract_zip(z, dest) == ["files/a.txt"]
    assert (dest / "files" / "a.txt").read_bytes() == b"hello"
    (tmp_path / "invoice").mkdir()
    members = extract_zip(OFD_FIXTURES / "发票示例.ofd", tmp_path / "invoice")
    assert "OFD.xml" in members


def test_zip_bomb_and_entry_limits(tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", [("zeros.bin", b"\0" * (8 << 20), None)])
    with pytest.raises(UnsafeContainer, match="压缩"):
        extract_zip(bomb, tmp_path / "b")
    many = _zip(tmp_path / "many.zip", [(f"f{i}.txt", b"x", None) for i in range(11)])
    with pytest.raises(UnsafeContainer, match="条目过多"):
        extract_zip(many, tmp_path / "m", ZipLimits(max_entries=10))
