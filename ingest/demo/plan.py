"""Planning one case: who, when, which outcome, the process trail and which files.

The trail follows GB/T 31621's lead → accept → handle → feedback with the handling
patterns the seeds describe: window acceptance with 受理告知书 or 不予受理决定书,
one-time guidance (业务指引告知书) when materials are missing, 初审/复核 by different
staff, publicity for early retirement, instant online settlement for registrations,
the contact letter / information sheet exchange for transfers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from dangan.archive.filing_config import ServiceItem

from .facts import NOT_ACCEPTED_REASONS, REJECT_REASONS, WITHDRAW_REASONS, Facts, decide_amounts
from .people import AGENCIES, REGIONS, Agency, PeopleFactory, Person, Staff
from .profiles import DemoItem, Material, demo_item

CST = timezone(timedelta(hours=8), "Asia/Shanghai")
OUTCOME_WEIGHTS = {"approved": 82, "rejected": 7, "not_accepted": 6, "withdrawn": 5}
CHANNEL_WEIGHTS = {"window": 45, "online": 30, "mobile": 12, "self_service": 8, "home_visit": 5}
SYSTEM = {"id": "system", "name": "社会保险网上经办系统", "role": "system"}
PROXY = Material("授权委托书", "other", "digitized")
RECEIPT = Material("送达回证", "other", "digitized")
DECISION_ABBR = {"GL": "登", "ZJ": "征", "JL": "转", "ZF": "核", "QT": "档"}


@dataclass
class PlannedFile:
    id: str
    material: Material
    at: datetime
    step: int  # index into events
    role: str  # "received" | "issued"
    fmt: str = ""  # pdf | ofd | jpeg | tiff | tiff_g4 | scan_pdf | xml


@dataclass
class CasePlan:
    facts: Facts
    events: list[dict] = field(default_factory=list)
    files: list[PlannedFile] = field(default_factory=list)


def _workday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _at(d: date, rng: random.Random, lo: int = 9, hi: int = 17) -> datetime:
    return datetime(d.year, d.month, d.day, rng.randint(lo, hi - 1), rng.randint(0, 59),
                    rng.randint(0, 59), tzinfo=CST)


def _later(t: datetime, rng: random.Random, days: tuple[int, int]) -> datetime:
    """A working-hours moment ``days`` after ``t`` (never earlier than ``t``)."""
    n = rng.randint(*days)
    if n == 0:
        return t + timedelta(minutes=rng.randint(3, 90))
    return _at(_workday(t.date() + timedelta(days=n)), rng)


def _pick(weights: dict[str, int], allowed: tuple[str, ...] | None, rng: random.Random) -> str:
    keys = [k for k in weights if allowed is None or k in allowed]
    return rng.choices(keys, [weights[k] for k in keys])[0]


def _is_survivor_item(item: DemoItem) -> bool:
    return any(w in item.name for w in ("丧葬", "抚恤", "工亡", "供养亲属"))


def _parties(item: DemoItem, pf: PeopleFactory, on: date, rng: random.Random):
    person = unit = None
    if item.subject_kind == "unit":
        unit = pf.unit(institution="机关事业" in item.name)
        subject = unit
    else:
        code = item.classification_code
        if code.startswith("YL-ZF-HD") and "养老保险待遇" in item.name:
            sex = rng.choice("男女")
            age = (60, 60) if sex == "男" else rng.choice(((50, 50), (55, 55)))
            person = pf.person(age=age, on=on, sex=sex)
        elif _is_survivor_item(item):
            person = pf.person(age=(45, 88), on=on)
        elif code.endswith("-RZ") or "暂停" in item.name or "恢复" in item.name or "发放账户" in item.name:
            person = pf.person(age=(60, 92), on=on)
        elif "病残" in item.name:
            person = pf.person(age=(45, 58), on=on)
        else:
            person = pf.person(age=(18, 58), on=on)
        urban_resident = "城乡居民" in item.name or "灵活就业" in item.name
        if not urban_resident and (item.applicant_kind == "unit" or rng.random() < 0.7):
            unit = pf.unit(institution="机关事业" in item.name)
        subject = person
    if _is_survivor_item(item):
        applicant: Person | object = pf.person(
            age=(25, 70), on=on, surname=person.name[0] if rng.random() < 0.6 and person else None)
    elif item.applicant_kind == "unit" and unit is not None:
        applicant = unit
    else:
        applicant = subject
    return subject, applicant, person, unit


def _counterpart(agency: Agency, rng: random.Random) -> str:
    region = rng.choice([r for r in REGIONS if r[0] not in agency.regions])
    city = region[2]
    return f"{city}社会保险事业管理中心" if rng.random() < 0.6 else f"{city}{region[3]}社会保险经办中心"


def _materials_for(item: DemoItem, outcome: str, rng: random.Random) -> list[Material]:
    """One material per required kind (the withdrawal letter for a withdrawn ``other``)."""
    chosen: list[Material] = []
    for kind in item.required_documents[outcome]:
        candidates = item.materials_of(kind)
        if kind == "other":
            withdrawal = [m for m in candidates if "撤回" in m.title]
            others = [m for m in candidates if "撤回" not in m.title]
            candidates = (withdrawal if outcome == "withdrawn" else others) or candidates
        m = candidates[0] if candidates else Material(kind, kind)
        if kind == "decision" and item.decision_titles.get(outcome):
            m = Material(item.decision_titles[outcome], kind, m.origin)
        chosen.append(m)
    if outcome != "not_accepted":  # optional extras the item lists, e.g. an XML 参保人员信息表
        extras = [m for m in item.materials if m.kind in ("other", "evidence", "id_document")
                  and "撤回" not in m.title and m not in chosen]
        chosen += [m for m in extras if rng.random() < 0.6]
    return chosen


def plan_case(item: ServiceItem, rng: random.Random, *, outcome: str | None = None,
              year: int | None = None, case_id: str | None = None,
              agency: Agency | None = None, case_seq: int | None = None) -> CasePlan:
    item = demo_item(item)
    agency = agency or rng.choice(AGENCIES)
    pf = PeopleFactory(rng, agency)
    outcome = outcome or _pick(OUTCOME_WEIGHTS, None, rng)
    year = year or rng.randint(2019, 2024)
    accept_day = _workday(date(year, 1, 2) + timedelta(days=rng.randint(0, 350)))
    if accept_day.year != year:
        accept_day = _workday(date(year, 12, 1))
    subject, applicant, person, unit = _parties(item, pf, accept_day, rng)
    channels = item.channels if applicant is subject or item.applicant_kind == "unit" else ("window",)
    if applicant is unit:
        channels = tuple(c for c in channels if c in ("window", "online")) or ("window",)
    channel = _pick(CHANNEL_WEIGHTS, tuple(channels), rng)
    online = channel in ("online", "mobile", "self_service")
    accepted = _at(accept_day, rng, 7, 23) if online else _at(accept_day, rng)
    seq = case_seq if case_seq is not None else rng.randint(0, 999999)
    case_id = case_id or f"{agency.code}{accepted:%Y%m%d}{seq:06d}"
    facts = Facts(item=item, agency=agency, case_id=case_id, outcome=outcome, channel=channel,
                  subject=subject, applicant=applicant, person=person, unit=unit,  # type: ignore[arg-type]
                  accepted_at=accepted, completed_at=accepted)
    facts.notice_no = str(rng.randint(100, 9999))
    if outcome == "rejected":
        facts.reason = rng.choice(REJECT_REASONS[item.category_code])
    elif outcome == "not_accepted":
        facts.reason = rng.choice(NOT_ACCEPTED_REASONS)
    elif outcome == "withdrawn":
        facts.reason = rng.choice(WITHDRAW_REASONS)
    if item.classification_code[-2:] in ("ZC", "ZR"):
        facts.counterpart = _counterpart(agency, rng)
    decide_amounts(facts, rng)
    if outcome in ("approved", "rejected") and "decision" in item.required_documents[outcome]:
        abbr = DECISION_ABBR[item.category_code] if outcome == "approved" else "不"
        facts.decision_no = f"{agency.short}{abbr}〔{year}〕{rng.randint(1, 9999)}号"
    plan = CasePlan(facts)
    mats = _materials_for(item, outcome, rng)
    if channel == "window" and applicant is not subject and rng.random() < 0.6:
        mats.append(PROXY)  # the clerk acts for a unit or a survivor on a signed authorisation
    _trail(plan, pf, rng, mats)
    return plan


def _event(plan: CasePlan, step: str, at: datetime, actor: dict, action: str,
           note: str | None = None) -> int:
    ev = {"seq": len(plan.events) + 1, "step": step, "at": at, "actor": actor,
          "action": action, "files": []}
    if note:
        ev["note"] = note
    plan.events.append(ev)
    return len(plan.events) - 1


def _attach(plan: CasePlan, m: Material, step: int, role: str, at: datetime) -> None:
    fid = f"F{len(plan.files) + 1:02d}"
    plan.files.append(PlannedFile(fid, m, at, step, role))
    plan.events[step]["files"].append(fid)


def _trail(plan: CasePlan, pf: PeopleFactory, rng: random.Random, mats: list[Material]) -> None:
    f = plan.facts
    item, outcome = f.item, f.outcome
    online = f.channel in ("online", "mobile", "self_service")
    window: Staff = pf.staff("窗口人员")
    reviewer, rechecker = pf.staff("审核人员"), pf.staff("复核人员")
    accept_actor = SYSTEM if online else window.actor()
    code = item.classification_code
    transfer_in, transfer_out = code.endswith("-ZR"), code.endswith("-ZC")

    def issued(m: Material) -> bool:  # documents the agency itself produces during handling
        return m.kind in ("decision", "transfer_form") or (
            m.kind == "evidence" and m.origin == "born_digital") or (
            m.kind == "transfer_letter" and transfer_in) or (
            m.kind == "other" and m.origin == "born_digital")

    if f.channel == "window" and rng.random() < 0.25:
        lead_at = _at(_workday(f.accepted_at.date() - timedelta(days=rng.randint(3, 12))), rng)
        step = _event(plan, "lead", lead_at, window.actor(), "材料不齐全，一次性告知需补齐的材料")
        guide = (item.materials_of("guidance_notice") or [Material("业务指引告知书", "guidance_notice")])[0]
        _attach(plan, guide, step, "issued", lead_at)
    elif online and rng.random() < 0.15:
        _event(plan, "lead", f.accepted_at - timedelta(minutes=rng.randint(5, 40)), SYSTEM,
               "智能引导：推送办事指南与材料清单")
    t = f.accepted_at
    refusing = outcome == "not_accepted"
    step = _event(plan, "accept", t, accept_actor,
                  "审查申请材料，决定不予受理" if refusing else "材料齐全，予以受理")
    order = {"application_form": 0, "id_document": 1}
    for m in sorted(mats, key=lambda m: order.get(m.kind, 2)):
        if m.kind in ("acceptance_notice", "refusal_notice", "guidance_notice") or issued(m) or (
                m.kind == "other" and "撤回" in m.title):
            continue
        _attach(plan, m, step, "received", t - timedelta(minutes=rng.randint(1, 30)))
    for m in mats:
        if m.kind in ("acceptance_notice", "refusal_notice"):
            _attach(plan, m, step, "issued", t + timedelta(minutes=rng.randint(1, 5)))
    if not refusing:
        _handle(plan, rng, mats, issued, reviewer.actor(), rechecker.actor(), window.actor(),
                online, transfer_in, transfer_out)
    t = plan.events[-1]["at"]
    fb_at = _later(t, rng, (0, 2)) if not online else t + timedelta(minutes=rng.randint(1, 30))
    actions = {"approved": "办结，将办理结果告知申请人", "rejected": "送达不予办理决定书，告知申请人理由及救济途径",
               "not_accepted": "告知申请人不予受理的理由，退回申请材料", "withdrawn": "告知申请人办件已终止"}
    fb = _event(plan, "feedback", fb_at, SYSTEM if online else window.actor(), actions[outcome])
    f.completed_at = fb_at
    delivered = any(p.material.kind == "decision" for p in plan.files)
    if f.channel == "window" and delivered and rng.random() < 0.5:
        _attach(plan, RECEIPT, fb, "received", fb_at + timedelta(minutes=rng.randint(1, 10)))


def _handle(plan, rng, mats, issued, reviewer, rechecker, window, online, transfer_in, transfer_out):
    f = plan.facts
    item, outcome = f.item, f.outcome
    t = f.accepted_at
    own = [m for m in mats if issued(m)]

    def step(actor, action, days, produce=()):
        nonlocal t
        t = _later(t, rng, days)
        i = _event(plan, "handle", t, actor, action)
        for m in produce:
            _attach(plan, m, i, "issued", t)

    by_kind = {m.kind: m for m in own}
    if outcome == "withdrawn":
        step(reviewer, "初审中", (0, 2))
        letter = [m for m in mats if m.kind == "other" and "撤回" in m.title]
        step(window, "申请人提交撤回申请书，办件终止", (1, 4), letter)
        return
    if outcome == "rejected":
        step(reviewer, f"初审不通过：{f.reason}", (0, 3), [m for m in own if m.kind != "decision"])
        step(rechecker, "复核同意不予办理，出具决定书", (1, 3), [m for m in own if m.kind == "decision"])
        return
    if transfer_in:
        step(reviewer, "审核通过，生成并向转出地发送转移接续联系函", (0, 2),
             [m for m in own if m.kind == "transfer_letter"])
        step(reviewer, "下载转出地转移接续信息表，核对缴费信息无误", (5, 20),
             [m for m in own if m.kind == "transfer_form"])
        step(rechecker, "复核通过，确认接收并记录个人账户权益", (1, 3),
             [m for m in own if m.kind not in ("transfer_letter", "transfer_form")])
        return
    if transfer_out:
        step(reviewer, "核对转移联系函及参保缴费信息，符合转出条件", (0, 3))
        step(rechecker, "复核通过，生成转移接续信息表并上传部转移系统，终止本地关系", (1, 3), own)
        return
    if online and item.classification_code[-2:] in ("DJ", "BG") and rng.random() < 0.6:
        t = t + timedelta(minutes=rng.randint(1, 20))
        i = _event(plan, "handle", t, SYSTEM, "系统自动比对数据，审核通过，即时办结")
        for m in own:
            _attach(plan, m, i, "issued", t)
        return
    step(reviewer, "初审通过", (0, 3), [m for m in own if m.kind != "decision"])
    if item.classification_code.startswith("YL-ZF-HD") and "养老保险待遇" in item.name and rng.random() < 0.3:
        step(reviewer, "特殊工种提前退休公示（5个工作日），公示期满无异议", (7, 9))
    step(rechecker, "复核通过" + ("，出具决定书" if "decision" in by_kind else ""), (1, 4),
         [m for m in own if m.kind == "decision"])
