"""Certificates: every certificate issued here or imported from the legacy roster (one table, so both
verify at /verify/{number}), and the per-year, per-level counters that number them without gaps."""

from __future__ import annotations

import datetime as dt
import enum
from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class CertificateStatus(enum.StrEnum):
    valid = "valid"  # may still be past its expiry date: "expired" is computed from expires_on
    revoked = "revoked"
    superseded = "superseded"  # replaced by a reissued certificate (a name correction, say)


class CertificateSource(enum.StrEnum):
    issued = "issued"  # issued by this platform, with a signed credential
    legacy = "legacy"  # imported from the roster kept before the platform: no credential


class CertificateLevel(enum.IntEnum):
    """The digit in the certificate number: 1 初级 · 2 中级 · 3 高级."""

    junior = 1
    intermediate = 2
    senior = 3


class Certificate(SQLModel, table=True):
    """A certificate as printed and as verified. The holder's facts are copied at issue time, so the
    record stays what was certified even when the account changes or is deleted."""

    __tablename__ = "certificate"
    __table_args__ = (
        # At most one valid certificate per holder, course and level: re-running an issue never
        # issues twice. Revoked and superseded ones do not count.
        Index(
            "uq_certificate_active_holder_course_level",
            "user_id",
            "course_id",
            "level",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    source: str = Field(default=CertificateSource.issued.value, max_length=10)
    status: str = Field(default=CertificateStatus.valid.value, max_length=20, index=True)
    level: int = Field(index=True)  # CertificateLevel
    title: str = Field(max_length=200)  # the certificate's title, e.g. 技术经纪人（初级）培训合格证书
    course_title: str = Field(default="", max_length=200)
    hours: float | None = Field(default=None)  # 学时 completed (online + class), as printed
    holder_name: str = Field(max_length=100)
    id_number_masked: str = Field(default="", max_length=32)
    id_number_encrypted: str | None = Field(default=None, max_length=512)
    id_number_hash: str | None = Field(default=None, max_length=64, index=True)  # keyed HMAC, for lookups
    organisation: str = Field(default="", max_length=200)
    region: str = Field(default="", max_length=100)
    issuer_name: str = Field(default="", max_length=200)
    issued_on: dt.date = Field(index=True)
    expires_on: dt.date | None = Field(default=None)  # None: no expiry
    renewal_count: int = Field(default=0)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True, ondelete="SET NULL")
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True, ondelete="SET NULL")
    issued_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # The Open Badges credential (issued certificates only).
    credential_uuid: str | None = Field(default=None, max_length=36, unique=True)
    subject_id: str | None = Field(default=None, max_length=64)  # urn:uuid:…, opaque, one per holder
    key_id: str | None = Field(default=None, max_length=64)  # the signing key's kid
    credential_jwt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Life cycle.
    revoked_at: datetime | None = Field(default=None)
    revocation_reason: str | None = Field(default=None, max_length=500)
    replaces_id: int | None = Field(default=None, foreign_key="certificate.id", ondelete="SET NULL")
    superseded_by_id: int | None = Field(default=None, foreign_key="certificate.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class CertificateCounter(SQLModel, table=True):
    """The last sequence number used for a (year, level); incremented inside the issuing transaction,
    so a number is used exactly when its certificate commits (gap-free) and never twice."""

    __tablename__ = "certificate_counter"

    year: int = Field(primary_key=True)  # 0 when the number pattern has no {year}
    level: int = Field(primary_key=True)  # 0 when the number pattern has no {level}
    value: int = Field(default=0)
