"""Receiving a case submission: copy it into private staging, measuring every file.

The submission (a directory or a .zip) is copied, never read in place, so the bytes
that are checked are the bytes that are archived (no change between check and use).
Each file is read once: the copy computes its size, SHA-256 and SM3 (a large file's SM3
trailing the copy in a worker thread, so that the filing can decode the staged files
while SM3 is still hashing: ``receiving``).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dangan.packages.case_limits import CaseLimits, case_limit_problem
from dangan.packages.case_schema import colliding_names
from dangan.packages.checks.context import CASE_JSON, CASE_SIG, FILES_DIR, FileFacts
from dangan.packages.digests import Digests, digest_file, sha256_hex
from dangan.packages.errors import NameClash, UnsafeContainer
from dangan.packages.safezip import ZipLimits, extract_zip
from dangan.packages.sm3_trailing import Measured, SM3Failed, TrailingSM3, copy_measuring

from .errors import CaseTextInvalid, CaseTooLarge, NameCollision, UnusableSubmission


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
    # Content files written a second time from the same read, for the replica
    # (``receive(replica_dir=...)``): submission path → that copy.
    replica_copies: dict[str, Path] = field(default_factory=dict)

    @property
    def case_sha256(self) -> str:
        return sha256_hex(self.case_bytes)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files.values())


def receive(
    source: Path, staging: Path, limits: ZipLimits, case_limits: CaseLimits | None = None,
    replica_dir: Path | None = None,
) -> ReceivedSubmission:
    """Stage ``source`` under ``staging/submission`` and describe it, every digest known.

    With ``replica_dir`` (a folder beside the replica store) each content file of a
    directory submission is also written there from the same read, so that the replica
    need not read and hash it again (``replica.write_replica(prepared=...)``).
    """
    with receiving(source, staging, limits, case_limits, replica_dir) as pending:
        return pending.complete()


@contextmanager
def receiving(
    source: Path, staging: Path, limits: ZipLimits, case_limits: CaseLimits | None = None,
    replica_dir: Path | None = None,
) -> Iterator[PendingSubmission]:
    """Stage ``source`` as ``receive`` does, but yield as soon as its bytes are written.

    The SM3 of the large files may still be hashing (``TrailingSM3``); the caller does
    what needs no SM3 meanwhile (decode the staged files) and calls ``complete``. However
    the block is left, the worker is stopped and joined before the staging is touched.
    """
    if not source.exists():
        raise UnusableSubmission(f"找不到提交包 {source}")
    dest = staging / "submission"
    dest.mkdir()
    copies: dict[str, Path] = {}
    with TrailingSM3() as trailing:
        if source.is_dir():
            measured = _copy_tree(source, dest, limits, trailing, replica_dir, copies)
            root = dest
        elif source.is_file():
            try:
                extract_zip(source, dest, limits)
            except NameClash as exc:
                raise NameCollision(f"提交包 {source.name}：{exc.message}", exc.details) from exc
            except UnsafeContainer as exc:
                raise UnusableSubmission(f"提交包 {source.name} 不能安全打开：{exc.message}") from exc
            root = _submission_root(dest)
            measured = {}
            for p in sorted(root.rglob("*")):
                if p.is_file():
                    d = digest_file(p)
                    measured[p.relative_to(root).as_posix()] = Measured(d.size, d.sha256, d.sm3)
        else:
            raise UnusableSubmission(f"{source} 既不是目录也不是文件")
        _refuse_colliding_names(measured)
        case_bytes, case = _read_case_at(source.name, root, case_limits or CaseLimits())
        yield PendingSubmission(source.name, root, case_bytes, case, measured, copies, trailing)


@dataclass
class PendingSubmission:
    """A staged submission whose bytes are written and SHA-256 known, SM3 maybe pending."""

    name: str
    root: Path
    case_bytes: bytes
    case: dict[str, Any]
    measured: dict[str, Measured]
    replica_copies: dict[str, Path]
    trailing: TrailingSM3

    @property
    def trailing_bytes(self) -> int:
        """Bytes whose SM3 the worker computes behind the copy (0: every digest known)."""
        return sum(m.size for m in self.measured.values() if m.sm3 is None)

    def content_paths(self) -> dict[str, Path]:
        """The staged content files (``files/…``): what the checks will decode."""
        return {rel: self.root / rel for rel in sorted(self.measured)
                if rel.startswith(f"{FILES_DIR}/")}

    def complete(self) -> ReceivedSubmission:
        """Wait for SM3 and describe the submission; ``UnusableSubmission`` when a copy
        could not be hashed (as when it could not be read)."""
        try:
            sm3 = self.trailing.results()
        except SM3Failed as exc:
            raise UnusableSubmission(f"无法读取提交包中的文件：{exc.message}") from exc
        digests = {rel: m.complete(sm3, rel) for rel, m in self.measured.items()}
        received = _describe(self.name, self.root, digests, self.case_bytes, self.case)
        received.replica_copies = self.replica_copies
        return received


def _refuse_colliding_names(digests: Mapping[str, object]) -> None:
    """Two names one file system would take for one file (``café`` composed and decomposed,
    ``A.pdf`` and ``a.pdf``) cannot both be archived: on an NTFS share or a normalising
    file system one would overwrite the other."""
    pairs = colliding_names(digests)
    if pairs:
        a, b = pairs[0]
        raise NameCollision(
            f"提交包中 {a!r} 与 {b!r} 两个文件名在 Unicode 规范化（NFC）或忽略大小写后相同，"
            "在部分文件系统上会互相覆盖：请改用不同的文件名后重新提交",
            [{"path": a, "collides_with": b} for a, b in pairs],
        )


def _submission_root(extracted: Path) -> Path:
    """A zip may hold the tree itself or one folder containing it."""
    if (extracted / CASE_JSON).is_file():
        return extracted
    children = list(extracted.iterdir())
    if len(children) == 1 and children[0].is_dir() and (children[0] / CASE_JSON).is_file():
        return children[0]
    return extracted


def _copy_tree(source: Path, dest: Path, limits: ZipLimits, trailing: TrailingSM3,
               replica_dir: Path | None = None,
               copies: dict[str, Path] | None = None) -> dict[str, Measured]:
    digests: dict[str, Measured] = {}
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
            tee = None
            if replica_dir is not None and copies is not None and rel.startswith(f"{FILES_DIR}/"):
                tee = replica_dir / rel
                tee.parent.mkdir(parents=True, exist_ok=True)
            try:
                digests[rel] = copy_measuring(path, dest / rel, tee, trailing, rel)
                if tee is not None and copies is not None:
                    copies[rel] = tee
            except OSError as exc:
                raise UnusableSubmission(f"无法读取提交包中的文件 {rel}：{exc}") from exc
    return digests


def read_case(case_path: Path, limits: CaseLimits) -> tuple[bytes, dict[str, Any]]:
    """case.json's bytes and object, refused before parsing when it is too big.

    Every way a case.json can be unusable ends here as an ``UnusableSubmission``
    (exit 2) with a stable code, never as a parser's own exception.
    """
    size = case_path.stat().st_size
    if size > limits.max_bytes:
        raise CaseTooLarge(f"{CASE_JSON} 大小 {size} 字节，超过上限 {limits.max_bytes} 字节，未予解析",
                           [{"path": CASE_JSON, "expected": f"≤ {limits.max_bytes}", "found": size}])
    case_bytes = case_path.read_bytes()
    try:
        text = case_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnusableSubmission(f"{CASE_JSON} 不是 UTF-8 编码：第 {exc.start} 字节处 {exc.reason}") from exc
    too_big = case_limit_problem(case_bytes, limits)
    if too_big:
        raise CaseTooLarge(f"{too_big}：请拆分办件或精简后重新提交", [{"path": CASE_JSON, "note": too_big}])
    try:
        case = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UnusableSubmission(
            f"{CASE_JSON} 不是合法的 JSON：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg}"
        ) from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise UnusableSubmission(f"{CASE_JSON} 不是可接受的 JSON：{exc}") from exc
    if not isinstance(case, dict):
        raise UnusableSubmission(f"{CASE_JSON} 应为 JSON 对象，实际为 {type(case).__name__}")
    bad = _bad_text(case, "$")
    if bad:
        where, char = bad
        raise CaseTextInvalid(
            f"{CASE_JSON} 的 {where} 含不可存档的字符 U+{ord(char):04X}（控制字符或孤立代理项），"
            "请去除后重新签名提交",
            [{"path": where, "found": f"U+{ord(char):04X}"}],
        )
    return case_bytes, case


MAX_SIGNATURE_BYTES = 64 << 10  # an Ed25519/ECDSA/SM2 signature in JSON is a few hundred


def _read_signature(path: Path) -> bytes | None:
    if not path.is_file():
        return None
    size = path.stat().st_size
    if size > MAX_SIGNATURE_BYTES:
        raise CaseTooLarge(f"{CASE_SIG} 大小 {size} 字节，超过上限 {MAX_SIGNATURE_BYTES} 字节，不是签名文件",
                           [{"path": CASE_SIG, "expected": f"≤ {MAX_SIGNATURE_BYTES}", "found": size}])
    return path.read_bytes()


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259), and no catalogue column can hold them."""
    raise ValueError(f"含非标准的数值 {name}（JSON 不允许 NaN、Infinity）")


_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _bad_text(value: Any, where: str) -> tuple[str, str] | None:
    """The first string (key or value) with a character XML 1.0 and UTF-8 cannot carry."""
    if isinstance(value, str):
        m = _BAD_CHAR.search(value)
        return (where, m.group()) if m else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _bad_text(k, f"{where}.{k!r}") or _bad_text(v, f"{where}.{k}")
            if found:
                return found
    elif isinstance(value, list):
        for n, v in enumerate(value):
            found = _bad_text(v, f"{where}[{n}]")
            if found:
                return found
    return None


def _read_case_at(name: str, root: Path, limits: CaseLimits) -> tuple[bytes, dict[str, Any]]:
    case_path = root / CASE_JSON
    if not case_path.is_file():
        raise UnusableSubmission(
            f"{name} 不是办件提交包：根目录下没有 {CASE_JSON}（应包含 case.json、case.json.sig、files/）"
        )
    return read_case(case_path, limits)


def _describe(
    name: str, root: Path, digests: dict[str, Digests], case_bytes: bytes, case: dict[str, Any]
) -> ReceivedSubmission:
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
        signature_bytes=_read_signature(root / CASE_SIG),
        files=files,
        extra_entries=extra,
        digests=digests,
    )
