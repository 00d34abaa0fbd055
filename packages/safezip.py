"""Opening ZIP containers (case submissions, OFD documents) without trusting them.

Refuses, before writing anything: absolute paths, ``..`` segments, drive letters,
backslashes, NUL or control characters, symbolic links and other non-regular entries,
duplicate names, too many entries, too many bytes, and compression ratios typical of
zip bombs. Extraction counts the bytes really inflated, so a lying header cannot
smuggle more than the limits allow.
"""

from __future__ import annotations

import os
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import NameClash, UnsafeContainer


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 10_000
    max_total_bytes: int = 4 << 30
    max_entry_bytes: int = 2 << 30
    max_ratio: float = 200.0  # uncompressed / compressed, per entry and overall


def safe_member_name(name: str) -> str:
    """Validate one entry name and return it as a clean relative POSIX path."""
    if not name or "\x00" in name or any(unicodedata.category(c) == "Cc" for c in name):
        raise UnsafeContainer(f"压缩包条目名非法（空或含控制字符）：{name!r}")
    if "\\" in name:
        raise UnsafeContainer(f"压缩包条目名含反斜杠，可能越出目录：{name!r}")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeContainer(f"压缩包条目使用绝对路径：{name!r}")
    parts = PurePosixPath(name).parts
    if any(p in ("..", ".") for p in parts):
        raise UnsafeContainer(f"压缩包条目路径含 '..' 或 '.'，会越出目录：{name!r}")
    return "/".join(parts)


def _is_link_or_special(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    if stat.S_IFMT(mode) == 0:
        return False  # no file-type bits (Windows and Java tools): a plain file or folder
    return stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def inspect_zip(zf: zipfile.ZipFile, limits: ZipLimits = ZipLimits()) -> list[zipfile.ZipInfo]:
    """Check every entry of an open ZIP; return the file entries (directories left out)."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeContainer(f"压缩包条目过多：{len(infos)} 个，上限 {limits.max_entries}")
    seen: dict[str, str] = {}
    files: list[zipfile.ZipInfo] = []
    total = 0
    total_compressed = 0
    for info in infos:
        name = safe_member_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
        key = unicodedata.normalize("NFC", name).casefold()
        if key in seen:
            if seen[key] == name:
                raise UnsafeContainer(f"压缩包中有重名条目：{info.filename!r}")
            raise NameClash(
                f"压缩包中 {seen[key]!r} 与 {name!r} 在 Unicode 规范化（NFC）或忽略大小写后同名，"
                "在部分文件系统上会互相覆盖", [{"path": seen[key], "collides_with": name}])
        seen[key] = name
        if _is_link_or_special(info):
            raise UnsafeContainer(f"压缩包条目是符号链接或特殊文件，不予接收：{info.filename!r}")
        if info.flag_bits & 0x1:
            raise UnsafeContainer(f"压缩包条目已加密，无法检测：{info.filename!r}")
        if info.is_dir():
            continue
        if info.file_size > limits.max_entry_bytes:
            raise UnsafeContainer(
                f"压缩包条目过大：{info.filename!r} {info.file_size} 字节，上限 {limits.max_entry_bytes}"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > limits.max_ratio:
            raise UnsafeContainer(
                f"压缩包条目压缩比异常（{ratio:.0f}:1），疑似压缩炸弹：{info.filename!r}"
            )
        total += info.file_size
        total_compressed += info.compress_size
        files.append(info)
    if total > limits.max_total_bytes:
        raise UnsafeContainer(f"压缩包解压后总大小 {total} 字节超过上限 {limits.max_total_bytes}")
    if total > 1 << 20 and total / max(total_compressed, 1) > limits.max_ratio:
        raise UnsafeContainer("压缩包整体压缩比异常，疑似压缩炸弹")
    return files


def open_zip(path: Path | str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeContainer(f"不是可读取的 ZIP 文件：{path}（{exc}）") from exc


def read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits = ZipLimits()
) -> bytes:
    """Read one entry, stopping as soon as it inflates past what its header declared."""
    cap = min(info.file_size, limits.max_entry_bytes)
    with zf.open(info) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise UnsafeContainer(f"压缩包条目实际大小超过其声明：{info.filename!r}")
    return data


def extract_zip(
    path: Path | str, dest: Path, limits: ZipLimits = ZipLimits()
) -> list[str]:
    """Extract a ZIP into the empty directory ``dest``; return the relative file paths.

    Everything is validated before the first byte is written; on any error during
    extraction ``dest`` may hold partial files and the caller discards it.
    """
    written: list[str] = []
    with open_zip(path) as zf:
        infos = inspect_zip(zf, limits)
        budget = limits.max_total_bytes
        for info in infos:
            name = safe_member_name(info.filename)
            target = dest.joinpath(*name.split("/"))
            if not target.resolve().is_relative_to(dest.resolve()):
                raise UnsafeContainer(f"压缩包条目会写到目录之外：{info.filename!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            remaining = min(info.file_size, limits.max_entry_bytes)
            try:
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 20):
                        remaining -= len(chunk)
                        budget -= len(chunk)
                        if remaining < 0 or budget < 0:
                            raise UnsafeContainer(
                                f"压缩包条目实际大小超过其声明，疑似压缩炸弹：{info.filename!r}"
                            )
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                if isinstance(exc, FileExistsError):
                    raise UnsafeContainer(f"压缩包中有重名条目：{info.filename!r}") from exc
                raise UnsafeContainer(f"压缩包条目损坏，无法解压：{info.filename!r}（{exc}）") from exc
            written.append(name)
    return written
