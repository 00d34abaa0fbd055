"""Writing an AIP: build it from a staged submission, reseal it with a new check report,
export it as a zip.

Content files are never hashed here: their digests arrive from the caller (computed
once when the submission was received); only the small files Dangan writes itself
(case.json, its signature, description.xml, tag files) are hashed. A size check by
``stat`` guards against a content file that changed since it was measured.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..digests import Digests, sha256_hex, sm3_hex
from ..errors import AIPInvalid
from ..problem import Problem
from .bag import (
    BAG_INFO,
    CASE_JSON,
    CASE_SIG,
    DESCRIPTION,
    manifest_name,
    parse_bag_info,
    parse_manifest,
    payload_oxum,
    software_agent,
    write_file,
    write_tag_files,
)
from .description import parse_description, render_description
from .model import AIPInput, check_item, describe, payload_path

__all__ = ["AIPInput", "BuiltAIP", "build_aip", "export_aip_zip", "reseal_with_report"]


@dataclass
class BuiltAIP:
    path: Path
    aip_digest: str  # hex SHA-256 of tagmanifest-sha256.txt: the "AIP manifest set" digest
    payload_oxum: str
    files: dict[str, dict[str, Any]]  # bag-relative payload path -> {size, sha256, sm3}
    aip_digest_sm3: str = ""  # hex SM3 of tagmanifest-sm3.txt
    description_sha256: str = ""
    info: dict[str, str] = field(default_factory=dict)  # bag-info.txt fields


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _info_fields(inp: AIPInput, oxum: str) -> list[tuple[str, str]]:
    case = inp.case if isinstance(inp.case, dict) else {}
    fields = [
        ("Source-Organization", str(inp.filing.get("organization") or "")),
        ("Bagging-Date", inp.archived_at.date().isoformat()),
        ("Payload-Oxum", oxum),
        ("Bag-Software-Agent", software_agent()),
        ("External-Identifier", inp.archival_code),
        ("Internal-Sender-Identifier", f"{case.get('source_system', '')}/{case.get('case_id', '')}"),
        ("Dangan-AIP-Id", inp.aip_id),
        ("Dangan-AIP-Version", str(int(inp.version))),
        ("Dangan-Description", DESCRIPTION),
        ("Dangan-Signature", "signature.json"),
    ]
    if inp.supersedes:
        fields.append(("Dangan-Supersedes", str(inp.supersedes.get("aip_id", ""))))
    return fields


def _place(src: Path, dst: Path, move: bool) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if move:
        shutil.move(os.fspath(src), os.fspath(dst))
    else:
        shutil.copyfile(src, dst)


def _digests_of(data: bytes) -> Digests:
    return Digests(len(data), sha256_hex(data), sm3_hex(data))


def _built(root: Path, tm_sha256: bytes, tm_sm3: bytes, info: list[tuple[str, str]],
           payload: dict[str, Digests]) -> BuiltAIP:
    info_d = dict(info)
    return BuiltAIP(
        path=root,
        aip_digest=sha256_hex(tm_sha256),
        payload_oxum=info_d["Payload-Oxum"],
        files={p: {"size": d.size, "sha256": d.sha256, "sm3": d.sm3} for p, d in sorted(payload.items())},
        aip_digest_sm3=sm3_hex(tm_sm3),
        description_sha256=payload[DESCRIPTION].sha256,
        info=info_d,
    )


def build_aip(inp: AIPInput, dest: Path, signing_key: Any, key_id: str, *,
              move_payload: bool = True) -> BuiltAIP:
    """Write the bag into the new directory ``dest`` and sign it.

    With ``move_payload`` the content files are moved out of the staged submission (and
    moved back if building fails), else copied.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=False)
    moved: list[tuple[Path, Path]] = []
    try:
        payload: dict[str, Digests] = {}
        write_file(dest / CASE_JSON, inp.case_bytes)
        payload[CASE_JSON] = _digests_of(inp.case_bytes)
        sig_src = inp.submission_root / "case.json.sig"
        sig_bytes = sig_src.read_bytes() if sig_src.is_file() else None
        if sig_bytes is not None:
            write_file(dest / CASE_SIG, sig_bytes)
            payload[CASE_SIG] = _digests_of(sig_bytes)
        problems = []
        for rel, dg in sorted(inp.file_digests.items()):
            src = inp.submission_root / rel
            if not rel.startswith("files/") or ".." in rel.split("/"):
                problems.append(Problem("file.outside_payload", rel,
                                        note=f"内容文件路径不在 files/ 之下：{rel}"))
                continue
            size = src.stat().st_size if src.is_file() else None
            if size != dg.size:
                problems.append(Problem("file.changed", rel, expected=dg.size, found=size,
                                        note=f"内容文件 {rel} 与接收时测得的大小不符"))
                continue
            target = dest / payload_path(rel)
            _place(src, target, move_payload)
            if move_payload:
                moved.append((target, src))
            payload[payload_path(rel)] = dg
        if problems:
            raise AIPInvalid("内容文件在接收后发生变化或路径非法，不能封装", problems)
        description = render_description(describe(inp, payload, sig_bytes))
        write_file(dest / DESCRIPTION, description)
        payload[DESCRIPTION] = _digests_of(description)
        info = _info_fields(inp, payload_oxum(payload))
        tm_sha256, tm_sm3 = write_tag_files(dest, info, payload, signing_key, key_id, _now_iso())
        return _built(dest, tm_sha256, tm_sm3, info, payload)
    except BaseException:
        for target, src in reversed(moved):
            if target.exists() and not src.exists():
                src.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(os.fspath(target), os.fspath(src))
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _load_payload_manifests(root: Path) -> dict[str, Digests]:
    """Payload digests as recorded in both manifests (sizes from stat, never re-hashed)."""
    parsed = {}
    for alg in ("sha256", "sm3"):
        m = parse_manifest((root / manifest_name(alg)).read_bytes(), manifest_name(alg))
        if m.problems:
            raise AIPInvalid(f"清单 {manifest_name(alg)} 有错误，不能重新封装", m.problems)
        parsed[alg] = m.entries
    if set(parsed["sha256"]) != set(parsed["sm3"]):
        raise AIPInvalid("SHA-256 与 SM3 清单列出的文件不一致，不能重新封装")
    out = {}
    for p, h in parsed["sha256"].items():
        f = root / p
        if not f.is_file():
            raise AIPInvalid(f"清单列出的文件不存在：{p}",
                             [Problem("file.missing", p, note=f"清单列出的文件不存在：{p}")])
        out[p] = Digests(f.stat().st_size, h, parsed["sm3"][p])
    return out


