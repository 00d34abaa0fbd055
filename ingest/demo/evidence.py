"""Supporting materials: ID card copies, certificates, contribution records, info sheets.

Paper evidence (营业执照, 死亡证明 …) arrives as scans of a certificate; records the
agency itself issues (参保缴费凭证, 权益记录单) are born digital with the contribution
history; 信息表 travel between agencies as UTF-8 XML (as the national transfer system
exchanges them), so they are written as XML here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from .facts import Facts
from .layout import Doc, Rule, Text
from .people import Person
from .profiles import Material
from .sheet import LEFT, RIGHT, Sheet


def _d(dt: datetime) -> str:
    return f"{dt.year}年{dt.month}月{dt.day}日"


def id_card_copy(p: Person, at: datetime, title: str) -> Doc:
    """A 居民身份证 photocopy: front and back of the card on one A4 sheet."""
    s = Sheet(title, p.name, at)
    page = s.page
    w, h = 85.6, 54.0
    x0 = (210 - w) / 2
    for top in (40.0, 120.0):
        for a, b, c, d in ((x0, top, x0 + w, top), (x0, top + h, x0 + w, top + h),
                           (x0, top, x0, top + h), (x0 + w, top, x0 + w, top + h)):
            page.items.append(Rule(a, b, c, d, 0.4))
    page.items.append(Rule(x0 + 60, 48, x0 + 80, 48, 0.3))  # photo frame
    page.items.append(Rule(x0 + 60, 48, x0 + 60, 74, 0.3))
    page.items.append(Rule(x0 + 80, 48, x0 + 80, 74, 0.3))
    page.items.append(Rule(x0 + 60, 74, x0 + 80, 74, 0.3))
    front = [
        (48, f"姓名  {p.name}"), (56, f"性别  {p.sex}    民族  {p.nation[:-1]}"),
        (64, f"出生  {p.birth.year} 年 {p.birth.month} 月 {p.birth.day} 日"),
        (72, f"住址  {(p.hukou or p.address)[:16]}"), (78, f"      {(p.hukou or p.address)[16:]}"),
        (89, f"公民身份号码  {p.id_number}"),
    ]
    for y, text in front:
        page.items.append(Text(x0 + 4, y, text, 8.5))
    issued = at - timedelta(days=400 + p.birth.toordinal() % 2500)
    back = [
        (128, "中华人民共和国", 12), (136, "居民身份证", 14),
        (160, f"签发机关  {p.region[2]}公安局{p.region[3]}分局", 8.5),
        (168, f"有效期限  {issued:%Y.%m.%d}-{issued.year + 20}.{issued:%m.%d}", 8.5),
    ]
    for y, text, size in back:
        page.items.append(Text(x0 + w / 2, y, text, size, "center"))
    page.items.append(Text(105, 200, "本复印件仅供办理社会保险业务使用", 10, "center"))
    return s.finish()


def certification_record(f: Facts, m: Material, at: datetime) -> Doc:
    """The on-site record of a benefit-qualification check, with the photo taken."""
    p = f.person or f.applicant
    s = Sheet(m.title, f.agency.name, at)
    s.title("待遇领取资格认证现场记录")
    method = "上门认证" if f.channel == "home_visit" else "现场人脸识别认证"
    s.table([("姓名", p.name), ("公民身份号码", getattr(p, "id_number", "")),
             ("认证方式", method), ("认证时间", f"{at:%Y-%m-%d %H:%M}"),
             ("认证地点", f.agency.name + "服务大厅" if f.channel != "home_visit" else p.address)],
            (45, 115))
    x0, top = 75.0, s.y + 4
    for a, b, c, d in ((x0, top, x0 + 60, top), (x0, top + 80, x0 + 60, top + 80),
                       (x0, top, x0, top + 80), (x0 + 60, top, x0 + 60, top + 80)):
        s.page.items.append(Rule(a, b, c, d, 0.5))
    s.page.items.append(Text(x0 + 30, top + 42, "现场照片", 12, "center"))
    s.y = top + 90
    s.line_pair(f"认证人员：{f.agency.name}", f"被认证人签字：{p.name}")
    return s.finish()


def certificate(f: Facts, m: Material, at: datetime) -> Doc:
    """A paper certificate or statement that the applicant brought in (scanned)."""
    title = m.title.replace("（数字化副本）", "")
    s = Sheet(title, f.applicant_name, at)
    s.title(title, 20)
    p, u = f.person, f.unit
    if title.startswith("营业执照") and u is not None:
        rows = [("统一社会信用代码", u.credit_code), ("名称", u.name), ("类型", "有限责任公司"),
                ("法定代表人", u.legal_rep.name), ("住所", u.address),
                ("成立日期", _d(at - timedelta(days=300 + u.employees * 17)))]
        s.table(rows, (45, 115))
        s.signature(f"{u.region[2]}市场监督管理局", at - timedelta(days=30),
                    seal=f"{u.region[2]}市场监督管理局")
        return s.finish()
    region = (p or f.subject).region
    if "死亡" in title:
        issuer = f"{region[2]}{region[3]}人民医院"
    elif u is not None and ("劳动" in title or "工资" in title or "情况" in title):
        issuer = u.name
    else:
        issuer = f"{region[2]}{region[3]}人民政府{'街道办事处' if len(region[3]) > 2 else ''}"
    if p is not None:
        rows = [("姓名", p.name), ("性别", p.sex), ("公民身份号码", p.id_number),
                ("住址", p.address)]
    else:
        rows = [("单位名称", f.subject.name), ("统一社会信用代码", getattr(f.subject, "credit_code", ""))]
    s.table(rows, (45, 115))
    s.para(f"兹证明上述{'人员' if p else '单位'}情况属实，特此证明。本证明用于办理“{f.item.name}”。")
    s.signature(issuer, at - timedelta(days=3), seal=issuer)
    return s.finish()


def contribution_record(f: Facts, m: Material, at: datetime) -> Doc:
    """参保缴费凭证 / 权益记录单 / 参保证明 issued by the agency from its records."""
    s = Sheet(m.title, f.agency.name, at, f.item.name)
    s.title(m.title, 16)
    if f.person is not None:
        p = f.person
        s.table([("姓名", p.name, "公民身份号码", p.id_number),
                 ("参保险种", f.insurance_names, "打印日期", _d(at))], (22, 40, 30, 60))
        rows: list[tuple[str, ...]] = [("年度", "缴费月数", "缴费基数（元）", "单位名称")]
        unit_name = f.unit.name if f.unit else "个人缴费"
        rows += [(str(y), str(mo), f"{b:,}", unit_name) for y, mo, b in f.history]
        s.table(rows, (16, 18, 26, 90), size=9, row_h=6.5)
    else:
        u = f.subject
        s.table([("单位名称", u.name), ("统一社会信用代码", getattr(u, "credit_code", "")),
                 ("参保险种", f.insurance_names), ("在职参保人数", f"{getattr(u, 'employees', 0)} 人"),
                 ("缴费状态", "正常缴费，无欠费")], (45, 115))
    s.para("本凭证由社会保险经办机构根据个人权益记录生成，可通过国家社会保险公共服务平台核验真伪。")
    s.signature(f.agency.name, at, seal=f.agency.name)
    return s.finish()


def agreement(f: Facts, m: Material, at: datetime) -> Doc:
    s = Sheet(m.title, f.agency.name, at, f.item.name)
    s.title(m.title)
    s.line_pair(f"甲方：{f.agency.name}")
    s.line_pair(f"乙方：{f.subject.name}")
    s.gap(3)
    for n, clause in enumerate((
        f"乙方因生产经营困难申请缓缴社会保险费，甲方核定缓缴期限自{at.year}年{at.month}月起不超过六个月。",
        "缓缴期间免收滞纳金；缓缴期满，乙方应一次性足额补缴缓缴的社会保险费。",
        "缓缴期间乙方职工的个人权益记录不受影响，待遇正常享受。",
        "乙方逾期未缴纳的，甲方依法责令限期缴纳并加收滞纳金。",
    ), 1):
        s.para(f"第{'一二三四五'[n - 1]}条　{clause}", indent=False)
    s.gap(8)
    s.text(LEFT, s.y, "甲方（盖章）", 11.5)
    s.text(RIGHT - 40, s.y, "乙方（盖章）", 11.5)
    s.signature(f.agency.name, at, seal=f.agency.name)
    return s.finish()


def info_sheet_xml(f: Facts, m: Material, at: datetime) -> bytes:
    """A 信息表 as UTF-8 XML: the party, the case and (for people) the contribution years."""
    def el(name: str, value: object) -> str:
        return f"<{name}>{escape(str(value))}</{name}>"

    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<信息表 名称="{escape(m.title)}" 版本="1.0" 办件编号="{escape(f.case_id)}" '
             f'生成时间="{at.isoformat()}">',
             f"  <经办机构 代码=\"{f.agency.code}\">{escape(f.agency.name)}</经办机构>",
             "  " + el("服务事项", f.item.name)]
    if "转" in f.item.name or "衔接" in f.item.name:
        outgoing = "转出" in f.item.name
        lines.append("  " + el("转出地经办机构", f.agency.name if outgoing else f.counterpart))
        lines.append("  " + el("转入地经办机构", f.counterpart if outgoing else f.agency.name))
    if f.person is not None:
        p = f.person
        lines += ["  <参保人员>", "    " + el("姓名", p.name), "    " + el("性别", p.sex),
                  "    " + el("公民身份号码", p.id_number), "    " + el("出生日期", f"{p.birth:%Y-%m-%d}"),
                  "    " + el("户籍所在地", p.region[0]), "  </参保人员>"]
        lines.append("  <缴费明细>")
        for y, mo, b in f.history:
            lines.append(f'    <年度 年="{y}" 缴费月数="{mo}" 缴费基数="{b}" '
                         f'个人账户记账额="{mo * b * 0.08:.2f}"/>')
        lines.append("  </缴费明细>")
        total = sum(mo * b * 0.08 for _, mo, b in f.history)
        lines.append("  " + el("个人账户储存额", f"{total:.2f}"))
        lines.append("  " + el("统筹基金转移额", f"{sum(mo * b * 0.12 for _, mo, b in f.history):.2f}"))
    else:
        u = f.subject
        lines += ["  <参保单位>", "    " + el("名称", u.name),
                  "    " + el("统一社会信用代码", getattr(u, "credit_code", "")), "  </参保单位>"]
    lines.append("</信息表>")
    return ("\n".join(lines) + "\n").encode("utf-8")
