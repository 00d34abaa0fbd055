"""The ZIP layer of an OFD (GD-3-4, GD-4-2-2): intact, unencrypted, public compression.

Separate from the document reader (``ofd.py``): this reads every entry's bytes to verify
CRCs and spot nested archives, never the OFD structure.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PackageError
from ..safezip import inspect_zip, open_zip, read_member
from .ofd import OFD_LIMITS

PUBLIC_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_NESTED_MAGIC = (b"PK\x03\x04", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")


@dataclass
class ContainerInfo:
    """The ZIP layer of an OFD: readable, intact (CRC), no encryption or odd compression."""

    readable: bool = True
    corrupt_entries: list[str] = field(default_factory=list)
    encrypted_entries: list[str] = field(default_factory=list)
    nonpublic_compression: list[str] = field(default_factory=list)  # "name (method n)"
    nested_archives: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_container(path: Path | str) -> ContainerInfo:
    """Read every entry of the ZIP (within limits), verifying CRCs; never raises on bad input."""
    result = ContainerInfo()
    try:
        with open_zip(path) as zf:
            for item in zf.infolist():
                if item.flag_bits & 0x1:
                    result.encrypted_entries.append(item.filename)
                if item.compress_type not in PUBLIC_ZIP_METHODS:
                    result.nonpublic_compression.append(
                        f"{item.filename}（压缩方法 {item.compress_type}）")
            if result.encrypted_entries:
                result.problems.append("OFD 包内有加密条目：" + "、".join(result.encrypted_entries))
                return result
            for item in inspect_zip(zf, OFD_LIMITS):
                if item.compress_type not in PUBLIC_ZIP_METHODS:
                    continue
                try:
                    data = read_member(zf, item, OFD_LIMITS)
                except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
                    result.corrupt_entries.append(item.filename)
                    result.problems.append(f"条目“{item.filename}”损坏：{exc}")
                    continue
                if data.startswith(_NESTED_MAGIC):
                    result.nested_archives.append(item.filename)
    except PackageError as exc:
        result.readable = False
        result.problems.append(exc.message)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        result.readable = False
        result.problems.append(f"ZIP 容器无法读取：{exc}")
    return result
