"""BagIt (RFC 8493) pieces of an AIP: tag files, manifests, the signed statement.

Kept byte-exact and deterministic (sorted manifests, LF line ends, UTF-8 without BOM)
so the same inputs always give the same bag and the same AIP digest.

SM3 is not an algorithm ``bagit-python`` knows (it only reads manifests of
``hashlib.algorithms_guaranteed``), so it ignores ``manifest-sm3.txt`` and
``tagmanifest-sm3.txt`` and still validates the SHA-256 manifests; Dangan's own
validator checks both.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..digests import Digests, sha256_hex, sm3_hex
from ..problem import Problem
from ..signing import DetachedSignature, key_fingerprint, public_key_pem, sign

ALGORITHMS = ("sha256", "sm3")
BAGIT_TXT = "bagit.txt"
BAG_INFO = "bag-info.txt"
SIGNATURE = "signature.json"
DESCRIPTION = "data/description.xml"
#: Where the submission sits in the payload; every payload path of it starts here.
SUBMISSION_PREFIX = "data/submission/"
CASE_JSON = SUBMISSION_PREFIX + "case.json"
CASE_SIG = SUBMISSION_PREFIX + "case.json.sig"
FILES_PREFIX = SUBMISSION_PREFIX + "files/"
BAGIT_TXT_BYTES = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
SIGNATURE_FORMAT = "dangan-aip-signature/1"

#: Every name allowed at the top of an AIP (``data`` is the payload directory).
TOP_LEVEL = frozenset(
    {BAGIT_TXT, BAG_INFO, SIGNATURE, "data"}
    | {f"manifest-{a}.txt" for a in ALGORITHMS}
    | {f"tagmanifest-{a}.txt" for a in ALGORITHMS}
)
#: Tag files each tag manifest must list (tag manifests never list tag manifests).
TAG_FILES = (BAGIT_TXT, BAG_INFO, *(f"manifest-{a}.txt" for a in ALGORITHMS))

#: bag-info.txt fields Dangan always writes, in this order.
REQUIRED_INFO = (
    "Source-Organization",
    "Bagging-Date",
    "Payload-Oxum",
    "Bag-Software-Agent",
    "External-Identifier",
    "Internal-Sender-Identifier",
    "Dangan-AIP-Id",
    "Dangan-AIP-Version",
    "Dangan-Description",
)


@lru_cache(maxsize=1)
def software_agent() -> str:
    """``dangan <version>`` as installed (the 软件环境 of the 说明文件); looked up once
    (reading the installed metadata costs ~2 ms, twice per AIP sealed)."""
    try:
        return f"dangan {metadata.version('dangan')}"
    except metadata.PackageNotFoundError:
        return "dangan 0.0.0"


def manifest_name(alg: str, *, tag: bool = False) -> str:
    return f"{'tag' if tag else ''}manifest-{alg}.txt"


def digest_bytes(data: bytes) -> Digests:
    return Digests(size=len(data), sha256=sha256_hex(data), sm3=sm3_hex(data))


def encode_path(path: str) -> str:
    """Manifest form of a path: CR and LF percent-encoded (as bagit-python does)."""
    return path.replace("\r", "%0D").replace("\n", "%0A")


def decode_path(path: str) -> str:
    return path.replace("%0D", "\r").replace("%0d", "\r").replace("%0A", "\n").replace("%0a", "\n")


def render_manifest(entries: Mapping[str, Digests], alg: str) -> bytes:
    lines = [f"{getattr(d, alg)}  {encode_path(p)}\n" for p, d in sorted(entries.items())]
    return "".join(lines).encode("utf-8")


@dataclass
class ManifestParse:
    entries: dict[str, str]
    problems: list[Problem]


def parse_manifest(data: bytes, name: str) -> ManifestParse:
    """Parse ``<hex> <path>`` lines; every malformed or duplicate line becomes a problem."""
    entries: dict[str, str] = {}
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ManifestParse({}, [Problem("manifest.encoding", name, expected="UTF-8",
                                          found=str(exc), note=f"清单 {name} 不是 UTF-8 编码")])
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=1)
        if len(parts) != 2 or not _is_hex64(parts[0]):
            problems.append(Problem("manifest.malformed", name, expected="<64位十六进制摘要> <路径>",
                                    found=line, note=f"清单 {name} 第 {no} 行格式不正确"))
            continue
        path = decode_path(parts[1].lstrip("*"))
        if not _safe_path(path):
            problems.append(Problem("manifest.unsafe_path", name, expected="包内相对路径", found=path,
                                    note=f"清单 {name} 第 {no} 行路径越出信息包：{path}"))
            continue
        if path in entries:
            problems.append(Problem("manifest.duplicate", name, expected="每个文件只列一次", found=path,
                                    note=f"清单 {name} 重复列出 {path}"))
            continue
        entries[path] = parts[0].lower()
    return ManifestParse(entries, problems)


_HEX64 = re.compile("[0-9a-fA-F]{64}")  # ASCII only: str.isdigit would admit other digits


def _is_hex64(s: str) -> bool:
    return _HEX64.fullmatch(s) is not None


def _safe_path(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and "\\" not in path and all(
        p not in ("", ".", "..") for p in parts
    )


def clean_info_value(value: str) -> str:
    """bag-info values are one line each: CR/LF and other controls become spaces."""
    return "".join(" " if ord(c) < 32 or c == "\x7f" else c for c in str(value)).strip()


def render_bag_info(fields: Iterable[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {clean_info_value(v)}\n" for k, v in fields).encode("utf-8")


def parse_bag_info(data: bytes) -> tuple[list[tuple[str, str]], list[Problem]]:
    """Labels and values in order (continuation lines folded), plus problems."""
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [Problem("baginfo.encoding", BAG_INFO, expected="UTF-8", found=str(exc),
                            note="bag-info.txt 不是 UTF-8 编码")]
    fields: list[tuple[str, str]] = []
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line[0] in " \t" and fields:
            k, v = fields[-1]
            fields[-1] = (k, f"{v} {line.strip()}")
            continue
        label, sep, value = line.partition(":")
        if not sep or not label.strip():
            problems.append(Problem("baginfo.malformed", BAG_INFO, expected="标签: 值", found=line,
                                    note=f"bag-info.txt 第 {no} 行不是“标签: 值”格式"))
            continue
        fields.append((label.strip(), value.strip()))
    return fields, problems


def payload_oxum(files: Mapping[str, Digests]) -> str:
    return f"{sum(d.size for d in files.values())}.{len(files)}"


def signed_statement(info: Mapping[str, str], tagmanifest_sha256: bytes,
                     tagmanifest_sm3: bytes) -> bytes:
    """The exact bytes the archive signs (see docs/aip.md, "签名").

    Naming both tag manifests by digest seals every tag file, hence every manifest line,
    hence every payload byte, in both hash families.
    """
    lines = [
        SIGNATURE_FORMAT.upper(),
        f"AIP-Id: {info.get('Dangan-AIP-Id', '')}",
        f"AIP-Version: {info.get('Dangan-AIP-Version', '')}",
        f"External-Identifier: {info.get('External-Identifier', '')}",
        f"tagmanifest-sha256.txt sha256 {sha256_hex(tagmanifest_sha256)}",
        f"tagmanifest-sm3.txt sm3 {sm3_hex(tagmanifest_sm3)}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def make_signature(statement: bytes, signing_key: Any, key_id: str, signed_at: str) -> bytes:
    """signature.json: the detached signature plus the statement and the signer's public key."""
    sig: DetachedSignature = sign(signing_key, key_id, statement)
    pem = public_key_pem(signing_key)
    doc = {
        "format": SIGNATURE_FORMAT,
        **sig.to_dict(),
        "signed_at": signed_at,
        "statement": statement.decode("utf-8"),
        "public_key_pem": pem.decode("ascii"),
        "public_key_fingerprint": key_fingerprint(pem),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def write_file(path: Path, data: bytes) -> None:
    """Write a new file (or replace one while resealing) atomically.

    Durability is the store's job: it fsyncs every file of the AIP once, before the
    rename that publishes it, rather than each tag file at every (re)write.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_tag_files(root: Path, info_fields: list[tuple[str, str]],
                    payload: Mapping[str, Digests], signing_key: Any, key_id: str,
                    signed_at: str) -> tuple[bytes, bytes]:
    """Write bagit.txt, bag-info, manifests, tag manifests and signature.json.

    Returns the bytes of tagmanifest-sha256.txt and tagmanifest-sm3.txt.
    """
    tag_bytes: dict[str, bytes] = {BAGIT_TXT: BAGIT_TXT_BYTES, BAG_INFO: render_bag_info(info_fields)}
    for alg in ALGORITHMS:
        tag_bytes[manifest_name(alg)] = render_manifest(payload, alg)
    for name, data in tag_bytes.items():
        write_file(root / name, data)
    tag_digests = {name: digest_bytes(data) for name, data in tag_bytes.items()}
    tms = {alg: render_manifest(tag_digests, alg) for alg in ALGORITHMS}
    for alg in ALGORITHMS:
        write_file(root / manifest_name(alg, tag=True), tms[alg])
    statement = signed_statement(dict(info_fields), tms["sha256"], tms["sm3"])
    write_file(root / SIGNATURE, make_signature(statement, signing_key, key_id, signed_at))
    return tms["sha256"], tms["sm3"]
