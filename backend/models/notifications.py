"""Email: the outbox every message goes through, and the one-time password links sent by email.

A Notification is written in the transaction of the act that causes it (so a rolled-back act sends
nothing) and delivered after the commit; a message that cannot be sent stays in the outbox for an
administrator to read. A PasswordResetToken stores only the SHA-256 of the token in the emailed link.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class NotificationStatus(enum.StrEnum):
    pending = "pending"  # waiting to be sent (or being sent right now: see attempted_at)
    sent = "sent"
    failed = "failed"  # the last attempt failed; retried automatically while attempts < 3
    kept = "kept"  # no SMTP server is configured: kept here for an administrator to read


class Notification(SQLModel, table=True):
    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    to_email: str = Field(max_length=254, index=True)
    kind: str = Field(max_length=40, index=True)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    status: str = Field(default=NotificationStatus.pending.value, max_length=10, index=True)
    attempts: int = Field(default=0)
    attempted_at: datetime | None = Field(default=None)  # start of the latest attempt: a lease
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = Field(default=None)


class ResetPurpose(enum.StrEnum):
    reset = "reset"  # asked for on /password/forgot
    welcome = "welcome"  # an account created for someone (a class import): set your first password


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)  # sha256 hex of the token; the token is never stored
    purpose: str = Field(default=ResetPurpose.reset.value, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime
    used_at: datetime | None = Field(default=None)
