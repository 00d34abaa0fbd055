"""Chinese labels of the coded values written into the package description.

The code (from case.json or Dangan) is what machines read (attribute ``代码``); the label
is what a person reads in the XML. An unknown code is shown as itself.
"""

from __future__ import annotations

from ..archival_code import RETENTION_NAMES
from ..case_schema import (
    CHANNEL_NAMES,
    CLASSIFICATION_NAMES,
    DOCUMENT_KIND_NAMES,
    INSURANCE_NAMES,
    ORIGIN_NAMES,
    OUTCOME_NAMES,
    PARTY_KIND_NAMES,
    STEP_NAMES,
)
from ..checks.engine import NATURE_NAMES
from ..identity import ID_TYPE_NAMES

PACKAGE_TYPES = {"original": "原始型", "modified": "修改型"}
# One vocabulary for case.json, the package description and the UI: defined once in
# case_schema (and identity, the engine), named here as the description uses them.
KINDS = DOCUMENT_KIND_NAMES
ORIGINS = ORIGIN_NAMES
PARTY_ROLES = {"applicant": "申请人", "subject": "业务对象"}
PARTY_KINDS = PARTY_KIND_NAMES
ID_TYPES = ID_TYPE_NAMES
RETENTIONS = dict(RETENTION_NAMES)
CHANNELS = CHANNEL_NAMES
INSURANCE = INSURANCE_NAMES
OUTCOMES = OUTCOME_NAMES
CLASSIFICATIONS = CLASSIFICATION_NAMES
STEPS = STEP_NAMES
AGENT_TYPES = {"agency": "经办机构", "archive": "档案机构", "person": "个人", "system": "系统"}
NATURES = {str(k): v for k, v in NATURE_NAMES.items()}
STAGES = {"GD": "归档", "YJ": "移交与接收", "BC": "长期保存"}
RESULTS = {"pass": "通过", "fail": "不通过", "warn": "警告"}
