"""The separate examinations of an AIP; each returns every problem it finds.

``validate_aip`` runs them all; the package check items (GD-1-12, GD-1-13, GD-1-14,
GD-2-10, GD-2-11, GD-3-1) pick the problem codes that belong to their item, so one
validation (one read of the content) serves all of them.

A problem is a ``Problem`` (``dangan.packages.problem``): stable code, path, expected,
found and a Chinese note for people.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..digests import digest_stream
from ..problem import Problem
from .bag import (
    ALGORITHMS,
    BAG_INFO,
    BAGIT_TXT,
    CASE_JSON,
    CASE_SIG,
    DESCRIPTION,
    FILES_PREFIX,
    REQUIRED_INFO,
    SIGNATURE,
    SUBMISSION_PREFIX,
    TAG_FILES,
    TOP_LEVEL,
    digest_bytes,
    manifest_name,
    parse_bag_info,
    parse_manifest,
)
from .description_reading import read_description


@dataclass
class BagView:
    """What the examinations share: the file listing and the parsed tag files."""

    files: dict[str, int]
    special: list[str]
    read: Any  # (rel) -> bytes
    chunks: Any  # (rel) -> Iterator[bytes]
    info: list[tuple[str, str]] = field(default_factory=list)
    manifests: dict[str, dict[str, str]] = field(default_factory=dict)
    description: dict[str, Any] | None = None
    description_bytes: bytes | None = None
    actual: dict[str, Any] = field(default_factory=dict)  # rel -> Digests of payload bytes
    known: dict[str, Any] = field(default_factory=dict)  # rel -> Digests measured while filing

    @property
    def payload_files(self) -> dict[str, int]:
        return {p: s for p, s in self.files.items() if p.startswith("data/")}


def check_layout(v: BagView) -> list[Problem]:
    """GD-1-13: fixed top-level names, payload only under data/description.xml and data/submission/."""
    out = [Problem("layout.special", p, expected="普通文件", found="链接/特殊文件",
                   note=f"信息包中有符号链接或特殊文件：{p}")
           for p in v.special]
    allowed_data = {DESCRIPTION, CASE_JSON, CASE_SIG}
    for p in sorted(v.files):
        top = p.split("/", 1)[0]
        if top not in TOP_LEVEL or (top == "data" and "/" not in p) or (top != "data" and "/" in p):
            out.append(Problem("layout.unexpected", p, expected="、".join(sorted(TOP_LEVEL)),
                               found=p, note=f"信息包顶层出现规定之外的文件：{p}"))
        elif top == "data" and p not in allowed_data and not p.startswith(FILES_PREFIX):
            out.append(Problem("layout.unexpected", p,
                               expected=f"{DESCRIPTION}、{SUBMISSION_PREFIX}{{case.json,case.json.sig,files/…}}",
                               found=p, note=f"载荷目录中出现规定之外的文件：{p}"))
    for required in (BAGIT_TXT, BAG_INFO, DESCRIPTION, CASE_JSON, SIGNATURE,
                     *(manifest_name(a) for a in ALGORITHMS),
                     *(manifest_name(a, tag=True) for a in ALGORITHMS)):
        if required not in v.files:
            out.append(Problem("layout.missing", required, expected=required,
                               note=f"信息包缺少必备文件 {required}"))
    return out


def check_bagit_txt(v: BagView) -> list[Problem]:
    if BAGIT_TXT not in v.files:
        return []  # reported by check_layout
    data = v.read(BAGIT_TXT)
    fields, probs = parse_bag_info(data)
    d = dict(fields)
    out = [dict(p, code="bagit.malformed", path=BAGIT_TXT) for p in probs]
    if data.startswith(b"\xef\xbb\xbf"):
        out.append(Problem("bagit.malformed", BAGIT_TXT, expected="无 BOM", found="BOM",
                           note="bagit.txt 不得以 BOM 开头"))
    if d.get("BagIt-Version") != "1.0":
        out.append(Problem("bagit.malformed", BAGIT_TXT, expected="1.0",
                           found=d.get("BagIt-Version"),
                           note="bagit.txt 的 BagIt-Version 应为 1.0"))
    if (d.get("Tag-File-Character-Encoding") or "").upper() != "UTF-8":
        out.append(Problem("bagit.malformed", BAGIT_TXT, expected="UTF-8",
                           found=d.get("Tag-File-Character-Encoding"),
                           note="bagit.txt 的 Tag-File-Character-Encoding 应为 UTF-8"))
    return out


def check_bag_info(v: BagView) -> list[Problem]:
    if BAG_INFO not in v.files:
        return []
    v.info, probs = parse_bag_info(v.read(BAG_INFO))
    out = list(probs)  # baginfo.malformed / baginfo.encoding
    d = dict(v.info)
    labels = [k for k, _ in v.info]
    for k in REQUIRED_INFO:
        if not d.get(k):
            out.append(Problem("baginfo.field_missing", BAG_INFO, expected=k,
                               note=f"bag-info.txt 缺少必备字段 {k}"))
    for k in set(labels):
        if labels.count(k) > 1 and k in REQUIRED_INFO:
            out.append(Problem("baginfo.duplicate", BAG_INFO, expected=1, found=labels.count(k),
                               note=f"bag-info.txt 字段 {k} 出现多次"))
    if d.get("Dangan-Description") and d["Dangan-Description"] != DESCRIPTION:
        out.append(Problem("baginfo.mismatch", BAG_INFO, expected=DESCRIPTION,
                           found=d["Dangan-Description"],
                           note="Dangan-Description 应指向 data/description.xml"))
    return out


def check_manifests(v: BagView) -> list[Problem]:
    """Both payload manifests against the files and against the bytes (one read per file)."""
    out: list[dict[str, Any]] = []
    payload = v.payload_files
    for alg in ALGORITHMS:
        name = manifest_name(alg)
        if name not in v.files:
            v.manifests[alg] = {}
            continue
        m = parse_manifest(v.read(name), name)
        v.manifests[alg] = m.entries
        out += m.problems
        for p in sorted(m.entries):
            if not p.startswith("data/"):
                out.append(Problem("manifest.outside_payload", p, expected="data/…", found=p,
                                   note=f"{name} 列出了载荷目录之外的文件 {p}"))
            elif p not in payload:
                out.append(Problem("file.missing", p, expected=p, note=f"{name} 列出的文件 {p} 不存在",
                                   extra={"algorithm": alg}))
        for p in sorted(set(payload) - set(m.entries)):
            out.append(Problem("file.unlisted", p, expected=f"列入 {name}", found="未列入",
                               note=f"文件 {p} 未列入 {name}", extra={"algorithm": alg}))
    for p in sorted(payload):
        if not any(p in v.manifests.get(a, {}) for a in ALGORITHMS):
            continue
        known = v.known.get(p)
        v.actual[p] = known if known is not None and known.size == v.files[p] else (
            digest_stream(v.chunks(p)))
        for alg in ALGORITHMS:
            expected = v.manifests.get(alg, {}).get(p)
            found = getattr(v.actual[p], alg)
            if expected is not None and expected != found:
                out.append(Problem("digest.mismatch", p, expected=expected, found=found,
                                   note=f"{p} 的 {alg.upper()} 摘要与清单不符（内容被改动）",
                                   extra={"algorithm": alg}))
    return out


def check_oxum(v: BagView) -> list[Problem]:
    oxum = dict(v.info).get("Payload-Oxum")
    if not oxum:
        return []
    payload = v.payload_files
    found = f"{sum(payload.values())}.{len(payload)}"
    if oxum != found:
        return [Problem("oxum.mismatch", BAG_INFO, expected=oxum, found=found,
                        note=f"Payload-Oxum 与载荷不符：记录 {oxum}（字节.文件数），实际 {found}")]
    return []


def check_tag_manifests(v: BagView) -> list[Problem]:
    out: list[dict[str, Any]] = []
    for alg in ALGORITHMS:
        name = manifest_name(alg, tag=True)
        if name not in v.files:
            continue
        m = parse_manifest(v.read(name), name)
        out += m.problems
        for t in TAG_FILES:
            if t not in m.entries:
                out.append(Problem("tagmanifest.incomplete", name, expected=t,
                                   note=f"{name} 未列出标签文件 {t}", extra={"algorithm": alg}))
        for p, expected in sorted(m.entries.items()):
            if p not in v.files:
                out.append(Problem("tagfile.missing", p, expected=p,
                                   note=f"{name} 列出的标签文件 {p} 不存在", extra={"algorithm": alg}))
                continue
            found = getattr(digest_bytes(v.read(p)), alg)
            if found != expected:
                out.append(Problem("tagdigest.mismatch", p, expected=expected, found=found,
                                   note=f"标签文件 {p} 的 {alg.upper()} 摘要与 {name} 不符",
                                   extra={"algorithm": alg}))
    return out


def check_description(v: BagView) -> list[Problem]:
    """Well-formed (hardened parser), valid against the XSD, readable as the model."""
    if DESCRIPTION not in v.files:
        return []
    data = v.description_bytes = v.read(DESCRIPTION)
    reading = read_description(data)
    if reading.malformed is not None:
        return [Problem("description.malformed", DESCRIPTION, expected="格式良好的 XML",
                        note=reading.malformed)]
    out = [Problem("description.invalid", DESCRIPTION, expected="符合 aip-description.xsd",
                   found=e["message"], note=f"描述文件不符合 XSD（第 {e['line']} 行）：{e['message']}",
                   extra={"line": e["line"], "element": e["element"]})
           for e in reading.errors]
    if reading.unreadable is not None:
        out.append(Problem("description.malformed", DESCRIPTION, expected="可读取的封装包描述",
                           note=reading.unreadable))
    else:
        v.description = reading.model
    return out


def _g(d: Any, *keys: str) -> Any:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def documents_of(desc: dict[str, Any] | None) -> list[Problem]:
    docs = _g(desc, "signed_object", "content", "record", "documents")
    return [d for d in docs if isinstance(d, dict)] if isinstance(docs, list) else []


def check_description_vs_manifests(v: BagView) -> list[Problem]:
    """Every 文档 names a payload file with the manifests' digests; every content file has a 文档."""
    desc = v.description
    if desc is None:
        return []
    out: list[dict[str, Any]] = []
    docs = documents_of(desc)
    sizes = v.payload_files
    mf = v.manifests
    described: set[str] = set()
    for d in docs:
        p = d.get("path") or ""
        described.add(p)
        if p not in sizes:
            out.append(Problem("description.file_missing", p, expected=p,
                               note=f"描述文件登记的文档 {p} 在信息包中不存在"))
            continue
        for alg in ALGORITHMS:
            want = _g(d, "digests", alg)
            if mf.get(alg, {}).get(p) not in (None, want):
                out.append(Problem("description.digest_mismatch", p, expected=mf[alg][p],
                                   found=want, note=f"描述文件中 {p} 的 {alg.upper()} 摘要与清单不符",
                                   extra={"algorithm": alg}))
        if d.get("size") != sizes[p]:
            out.append(Problem("description.size_mismatch", p, expected=sizes[p],
                               found=d.get("size"), note=f"描述文件中 {p} 的大小与实际不符"))
    content = sorted(p for p in sizes if p.startswith(FILES_PREFIX))
    for p in content:
        if p not in described:
            out.append(Problem("description.file_unlisted", p, expected="登记为文档", found="未登记",
                               note=f"内容文件 {p} 未在描述文件的文件数据中登记"))
    sub = _g(desc, "signed_object", "content", "record", "submission")
    if isinstance(sub, dict) and CASE_JSON in sizes:
        for alg in ALGORITHMS:
            want, have = _g(sub, "digests", alg), mf.get(alg, {}).get(CASE_JSON)
            if have is not None and want != have:
                out.append(Problem("description.case_mismatch", CASE_JSON, expected=have,
                                   found=want, note=f"描述文件记录的 case.json {alg.upper()} 摘要与清单不符",
                                   extra={"algorithm": alg}))
    out += _count_problems(desc, docs, content, sizes)
    out += _identity_problems(desc, dict(v.info))
    return out


