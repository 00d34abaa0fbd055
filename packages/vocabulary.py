"""The one vocabulary: every coded value Dangan knows, and its Chinese label.

case.json, the package description, the catalogue, check reports, search facets, the
CLI and the web UI all show the same words because they all read them here. A code is
what machines store and compare; a label is what a person reads. ``label`` shows an
unknown code as itself, so a new code never hides a record.

This module imports nothing from Dangan: every layer may import it.
"""

from __future__ import annotations

from collections.abc import Mapping

INSURANCES = {"pension": "养老", "injury": "工伤", "unemployment": "失业"}
CHANNELS = {
    "window": "窗口",
    "online": "网上",
    "self_service": "自助终端",
    "mobile": "移动端",
    "home_visit": "上门",
}
# 办理结果 as the standards note lists it (准予/不予/不予受理/撤回).
OUTCOMES = {"approved": "准予", "rejected": "不予", "not_accepted": "不予受理", "withdrawn": "撤回"}
# ``archive`` is appended by Dangan when it files the case; never part of a submission.
STEPS = {"lead": "引导", "accept": "受理", "handle": "办理", "feedback": "反馈", "archive": "存档"}
PARTY_KINDS = {"person": "个人", "unit": "单位"}
PARTY_ROLES = {"applicant": "申请人", "subject": "业务对象"}
DOCUMENT_KINDS = {
    "application_form": "申请表",
    "id_document": "身份证明",
    "acceptance_notice": "受理告知书",
    "guidance_notice": "业务指引告知书",
    "refusal_notice": "不予受理决定书",
    "decision": "核准/决定书",
    "transfer_letter": "联系函",
    "transfer_form": "信息表",
    "evidence": "证明材料",
    "other": "其他材料",
}
ORIGINS = {"born_digital": "原生电子", "digitized": "纸质材料数字化副本"}
CLASSIFICATIONS = {"public": "公开", "internal": "内部", "restricted": "受限"}
ID_TYPES = {
    "resident_id": "居民身份证",
    "credit_code": "统一社会信用代码",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "foreigner_permit": "外国人永久居留身份证",
    "other": "其他证件",
}
CATEGORIES = {"GL": "管理类", "ZJ": "征缴类", "JL": "记录类", "ZF": "支付类", "QT": "其他类"}
RETENTIONS = {"Y": "永久", "D100": "100年", "D50": "50年", "D30": "30年", "D10": "10年"}
# What became of a submission (``dangan ingest``, the sender's receipt).
INGEST_STATUSES = {"archived": "已归档", "duplicate": "重复提交（已归档，返回首次回执）",
                   "rejected": "拒收"}
# The record's place in its version chain (catalogue ``status``).
RECORD_STATUSES = {"active": "现行", "superseded": "已被更正", "destroyed": "已销毁",
                   "transferred": "已移交"}
# The four natures of DA/T 70, the check stages and a check item's result.
NATURES = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性",
           "security": "安全性"}
STAGES = {"GD": "归档", "YJ": "移交与接收", "BC": "长期保存"}
RESULTS = {"pass": "通过", "fail": "不通过", "warn": "警告"}
PACKAGE_TYPES = {"original": "原始型", "modified": "修改型"}
AGENT_TYPES = {"agency": "经办机构", "archive": "档案机构", "person": "个人", "system": "系统"}
# Proving a filed case end to end (``dangan verify``), step by step.
CHAIN_STEPS = {"source_signature": "来源签名", "process_trail": "过程信息",
               "manifest_digests": "内容摘要（SHA-256 / SM3）", "aip_signature": "AIP 签名",
               "catalogue": "目录一致", "audit_log": "审计日志包含证明", "replicas": "副本一致",
               "lawful_removal": "依法销毁或移交", "register": "销毁清册"}
# Checking an inspector's evidence package offline (``dangan package verify-evidence``).
EVIDENCE_STEPS = {"archive_key": "档案馆公钥", "manifest": "证据包清单", "aip": "归档信息包",
                  "tree_head": "签名树头", "timestamp": "树头时间戳",
                  "inclusion": CHAIN_STEPS["audit_log"],
                  "source_signature": CHAIN_STEPS["source_signature"], "receipt": "归档回执",
                  "container": "证据包", "tombstone": "销毁记录", "log_proofs": "审计日志证明",
                  "consistency": "归档时树头的一致性",
                  "lawful_order": "销毁程序", "register": "销毁清册",
                  "lawful_destruction": "结论：依法销毁"}
# Stage-BC fixity audits: the two copies, each copy's state and the audit's outcome.
COPIES = {"primary": "主存储", "replica": "副本"}
COPY_STATES = {"ok": "完好", "damaged": "损坏", "missing": "缺失", "mismatch": "不符",
               "unchecked": "未核对"}
FIXITY_OUTCOMES = {"ok": "完好", "repaired": "已修复", "catalogue_mismatch": "目录不符",
                   "unrepairable": "无法修复", "reference_mismatch": "与归档记录不符",
                   "repair_failed": "修复失败", "content_problem": "内容检测未通过",
                   "catalogue_missing": "目录记录缺失", "log_mismatch": "与审计日志不符"}

# What a catalogue field is called wherever a person sees it (reports, facets, the UI).
FIELDS = {
    "item": "服务事项",
    "category": "业务类别",
    "retention": "保管期限",
    "year": "年度",
    "agency": "经办机构",
    "channel": "办理渠道",
    "outcome": "办理结果",
    "classification_code": "分类号",
    "classification": "密级",
    "security_classification": "密级",
    "decision_no": "文号",
    "status": "状态",
}


def label(names: Mapping[str, str], code: object) -> str:
    """The Chinese label of ``code`` in ``names``; an unknown or missing code as itself."""
    if code is None:
        return ""
    return names.get(str(code), str(code))