def reseal_with_report(aip_path: Path, check_results: list[dict], signing_key: Any,
                       key_id: str) -> BuiltAIP:
    """Replace the check report in description.xml and re-sign; content files untouched.

    Rewrites description.xml, its two manifest lines, Payload-Oxum, the tag manifests and
    signature.json. Fails if the recorded description digest does not match its bytes
    (a reseal must not launder a tampered description).
    """
    root = Path(aip_path)
    payload = _load_payload_manifests(root)
    old = (root / DESCRIPTION).read_bytes()
    if DESCRIPTION not in payload or sha256_hex(old) != payload[DESCRIPTION].sha256:
        raise AIPInvalid("描述文件与清单记录的摘要不符，拒绝重新封装",
                         [Problem("digest.mismatch", DESCRIPTION, note="描述文件与清单记录的摘要不符")])
    model = parse_description(old)
    model["signed_object"]["content"]["check_report"] = [check_item(r) for r in check_results]
    new = render_description(model)
    write_file(root / DESCRIPTION, new)
    payload[DESCRIPTION] = _digests_of(new)
    info, problems = parse_bag_info((root / BAG_INFO).read_bytes())
    if problems:
        raise AIPInvalid("bag-info.txt 格式错误，不能重新封装", problems)
    oxum = payload_oxum(payload)
    info = [(k, oxum if k == "Payload-Oxum" else v) for k, v in info]
    tm_sha256, tm_sm3 = write_tag_files(root, info, payload, signing_key, key_id, _now_iso())
    return _built(root, tm_sha256, tm_sm3, info, payload)


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def export_aip_zip(aip_path: Path, dest_zip: Path) -> None:
    """Zip the AIP as stored: ``<bag dir name>/…`` entries in sorted order, fixed times.

    Deterministic: the same bag always gives the same zip bytes.
    """
    root = Path(aip_path)
    top = root.name
    files = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.is_symlink()
    )
    tmp = Path(dest_zip).with_name(Path(dest_zip).name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for d in sorted({f"{top}/{'/'.join(r.split('/')[:i])}/" for r in files
                         for i in range(1, r.count("/") + 1)} | {f"{top}/"}):
            info = zipfile.ZipInfo(d, _ZIP_TIME)
            info.external_attr = (0o40755 << 16) | 0x10
            zf.writestr(info, b"")
        for rel in files:
            info = zipfile.ZipInfo(f"{top}/{rel}", _ZIP_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            big = (root / rel).stat().st_size >= 1 << 31
            with open(root / rel, "rb") as src, zf.open(info, "w", force_zip64=big) as out:
                shutil.copyfileobj(src, out, 1 << 20)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest_zip)
