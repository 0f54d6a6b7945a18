"""The audit log: who did what to which record, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    actor_label: str = Field(default="", max_length=254)  # kept if the actor's account goes away
    action: str = Field(max_length=80, index=True)
    target_type: str = Field(default="", max_length=80, index=True)
    target_id: str = Field(default="", max_length=80)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    ip: str = Field(default="", max_length=64)
