"""What every evidence package shares: the container, the archive key, the signed
manifest, the signed tree head and its time stamp, and the report of steps.

Why its own module: a filed case's package (``evidence``) and a destroyed case's
(``evidence_destroyed``) are checked by different steps over the same frame; both must be
read with ``dangan.packages`` alone, offline.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from .errors import FormatError, KeyError_, PackageError, SignatureError
from .evidence_trust import fingerprints, normalize_fingerprint
from .problem import Problem, as_dicts
from .safezip import ZipLimits, inspect_zip, read_member, safe_member_name
from .signing import DetachedSignature, key_fingerprint, verify
from .timestamp import TimestampInvalid, verify_token
from .tree_head import SignedTreeHead, verify_tree_head

EVIDENCE_TYPE = "dangan-evidence-manifest/v1"
RECEIPT_TYPE = "dangan/receipt/1"
MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig.json"
ARCHIVE_KEY = "keys/archive-public-key.pem"
SENDER_KEY = "keys/sender-archive-public-key.pem"  # a received AIP's sealer (移交方)
TREE_HEAD = "audit/tree-head.json"
TIMESTAMP = "audit/tree-head.tsr"  # the TSA's RFC 3161 TimeStampResp over the head, if any
INCLUSION = "audit/inclusion-proof.json"
CONSISTENCY = "audit/receipt-consistency.json"
RECEIPT = "receipt.json"
REPORT = "report.html"
AIP_PREFIX = "aip/"
LIMITS = ZipLimits(max_entries=1000, max_total_bytes=64 << 30, max_entry_bytes=64 << 30,
                   max_ratio=1000.0)


@dataclass
class EvidenceStep:
    step: str
    ok: bool
    message: str
    evidence: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "ok": self.ok, "message": self.message, "evidence": self.evidence}


VERIFIED, UNAUTHENTICATED, FAILED = "verified", "unauthenticated", "failed"


@dataclass
class EvidenceReport:
    path: str
    steps: list[EvidenceStep] = field(default_factory=list)
    aip_id: str | None = None
    archival_code: str | None = None
    key_source: str | None = None  # given (--key), fingerprint (--fingerprint) or included
    key_fingerprint: str | None = None

    @property
    def consistent(self) -> bool:
        """Every step holds — with whatever archive key was used."""
        return bool(self.steps) and all(s.ok for s in self.steps)

    @property
    def authenticated(self) -> bool:
        """The archive key came from (or was matched against) something outside the package."""
        return self.key_source in ("given", "fingerprint")

    @property
    def ok(self) -> bool:
        """Verified: consistent under an independently authenticated archive key."""
        return self.consistent and self.authenticated

    @property
    def status(self) -> str:
        if not self.consistent:
            return FAILED
        return VERIFIED if self.authenticated else UNAUTHENTICATED

    def add(self, step: str, ok: bool, message: str, evidence: Any = None) -> bool:
        self.steps.append(EvidenceStep(step, ok, message, evidence))
        return ok

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "valid": self.ok,
                "consistent": self.consistent, "authenticated": self.authenticated,
                "key_source": self.key_source, "archive_key_fingerprint": self.key_fingerprint,
                "aip_id": self.aip_id, "archival_code": self.archival_code,
                "failed_steps": [s.step for s in self.steps if not s.ok],
                "steps": [s.to_dict() for s in self.steps]}


@dataclass
class Facts:
    """What the steps learn and pass on; None where a step could not establish it."""

    key: bytes | None = None
    manifest: dict[str, Any] | None = None
    aip_id: str | None = None
    archival_code: str | None = None
    aip_digest: str | None = None
    case_id: str | None = None
    source_system: str | None = None
    case_bytes: bytes | None = None
    case_sig: bytes | None = None
    head: SignedTreeHead | None = None
    leaf: bytes | None = None
    received_at: str | None = None
    filed_at: str | None = None  # a received case: when this archive filed it (aip:file)
    sealer_fingerprint: str | None = None  # set when the AIP was sealed by a sender archive


def read_json(data: bytes | None, what: str) -> Any:
    if data is None:
        raise FormatError(f"证据包中缺少{what}")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{what}不是 UTF-8 JSON：{exc}") from exc


class EvidenceZip:
    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.members = {safe_member_name(i.filename): i for i in inspect_zip(zf, LIMITS)}

    def read(self, name: str) -> bytes | None:
        info = self.members.get(name)
        return read_member(self.zf, info, LIMITS) if info is not None else None

    def sha256(self, name: str, sink: Any = None) -> str:
        h = hashlib.sha256()
        with self.zf.open(self.members[name]) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                if sink is not None:
                    sink.write(chunk)
        return h.hexdigest()


def key_step(z: EvidenceZip, given: bytes | None, fingerprint: str | None, r: EvidenceReport,
              f: Facts) -> None:
    included = z.read(ARCHIVE_KEY)
    try:
        inc_fp = key_fingerprint(included) if included else None
        if given is not None:
            f.key = given
            fp = key_fingerprint(given)
            r.key_source, r.key_fingerprint = "given", fp
            if inc_fp is not None and inc_fp != fp:
                r.add("archive_key", False, f"证据包内附的档案馆公钥（指纹 {inc_fp[:16]}…）不是检查人持有的公钥"
                      f"（{fp[:16]}…）：公钥被替换", {"given": fp, "included": inc_fp})
                return
            r.add("archive_key", True, f"使用检查人持有的档案馆公钥（指纹 {fp}）",
                  {"key_source": "given", "fingerprint": fp})
            return
        if included is None:
            r.add("archive_key", False, "证据包缺少档案馆公钥，且未提供 --key", None)
            return
        f.key = included
        fps = fingerprints(included)
        r.key_fingerprint = fps["sha256"]
        if fingerprint is not None:
            want = normalize_fingerprint(fingerprint)
            if want not in fps.values():
                r.key_source = "fingerprint"
                r.add("archive_key", False, f"证据包内附的档案馆公钥指纹（SHA-256 {fps['sha256']}，SM3 "
                      f"{fps['sm3']}）与检查人给出的指纹 {want} 不符：公钥被替换",
                      {"given_fingerprint": want, "included": fps})
                return
            r.key_source = "fingerprint"
            alg = "SHA-256" if want == fps["sha256"] else "SM3"
            r.add("archive_key", True, f"证据包内附的档案馆公钥与检查人给出的 {alg} 指纹一致（{want}）",
                  {"key_source": "fingerprint", "fingerprint": fps})
            return
        r.key_source = "included"
        r.add("archive_key", True, f"未经独立认证：只能使用证据包内附的档案馆公钥（SHA-256 指纹 "
              f"{fps['sha256']}，SM3 指纹 {fps['sm3']}）；以下各项只证明证据包内部一致。请用 --key 给出独立"
              "取得的档案馆公钥，或用 --fingerprint 给出其指纹", {"key_source": "included",
                                                          "fingerprint": fps})
    except KeyError_ as exc:
        r.add("archive_key", False, f"档案馆公钥无法读取：{exc.message}", None)


def manifest_step(z: EvidenceZip, r: EvidenceReport, f: Facts,
                   types: tuple[str, ...] = ("dangan-evidence-manifest/v1",)) -> None:
    raw = z.read(MANIFEST)
    try:
        manifest = read_json(raw, "清单 manifest.json")
        sig = DetachedSignature.from_json(z.read(MANIFEST_SIG) or b"")
        if f.key is None:
            raise SignatureError("没有可用的档案馆公钥")
        verify(f.key, sig, raw or b"")
    except PackageError as exc:
        r.add("manifest", False, f"证据包清单无效：{exc.message}", None)
        return
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if manifest.get("type") not in types or not isinstance(files, dict):
        r.add("manifest", False, f"清单类型应为 {'、'.join(types)}", {"found": manifest.get("type")})
        return
    problems = []
    for name, entry in sorted(files.items()):
        if name not in z.members:
            problems.append(Problem("evidence.file_missing", name,
                                    note=f"清单列出的 {name} 不在证据包中"))
        elif z.sha256(name) != (entry or {}).get("sha256"):
            problems.append(Problem("evidence.file_changed", name,
                                    expected=(entry or {}).get("sha256"), found=z.sha256(name),
                                    note=f"{name} 的 SHA-256 与签名清单不符（被改动）"))
    problems += [Problem("evidence.file_added", n, note=f"{n} 未列入签名清单（被加入）")
                 for n in sorted(z.members) if n not in files and n not in (MANIFEST, MANIFEST_SIG)]
    f.manifest = manifest
    if problems:
        r.add("manifest", False, "证据包内容与签名清单不符：" + "；".join(p.note for p in problems[:10]),
              as_dicts(problems))
    else:
        r.add("manifest", True, f"清单由档案馆密钥签名有效，{len(files)} 个文件的 SHA-256 均相符",
              {"files": len(files)})


def head_step(z: EvidenceZip, r: EvidenceReport, f: Facts) -> None:
    try:
        sth = SignedTreeHead.from_dict(read_json(z.read(TREE_HEAD), "签名树头"))
        if f.key is None:
            raise SignatureError("没有可用的档案馆公钥")
        verify_tree_head(sth, f.key)
    except PackageError as exc:
        r.add("tree_head", False, f"签名树头无效：{exc.message}", None)
        return
    f.head = sth
    r.add("tree_head", True, f"签名树头（{sth.head.size} 条记录，{sth.head.timestamp}）由档案馆密钥签署",
          sth.to_dict())


def timestamp_step(z: EvidenceZip, r: EvidenceReport, f: Facts,
                    tsa_roots: list[x509.Certificate] | None) -> None:
    """The head's RFC 3161 token, when the package has one or the inspector demands one."""
    token = z.read(TIMESTAMP)
    if token is None:
        if tsa_roots:
            r.add("timestamp", False, "证据包中没有树头的 RFC 3161 时间戳（audit/tree-head.tsr），"
                  "而检查人要求核对时间戳", None)
        return
    if f.head is None:
        r.add("timestamp", False, "没有有效的签名树头，时间戳无从核对", None)
        return
    try:
        when = verify_token(token, f.head.head.canonical_bytes(), tsa_roots or [])
    except TimestampInvalid as exc:
        r.add("timestamp", False, f"树头的时间戳无效：{exc.message}", None)
        return
    ev = {"time": when.isoformat(), "signature_checked": bool(tsa_roots)}
    if tsa_roots:
        r.add("timestamp", True, f"时间戳服务（TSA）证明该树头不晚于 {when.isoformat()} 已存在；TSA 签名与证书链"
              "验证至检查人给出的根证书", ev)
    else:
        r.add("timestamp", True, f"时间戳所盖摘要与树头一致（{when.isoformat()}）；未给出 --tsa-root，"
              "未验证 TSA 的签名与证书链", ev)


