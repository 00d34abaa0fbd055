"""Who may do what: the one role → permission table every route and service consults.

Why one module: the separation of the three administrators (三员分立, GB/T 39784) and
of business duties only holds if nobody adds a permission "just for this page"; the web
layer's URL-map test checks every route against this table, and the account service
enforces the grant rules below.
"""

from __future__ import annotations

from collections.abc import Iterable

# Role → its Chinese name, as shown in the UI and the CLI.
ROLES: dict[str, str] = {
    "clerk": "查阅",
    "archivist": "档案管理",
    "appraiser": "鉴定",
    "inspector": "检查",
    "sysadmin": "系统管理员",
    "secadmin": "安全保密管理员",
    "auditor": "安全审计员",
}

# The three separated administrators: each excludes every other role (GB/T 39784).
ADMIN_ROLES: frozenset[str] = frozenset({"sysadmin", "secadmin", "auditor"})
BUSINESS_ROLES: frozenset[str] = frozenset(ROLES) - ADMIN_ROLES

# Permission → what it allows (Chinese, for the UI and refusals).
PERMISSIONS: dict[str, str] = {
    "record.read": "检索和查阅档案",
    "record.download": "下载和打印档案",
    "record.unmask": "查看完整身份证号码",
    "record.restricted": "查阅受控（restricted）档案",
    "record.verify": "验证档案（签名、摘要、审计日志）",
    "evidence.export": "导出检查证据包",
    "intake.submit": "接收和提交归档",
    "intake.review": "查看拒收记录",
    "retention.propose": "提出鉴定（销毁、延期、移交）建议",
    "retention.appraise": "鉴定：对鉴定建议发表意见",
    "retention.hold": "冻结与解除冻结",
    "audit.read": "查阅审计日志",
    "user.manage": "管理用户（创建、停用、解锁、重置口令）",
    "config.manage": "管理系统配置",
    "role.grant": "授予和撤销角色",
    "api.submit": "案件办理系统以自身名义提交办件（仅限系统 API 令牌）",
    "access.approve": "审批档案查阅申请",
    "copy.certify": "出具档案证明（签章副本）",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "clerk": frozenset({"record.read", "record.download"}),
    "archivist": frozenset({
        "record.read", "record.download", "record.unmask", "record.restricted",
        "intake.submit", "intake.review", "retention.propose", "retention.hold",
        "access.approve", "copy.certify",
    }),
    "appraiser": frozenset({"record.read", "record.unmask", "record.restricted",
                            "retention.appraise"}),
    "inspector": frozenset({"record.read", "record.verify", "evidence.export", "audit.read",
                            "intake.review"}),
    # sysadmin: users and configuration, never records nor the audit log
    "sysadmin": frozenset({"user.manage", "config.manage"}),
    # secadmin: grants roles, can use none of them
    "secadmin": frozenset({"role.grant"}),
    # auditor: reads the audit log, changes nothing
    "auditor": frozenset({"audit.read"}),
}

# Roles that can change, release or destroy records: a second factor (TOTP) is required.
SECOND_FACTOR_ROLES: frozenset[str] = frozenset({"archivist", "appraiser", "sysadmin",
                                                 "secadmin"})

# Security classifications (密级) a role sees in search results and case pages.
_CLASSIFICATIONS_PUBLIC = frozenset({"public", "internal"})
_CLASSIFICATIONS_ALL = frozenset({"public", "internal", "restricted"})


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    """The union of the permissions of ``roles`` (unknown roles grant nothing)."""
    out: set[str] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(out)


def allows(roles: Iterable[str], permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}: add it to PERMISSIONS first")
    return permission in permissions_of(roles)


def second_factor_required(roles: Iterable[str],
                           extra_roles: Iterable[str] = ()) -> bool:
    """True when any role needs TOTP; ``extra_roles`` adds configured ones (clerk, inspector)."""
    required = SECOND_FACTOR_ROLES | frozenset(extra_roles)
    return any(r in required for r in roles)


def visible_classifications(roles: Iterable[str]) -> frozenset[str]:
    """Which 密级 a user sees: restricted items only with ``record.restricted``."""
    perms = permissions_of(roles)
    if "record.restricted" in perms:
        return _CLASSIFICATIONS_ALL
    if "record.read" in perms:
        return _CLASSIFICATIONS_PUBLIC
    return frozenset()


def _check_table() -> None:
    for role, perms in ROLE_PERMISSIONS.items():
        assert role in ROLES, role
        unknown = perms - PERMISSIONS.keys()
        assert not unknown, (role, unknown)
    assert set(ROLE_PERMISSIONS) == set(ROLES)


_check_table()
