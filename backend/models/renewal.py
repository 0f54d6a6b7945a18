"""Renewal and continuing education: the training base's renewal rule (one row), every renewal of a
certificate (one row per validity period that ended in a renewal, keeping the credential it replaced),
and the expiry reminders already sent (so a re-run never sends one twice).

A renewed certificate keeps its row and its number: the row is updated in place (new expiry, renewal
count + 1, new signed credential) and the period it leaves behind is kept here."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class RenewalSettings(SQLModel, table=True):
    """One row (id 1), absent until an administrator saves the page; absent or None fields fall back to
    the defaults in backend.renewal.rules (validity: the course's validity_years)."""

    __tablename__ = "renewal_settings"

    id: int = Field(default=1, primary_key=True)
    validity_junior: int | None = Field(default=None)  # years; None: the course's validity_years
    validity_intermediate: int | None = Field(default=None)
    validity_senior: int | None = Field(default=None)
    hours_junior: float | None = Field(default=None)  # CE 学时 needed within a validity period
    hours_intermediate: float | None = Field(default=None)
    hours_senior: float | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class CertificateRenewal(SQLModel, table=True):
    """A renewal: the period that ended (its start and expiry, and the credential signed for it, now
    superseded) and the period that began."""

    __tablename__ = "certificate_renewal"
    __table_args__ = (UniqueConstraint("certificate_id", "renewal_count"),)

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True, ondelete="CASCADE")
    number: str = Field(max_length=40, index=True)  # the certificate's number (it never changes)
    renewal_count: int  # the certificate's renewal count after this renewal: 1, 2, ...
    renewed_at: datetime = Field(default_factory=utcnow, index=True)  # start of the new period
    renewed_on: dt.date = Field(index=True)  # the same moment as a date in Beijing
    previous_start: dt.date  # the period that ended: first day
    previous_expires_on: dt.date | None = Field(default=None)  # ... and last day
    expires_on: dt.date  # the new period's last day
    hours_earned: float = Field(default=0)  # CE 学时 counted in the period that ended
    hours_needed: float = Field(default=0)
    by_admin: bool = Field(default=False)
    note: str = Field(default="", max_length=500)  # an administrator's reason (hours confirmed on paper, ...)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # The credential of the period that ended (issued certificates only), kept so that it still
    # verifies (signature) and shows "superseded by renewal".
    credential_uuid: str | None = Field(default=None, max_length=36, unique=True)
    key_id: str | None = Field(default=None, max_length=64)
    credential_jwt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RenewalReminder(SQLModel, table=True):
    """An expiry reminder sent for one certificate, one expiry date and one threshold (90 or 30 days)."""

    __tablename__ = "renewal_reminder"
    __table_args__ = (UniqueConstraint("certificate_id", "expires_on", "days_before"),)

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True, ondelete="CASCADE")
    expires_on: dt.date
    days_before: int
    sent_on: dt.date  # the day (Beijing) the reminder went into the outbox
    notification_id: int | None = Field(default=None, foreign_key="notification.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
