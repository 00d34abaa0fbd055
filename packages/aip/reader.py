"""Reading an AIP as stored (a directory) or as exported (a zip of that directory).

Both give the same view: relative paths inside the bag, their sizes, their bytes. The zip
is opened only through ``safezip`` (no path escapes, links, bombs), and read in place,
never extracted.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..digests import sha256_hex
from ..errors import AIPInvalid, UnsafeContainer
from ..safezip import inspect_zip, open_zip, safe_member_name
from .bag import (
    ALGORITHMS,
    BAG_INFO,
    CASE_JSON,
    DESCRIPTION,
    SIGNATURE,
    manifest_name,
    parse_bag_info,
    parse_manifest,
)
from .description import parse_description

CHUNK = 1 << 20


class DirSource:
    """An AIP directory; symlinks and special files are listed apart, never followed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.label = str(self.root)
        self.files: dict[str, int] = {}
        self.special: list[str] = []
        self._walk(self.root, "")

    def _walk(self, d: Path, prefix: str) -> None:
        with os.scandir(d) as it:
            for e in sorted(it, key=lambda e: e.name):
                rel = f"{prefix}{e.name}"
                st = e.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    self._walk(Path(e.path), f"{rel}/")
                elif stat.S_ISREG(st.st_mode):
                    self.files[rel] = st.st_size
                else:
                    self.special.append(rel)

    def read(self, rel: str) -> bytes:
        with open(os.path.join(self.label, rel), "rb") as f:
            return f.read()

    def chunks(self, rel: str) -> Iterator[bytes]:
        with open(self.root / rel, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def close(self) -> None:
        pass


class ZipSource:
    """An exported AIP zip: entries under one top folder (the bag), checked by safezip."""

    def __init__(self, path: Path) -> None:
        self.label = str(path)
        self.zf = open_zip(path)
        try:
            infos = inspect_zip(self.zf)
        except UnsafeContainer:
            self.zf.close()
            raise
        names = [safe_member_name(i.filename) for i in infos]
        self.prefix = self._prefix(names, self.zf)
        self.special: list[str] = []
        self.files: dict[str, int] = {}
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info, name in zip(infos, names, strict=True):
            if not name.startswith(self.prefix):
                self.special.append(name)
                continue
            rel = name[len(self.prefix):]
            self.files[rel] = info.file_size
            self._infos[rel] = info

    @staticmethod
    def _prefix(names: list[str], zf: zipfile.ZipFile) -> str:
        if "bagit.txt" in names:
            return ""
        tops = {n.split("/", 1)[0] for n in names} | {
            safe_member_name(i.filename.rstrip("/")).split("/", 1)[0]
            for i in zf.infolist() if i.is_dir()
        }
        if len(tops) == 1:
            return f"{tops.pop()}/"
        raise AIPInvalid(f"压缩包顶层应只有一个信息包目录，实有 {len(tops)} 个：{sorted(tops)[:5]}")

    def read(self, rel: str) -> bytes:
        from ..safezip import read_member

        return read_member(self.zf, self._infos[rel])

    def chunks(self, rel: str) -> Iterator[bytes]:
        info = self._infos[rel]
        left = info.file_size
        with self.zf.open(info) as f:
            while chunk := f.read(CHUNK):
                left -= len(chunk)
                if left < 0:
                    raise UnsafeContainer(f"压缩包条目实际大小超过其声明：{info.filename!r}")
                yield chunk

    def close(self) -> None:
        self.zf.close()


def open_source(path: Path) -> DirSource | ZipSource:
    path = Path(path)
    if path.is_dir():
        return DirSource(path)
    if path.is_file():
        return ZipSource(path)
    raise AIPInvalid(f"找不到归档信息包：{path}", [{"path": str(path)}])


@dataclass
class AIPReader:
    """What an AIP says about itself. Reading does not validate: see ``validate_aip``."""

    path: Path
    source: DirSource | ZipSource
    bag_info_fields: list[tuple[str, str]]
    manifests: dict[str, dict[str, str]]
    tag_manifests: dict[str, dict[str, str]]
    description_bytes: bytes
    description: dict[str, Any]
    signature: dict[str, Any] | None
    tagmanifest_bytes: dict[str, bytes] = field(default_factory=dict)

    @property
    def bag_info(self) -> dict[str, str]:
        return dict(self.bag_info_fields)

    @property
    def aip_id(self) -> str:
        return self.bag_info.get("Dangan-AIP-Id", "")

    @property
    def archival_code(self) -> str:
        return self.bag_info.get("External-Identifier", "")

    @property
    def version(self) -> int:
        return int(self.bag_info.get("Dangan-AIP-Version", "0") or 0)

    @property
    def aip_digest(self) -> str:
        """Hex SHA-256 of tagmanifest-sha256.txt (the AIP manifest-set digest)."""
        return sha256_hex(self.tagmanifest_bytes.get("sha256", b""))

    @property
    def files(self) -> dict[str, int]:
        """Every regular file in the bag → size."""
        return dict(self.source.files)

    @property
    def case_bytes(self) -> bytes:
        return self.source.read(CASE_JSON)

    @property
    def documents(self) -> list[dict[str, Any]]:
        return self.description["signed_object"]["content"]["record"]["documents"]

    def read_bytes(self, rel: str) -> bytes:
        if rel not in self.source.files:
            raise AIPInvalid(f"信息包中没有文件 {rel}", [{"path": rel}])
        return self.source.read(rel)

    def chunks(self, rel: str) -> Iterator[bytes]:
        return self.source.chunks(rel)

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> AIPReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_aip(path: Path) -> AIPReader:
    """Open an AIP directory or zip; ``AIPInvalid`` if its tag files or description are unreadable."""
    src = open_source(Path(path))
    try:
        def need(rel: str) -> bytes:
            if rel not in src.files:
                raise AIPInvalid(f"信息包缺少 {rel}", [{"path": rel}])
            return src.read(rel)

        info, problems = parse_bag_info(need(BAG_INFO))
        if problems:
            raise AIPInvalid("bag-info.txt 无法读取", problems)
        manifests, tag_manifests, tm_bytes = {}, {}, {}
        for alg in ALGORITHMS:
            manifests[alg] = parse_manifest(need(manifest_name(alg)), manifest_name(alg)).entries
            tm_bytes[alg] = need(manifest_name(alg, tag=True))
            tag_manifests[alg] = parse_manifest(tm_bytes[alg], manifest_name(alg, tag=True)).entries
        desc_bytes = need(DESCRIPTION)
        signature = None
        if SIGNATURE in src.files:
            try:
                signature = json.loads(src.read(SIGNATURE).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                signature = None
        return AIPReader(Path(path), src, info, manifests, tag_manifests, desc_bytes,
                         parse_description(desc_bytes), signature, tm_bytes)
    except BaseException:
        src.close()
        raise
