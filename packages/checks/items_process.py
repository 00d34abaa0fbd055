"""Process-trail items: GD-2-5 trail complete, GD-2-6 continuity, GD-2-8 file references,
GD-2-9 filing scope.

The trail is lead? → accept+ → handle* → feedback (引导 → 受理 → 办理 → 反馈), exactly one
feedback, last; Dangan appends ``archive`` (存档) itself. Every problem names its event
by ``seq``.
"""

from __future__ import annotations

from typing import Any

from ..case_schema import (
    DOCUMENT_KIND_NAMES,
    OUTCOME_NAMES,
    STEP_NAMES,
    SUBMISSION_STEPS,
    instances,
    parse_datetime,
)
from ..problem import Problem
from .context import CheckContext
from .engine import Nature, Result, Stage, Verdict, check
from .items_metadata import conclude, listed_files, unreadable

STEP_RANK = {step: rank for rank, step in enumerate(SUBMISSION_STEPS)}
TRAIL_STAGES = (Stage.GD, Stage.YJ)


def _events(ctx: CheckContext) -> list[tuple[str, Any]] | None:
    events = ctx.case.get("events")
    if not isinstance(events, list):
        return None
    return list(instances(ctx.case, "events[]"))


def _label(jp: str, event: Any) -> str:
    seq = event.get("seq") if isinstance(event, dict) else None
    return f"序号 {seq}" if isinstance(seq, int) and not isinstance(seq, bool) else jp


def _no_trail(what: str) -> Verdict:
    return Verdict.fail(f"case.json 的 events 缺失或不是数组，无法检测{what}",
                        [Problem("process.no_events", "$.events", note="过程信息缺失")])


