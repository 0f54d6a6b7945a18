"""Accounts: users, their sign-in sessions and the login attempts that drive throttling."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class Role(enum.StrEnum):
    trainee = "trainee"
    instructor = "instructor"
    admin = "admin"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-cased
    name: str = Field(max_length=100)
    phone_encrypted: str | None = Field(default=None, max_length=512)
    id_number_encrypted: str | None = Field(default=None, max_length=512)
    id_number_hash: str | None = Field(default=None, max_length=64, unique=True)  # keyed HMAC, for lookups
    organisation: str = Field(default="", max_length=200)
    region: str = Field(default="", max_length=100)
    role: str = Field(default=Role.trainee.value, max_length=20, index=True)
    is_active: bool = Field(default=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.instructor, Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


class UserSession(SQLModel, table=True):
    """One signed-in browser or API client; its id is the `sid` claim of the session JWT."""

    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = Field(default=None)
    user_agent: str = Field(default="", max_length=300)


class LoginAttempt(SQLModel, table=True):
    """Kept in the database so throttling holds across every app process."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    succeeded: bool = Field(default=False)
    ip: str = Field(default="", max_length=64)