def _count_problems(desc: dict, docs: list[dict], content: list[str],
                    sizes: dict[str, int]) -> list[Problem]:
    out = []
    counts = {
        "形式特征/文件数": _g(desc, "signed_object", "content", "record", "form", "files"),
        "说明/摘要信息/文件数": _g(desc, "signed_object", "explanation", "summary", "files"),
        "目录/条目数": len(_g(desc, "signed_object", "catalogue") or []),
        "文件数据/文档数": len(docs),
    }
    for where, n in counts.items():
        if n != len(content):
            out.append(Problem("description.count_mismatch", DESCRIPTION, field=where,
                               expected=len(content), found=n,
                               note=f"描述文件 {where} 为 {n}，信息包实有内容文件 {len(content)} 个"))
    total = sum(sizes[p] for p in content)
    recorded = _g(desc, "signed_object", "explanation", "summary", "bytes")
    if recorded != total:
        out.append(Problem("description.count_mismatch", DESCRIPTION, field="说明/摘要信息/总字节数",
                           expected=total, found=recorded,
                           note=f"说明/摘要信息/总字节数为 {recorded}，内容文件实为 {total} 字节"))
    return out


def _identity_problems(desc: dict, info: dict[str, str]) -> list[Problem]:
    pairs = [
        ("External-Identifier", _g(desc, "signed_object", "content", "record", "description", "archival_code")),
        ("Dangan-AIP-Id", _g(desc, "signed_object", "aip_id")),
        ("Dangan-AIP-Version", str(_g(desc, "signed_object", "aip_version"))),
    ]
    return [
        Problem("description.identity_mismatch", DESCRIPTION, field=k, expected=info.get(k),
                found=want, note=f"bag-info.txt 的 {k}（{info.get(k)}）与描述文件（{want}）不一致")
        for k, want in pairs if info.get(k) is not None and info.get(k) != want
    ]


def case_json_problems(v: BagView) -> list[Problem]:
    """case.json (and its signature) parse as UTF-8 JSON without U+FFFD (GD-3-1)."""
    out = []
    for p in (CASE_JSON, CASE_SIG, SIGNATURE):
        if p not in v.files:
            continue
        data = v.read(p)
        try:
            text = data.decode("utf-8")
            json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            out.append(Problem("metadata.unreadable", p, expected="UTF-8 JSON", found=str(exc),
                               note=f"{p} 不是可解析的 UTF-8 JSON：{exc}"))
            continue
        if "\ufffd" in text:
            out.append(Problem("metadata.mojibake", p, expected="无乱码", found="U+FFFD",
                               note=f"{p} 含替换字符 U+FFFD（乱码）"))
    return out


def codes(problems: Iterable[dict[str, Any]], *prefixes: str) -> list[Problem]:
    return [p for p in problems if p["code"].startswith(prefixes)]
