"""Offline validation of an AIP (directory or exported zip): everything, every problem.

Needs nothing but ``dangan.packages`` and, to prove who sealed the package, the archive's
public key. Without a key the signature is checked against the public key embedded in
signature.json, which proves integrity only; ``key_source`` says which was used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..digests import Digests, sha256_hex
from ..errors import AIPInvalid, KeyError_, SignatureError, UnsafeContainer
from ..problem import Problem, as_dicts
from ..signing import DetachedSignature, key_fingerprint, verify
from .bag import (
    ALGORITHMS,
    FILES_PREFIX,
    SIGNATURE,
    SIGNATURE_FORMAT,
    manifest_name,
    signed_statement,
)
from .reader import ZipSource, open_source
from .validate_parts import (
    BagView,
    case_json_problems,
    check_bag_info,
    check_bagit_txt,
    check_description,
    check_description_vs_manifests,
    check_layout,
    check_manifests,
    check_oxum,
    check_tag_manifests,
)


@dataclass
class AIPValidation:
    path: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    aip_id: str | None = None
    archival_code: str | None = None
    aip_digest: str | None = None  # hex SHA-256 of tagmanifest-sha256.txt
    key_source: str | None = None  # "given" | "embedded" | None (not verified)
    signer_key_id: str | None = None
    signer_fingerprint: str | None = None
    description: dict[str, Any] | None = None
    files: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "valid": self.valid,
            "aip_id": self.aip_id,
            "archival_code": self.archival_code,
            "aip_digest": self.aip_digest,
            "key_source": self.key_source,
            "signer_key_id": self.signer_key_id,
            "signer_fingerprint": self.signer_fingerprint,
            "problems": self.problems,
        }


def check_signature(v: BagView, public_key_pem: bytes | None,
                    result: AIPValidation) -> list[Problem]:
    """signature.json verifies over the statement rebuilt from the bag's own tag files."""
    if SIGNATURE not in v.files:
        return []  # reported by check_layout
    try:
        raw = v.read(SIGNATURE)
        doc = json.loads(raw.decode("utf-8"))
        sig = DetachedSignature.from_json(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, SignatureError) as exc:
        msg = exc.message if isinstance(exc, SignatureError) else str(exc)
        return [Problem("signature.malformed", SIGNATURE, expected="签名 JSON",
                        note=f"签名文件无法读取：{msg}")]
    result.signer_key_id = sig.key_id
    out: list[Problem] = []
    if doc.get("format") != SIGNATURE_FORMAT:
        out.append(Problem("signature.malformed", SIGNATURE, expected=SIGNATURE_FORMAT,
                           found=doc.get("format"), note="签名文件格式标识不对"))
    tms = {}
    for alg in ALGORITHMS:
        name = manifest_name(alg, tag=True)
        if name not in v.files:
            return out + [Problem("signature.invalid", SIGNATURE, expected=name,
                                  note=f"缺少 {name}，无法验证签名")]
        tms[alg] = v.read(name)
    statement = signed_statement(dict(v.info), tms["sha256"], tms["sm3"])
    if doc.get("statement") != statement.decode("utf-8"):
        out.append(Problem("signature.statement_mismatch", SIGNATURE,
                           expected=statement.decode("utf-8"), found=doc.get("statement"),
                           note="签名文件记录的被签名声明与信息包当前内容不一致"))
    embedded = doc.get("public_key_pem")
    embedded_pem = embedded.encode("ascii") if isinstance(embedded, str) else None
    if public_key_pem is not None:
        key, result.key_source = public_key_pem, "given"
    elif embedded_pem is not None:
        key, result.key_source = embedded_pem, "embedded"
    else:
        return out + [Problem("signature.no_key", SIGNATURE, expected="公钥",
                              note="未提供档案馆公钥，签名文件也未附公钥，无法验证签名")]
    try:
        result.signer_fingerprint = key_fingerprint(key)
        if public_key_pem is not None and embedded_pem is not None:
            try:
                emb_fp = key_fingerprint(embedded_pem)
            except KeyError_:
                emb_fp = None
            if emb_fp != result.signer_fingerprint:
                out.append(Problem("signature.key_mismatch", SIGNATURE,
                                   expected=result.signer_fingerprint, found=emb_fp,
                                   note="签名文件附带的公钥不是所给的档案馆公钥（可能被替换）"))
        verify(key, sig, statement)
    except (SignatureError, KeyError_) as exc:
        out.append(Problem("signature.invalid", SIGNATURE, expected="有效签名", found=sig.key_id,
                           note=f"信息包签名验证失败：{exc.message}"))
    return out


def run_all(v: BagView, public_key_pem: bytes | None, result: AIPValidation) -> list[Problem]:
    """Every examination, in order; later ones use what earlier ones parsed."""
    problems: list[Problem] = []
    for step in (check_layout, check_bagit_txt, check_bag_info, check_manifests, check_oxum,
                 check_tag_manifests, check_description, check_description_vs_manifests,
                 case_json_problems):
        problems += step(v)
    problems += check_signature(v, public_key_pem, result)
    return problems


def inspect_aip(
    path: Path,
    public_key_pem: bytes | None = None,
    known_digests: Mapping[str, Digests] | None = None,
) -> tuple[AIPValidation, BagView | None]:
    """``validate_aip`` plus the parsed view (for the package check items).

    ``known_digests`` (payload path → digests) are digests this process measured itself
    while receiving the same bytes (filing); those files are not read again. Audits of
    stored AIPs pass none, so every byte is re-hashed.
    """
    result = AIPValidation(path=str(path))
    try:
        src = open_source(Path(path))
    except (AIPInvalid, UnsafeContainer) as exc:
        result.problems.append(Problem("aip.unreadable", str(path), expected="信息包目录或 zip",
                                       note=f"无法打开归档信息包：{exc.message}").to_dict())
        return result, None
    try:
        v = BagView(files=dict(src.files), special=list(src.special), read=_cached(src.read),
                    chunks=src.chunks, known=dict(known_digests or {}))
        result.problems = as_dicts(run_all(v, public_key_pem, result))
        info = dict(v.info)
        result.aip_id = info.get("Dangan-AIP-Id")
        result.archival_code = info.get("External-Identifier")
        result.description = v.description
        result.files = dict(v.files)
        if "tagmanifest-sha256.txt" in v.files:
            result.aip_digest = sha256_hex(v.read("tagmanifest-sha256.txt"))
        return result, v
    except UnsafeContainer as exc:
        result.problems.append(Problem("aip.unreadable", str(path),
                                       note=f"读取信息包时出错：{exc.message}").to_dict())
        return result, None
    finally:
        if isinstance(src, ZipSource):  # a directory view stays readable; a zip is closed
            src.close()


def _cached(read: Any) -> Any:
    """Keep the small metadata files read during validation, so the view stays readable
    (for the package check items) after a zip is closed. Content files are never cached."""
    cache: dict[str, bytes] = {}

    def cached_read(rel: str) -> bytes:
        if rel not in cache:
            data = read(rel)
            if rel.startswith(FILES_PREFIX):
                return data
            cache[rel] = data
        return cache[rel]

    return cached_read


def validate_aip(path: Path, public_key_pem: bytes | None = None) -> AIPValidation:
    """Check everything of the AIP at ``path`` (dir or zip) and report every problem."""
    return inspect_aip(path, public_key_pem)[0]
