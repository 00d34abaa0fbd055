"""Package check items: the built AIP (``ctx.aip_root``, a bag directory or its zip).

One validation of the AIP (``aip.inspect_aip``: every manifest line in both algorithms,
tag manifests, XSD, description ↔ manifests, signature) is kept in ``ctx.aip_inspection`` and
each item reports the problems that belong to it, so content is read once for all
items. The archive signature is verified with ``ctx.archive_public_key_pem`` when the
caller provides one, else with the key embedded in signature.json (integrity only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..aip.bag import BAG_INFO, CASE_JSON, CASE_SIG, DESCRIPTION, FILES_PREFIX, REQUIRED_INFO
from ..aip.model import payload_path
from ..aip.validate import AIPValidation, inspect_aip
from ..aip.validate_parts import BagView, codes, documents_of
from ..archival_code import ArchivalCodeError
from ..digests import sha256_hex
from ..errors import SignatureError
from ..problem import Problem
from ..signing import DetachedSignature, verify
from .context import CheckContext
from .engine import Nature, Stage, Verdict, check

STAGES = (Stage.GD, Stage.YJ, Stage.BC)
Problems = list[Problem | dict[str, Any]]  # found here, or read from the validation


def inspection(ctx: CheckContext) -> tuple[AIPValidation, BagView | None]:
    """The full validation of the AIP under check, made once per context."""
    if ctx.aip_inspection is None:
        known = {payload_path(rel): f for rel, f in ctx.files.items()} if (
            ctx.stage is Stage.GD) else None
        ctx.aip_inspection = inspect_aip(Path(ctx.aip_root), ctx.archive_public_key_pem, known)
    return ctx.aip_inspection


def _unassessable(ctx: CheckContext) -> Verdict | None:
    """A failing verdict when there is no AIP to look at (never a silent pass)."""
    if ctx.aip_root is None:
        return Verdict.fail("尚未生成归档信息包，无法检测本项，不能判定为通过",
                            [Problem("aip.unreadable", None, note="ctx.aip_root 为空")])
    result, view = inspection(ctx)
    if view is None:
        return Verdict.fail("归档信息包无法打开，本项无法检测", result.problems)
    return None


def _g(d: Any, *keys: str) -> Any:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


@check("GD-1-7", Nature.AUTHENTICITY, "档号规范性检测", stages=STAGES, group="package")
def archival_code_rule(ctx: CheckContext) -> Verdict:
    if (bad := _unassessable(ctx)) is not None:
        return bad
    result, view = inspection(ctx)
    desc = result.description
    places: list[tuple[str, str, Any]] = [
        (BAG_INFO, "External-Identifier", dict(view.info).get("External-Identifier")),
        (DESCRIPTION, "内容描述/档号", _g(desc, "signed_object", "content", "record", "description",
                                          "archival_code")),
        (DESCRIPTION, "说明/摘要信息/档号", _g(desc, "signed_object", "explanation", "summary",
                                                "archival_code")),
    ]
    for entry in _g(desc, "signed_object", "catalogue") or []:
        places.append((DESCRIPTION, f"目录/条目[{entry.get('seq')}]/档号", entry.get("archival_code")))
    rule, expected = ctx.archival_code_rule, ctx.archival_code
    problems: Problems = []
    for path, field, value in places:
        if _empty(value):
            problems.append(Problem("archival_code.missing", path, field=field,
                                    expected=expected, found=value, note=f"{field} 缺少档号"))
            continue
        if rule is not None:
            try:
                rule.parse(value)  # parse re-formats the code and refuses any difference
            except ArchivalCodeError as exc:
                problems.append(Problem("archival_code.rule", path, field=field,
                                        expected="符合档号规则", found=value,
                                        note=f"{field} 的档号 {value} 不符合档号规则：{exc}"))
        if expected is not None and value != expected:
            problems.append(Problem("archival_code.mismatch", path, field=field,
                                    expected=expected, found=value,
                                    note=f"{field} 的档号 {value} 与登记的档号 {expected} 不一致"))
    if rule is None or expected is None:
        missing = "档号规则" if rule is None else "登记的档号"
        return Verdict.warn(f"未提供{missing}，档号规范性无法完全判定", problems + [
            Problem("archival_code.unassessed", None, field=missing, note=f"检测上下文缺少{missing}")])
    return Verdict.from_problems(problems, f"档号 {expected} 符合规则，信息包内各处一致",
                                 "档号不规范或不一致")


@check("GD-1-12", Nature.AUTHENTICITY, "说明文件和目录文件规范性检测", stages=STAGES, group="package")
def explanation_and_catalogue(ctx: CheckContext) -> Verdict:
    if (bad := _unassessable(ctx)) is not None:
        return bad
    result, _ = inspection(ctx)
    problems = codes(result.problems, "description.malformed", "description.invalid",
                     "baginfo.", "bagit.")
    problems += [p for p in codes(result.problems, "layout.missing")
                 if p["path"] in (DESCRIPTION, BAG_INFO, "bagit.txt")]
    so = _g(result.description, "signed_object")
    if isinstance(so, dict):
        expl = so.get("explanation") or {}
        for k, name in (("carrier_type", "载体类型"), ("carrier_maker", "载体制作单位"),
                        ("carrier_keeper", "载体保管单位"), ("hardware", "硬件环境"),
                        ("software", "软件环境"), ("package_format", "封装格式")):
            if _empty(expl.get(k)):
                problems.append(Problem("explanation.missing", DESCRIPTION, field=f"说明/{name}",
                                        expected=name, note=f"说明缺少“{name}”"))
        for k, name in (("archival_code", "档号"), ("files", "文件数"), ("bytes", "总字节数")):
            if _empty(_g(expl, "summary", k)):
                problems.append(Problem("explanation.missing", DESCRIPTION,
                                        field=f"说明/摘要信息/{name}", expected=name,
                                        note=f"说明/摘要信息缺少“{name}”"))
        docs = documents_of(result.description)
        cat = so.get("catalogue") or []
        if len(cat) != len(docs):
            problems.append(Problem("catalogue.count", DESCRIPTION, field="目录",
                                    expected=len(docs), found=len(cat),
                                    note=f"目录有 {len(cat)} 个条目，文件数据有 {len(docs)} 个文档"))
        doc_paths = {d.get("path") for d in docs}
        for e in cat:
            for k, name in (("seq", "顺序号"), ("archival_code", "档号"), ("title", "题名"),
                            ("date", "日期"), ("file_name", "电子档案名称")):
                if _empty(e.get(k)):
                    problems.append(Problem("catalogue.missing", DESCRIPTION,
                                            field=f"目录/条目[{e.get('seq')}]/{name}",
                                            expected=name,
                                            note=f"目录条目 {e.get('seq')} 缺少“{name}”"))
            if e.get("file_name") not in doc_paths:
                problems.append(Problem("catalogue.unknown_file", DESCRIPTION,
                                        expected="文件数据中的计算机文件名", found=e.get("file_name"),
                                        note=f"目录条目 {e.get('seq')} 指向未登记的文件 {e.get('file_name')}"))
    return Verdict.from_problems(problems, "说明与目录齐全，封装包描述符合 XSD，bag-info.txt 必备字段齐全",
                                 "说明文件或目录文件不规范")


@check("GD-1-13", Nature.AUTHENTICITY, "信息包目录结构规范性检测", stages=STAGES, group="package")
def directory_structure(ctx: CheckContext) -> Verdict:
    if (bad := _unassessable(ctx)) is not None:
        return bad
    result, _ = inspection(ctx)
    problems = codes(result.problems, "layout.", "manifest.unsafe_path", "manifest.outside_payload",
                     "file.unlisted")
    return Verdict.from_problems(problems, "信息包目录结构符合 BagIt 布局与 Dangan 规定，无多余文件",
                                 "信息包目录结构不规范")


def _sender_problems(ctx: CheckContext, view: BagView) -> tuple[Problems, bool]:
    """case.json in the package is what the sender signed. Returns (problems, assessed)."""
    if CASE_JSON not in view.files:
        return [], True  # reported as layout.missing / file.missing
    packaged = view.read(CASE_JSON)
    out: Problems = []
    assessed = False
    if ctx.case_bytes is not None:
        assessed = True
        if packaged != ctx.case_bytes:
            out.append(Problem("case.changed", CASE_JSON, expected=sha256_hex(ctx.case_bytes),
                               found=sha256_hex(packaged),
                               note="信息包中的 case.json 与接收时经签名验证的 case.json 不是同一字节"))
    if CASE_SIG in view.files and ctx.trusted_keys:
        try:
            sig = DetachedSignature.from_json(view.read(CASE_SIG))
        except SignatureError as exc:
            return out + [Problem("case.signature", CASE_SIG, expected="签名 JSON",
                                  note=f"来源签名文件无法读取：{exc.message}")], True
        system = _g(_json_or_none(packaged), "source_system")
        keys = [k for k in ctx.trusted_keys if k.key_id == sig.key_id and (system is None or k.system == system)]
        if keys:
            assessed = True
            try:
                verify(keys[0].public_key_pem, sig, packaged)
            except SignatureError as exc:
                out.append(Problem("case.signature", CASE_SIG, expected="签名有效",
                                   found=sig.key_id,
                                   note=f"信息包中的 case.json 与来源签名不符：{exc.message}"))
    return out, assessed


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


@check("GD-1-14", Nature.AUTHENTICITY, "信息包一致性检测", stages=STAGES, group="package")
def package_consistency(ctx: CheckContext) -> Verdict:
    if (bad := _unassessable(ctx)) is not None:
        return bad
    result, view = inspection(ctx)
    problems = codes(result.problems, "digest.", "file.", "oxum.", "manifest.", "tagmanifest.",
                     "tagfile.", "tagdigest.", "signature.", "description.case_mismatch",
                     "description.digest_mismatch", "description.size_mismatch",
                     "description.identity_mismatch")
    sender, assessed = _sender_problems(ctx, view)
    problems += sender
    key_note = "（签名用信息包内附公钥验证，仅证明完整性）" if result.key_source == "embedded" else ""
    if not problems and not assessed:
        return Verdict.warn("清单与内容一致，但无法确认 case.json 即来源系统所签（缺少接收时的 case.json 与来源公钥）",
                            [Problem("case.signature", CASE_JSON, note="无法比对来源签名")])
    return Verdict.from_problems(problems, f"清单、标签清单、描述与内容逐字节一致，签名有效{key_note}；case.json 与来源所签一致",
                                 "信息包与封装时记录不一致")


_ENCAPSULATION = (
    (("format_description",), "封装包格式描述"),
    (("version",), "版本"),
    (("signed_object", "package_type"), "封装包类型"),
    (("signed_object", "package_type_description"), "封装包类型描述"),
    (("signed_object", "aip_id"), "封装包标识符"),
    (("signed_object", "aip_version"), "封装包版本"),
    (("signed_object", "created_at"), "封装包创建时间"),
    (("signed_object", "created_by"), "封装包创建单位"),
    (("signed_object", "content", "record", "aggregation"), "文件实体块/聚合层次"),
    (("signed_object", "content", "record", "source", "fonds"), "文件实体块/来源/全宗号"),
    (("signed_object", "content", "record", "source", "organization"), "文件实体块/来源/立档单位名称"),
    (("signed_object", "content", "record", "record_id"), "文件实体块/电子文件号"),
    (("signed_object", "content", "record", "description", "title"), "内容描述/题名"),
    (("signed_object", "content", "record", "description", "archival_code"), "内容描述/档号"),
    (("signed_object", "content", "record", "description", "year"), "内容描述/年度"),
    (("signed_object", "content", "record", "description", "retention"), "内容描述/保管期限"),
    (("signed_object", "content", "record", "form", "items"), "形式特征/件数"),
    (("signed_object", "content", "record", "submission", "path"), "原始提交/计算机文件名"),
    (("signed_object", "content", "record", "submission", "digests", "sha256"), "原始提交/数字摘要/SHA256"),
    (("signed_object", "content", "record", "submission", "digests", "sm3"), "原始提交/数字摘要/SM3"),
    (("signed_object", "explanation", "software"), "说明/软件环境"),
)
_DOC_FIELDS = ((("id",), "文档标识符"), (("seq",), "文档序号"), (("title",), "题名"),
               (("path",), "计算机文件名"), (("size",), "计算机文件大小"),
               (("digests", "sha256"), "数字摘要/SHA256"), (("digests", "sm3"), "数字摘要/SM3"))


@check("GD-2-10", Nature.INTEGRITY, "归档信息包元数据完整性检测", stages=STAGES, group="package")
def package_metadata_complete(ctx: CheckContext) -> Verdict:
    if (bad := _unassessable(ctx)) is not None:
        return bad
    result, view = inspection(ctx)
    desc = result.description
    if desc is None:
        return Verdict.fail("封装包描述缺失或无法读取，封装元数据无法检测",
                            codes(result.problems, "description.malformed", "layout.missing"))
    problems: Problems = [p for p in codes(result.problems, "description.invalid")
                          if "Missing child" in p["found"] or "minLength" in p["found"]]
    info = dict(view.info)
    problems += [Problem("baginfo.field_missing", BAG_INFO, field=k, expected=k,
                         note=f"bag-info.txt 缺少 {k}")
                 for k in REQUIRED_INFO if _empty(info.get(k))]
    for keys, name in _ENCAPSULATION:
        if _empty(_g(desc, *keys)):
            problems.append(Problem("metadata.missing", DESCRIPTION, field=name, expected=name,
                                    note=f"封装元数据“{name}”缺失或为空"))
    so = desc.get("signed_object") or {}
    if so.get("package_type") == "modified":
        sup = so.get("supersedes") or {}
        for k, name in (("aip_id", "封装包标识符"), ("version", "封装包版本"), ("reason", "修改原因")):
            if _empty(sup.get(k)):
                problems.append(Problem("metadata.missing", DESCRIPTION, field=f"被修改封装包/{name}",
                                        expected=name, note=f"修改型封装包缺少被修改封装包的“{name}”"))
    for d in documents_of(desc):
        where = f"文档[{d.get('seq')}]"
        for keys, name in _DOC_FIELDS:
            if _empty(_g(d, *keys)):
                problems.append(Problem("metadata.missing", d.get("path") or DESCRIPTION,
                                        field=f"{where}/{name}", expected=name,
                                        note=f"{where} 缺少“{name}”"))
        if _empty(_g(d, "format", "media_type")) and _empty(_g(d, "format", "declared_media_type")):
            problems.append(Problem("metadata.missing", d.get("path") or DESCRIPTION,
                                    field=f"{where}/格式信息", expected="格式信息/MIME媒体类型",
                                    note=f"{where} 缺少格式信息"))
    events = _g(so, "content", "events") or []
    if not events or events[-1].get("step") != "archive":
        problems.append(Problem("metadata.missing", DESCRIPTION, field="业务实体块",
                                expected="archive",
                                found=events[-1].get("step") if events else None,
                                note="业务实体块缺少最后的“存档”业务实体"))
    if not _g(so, "content", "agents"):
        problems.append(Problem("metadata.missing", DESCRIPTION, field="机构人员实体块",
                                expected="机构人员", note="机构人员实体块为空"))
    return Verdict.from_problems(problems, "封装元数据（DA/T 48 封装包各块）齐全", "封装元数据不完整")


@check("GD-2-11", Nature.INTEGRITY, "归档信息包内容数据完整性检测", stages=STAGES, group="package")
def package_content_count(ctx: CheckContext) -> Verdict:
    if (bad := _unassessable(ctx)) is not None:
        return bad
    result, view = inspection(ctx)
    prefix = FILES_PREFIX
    present = sorted(p for p in view.files if p.startswith(prefix))
    counts = {"信息包内容文件": len(present), "描述文件文档": len(documents_of(result.description))}
    for alg, entries in view.manifests.items():
        counts[f"manifest-{alg}.txt 内容文件行"] = sum(1 for p in entries if p.startswith(prefix))
    case = _json_or_none(view.read(CASE_JSON)) if CASE_JSON in view.files else None
    if isinstance(case, dict) and isinstance(case.get("files"), list):
        counts["case.json 登记文件"] = len(case["files"])
    problems = [Problem("count.mismatch", None, field=name, expected=len(present), found=n,
                        note=f"{name}为 {n} 个，信息包实有内容文件 {len(present)} 个")
                for name, n in counts.items() if n != len(present)]
    problems += [p for p in codes(result.problems, "description.count_mismatch", "description.file_",
                                  "file.missing", "file.unlisted")
                 if p["path"] is None or p["path"] == DESCRIPTION or str(p["path"]).startswith(prefix)]
    summary = "，".join(f"{k} {v}" for k, v in counts.items())
    return Verdict.from_problems(problems, f"内容文件数一致：{summary}", "信息包内容文件数与元数据记录不符")


@check("GD-3-1", Nature.USABILITY, "信息包中元数据的可读性检测", stages=STAGES, group="package")
def metadata_readable(ctx: CheckContext) -> Verdict:
    if (bad := _unassessable(ctx)) is not None:
        return bad
    result, view = inspection(ctx)
    problems = codes(result.problems, "description.malformed", "metadata.", "baginfo.encoding",
                     "manifest.encoding", "signature.malformed")
    reported = {p["path"] for p in problems}
    for rel in ("bagit.txt", BAG_INFO, DESCRIPTION, *(p for p in sorted(view.files) if p.endswith(".txt")
                                                      and "/" not in p and p not in ("bagit.txt", BAG_INFO))):
        if rel not in view.files:
            continue
        try:
            text = view.read(rel).decode("utf-8")
        except UnicodeDecodeError as exc:
            if rel not in reported:
                problems.append(Problem("metadata.unreadable", rel, expected="UTF-8",
                                        note=f"{rel} 不是 UTF-8 编码：{exc}"))
            continue
        if "\ufffd" in text:
            problems.append(Problem("metadata.mojibake", rel, expected="无乱码",
                                    found=f"{text.count(chr(0xFFFD))} 处",
                                    note=f"{rel} 含替换字符 U+FFFD（乱码）"))
    return Verdict.from_problems(problems, "信息包元数据文件均可解析（UTF-8 XML/JSON，无乱码）",
                                 "信息包元数据不可读或含乱码")
