"""SQLAlchemy models of the workflow store. Migrations in fundguard/store/migrations must match them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    # Comma-separated 统筹区 codes (admdvs) the user may see; "*" = every region.
    admdvs_scope: Mapped[str] = mapped_column(String(512), default="")
    # Set for 定点机构用户: the only institution whose data the user may see.
    fixmedins_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WebSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random token, the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)


class LoginThrottle(Base):
    """Failed-login counter per key ("user:<name>" or "ip:<addr>")."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Review(Base):
    """Current review state of one finding (findings live in the warehouse, keyed by finding_id)."""

    __tablename__ = "reviews"

    finding_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # 已初审 | 已复审 | 已终审
    conclusion: Mapped[str] = mapped_column(String(16))  # 确认违规 | 排除疑点 | 需现场核查
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class ReviewStep(Base):
    """History: one row per 初审 / 复审 / 终审 decision."""

    __tablename__ = "review_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[str] = mapped_column(String(8))  # 初审 | 复审 | 终审
    conclusion: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime)


class RuleProposal(Base):
    """A proposed region override of a rule type; takes effect only when another user approves it."""

    __tablename__ = "rule_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(32), index=True)
    admdvs: Mapped[str] = mapped_column(String(6))
    enabled: Mapped[bool] = mapped_column(Boolean)
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    effective_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default="待审批")  # 待审批 | 已批准 | 已驳回
    proposed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class RuleSetting(Base):
    """An approved region override: the engine reads these through rule_settings.active_overrides."""

    __tablename__ = "rule_settings"
    __table_args__ = (UniqueConstraint("rule_code", "admdvs", "effective_date", name="uq_rule_settings"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(32), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    effective_date: Mapped[str] = mapped_column(String(10))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("rule_proposals.id"))
    approved_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(DateTime)


class OpLog(Base):
    """Append-only operation log (操作留痕). Each row hashes its content and the previous row's hash."""

    __tablename__ = "oplog"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[str] = mapped_column(String(32))  # ISO-8601 UTC text, hashed verbatim
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(256), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