@check("GD-2-5", Nature.INTEGRITY, "过程信息完整性检测", stages=TRAIL_STAGES)
def process_trail(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    events = _events(ctx)
    if events is None:
        return _no_trail("过程信息")
    problems: list[Problem] = []
    steps: list[tuple[str, str, str]] = []  # (json path, label, step) of well-formed steps
    for jp, event in events:
        label = _label(jp, event)
        if not isinstance(event, dict):
            problems.append(Problem("process.event_not_object", jp, field="业务行为", expected="对象",
                                    found=event, note=f"{jp} 不是业务行为对象"))
            continue
        step = event.get("step")
        if step == "archive":
            problems.append(Problem("process.archive_step_submitted", f"{jp}.step",
                                    field="业务环节", expected=" / ".join(SUBMISSION_STEPS),
                                    found=step, note=f"{label}：存档环节由 Dangan 归档时追加，提交中不得包含"))
        elif step not in STEP_RANK:
            problems.append(Problem("process.unknown_step", f"{jp}.step", field="业务环节",
                                    expected=" / ".join(SUBMISSION_STEPS), found=step,
                                    note=f"{label}：业务环节 {step!r} 不是引导/受理/办理/反馈之一"))
        else:
            steps.append((jp, label, step))
        problems.extend(_actor_problems(jp, label, event.get("actor")))
    problems.extend(_order_problems(steps, ctx.case))
    problems.extend(_time_problems(events))
    problems.extend(_refusal_problems(ctx, events))
    return Verdict.from_problems(problems, f"过程信息完整（{len(events)} 个业务行为，引导→受理→办理→反馈）",
                                 "过程信息不完整")


def _actor_problems(jp: str, label: str, actor: Any) -> list[Problem]:
    if not isinstance(actor, dict):
        return [Problem("process.actor_missing", f"{jp}.actor", field="行为人",
                        expected="对象（id、name、role）", found=actor, note=f"{label}：缺少行为人")]
    out = []
    for key, name in (("id", "行为人标识"), ("name", "行为人姓名"), ("role", "行为人角色")):
        value = actor.get(key)
        if not isinstance(value, str) or not value.strip():
            out.append(Problem("process.actor_incomplete", f"{jp}.actor.{key}", field=name,
                               expected="非空字符串", found=value, note=f"{label}：缺少{name}"))
    return out


def _order_problems(steps: list[tuple[str, str, str]], case: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    highest = -1
    for jp, label, step in steps:
        rank = STEP_RANK[step]
        if rank < highest:
            out.append(Problem("process.step_order", f"{jp}.step", field="业务环节",
                               expected=f"不早于{STEP_NAMES[SUBMISSION_STEPS[highest]]}",
                               found=step,
                               note=f"{label}：{STEP_NAMES[step]}环节出现在"
                                     f"{STEP_NAMES[SUBMISSION_STEPS[highest]]}环节之后，顺序错误"))
        highest = max(highest, rank)
    count = {s: sum(1 for _, _, st in steps if st == s) for s in SUBMISSION_STEPS}
    if count["lead"] > 1:
        out.append(Problem("process.lead_repeated", "$.events", field="业务环节",
                           expected="引导至多 1 次", found=count["lead"],
                           note=f"引导环节出现 {count['lead']} 次，应至多 1 次"))
    if count["accept"] == 0:
        out.append(Problem("process.accept_missing", "$.events", field="业务环节",
                           expected="至少 1 个受理", found=0, note="缺少受理环节"))
    result = case.get("result")
    outcome = result.get("outcome") if isinstance(result, dict) else None
    if count["handle"] == 0 and outcome != "not_accepted":
        out.append(Problem("process.handle_missing", "$.events", field="业务环节",
                           expected="至少 1 个办理", found=0,
                           note=f"缺少办理环节（办理结果为{OUTCOME_NAMES.get(outcome, outcome)}）"))
    if count["handle"] and outcome == "not_accepted":
        labels = "、".join(lb for _, lb, st in steps if st == "handle")
        out.append(Problem("process.handle_on_refusal", "$.events", field="业务环节",
                           expected="不予受理的办件无办理环节", found=count["handle"],
                           note=f"办理结果为不予受理，却有办理环节（{labels}）"))
    if count["feedback"] == 0:
        out.append(Problem("process.feedback_missing", "$.events", field="业务环节",
                           expected="恰好 1 个反馈且在最后", found=0, note="缺少反馈环节"))
    elif count["feedback"] > 1:
        labels = "、".join(lb for _, lb, st in steps if st == "feedback")
        out.append(Problem("process.feedback_repeated", "$.events", field="业务环节",
                           expected="恰好 1 个反馈", found=count["feedback"],
                           note=f"反馈环节出现 {count['feedback']} 次（{labels}），应恰好 1 次"))
    elif steps and steps[-1][2] != "feedback":
        out.append(Problem("process.feedback_not_last", f"{steps[-1][0]}.step", field="业务环节",
                           expected="最后一个环节为反馈", found=steps[-1][2],
                           note=f"{steps[-1][1]}：反馈之后还有{STEP_NAMES[steps[-1][2]]}环节"))
    return out


def _time_problems(events: list[tuple[str, Any]]) -> list[Problem]:
    out, previous = [], None
    for jp, event in events:
        if not isinstance(event, dict):
            continue
        at = parse_datetime(event.get("at"))
        if at is None:
            out.append(Problem("process.time_missing", f"{jp}.at", field="行为时间",
                               expected="带时区的日期时间", found=event.get("at"),
                               note=f"{_label(jp, event)}：行为时间缺失或无效"))
            continue
        if previous is not None and at < previous[0]:
            out.append(Problem("process.time_order", f"{jp}.at", field="行为时间",
                               expected=f"不早于{previous[1]}", found=event["at"],
                               note=f"{_label(jp, event)}：行为时间早于{previous[1]}"))
        previous = (at, _label(jp, event))
    return out


def _refusal_problems(ctx: CheckContext, events: list[tuple[str, Any]]) -> list[Problem]:
    """A case not accepted must carry its refusal notice on an accept step."""
    result = ctx.case.get("result")
    if not isinstance(result, dict) or result.get("outcome") != "not_accepted":
        return []
    kinds = {e.get("id"): e.get("kind") for _, e in listed_files(ctx)}
    for _, event in events:
        if isinstance(event, dict) and event.get("step") == "accept" and isinstance(event.get("files"), list):
            if any(kinds.get(fid) == "refusal_notice" for fid in event["files"] if isinstance(fid, str)):
                return []
    return [Problem("process.refusal_notice_missing", "$.events", field="相关文件",
                    expected="受理环节附不予受理决定书", found="无", note="办理结果为不予受理，但没有受理环节附有不予受理决定书")]


@check("GD-2-6", Nature.INTEGRITY, "连续性元数据项检测", stages=TRAIL_STAGES)
def continuity(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    events = _events(ctx)
    if events is None:
        return _no_trail("行为序号连续性")
    failures: list[Problem] = []
    seqs: list[int] = []
    for n, (jp, event) in enumerate(events, start=1):
        seq = event.get("seq") if isinstance(event, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool):
            failures.append(Problem("process.seq_invalid", f"{jp}.seq", field="行为序号",
                                    expected=n, found=seq, note=f"{jp} 的行为序号缺失或不是整数"))
            continue
        if seq != n:
            failures.append(Problem("process.seq_wrong", f"{jp}.seq", field="行为序号", expected=n,
                                    found=seq, note=f"第 {n} 个业务行为的序号为 {seq}，应为 {n}"))
        seqs.append(seq)
    present = set(seqs)
    gaps = [s for s in range(1, max(present, default=0) + 1) if s not in present]
    if gaps:
        failures.append(Problem("process.seq_gap", "$.events", field="行为序号", expected="1…n 无间断",
                                found=gaps, note=f"行为序号缺号：{'、'.join(map(str, gaps))}"))
    dups = sorted({s for s in seqs if seqs.count(s) > 1})
    if dups:
        failures.append(Problem("process.seq_duplicate", "$.events", field="行为序号",
                                expected="不重复", found=dups,
                                note=f"行为序号重复：{'、'.join(map(str, dups))}"))
    order = _file_order_problems(ctx, events)
    if failures:
        return Verdict.from_problems(failures + order, "", "行为序号不连续")
    return Verdict.from_problems(order, f"行为序号 1–{len(events)} 连续，文件按办理过程排列",
                                 "文件排列顺序与办理过程不一致", result_on_problems=Result.WARN)


def _file_order_problems(ctx: CheckContext, events: list[tuple[str, Any]]) -> list[Problem]:
    """Files should follow the trail: ordered by the first event that references them."""
    first: dict[str, int] = {}
    for n, (_, event) in enumerate(events):
        refs = event.get("files") if isinstance(event, dict) else None
        for fid in refs if isinstance(refs, list) else []:
            if isinstance(fid, str):
                first.setdefault(fid, n)
    out, latest = [], (-1, "")
    for jp, entry in listed_files(ctx):
        fid = entry.get("id")
        if not isinstance(fid, str) or fid not in first:
            continue
        pos = first[fid]
        if pos < latest[0]:
            label = _label(*events[pos])
            out.append(Problem("process.file_order", jp, field="文件顺序",
                               expected=f"排在文件 {latest[1]} 之前", found=fid,
                               note=f"文件 {fid}（首见于{label}）排在后续环节的文件 {latest[1]} 之后"))
        else:
            latest = (pos, fid)
    return out


@check("GD-2-8", Nature.INTEGRITY, "过程信息关联文件完整性检测", stages=TRAIL_STAGES)
def event_file_references(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    events = _events(ctx)
    if events is None:
        return _no_trail("过程信息与文件的关联")
    ids = {e.get("id") for _, e in listed_files(ctx) if isinstance(e.get("id"), str)}
    missing, referenced, unassessed = [], set(), []
    for jp, entry in instances(ctx.case, "files[]"):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            unassessed.append(Problem("process.file_unreadable", jp, field="电子文件",
                                      expected="带标识的文件对象", found="无法读取",
                                      note=f"{jp} 没有可读的文件标识，无法检测其关联"))
    for jp, event in events:
        refs = event.get("files") if isinstance(event, dict) else None
        if not isinstance(refs, list):
            unassessed.append(Problem("process.event_files_unreadable", jp, field="相关文件",
                                      expected="数组", found="缺失或类型错误",
                                      note=f"{_label(jp, event)} 没有可读的相关文件列表，无法检测其关联"))
        for n, fid in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(fid, str):
                referenced.add(fid)
            if not isinstance(fid, str) or fid not in ids:
                missing.append(Problem("process.file_reference_unknown", f"{jp}.files[{n}]",
                                       field="相关文件标识", expected="files 中的文件标识", found=fid,
                                       note=f"{_label(jp, event)} 引用的文件 {fid} 不在文件清单中"))
    unreferenced = [Problem("process.file_unreferenced", f"{jp}.id", field="文件标识",
                            expected="至少被一个业务行为引用", found=e["id"],
                            note=f"文件 {e['id']} 未被任何业务行为引用")
                    for jp, e in listed_files(ctx) if isinstance(e.get("id"), str) and e["id"] not in referenced]
    if missing:
        return Verdict.from_problems(missing + unreferenced + unassessed, "", "过程信息引用了不存在的文件")
    return conclude(unreferenced, unassessed, "过程信息引用的文件均存在，且每个文件都关联到业务行为",
                    "有文件未关联到业务行为", result_on_problems=Result.WARN)


@check("GD-2-9", Nature.INTEGRITY, "归档范围检测")
def filing_scope(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    item, result = ctx.case.get("service_item"), ctx.case.get("result")
    code = item.get("code") if isinstance(item, dict) else None
    outcome = result.get("outcome") if isinstance(result, dict) else None
    rule = ctx.filing_rules.get(code) if isinstance(code, str) else None
    if rule is None:
        return Verdict.fail(f"事项编码 {code} 不在归档配置中，无法确定归档范围",
                            [Problem("process.no_filing_rule", "$.service_item.code", found=code,
                                     note="无归档配置")])
    if outcome not in OUTCOME_NAMES:
        return Verdict.fail(f"办理结果 {outcome!r} 无效，无法确定归档范围",
                            [Problem("process.outcome_invalid", "$.result.outcome", found=outcome,
                                     note="办理结果无效")])
    required = tuple(rule.required_documents.get(outcome, ()))
    present = {e.get("kind") for _, e in listed_files(ctx)}
    problems = [Problem("process.document_missing", "$.files", field="文件类别", expected=kind,
                        found="缺失", note=f"缺少{DOCUMENT_KIND_NAMES.get(kind, kind)}（{kind}）")
                for kind in required if kind not in present]
    names = "、".join(DOCUMENT_KIND_NAMES.get(k, k) for k in required) or "无"
    return Verdict.from_problems(
        problems, f"事项 {code}（{OUTCOME_NAMES[outcome]}）应归档材料齐全：{names}",
        f"事项 {code}（{OUTCOME_NAMES[outcome]}）应归档材料不全")
