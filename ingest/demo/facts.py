"""The facts of one demo case, shared by every document drawn for it.

Documents in a real case repeat the same facts — names, ID numbers, dates, amounts, the
decision number — so they are decided once here and every template reads them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from dangan.archive.filing_config import INSURANCES

from .people import Agency, Person, Unit
from .profiles import DemoItem

REJECT_REASONS = {
    "ZF": ("经核查，申请人累计缴费年限（含视同缴费年限）不足15年，不符合按月领取待遇的条件",
           "经核查，申请人已按月领取其他基本养老保险待遇，不得重复领取",
           "申请人提供的证明材料与档案记载不一致，经调查核实后不能认定"),
    "GL": ("经核查，该人员已在其他参保单位参保缴费，不能重复登记",
           "申报信息与市场监管部门共享的登记信息不一致，且未能提供有效证明"),
    "JL": ("转出地反馈的缴费信息与联系函记载不一致，暂不能办理",
           "经核查，申请人在本地无有效的社会保险关系"),
    "ZJ": ("申报的缴费基数与工资收入证明材料不符",
           "补缴期间的劳动关系证明材料不能证明存在劳动关系"),
    "QT": ("申请查阅的档案不属于本人，且未能提供合法授权",),
}
NOT_ACCEPTED_REASONS = (
    "申请事项不属于本机构受理范围，请向参保地社会保险经办机构申请",
    "申请材料不符合法定形式，且申请人未能当场补正",
    "申请人尚未达到办理该事项的条件（如法定退休年龄），依法不予受理",
)
WITHDRAW_REASONS = ("申请人因个人原因申请撤回", "参保单位申报信息有误，申请撤回后重新申报")


@dataclass
class Facts:
    item: DemoItem
    agency: Agency
    case_id: str
    outcome: str
    channel: str
    subject: Person | Unit
    applicant: Person | Unit
    person: Person | None  # the insured person, when the case is about one
    unit: Unit | None  # the employer or the unit the case is about
    accepted_at: datetime
    completed_at: datetime
    decision_no: str | None = None
    reason: str = ""
    counterpart: str = ""  # the other agency in a transfer
    amounts: dict[str, str] = field(default_factory=dict)
    history: list[tuple[int, int, int]] = field(default_factory=list)  # (year, months, base)
    notice_no: str = ""

    @property
    def insurance_names(self) -> str:
        return "、".join(INSURANCES[i] + "保险" for i in self.item.insurance)

    @property
    def applicant_name(self) -> str:
        return self.applicant.name


def decide_amounts(f: Facts, rng: random.Random) -> None:
    """Plausible money figures for the decision (only what the item's decision shows)."""
    code = f.item.classification_code
    if f.person is not None:
        start = rng.randint(max(1992, f.accepted_at.year - 38), f.accepted_at.year - 1)
        base = rng.randint(2800, 6500)
        for year in range(start, f.accepted_at.year):
            months = 12 if rng.random() < 0.9 else rng.randint(3, 11)
            f.history.append((year, months, base))
            base = int(base * rng.uniform(1.02, 1.09))
    if "HD" not in code and "BJ" not in code and "TF" not in code:
        return
    months_paid = sum(m for _, m, _ in f.history)
    if code.startswith("YL"):
        index = rng.randint(6800, 9800)  # 计发基数
        account = round(sum(m * b * 0.08 for _, m, b in f.history) * rng.uniform(1.1, 1.3), 2)
        basic = round(index * (1 + rng.uniform(0.6, 1.2)) / 2 * months_paid / 12 / 100, 2)
        personal = round(account / 139, 2)
        transitional = round(rng.uniform(0, 600), 2)
        f.amounts.update({
            "计发基数": f"{index:,}.00",
            "累计缴费月数": str(months_paid),
            "个人账户储存额": f"{account:,.2f}",
            "基础养老金": f"{basic:,.2f}",
            "个人账户养老金": f"{personal:,.2f}",
            "过渡性养老金": f"{transitional:,.2f}",
            "月基本养老金": f"{basic + personal + transitional:,.2f}",
        })
        if "丧葬" in f.item.name:
            f.amounts = {"丧葬补助金": f"{rng.randint(8, 15) * 1000:,}.00",
                         "抚恤金": f"{index * rng.randint(6, 20):,}.00"}
        elif "一次性" in f.item.name:
            f.amounts = {"个人账户储存额": f"{account:,.2f}", "一次性支付金额": f"{account:,.2f}"}
    elif code.startswith("SY"):
        monthly = rng.randint(1700, 2400)
        months = min(24, max(3, months_paid // 12))
        f.amounts.update({"失业保险金月标准": f"{monthly:,}.00", "领取期限（月）": str(months),
                          "合计": f"{monthly * months:,}.00"})
    elif code.startswith("GS"):
        grade = rng.randint(1, 10)
        wage = rng.randint(4500, 9000)
        f.amounts.update({"伤残等级": f"{grade}级", "本人工资": f"{wage:,}.00",
                          "一次性伤残补助金": f"{wage * max(7, 27 - 2 * grade):,}.00"})
    else:
        f.amounts.update({"核定金额": f"{rng.randint(800, 60000):,}.00"})
