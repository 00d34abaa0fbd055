"""The documents of a case, laid out with the case's real facts.

One function per document kind returns a ``Doc`` (rendered by the caller as PDF, OFD or
scan). Texts follow the wording of the seeds' processes: 受理告知书 when materials are
complete, 业务指引告知书 listing what to add, 不予受理决定书 with the reason, and
核准/不予认定决定书 with the remedy notice a person is owed.
"""

from __future__ import annotations

from datetime import datetime

from .facts import Facts
from .layout import Doc
from .people import Person, Unit
from .profiles import Material
from .sheet import Sheet

REMEDY = ("如对本决定不服，可以自收到本决定书之日起六十日内依法申请行政复议，"
          "或者在六个月内依法向人民法院提起行政诉讼。")


def _d(dt: datetime) -> str:
    return f"{dt.year}年{dt.month}月{dt.day}日"


def _mask(card: str) -> str:
    return card[:6] + "*" * (len(card) - 10) + card[-4:]


def _person_rows(p: Person, f: Facts) -> list[tuple[str, ...]]:
    rows = [
        ("姓名", p.name, "性别", p.sex),
        ("公民身份号码", p.id_number, "民族", p.nation),
        ("出生日期", f"{p.birth:%Y-%m-%d}", "联系电话", p.phone),
        ("户籍所在地", f"{p.region[1]}{p.region[2]}{p.region[3]}", "", ""),
        ("现居住地址", p.address, "", ""),
    ]
    if f.unit is not None:
        rows.append(("参保单位", f.unit.name, "统一社会信用代码", f.unit.credit_code))
    return rows


def _unit_rows(u: Unit) -> list[tuple[str, ...]]:
    return [
        ("单位名称", u.name, "", ""),
        ("统一社会信用代码", u.credit_code, "单位类型", u.kind),
        ("法定代表人", u.legal_rep.name, "法定代表人身份证号", u.legal_rep.id_number),
        ("单位地址", u.address, "", ""),
        ("经办人", u.contact.name, "经办人联系电话", u.contact.phone),
        ("职工人数", f"{u.employees} 人", "联系电话", u.phone),
    ]


