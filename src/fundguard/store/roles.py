"""Roles and what each may do. The web routes and the store both check permissions from this table."""

from __future__ import annotations

ROLES: dict[str, str] = {
    "admin": "系统管理员",
    "auditor": "稽核员",
    "reviewer": "复核员",
    "chief": "科长",
    "analyst": "数据分析员",
    "institution": "定点机构用户",
}

# permission → roles holding it
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": frozenset({"auditor", "reviewer", "chief", "analyst", "institution"}),
    "findings": frozenset({"auditor", "reviewer", "chief", "analyst", "institution"}),
    "export": frozenset({"auditor", "reviewer", "chief", "analyst", "institution"}),
    "unmask": frozenset({"auditor", "reviewer", "chief"}),
    "review": frozenset({"auditor", "reviewer", "chief"}),
    "rules": frozenset({"admin", "auditor", "reviewer", "chief", "analyst", "institution"}),
    "rule_propose": frozenset({"auditor", "reviewer", "chief", "analyst"}),
    "rule_approve": frozenset({"chief", "admin"}),
    "users": frozenset({"admin"}),
    "oplog": frozenset({"admin"}),
}

# The review step each role performs, and the status a finding must be in before it.
REVIEW_STEPS: dict[str, tuple[str, str | None, str]] = {
    # role: (step, required current status (None = not yet reviewed), status after)
    "auditor": ("初审", None, "已初审"),
    "reviewer": ("复审", "已初审", "已复审"),
    "chief": ("终审", "已复审", "已终审"),
}
REVIEW_STATUSES = ("待初审", "已初审", "已复审", "已终审")
CONCLUSIONS = ("确认违规", "排除疑点", "需现场核查")


def can(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, frozenset())


def role_zh(role: str) -> str:
    return ROLES.get(role, role)
