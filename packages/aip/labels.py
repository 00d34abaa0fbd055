"""Chinese labels of the coded values written into the package description.

The code (from case.json or Dangan) is what machines read (attribute ``代码``); the label
is what a person reads in the XML. An unknown code is shown as itself.
"""

from __future__ import annotations

from ..archival_code import RETENTION_NAMES

PACKAGE_TYPES = {"original": "原始型", "modified": "修改型"}
KINDS = {
    "application_form": "申请表",
    "id_document": "身份证明",
    "acceptance_notice": "受理告知书",
    "guidance_notice": "业务指引告知书",
    "refusal_notice": "不予受理决定书",
    "decision": "核准/决定书",
    "transfer_letter": "联系函",
    "transfer_form": "信息表",
    "evidence": "证明材料",
    "other": "其他",
}
ORIGINS = {"born_digital": "原生", "digitized": "数字化"}
PARTY_ROLES = {"applicant": "申请人", "subject": "业务对象"}
PARTY_KINDS = {"person": "个人", "unit": "单位"}
ID_TYPES = {
    "resident_id": "居民身份证",
    "credit_code": "统一社会信用代码",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "foreigner_permit": "外国人永久居留身份证",
    "other": "其他证件",
}
RETENTIONS = dict(RETENTION_NAMES)
CHANNELS = {
    "window": "窗口",
    "online": "网上办理",
    "self_service": "自助终端",
    "mobile": "移动端",
    "home_visit": "上门服务",
}
INSURANCE = {"pension": "养老保险", "injury": "工伤保险", "unemployment": "失业保险"}
OUTCOMES = {"approved": "准予", "rejected": "不予", "not_accepted": "不予受理", "withdrawn": "撤回"}
CLASSIFICATIONS = {"public": "公开", "internal": "内部", "restricted": "受限"}
STEPS = {"lead": "引导", "accept": "受理", "handle": "办理", "feedback": "反馈", "archive": "存档"}
AGENT_TYPES = {"agency": "经办机构", "archive": "档案机构", "person": "个人", "system": "系统"}
NATURES = {
    "authenticity": "真实性",
    "integrity": "完整性",
    "usability": "可用性",
    "security": "安全性",
}
STAGES = {"GD": "归档", "YJ": "移交与接收", "BC": "长期保存"}
RESULTS = {"pass": "通过", "fail": "不通过", "warn": "警告"}
