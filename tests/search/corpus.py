"""A small corpus of index documents for the search tests: four clerks' cases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dangan.packages.identity import credit_code_check_char, resident_id_check_char
from dangan.search.document import ExtractedText, IndexDocument

CST = timezone(timedelta(hours=8))


def resident_id(area: str, birth: str, seq: str) -> str:
    first = f"{area}{birth}{seq}"
    return first + resident_id_check_char(first)


def credit_code(body: str) -> str:
    return body + credit_code_check_char(body)


def make_doc(n: int, name: str, id_number: str, *, title: str | None = None, body: str = "",
             item: tuple[str, str] = ("SB001", "企业职工基本养老保险参保登记"),
             agency: tuple[str, str] = ("330102", "杭州市上城区社会保险管理服务中心"),
             completed: str = "2024-03-15T10:00:00+08:00", security: str = "public",
             outcome: str = "approved", channel: str = "window", category: str = "GL",
             unit: tuple[str, str] | None = None, decision_no: str | None = None) -> IndexDocument:
    done = datetime.fromisoformat(completed)
    parties = [{"role": "applicant", "kind": "person", "name": name, "id_type": "resident_id",
                "id_number": id_number}]
    if unit:
        parties.append({"role": "subject", "kind": "unit", "name": unit[0],
                        "id_type": "credit_code", "id_number": unit[1]})
    return IndexDocument(
        aip_id=f"aip-{n:04d}", archival_code=f"Z001-SB·{done.year}-Y-{category}-{n:05d}",
        case_id=f"HZ{done.year}-{n:06d}", source_system="hz-jb", version=1,
        title=title or f"{name}{item[1]}", service_item_code=item[0], service_item_name=item[1],
        category=category, retention="Y", classification_code="SB-GL-01", agency_code=agency[0],
        agency_name=agency[1], channel=channel, outcome=outcome, decision_no=decision_no,
        accepted_at=done - timedelta(days=3), completed_at=done, year=done.year,
        security_classification=security, parties=parties,
        texts=[ExtractedText("f1", "申请表", "application_form", body, "pdf")],
    )


ZHANG = resident_id("330102", "19900307", "123")
LI = resident_id("330104", "19851120", "456")
WANG = resident_id("110101", "19770101", "789")
SHAN = resident_id("330106", "19920505", "246")
UNIT = credit_code("91330100MA2B3C4D5")


def corpus() -> list[IndexDocument]:
    return [
        make_doc(1, "张三", ZHANG, body="申请人张三于2024年3月到窗口办理企业职工基本养老保险参保登记，"
                 "经审核材料齐全，准予登记。缴费基数为每月六千元。"),
        make_doc(2, "李四", LI, item=("SB020", "工伤认定申请"), category="JL",
                 body="职工李四在工作时间因工作原因受到事故伤害，用人单位提交工伤认定申请，"
                 "经调查核实，认定为工伤。", completed="2023-11-02T09:00:00+08:00",
                 outcome="rejected", channel="online", unit=("杭州远望科技有限公司", UNIT),
                 decision_no="杭人社工认〔2023〕118号"),
        make_doc(3, "王小明", WANG, item=("SB030", "失业保险金申领"), category="ZF",
                 body="王小明因劳动合同期满离职，申请领取失业保险金，核定领取期限十二个月。",
                 completed="2024-06-20T16:30:00+08:00", agency=("330106", "杭州市西湖区社会保险管理服务中心"),
                 security="internal"),
        make_doc(4, "单雄信", SHAN, item=("SB030", "失业保险金申领"), category="ZF",
                 body="申请人单雄信提交离职证明，申请失业保险金。", completed="2024-01-05T11:00:00+08:00",
                 security="restricted", agency=("330106", "杭州市西湖区社会保险管理服务中心")),
    ]
