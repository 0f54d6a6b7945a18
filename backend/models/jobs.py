"""Background jobs: long administrative actions (a big import, issuing a class's certificates, a big
export) that run in a worker thread and report their progress here, so any page can follow them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(SQLModel, table=True):
    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=80, index=True)  # the registered handler that runs it
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    status: str = Field(default=JobStatus.queued.value, max_length=10, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    total: int = Field(default=0)  # 0 while unknown
    done: int = Field(default=0)
    message: str = Field(default="", max_length=500)  # the latest progress text
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempt: int = Field(default=0)  # how many times a worker has claimed it; fences a stale worker's writes
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = Field(default=None)
    finished_at: datetime | None = Field(default=None)
    heartbeat_at: datetime | None = Field(default=None)
