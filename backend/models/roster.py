"""The certified roster's own tables: the administrator's target shown on /roster, and which holders chose to
be listed in the public directory. The roster itself is the certificate table (issued and legacy)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class RosterSettings(SQLModel, table=True):
    """One row (id 1): the training base's target, e.g. 2,000 provincial brokers by 2026."""

    __tablename__ = "roster_settings"

    id: int = Field(default=1, primary_key=True)
    target_count: int | None = Field(default=None)  # None: no target is shown
    target_label: str = Field(default="", max_length=200)  # e.g. 到2026年培养2000名省级技术经纪人
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class DirectoryListing(SQLModel, table=True):
    """A holder who chose (on /me) to be listed by name in the public directory; no row: not listed."""

    __tablename__ = "directory_listing"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    opted_in_at: datetime = Field(default_factory=utcnow)
