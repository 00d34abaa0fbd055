"""Source authenticity and duplicates: GD-1-1-1 signature, GD-1-1-2 digests, GD-1-8.

The source system's signature covers the exact bytes of case.json, and case.json carries
every file's digest, so GD-1-1-1 plus GD-1-1-2 together prove that what arrived is what
the source system sent.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from .. import signing
from ..errors import KeyError_, SignatureError
from ..problem import Problem
from ..vocabulary import RECORD_STATUSES
from .context import CheckContext, TrustedKey
from .engine import Nature, Verdict, check
from .items_metadata import conclude, listed_files, unreadable

STATUS_NAMES = RECORD_STATUSES


@check("GD-1-1-1", Nature.AUTHENTICITY, "来源签名有效性检测")
def source_signature(ctx: CheckContext) -> Verdict:
    if ctx.case_bytes is None:
        return Verdict.fail("缺少 case.json，没有可核验签名的数据",
                            [Problem("signature.case_missing", "case.json", note="case.json 缺失")])
    if ctx.signature_bytes is None:
        return Verdict.fail("缺少签名文件 case.json.sig，无法证明来源",
                            [Problem("signature.missing", "case.json.sig", expected="来源系统的分离签名",
                                     found="缺失", note="签名文件缺失")])
    try:
        sig = signing.DetachedSignature.from_json(ctx.signature_bytes)
    except SignatureError as exc:
        return Verdict.fail(f"签名文件格式错误：{exc.message}",
                            [Problem("signature.malformed", "case.json.sig", found=exc.message,
                                     note="签名文件格式错误")])
    system = ctx.case.get("source_system") if isinstance(ctx.case, dict) else None
    if not isinstance(system, str):
        return Verdict.fail("无法从 case.json 取得来源系统标识（source_system），签名无法核验",
                            [Problem("signature.system_missing", "$.source_system", found="缺失或无法读取",
                                     note="来源系统标识缺失")])
    who = {"system": system, "key_id": sig.key_id, "alg": sig.alg}
    ev: dict[str, Any] = {"path": "case.json.sig", **who}

    def refused(code: str, note: str, expected: Any = None, found: Any = None) -> list[Problem]:
        return [Problem(code, "case.json.sig", expected=expected, found=found, note=note,
                        extra=who)]

    keys = [k for k in ctx.trusted_keys if k.system == system]
    if not keys:
        return Verdict.fail(f"来源系统 {system} 未在信任库中登记",
                            refused("signature.system_unknown", f"来源系统 {system} 未登记"))
    key: TrustedKey | None = next((k for k in keys if k.key_id == sig.key_id), None)
    if key is None:
        return Verdict.fail(f"密钥 {sig.key_id} 不是来源系统 {system} 登记的密钥",
                            refused("signature.key_unknown", f"未知密钥 {sig.key_id}",
                                    [k.key_id for k in keys], sig.key_id))
    if key.revoked:
        return Verdict.fail(f"来源系统 {system} 的密钥 {sig.key_id} 已被吊销，签名不予认可",
                            refused("signature.key_revoked", f"密钥 {sig.key_id} 已吊销"))
    if sig.alg != key.algorithm:
        return Verdict.fail(f"签名算法 {sig.alg} 与登记的密钥算法 {key.algorithm} 不一致",
                            refused("signature.algorithm_mismatch", "签名算法与登记密钥不一致",
                                    key.algorithm, sig.alg))
    if sig.alg not in signing.ALGORITHMS:
        return Verdict.fail(f"不支持的签名算法 {sig.alg}（支持 {', '.join(signing.ALGORITHMS)}）",
                            refused("signature.algorithm_unsupported", f"不支持的签名算法 {sig.alg}",
                                    list(signing.ALGORITHMS), sig.alg))
    try:
        signing.verify(key.public_key_pem, sig, ctx.case_bytes)
    except KeyError_ as exc:
        return Verdict.fail(f"信任库中密钥 {sig.key_id} 的公钥无法读取：{exc.message}",
                            refused("signature.key_unreadable", "登记公钥无法读取"))
    except SignatureError as exc:
        return Verdict.fail(f"签名验证失败：case.json 与来源系统 {system} 密钥 {sig.key_id} 的签名不符"
                            f"（{exc.message}）",
                            refused("signature.invalid", "签名与 case.json 内容不符（内容被改动或签名错误）"))
    return Verdict.ok(f"来源签名有效（系统 {system}，密钥 {sig.key_id}，算法 {sig.alg}）", [ev])


@check("GD-1-1-2", Nature.AUTHENTICITY, "电子文件数字摘要检测")
def file_digests(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    entries = listed_files(ctx)
    if not entries:
        return Verdict.fail("case.json 未列出任何文件，无法核对数字摘要",
                            [Problem("source.no_files", "$.files", note="文件清单为空或缺失")])
    problems, compared = [], 0
    for jp, entry in entries:
        rel = ctx.listed_path(entry)
        fid = entry.get("id", jp)
        facts = ctx.files.get(rel) if rel else None
        if facts is None:
            problems.append(Problem("source.file_missing", jp, field="文件", expected="文件存在",
                                    found=rel or "无路径", note=f"文件 {fid}（{rel}）不存在，无法核对摘要"))
            continue
        for alg, actual in (("sha256", facts.sha256), ("sm3", facts.sm3)):
            listed = entry.get(alg)
            if listed is None and alg == "sm3":
                continue
            if not isinstance(listed, str) or len(listed) != 64:
                problems.append(Problem("source.digest_missing", f"{jp}.{alg}",
                                        field=f"{alg.upper()} 摘要", expected=actual,
                                        found=listed,
                                        note=f"文件 {fid} 未给出有效的 {alg.upper()} 摘要，无法核对"))
            elif listed.lower() != actual.lower():
                problems.append(Problem("source.digest_mismatch", f"{jp}.{alg}",
                                        field=f"{alg.upper()} 摘要", expected=listed, found=actual,
                                        note=f"文件 {fid}（{rel}）的 {alg.upper()} 摘要与收到的内容不符",
                                        extra={"file": rel, "algorithm": alg}))
            else:
                compared += 1
    return Verdict.from_problems(problems, f"{len(entries)} 个文件的数字摘要（{compared} 项）与内容一致",
                                 "文件数字摘要不符")


def _status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


@check("GD-1-8", Nature.AUTHENTICITY, "元数据项数据重复性检测")
def duplicates(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    case, cat = ctx.case, ctx.catalogue
    problems: list[Problem] = []
    case_sha = hashlib.sha256(ctx.case_bytes or b"").hexdigest()
    same = list(cat.same_case) if cat else []
    supersedes = case.get("supersedes")
    identical = any(p.case_sha256 == case_sha for p in same)
    ident = f"{case.get('source_system')}/{case.get('case_id')}"
    if same and not identical and not supersedes:
        codes = [p.archival_code for p in same]
        problems.append(Problem("source.already_filed", "$.case_id", field="办件编号",
                                expected="未归档的办件，或以 supersedes 标明的更正", found=codes,
                                note=f"办件 {ident} 已归档（档号 {'、'.join(codes)}），内容不同；"
                                       "如为更正，请用 supersedes 标明被更正版本并说明更正原因"))
    target = cat.supersedes_target if cat else None
    if isinstance(supersedes, str) and supersedes and not identical:
        if target is None:
            problems.append(Problem("source.supersedes_unknown", "$.supersedes", field="被更正版本",
                                    expected="已归档的档号或 AIP 标识", found=supersedes,
                                    note=f"被更正版本 {supersedes} 不存在"))
        elif target.status != "active":
            problems.append(Problem("source.supersedes_not_current", "$.supersedes",
                                    field="被更正版本", expected="现行版本",
                                    found=f"{target.archival_code}（{_status_name(target.status)}）",
                                    note=f"被更正版本 {supersedes}（档号 {target.archival_code}）"
                                    f"{_status_name(target.status)}，不能再次更正"))
        elif target.aip_id not in {p.aip_id for p in same}:
            problems.append(Problem("source.supersedes_other_case", "$.supersedes",
                                    field="被更正版本", expected=f"办件 {ident} 的已归档版本",
                                    found=target.archival_code,
                                    note=f"被更正版本 {supersedes} 不属于办件 {ident}"))
    own = {p.archival_code for p in same} | ({target.archival_code} if target else set())
    holders = [c for c in (cat.decision_no_holders if cat else []) if c not in own]
    if holders:
        decision_no = (case.get("result") or {}).get("decision_no") if isinstance(
            case.get("result"), dict) else None
        problems.append(Problem("source.decision_no_taken", "$.result.decision_no", field="文号",
                                expected="未被其他办件使用", found=holders,
                                note=f"文号 {decision_no} 已被其他档案使用（档号 {'、'.join(holders)}）"))
    problems.extend(_duplicate_files(listed_files(ctx)))
    if identical and not problems:
        return Verdict.ok("与已归档版本完全相同（重复提交），由接收环节按原回执答复",
                          [{"path": "case.json", "case_sha256": case_sha}])
    unassessed = [Problem("source.identity_missing", f"$.{key}", field=name, expected="字符串",
                          found="缺失或类型错误", note=f"{name}缺失或类型错误，无法检测办件是否重复")
                  for key, name in (("source_system", "来源系统标识"), ("case_id", "办件编号"))
                  if not isinstance(case.get(key), str)]
    return conclude(problems, unassessed, "办件编号、文号与文件标识均无重复", "元数据重复")


def _duplicate_files(entries: list[tuple[str, dict[str, Any]]]) -> list[Problem]:
    """File ids used twice, and paths that collide (also when differing only in case)."""
    out = []
    for key, name in (("id", "文件标识"), ("path", "计算机文件名")):
        seen: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for jp, entry in entries:
            value = entry.get(key)
            if isinstance(value, str):
                seen[value.casefold() if key == "path" else value].append((jp, value))
        for hits in seen.values():
            if len(hits) > 1:
                where = "、".join(jp for jp, _ in hits)
                values = sorted({v for _, v in hits})
                out.append(Problem("source.duplicate_value", f"{hits[1][0]}.{key}", field=name,
                                   expected="唯一", found=values,
                                   note=f"{name} {'/'.join(values)} 在 {where} 重复出现"))
    return out
