"""Metadata check items driven by the case metadata scheme (``case_schema.METADATA``).

GD-1-2 length, GD-1-3 type/format, GD-1-4 value range, GD-1-5 plausibility (GD-1-6
special characters is in ``items_special_chars``), DG-1-1 identity check digits, GD-2-3 elements present, GD-2-4
mandatory/conditional values filled. Each walks every occurrence of every element and
reports all problems; a case.json that cannot be read makes each item say it could not
assess, never pass.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from ..case_schema import (
    CONDITIONS,
    METADATA,
    METADATA_BY_PATH,
    MISSING,
    TYPE_NAMES,
    Element,
    instances,
    json_type_name,
    parse_datetime,
    shown,
    type_matches,
)
from ..identity import ID_TYPE_NAMES, validate_party_id
from ..problem import Problem
from ..vocabulary import PARTY_ROLES
from .context import CheckContext
from .engine import Nature, Result, Stage, Verdict, check

CLOCK_SKEW = timedelta(minutes=5)
EVENT_LOOKBACK = timedelta(days=366)
META_STAGES = (Stage.GD, Stage.YJ)

# Elements whose text may span lines (tab, CR, LF allowed).
MULTILINE = frozenset({"result.summary", "events[].note", "events[].action", "correction_reason"})


def unreadable(ctx: CheckContext) -> Verdict | None:
    """A 'cannot assess' verdict when case.json is missing or not a JSON object."""
    if ctx.case is None:
        why = ctx.case_error or "case.json 缺失"
        return Verdict.fail(f"case.json 无法读取（{why}），本项无法检测",
                            [Problem("case.unreadable", "case.json", found=why, note="case.json 无法读取")])
    if not isinstance(ctx.case, dict):
        return Verdict.fail("case.json 不是 JSON 对象，本项无法检测",
                            [Problem("case.not_object", "case.json", expected="对象",
                                     found=json_type_name(ctx.case), note="case.json 不是对象")])
    return None


def conclude(problems: list[Problem], unassessed: list[Problem], ok_message: str,
             fail_message: str, *, result_on_problems: Result = Result.FAIL) -> Verdict:
    """Fail (or ``result_on_problems``) on problems; warn when some values could not be
    assessed (absent parents, wrong types): a partial look must never read as a pass."""
    if problems:
        return Verdict.from_problems(problems + unassessed, ok_message, fail_message,
                                     result_on_problems=result_on_problems)
    return Verdict.from_problems(unassessed, ok_message, "部分元数据项无法检测",
                                 result_on_problems=Result.WARN)


def ill_typed(jp: str, el: Element, what: str) -> Problem:
    return Problem("case.wrong_type", jp, field=el.name, expected=TYPE_NAMES[el.type],
                   found="类型错误", note=f"{el.name}（{jp}）类型错误，无法检测{what}")


def listed_files(ctx: CheckContext) -> list[tuple[str, dict[str, Any]]]:
    """(JSON path, entry) for every ``files`` entry of case.json that is an object."""
    return [(jp, e) for jp, e in instances(ctx.case, "files[]") if isinstance(e, dict)]


def typed_instances(case: dict[str, Any], element: Element):
    """Occurrences of ``element`` that are present and of the right type."""
    for jp, value in instances(case, element.path):
        if value is not MISSING and type_matches(element, value):
            yield jp, value


@check("GD-1-2", Nature.AUTHENTICITY, "元数据项数据长度检测", stages=META_STAGES)
def metadata_length(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    problems, unassessed = [], []
    for el in METADATA:
        if el.max_length is None:
            continue
        unit = "项" if el.type == "array" else "字符"
        for jp, value in instances(ctx.case, el.path):
            if value is MISSING:
                continue
            if not type_matches(el, value):
                unassessed.append(ill_typed(jp, el, "长度"))
            elif len(value) > el.max_length:
                problems.append(Problem("case.too_long", jp, field=el.name,
                                        expected=f"≤ {el.max_length} {unit}",
                                        found=f"{len(value)} {unit}",
                                        note=f"{el.name}（{jp}）长 {len(value)} {unit}，超过 {el.max_length} {unit}"))
    return conclude(problems, unassessed, "各元数据项长度均在规定范围内", "元数据项超长")


@check("GD-1-3", Nature.AUTHENTICITY, "元数据项数据类型、格式检测", stages=META_STAGES)
def metadata_type_format(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    problems = []
    for el in METADATA:
        for jp, value in instances(ctx.case, el.path):
            if value is MISSING:
                continue
            if not type_matches(el, value):
                found = TYPE_NAMES.get(json_type_name(value), json_type_name(value))
                problems.append(Problem("case.wrong_type", jp, field=el.name,
                                        expected=TYPE_NAMES[el.type], found=found,
                                        note=f"{el.name}（{jp}）应为{TYPE_NAMES[el.type]}，实为{found}"))
            elif el.type == "date-time" and parse_datetime(value) is None:
                problems.append(Problem("case.bad_datetime", jp, field=el.name,
                                        expected="带时区的 ISO 8601 日期时间，如 2024-03-01T09:00:00+08:00",
                                        found=shown(value),
                                        note=f"{el.name}（{jp}）不是带时区的有效日期时间：{shown(value)!r}"))
            elif el.pattern and el.type == "string" and value and not _fullmatch(el.pattern, value):
                problems.append(Problem("case.bad_pattern", jp, field=el.name,
                                        expected=el.pattern, found=shown(value),
                                        note=f"{el.name}（{jp}）格式不符：{shown(value)!r}"))
    problems.extend(_unknown_elements(ctx.case))
    return Verdict.from_problems(problems, "各元数据项类型与格式正确", "元数据项类型或格式错误")


def _fullmatch(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is not None


def _unknown_elements(case: dict[str, Any]) -> list[Problem]:
    """Keys that no element of the scheme defines (the schema forbids them)."""
    out = []
    objects = [("", "$", case)]
    while objects:
        prefix, jp, node = objects.pop()
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            child_jp = f"{jp}.{key}"
            if path not in METADATA_BY_PATH:
                out.append(Problem("case.unknown_element", child_jp, field=key,
                                   expected="方案内元素", found=key, note=f"{child_jp} 不是元数据方案规定的元素"))
                continue
            if isinstance(value, dict):
                objects.append((path, child_jp, value))
            elif isinstance(value, list) and f"{path}[]" in METADATA_BY_PATH:
                for n, item in enumerate(value):
                    if isinstance(item, dict):
                        objects.append((f"{path}[]", f"{child_jp}[{n}]", item))
    return sorted(out, key=lambda p: p.path or "")


@check("GD-1-4", Nature.AUTHENTICITY, "设定值域的元数据项值域符合度检测", stages=META_STAGES)
def metadata_value_range(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    problems, unassessed = [], []
    for el in METADATA:
        if el.values is None and el.minimum is None and el.maximum is None:
            continue
        for jp, value in instances(ctx.case, el.path):
            if value is MISSING:
                continue
            if not type_matches(el, value):
                unassessed.append(ill_typed(jp, el, "值域"))
                continue
            if el.values is not None and value not in el.values:
                problems.append(Problem("case.value_not_allowed", jp, field=el.name,
                                        expected=" / ".join(el.values), found=shown(value),
                                        note=f"{el.name}（{jp}）取值 {shown(value)!r} 不在值域内"))
            if el.type == "integer" and el.minimum is not None and value < el.minimum:
                problems.append(Problem("case.below_minimum", jp, field=el.name,
                                        expected=f"≥ {el.minimum}", found=value,
                                        note=f"{el.name}（{jp}）为 {value}，小于 {el.minimum}"))
            if el.type == "integer" and el.maximum is not None and value > el.maximum:
                problems.append(Problem("case.above_maximum", jp, field=el.name,
                                        expected=f"≤ {el.maximum}", found=value,
                                        note=f"{el.name}（{jp}）为 {value}，大于 {el.maximum}"))
    item_problems, item_unassessed = _service_item_problems(ctx)
    return conclude(problems + item_problems, unassessed + item_unassessed,
                    "设定值域的元数据项取值均在值域内", "元数据项取值超出值域")


def _service_item_problems(ctx: CheckContext) -> tuple[list[Problem], list[Problem]]:
    """(problems, unassessed) of the service item against the filing configuration."""
    item = ctx.case.get("service_item")
    code = item.get("code") if isinstance(item, dict) else None
    if not isinstance(code, str):
        return [], [Problem("case.service_item_unreadable", "$.service_item.code", field="事项编码",
                            expected="字符串", found="缺失或类型错误", note="事项编码缺失或类型错误，无法核对归档配置")]
    rule = ctx.filing_rules.get(code)
    if rule is None:
        note = (f"事项编码 {code} 不在归档配置中" if ctx.filing_rules
                else f"未提供归档配置，无法核对事项编码 {code}")
        return [Problem("case.service_item_unknown", "$.service_item.code", field="事项编码",
                        expected="归档配置中的事项编码", found=code, note=note)], []
    name = item.get("name")
    if isinstance(name, str) and name.strip() != rule.name.strip():
        return [Problem("case.service_item_name", "$.service_item.name", field="事项名称",
                        expected=rule.name, found=shown(name),
                        note=f"事项名称 {shown(name)!r} 与归档配置中事项 {code} 的名称“{rule.name}”不一致")], []
    return [], []


def _when(ctx: CheckContext, key: str) -> datetime | None:
    return parse_datetime(ctx.case.get(key))


@check("GD-1-5", Nature.AUTHENTICITY, "元数据项数据值合理性检测", stages=META_STAGES)
def metadata_plausibility(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    problems: list[Problem] = []
    latest = ctx.now + CLOCK_SKEW
    accepted, completed = _when(ctx, "accepted_at"), _when(ctx, "completed_at")
    for key, name, when in (("accepted_at", "受理时间", accepted), ("completed_at", "办结时间", completed)):
        if when is not None and when > latest:
            problems.append(Problem("case.time_in_future", f"$.{key}", field=name,
                                    expected=f"≤ 当前时间 {ctx.now.isoformat()}",
                                    found=ctx.case[key], note=f"{name} {ctx.case[key]} 晚于当前时间"))
    if accepted and completed and completed < accepted:
        problems.append(Problem("case.completed_before_accepted", "$.completed_at",
                                field="办结时间", expected=f"≥ 受理时间 {ctx.case['accepted_at']}",
                                found=ctx.case["completed_at"], note="办结时间早于受理时间"))
    unassessed = [Problem("case.time_missing", f"$.{key}", field=name, expected="带时区的日期时间",
                          found="缺失或无效", note=f"{name}缺失或无效，无法检测时间先后")
                  for key, name, when in (("accepted_at", "受理时间", accepted),
                                          ("completed_at", "办结时间", completed)) if when is None]
    problems.extend(_event_time_problems(ctx, accepted, completed, latest))
    for jp, entry in typed_instances(ctx.case, METADATA_BY_PATH["files[]"]):
        for key, name in (("size", "计算机文件大小"), ("pages", "页数")):
            value = entry.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
                problems.append(Problem("case.not_positive", f"{jp}.{key}", field=name,
                                        expected="> 0", found=value,
                                        note=f"文件 {entry.get('id', jp)} 的{name}为 {value}，应大于 0"))
        created = parse_datetime(entry.get("created_at"))
        if created is not None and created > latest:
            problems.append(Problem("case.time_in_future", f"{jp}.created_at", field="形成时间",
                                    expected="≤ 当前时间", found=entry["created_at"],
                                    note=f"文件 {entry.get('id', jp)} 的形成时间晚于当前时间"))
    return conclude(problems, unassessed, "元数据项取值合理（时间先后、大小、页数）", "元数据项取值不合理")


def _event_time_problems(ctx: CheckContext, accepted: datetime | None,
                         completed: datetime | None, latest: datetime) -> list[Problem]:
    out = []
    previous: tuple[datetime, Any] | None = None
    for jp, event in typed_instances(ctx.case, METADATA_BY_PATH["events[]"]):
        at = parse_datetime(event.get("at"))
        if at is None:
            continue
        seq = event.get("seq", jp)
        if previous is not None and at < previous[0]:
            out.append(Problem("case.event_out_of_order", f"{jp}.at", field="行为时间",
                               expected=f"≥ 上一行为（序号 {previous[1]}）时间", found=event["at"],
                               note=f"序号 {seq} 的行为时间早于序号 {previous[1]}"))
        previous = (at, seq)
        if accepted is not None and at < accepted - EVENT_LOOKBACK:
            out.append(Problem("case.event_too_early", f"{jp}.at", field="行为时间",
                               expected="不早于受理时间前一年", found=event["at"],
                               note=f"序号 {seq} 的行为时间早于受理时间一年以上"))
        if completed is not None and at > completed:
            out.append(Problem("case.event_after_completion", f"{jp}.at", field="行为时间",
                               expected=f"≤ 办结时间 {ctx.case['completed_at']}", found=event["at"],
                               note=f"序号 {seq} 的行为时间晚于办结时间"))
        elif at > latest:
            out.append(Problem("case.time_in_future", f"{jp}.at", field="行为时间",
                               expected="≤ 当前时间", found=event["at"],
                               note=f"序号 {seq} 的行为时间晚于当前时间"))
    return out


def mask_id(number: str) -> str:
    """Shows the first 6 and last 4 characters only: reports must not spread full IDs."""
    return number if len(number) <= 10 else number[:6] + "*" * (len(number) - 10) + number[-4:]


@check("DG-1-1", Nature.AUTHENTICITY, "当事人证件号码校验码检测", stages=META_STAGES)
def party_id_check_digits(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    parties = [(jp, PARTY_ROLES["applicant"], p) for jp, p in instances(ctx.case, "applicant")
               if isinstance(p, dict)]
    parties += [(jp, PARTY_ROLES["subject"], p) for jp, p in instances(ctx.case, "subjects[]")
                if isinstance(p, dict)]
    if not parties:
        return Verdict.fail("case.json 中没有可读的申请人或业务对象，无法校验证件号码",
                            [Problem("case.no_party", "$.applicant", note="申请人与业务对象均缺失或格式错误")])
    problems, checked = [], 0
    for jp, role, party in parties:
        id_type, number = party.get("id_type"), party.get("id_number")
        if id_type not in ("resident_id", "credit_code") or not isinstance(number, str):
            continue
        checked += 1
        reason = validate_party_id(id_type, number)
        if reason:
            who = party.get("name") if isinstance(party.get("name"), str) else jp
            problems.append(Problem("case.id_check_digit", f"{jp}.id_number",
                                    field=f"{role}证件号码", expected=ID_TYPE_NAMES[id_type],
                                    found=mask_id(number), note=f"{role} {who}（{jp}）：{reason}"))
    if not problems and checked == 0:
        return Verdict.ok("当事人均未使用带校验码的证件（居民身份证、统一社会信用代码），无需校验")
    return Verdict.from_problems(problems, f"{checked} 个当事人证件号码校验码正确", "证件号码校验不通过")


@check("GD-2-3", Nature.INTEGRITY, "元数据项完整性检测", stages=META_STAGES)
def metadata_elements_present(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    problems = []
    for el in METADATA:
        if el.constraint != "M":
            continue
        for jp, value in instances(ctx.case, el.path):
            if value is MISSING:
                problems.append(Problem("case.element_missing", jp, field=el.name,
                                        expected="存在", found="缺失",
                                        note=f"必选元素 {el.name}（{jp}）缺失"))
    return Verdict.from_problems(problems, "元数据方案规定的必选元素齐全", "元数据元素缺失")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not (
        value.strip() if isinstance(value, str) else value))


@check("GD-2-4", Nature.INTEGRITY, "元数据必填著录项目检测", stages=META_STAGES)
def metadata_mandatory_filled(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    problems = []
    for el in METADATA:
        if el.constraint != "M" or el.may_be_empty:
            continue
        for jp, value in instances(ctx.case, el.path):
            if value is not MISSING and _is_empty(value):
                problems.append(Problem("case.mandatory_empty", jp, field=el.name,
                                        expected="非空", found=shown(value),
                                        note=f"必填项 {el.name}（{jp}）为空"))
    for target, trigger in CONDITIONS:
        el, parent_path = METADATA_BY_PATH[target], target.rsplit(".", 1)
        key, trigger_key = parent_path[-1], trigger.rsplit(".", 1)[-1]
        holders = instances(ctx.case, parent_path[0]) if len(parent_path) == 2 else [("$", ctx.case)]
        for jp, parent in holders:
            if not isinstance(parent, dict) or _is_empty(parent.get(trigger_key)):
                continue
            if key not in parent or _is_empty(parent.get(key)):
                child = f"{jp}.{key}"
                problems.append(Problem("case.conditional_empty", child, field=el.name,
                                        expected=f"非空（{el.condition}）", found="缺失或为空",
                                        note=f"条件必填项 {el.name}（{child}）未填写：{el.condition}"))
    return Verdict.from_problems(problems, "必填与已触发的条件必填著录项均已填写", "必填著录项为空")
