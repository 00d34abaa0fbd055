"""Receiving a case submission: copy it into private staging, measuring every file.

The submission (a directory or a .zip) is copied, never read in place, so the bytes
that are checked are the bytes that are archived (no change between check and use).
Each file is read once: the copy computes its size, SHA-256 and SM3.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dangan.packages.checks.context import CASE_JSON, CASE_SIG, FILES_DIR, FileFacts
from dangan.packages.digests import Digests, copy_and_digest, digest_file, sha256_hex
from dangan.packages.errors import UnsafeContainer
from dangan.packages.safezip import ZipLimits, extract_zip

from .errors import UnusableSubmission


@dataclass
class ReceivedSubmission:
    name: str
    root: Path
    case_bytes: bytes
    case: dict[str, Any]
    signature_bytes: bytes | None
    files: dict[str, FileFacts]
    extra_entries: list[str]
    digests: dict[str, Digests] = field(default_factory=dict)

    @property
    def case_sha256(self) -> str:
        return sha256_hex(self.case_bytes)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files.values())


def receive(source: Path, staging: Path, limits: ZipLimits) -> ReceivedSubmission:
    """Stage ``source`` under ``staging/submission`` and describe it."""
    if not source.exists():
        raise UnusableSubmission(f"找不到提交包 {source}")
    dest = staging / "submission"
    dest.mkdir()
    if source.is_dir():
        digests = _copy_tree(source, dest, limits)
        root = dest
    elif source.is_file():
        try:
            extract_zip(source, dest, limits)
        except UnsafeContainer as exc:
            raise UnusableSubmission(f"提交包 {source.name} 不能安全打开：{exc.message}") from exc
        root = _submission_root(dest)
        digests = {
            p.relative_to(root).as_posix(): digest_file(p)
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
    else:
        raise UnusableSubmission(f"{source} 既不是目录也不是文件")
    return _describe(source.name, root, digests)


def _submission_root(extracted: Path) -> Path:
    """A zip may hold the tree itself or one folder containing it."""
    if (extracted / CASE_JSON).is_file():
        return extracted
    children = list(extracted.iterdir())
    if len(children) == 1 and children[0].is_dir() and (children[0] / CASE_JSON).is_file():
        return children[0]
    return extracted


def _copy_tree(source: Path, dest: Path, limits: ZipLimits) -> dict[str, Digests]:
    digests: dict[str, Digests] = {}
    total = 0
    count = 0
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = here / name
            rel = path.relative_to(source).as_posix()
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise UnusableSubmission(f"提交包中有符号链接 {rel}：不予接收（链接可能指向包外）")
            if stat.S_ISDIR(mode):
                (dest / rel).mkdir()
                continue
            if not stat.S_ISREG(mode):
                raise UnusableSubmission(f"提交包中有特殊文件 {rel}：只接受普通文件")
            count += 1
            total += os.lstat(path).st_size
            if count > limits.max_entries:
                raise UnusableSubmission(f"提交包文件过多（超过 {limits.max_entries} 个）")
            if total > limits.max_total_bytes:
                raise UnusableSubmission(f"提交包总大小超过上限 {limits.max_total_bytes} 字节")
            try:
                digests[rel] = copy_and_digest(path, dest / rel)
            except OSError as exc:
                raise UnusableSubmission(f"无法读取提交包中的文件 {rel}：{exc}") from exc
    return digests


def _describe(name: str, root: Path, digests: dict[str, Digests]) -> ReceivedSubmission:
    case_path = root / CASE_JSON
    if not case_path.is_file():
        raise UnusableSubmission(
            f"{name} 不是办件提交包：根目录下没有 {CASE_JSON}（应包含 case.json、case.json.sig、files/）"
        )
    case_bytes = case_path.read_bytes()
    try:
        case = json.loads(case_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UnusableSubmission(f"{CASE_JSON} 不是 UTF-8 编码：第 {exc.start} 字节处 {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise UnusableSubmission(
            f"{CASE_JSON} 不是合法的 JSON：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg}"
        ) from exc
    if not isinstance(case, dict):
        raise UnusableSubmission(f"{CASE_JSON} 应为 JSON 对象，实际为 {type(case).__name__}")
    sig_path = root / CASE_SIG
    files: dict[str, FileFacts] = {}
    extra: list[str] = []
    for rel, d in sorted(digests.items()):
        if rel in (CASE_JSON, CASE_SIG):
            continue
        if rel.startswith(f"{FILES_DIR}/"):
            files[rel] = FileFacts(rel, root / rel, d.size, d.sha256, d.sm3)
        else:
            extra.append(rel)
    return ReceivedSubmission(
        name=name,
        root=root,
        case_bytes=case_bytes,
        case=case,
        signature_bytes=sig_path.read_bytes() if sig_path.is_file() else None,
        files=files,
        extra_entries=extra,
        digests=digests,
    )