def _merge(rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Rows whose right half is empty become two-cell rows spanning the table."""
    return [r[:2] if len(r) == 4 and not r[2] and not r[3] else r for r in rows]


def application_form(f: Facts, m: Material, at: datetime) -> Doc:
    s = Sheet(m.title, f.applicant_name, at, f.item.name)
    s.title(m.title)
    s.line_pair(f"经办机构：{f.agency.name}", f"编号：{f.case_id}", 9.5)
    s.gap(2)
    rows = _person_rows(f.person, f) if f.person is not None else _unit_rows(f.subject)  # type: ignore[arg-type]
    rows += [("申请事项", f.item.name, "参保险种", f.insurance_names),
             ("办理渠道", {"window": "窗口", "online": "网上", "self_service": "自助终端",
                       "mobile": "移动端", "home_visit": "上门"}[f.channel], "申请日期", _d(at))]
    if f.person is not None and f.item.category_code == "ZF":
        rows.append(("待遇发放社会保障卡", _mask(f"6217{f.person.id_number[6:18]}"), "", ""))
    s.table(_merge(rows), (26, 58, 30, 50) if len(rows[0]) == 4 else None)
    s.para("本人（单位）承诺以上所填信息及所提交材料真实、准确、完整，如有虚假，愿承担相应法律责任。")
    s.gap(6)
    s.line_pair(f"申请人（签字/盖章）：{f.applicant_name}", f"{_d(at)}")
    if f.history and f.item.category_code in ("ZF", "JL", "ZJ"):
        s.new_page()
        s.title("参保缴费情况", 14, f"{f.person.name if f.person else ''} 公民身份号码 "
                f"{f.person.id_number if f.person else ''}")
        rows2: list[tuple[str, ...]] = [("年度", "缴费月数", "缴费基数（元）", "缴费地")]
        where = f"{f.agency.name[:3]}"
        rows2 += [(str(y), str(mo), f"{b:,}", where) for y, mo, b in f.history]
        s.table(rows2, size=9.5, row_h=6.5)
    return s.finish()


def acceptance_notice(f: Facts, m: Material, at: datetime, received: list[Material]) -> Doc:
    title = "受理通知书" if "转入" in f.item.name else "受理告知书"
    s = Sheet(title, f.agency.name, at, f.item.name)
    s.title(title, sub=f"{f.agency.short}受〔{at.year}〕{f.notice_no}号")
    s.para(f"{f.applicant_name}：", indent=False)
    s.para(f"你（单位）于{_d(at)}通过{'窗口' if f.channel == 'window' else '线上渠道'}申请办理"
           f"“{f.item.name}”事项，申请材料齐全，符合法定形式，本机构决定予以受理。"
           f"办件编号：{f.case_id}。本事项承诺办结时限为 {5 if f.item.category_code != 'ZF' else 15} 个工作日，"
           "办理结果将通过原申请渠道告知，请保持联系电话畅通。")
    rows: list[tuple[str, ...]] = [("序号", "材料名称", "份数", "材料形式")]
    rows += [(str(n), r.title, "1", "原件" if r.origin == "born_digital" else "复印件（已扫描）")
             for n, r in enumerate(received, 1)]
    s.table(rows, (12, 90, 14, 40))
    s.signature(f.agency.name, at, seal=f.agency.name)
    s.footer_note(f"咨询电话：{f.agency.phone}　地址：{f.agency.address}")
    return s.finish()


def guidance_notice(f: Facts, m: Material, at: datetime, missing: list[Material]) -> Doc:
    s = Sheet("业务指引告知书", f.agency.name, at, f.item.name)
    s.title("业务指引告知书")
    s.para(f"{f.applicant_name}：", indent=False)
    s.para(f"你（单位）申请办理的“{f.item.name}”事项，经审查，申请材料不齐全。"
           "根据一次性告知制度，现将需补齐的材料告知如下，请补齐后再行申请：")
    for n, x in enumerate(missing or [m], 1):
        s.para(f"{n}. {x.title.replace('（数字化副本）', '')}", indent=False)
    s.signature(f.agency.name, at, seal=f.agency.name)
    return s.finish()


def refusal_notice(f: Facts, m: Material, at: datetime) -> Doc:
    s = Sheet("不予受理决定书", f.agency.name, at, f.item.name)
    s.title("不予受理决定书", sub=f"{f.agency.short}不受〔{at.year}〕{f.notice_no}号")
    s.para(f"{f.applicant_name}：", indent=False)
    s.para(f"你（单位）于{_d(at)}申请办理“{f.item.name}”事项。经审查，{f.reason}。"
           "根据有关规定，本机构决定不予受理，申请材料已全部退回。")
    s.para(REMEDY)
    s.signature(f.agency.name, at, seal=f.agency.name)
    return s.finish()


def decision(f: Facts, m: Material, at: datetime) -> Doc:
    title = f.item.decision_titles.get(f.outcome) or m.title
    s = Sheet(title, f.agency.name, at, f.item.name)
    s.title(title, sub=f.decision_no or "")
    s.para(f"{f.applicant_name}：", indent=False)
    if f.person is not None:
        who = f"{f.person.name}（公民身份号码 {f.person.id_number}）"
    else:
        unit = f.subject
        who = f"{unit.name}（统一社会信用代码 {getattr(unit, 'credit_code', '')}）"
    if f.outcome == "approved":
        s.para(f"你（单位）于{_d(f.accepted_at)}申请办理的{who}“{f.item.name}”事项，"
               f"经审核，符合有关规定，现予以核准。")
        if f.amounts:
            s.para("核定结果如下：", indent=False)
            s.table([(k, v) for k, v in f.amounts.items()], (60, 100))
    else:
        s.para(f"你（单位）于{_d(f.accepted_at)}申请办理的{who}“{f.item.name}”事项，"
               f"经审核，{f.reason}。根据有关规定，决定不予办理（认定）。")
    s.para(REMEDY)
    s.signature(f.agency.name, at, seal=f.agency.name)
    if f.outcome == "approved" and f.history and f.item.classification_code.startswith("YL-ZF"):
        s.new_page()
        s.title("待遇计发明细", 14, f"决定书编号 {f.decision_no}")
        rows: list[tuple[str, ...]] = [("年度", "缴费月数", "缴费基数（元）", "记账额（元）")]
        rows += [(str(y), str(mo), f"{b:,}", f"{mo * b * 0.08:,.2f}") for y, mo, b in f.history]
        s.table(rows, size=9.5, row_h=6.5)
    return s.finish()


def transfer_letter(f: Facts, m: Material, at: datetime) -> Doc:
    p = f.person
    s = Sheet(m.title, f.agency.name, at, f.item.name)
    s.title(m.title, sub=f"联系函编号：{f.case_id[-10:]}")
    outgoing = "转出" in f.item.name
    out_agency, in_agency = (f.agency.name, f.counterpart) if outgoing else (f.counterpart, f.agency.name)
    rows: list[tuple[str, ...]] = [
        ("参保人员姓名", p.name if p else "", "性别", p.sex if p else ""),
        ("公民身份号码", p.id_number if p else "", "", ""),
        ("转出地经办机构", out_agency, "", ""),
        ("转入地经办机构", in_agency, "", ""),
        ("转入地联系电话", f.agency.phone if not outgoing else "12333", "", ""),
    ]
    s.table(_merge(rows), (30, 60, 20, 40))
    s.para(f"{out_agency}：", indent=False)
    s.para(f"参保人员{p.name if p else ''}申请将其{f.insurance_names}关系转入我处，经审核符合转移接续条件，"
           "请按规定办理关系转出手续，并将转移接续信息表及时传送我处。")
    s.signature(in_agency, at, seal=in_agency)
    return s.finish()


def withdrawal(f: Facts, m: Material, at: datetime) -> Doc:
    s = Sheet(m.title, f.applicant_name, at, f.item.name)
    s.title(m.title)
    s.para(f"{f.agency.name}：", indent=False)
    s.para(f"本人（单位）于{_d(f.accepted_at)}申请办理的“{f.item.name}”事项（办件编号 {f.case_id}），"
           f"{f.reason}，特申请撤回该申请。")
    s.gap(10)
    s.line_pair("", f"申请人：{f.applicant_name}")
    s.line_pair("", _d(at))
    return s.finish()


def proxy(f: Facts, m: Material, at: datetime) -> Doc:
    """授权委托书: who may act for the applicant at the window."""
    agent = getattr(f.applicant, "contact", None) or f.applicant
    s = Sheet(m.title, f.applicant_name, at)
    s.title(m.title)
    s.para(f"{f.agency.name}：", indent=False)
    s.para(f"兹委托{agent.name}（公民身份号码 {agent.id_number}）代为办理“{f.item.name}”事项"
           f"{'（参保人员：' + f.person.name + '）' if f.person else ''}，"
           "代为提交、签收相关材料。委托期限自签署之日起至该事项办结止。")
    s.gap(10)
    s.line_pair("", f"委托人（签字/盖章）：{f.applicant_name}")
    s.line_pair("", f"受托人（签字）：{agent.name}")
    s.line_pair("", _d(at))
    return s.finish()


def receipt(f: Facts, m: Material, at: datetime) -> Doc:
    """送达回证: the applicant signs for the decision handed over at the window."""
    s = Sheet(m.title, f.agency.name, at)
    s.title(m.title)
    served = f.item.decision_titles.get(f.outcome, "决定书")
    s.table([("送达文书", f"{served}（{f.decision_no or ''}）"), ("受送达人", f.applicant_name),
             ("送达地点", f.agency.name + "服务大厅"), ("送达方式", "直接送达"),
             ("受送达人签收", f"{f.applicant_name}　{_d(at)}"), ("送达人", "窗口工作人员")], (40, 120))
    s.signature(f.agency.name, at, seal=f.agency.name)
    return s.finish()
