"""Certificates as the routes and the job see them: who is eligible and why not, issuing one (number,
record, signed credential, audit, the holder's email), revoking and reissuing, and the lookups.

Services only add and flush; the caller's transaction commits. Each issue runs in a savepoint, so a
certificate that loses a race (someone issued it a moment earlier) is skipped and gives its number back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import security
from backend.accounts.idcard import mask_id_number
from backend.admin.service import Page
from backend.audit import record_event
from backend.certificates import credential as vc
from backend.certificates.keys import current_key
from backend.certificates.numbering import allocate_number
from backend.config import Settings
from backend.errors import Conflict, DomainError, NotFound
from backend.exams.service import exam_summary, trainee_hours
from backend.i18n import _
from backend.models import (
    AuditEvent,
    Certificate,
    CertificateRenewal,
    CertificateSource,
    CertificateStatus,
    Course,
    User,
)
from backend.notifications import messages
from backend.notifications.service import notify
from backend.renewal import rules

PAGE_SIZE = 50


@dataclass
class Eligibility:
    """Whether a certificate of `course` may be issued to `user`, what is missing, and the hours done."""

    user: User
    course: Course
    online_hours: float = 0.0
    class_hours: float = 0.0
    reasons: list[str] = field(default_factory=list)
    existing: Certificate | None = None  # a valid certificate of this course already held

    @property
    def hours(self) -> float:
        return round(self.online_hours + self.class_hours, 2)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _fmt(value: float) -> str:
    return f"{value:g}"


def course_rules(course: Course, user: User) -> list[str]:
    """What the course and the person must have whatever the hours and the exam say."""
    reasons = []
    if not course.certificate_title.strip():
        reasons.append(_("This course does not lead to a certificate."))
    elif rules.is_ce_course(course):
        reasons.append(
            _("This is a continuing-education course: it earns hours towards renewal, not a certificate.")
        )
    elif course.level not in vc.COURSE_LEVELS:
        reasons.append(_("The course has no certificate level (junior, intermediate or senior)."))
    if not user.id_number_encrypted:
        reasons.append(
            _("No ID card number is on file; the certificate shows it (masked). Add it to the profile first.")
        )
    if not user.name.strip():
        reasons.append(_("The account has no name to print on the certificate."))
    return reasons


def hours_reason(*, online: float, in_class: float, needed: float) -> str | None:
    total = round(online + in_class, 2)
    if total >= needed:
        return None
    return _(
        "%(missing)s more hours needed: %(total)s of %(min)s (online %(online)s, in class %(class)s)."
    ) % {
        "missing": _fmt(round(needed - total, 2)),
        "total": _fmt(total),
        "min": _fmt(needed),
        "online": _fmt(online),
        "class": _fmt(in_class),
    }


def exam_reason(status: str) -> str | None:
    if status == "passed":
        return None
    if status == "failed":
        return _("The final exam was not passed.")
    if status == "awaiting grading":
        return _("The final exam is waiting to be graded.")
    return _("The final exam has not been passed yet.")


def eligibility(session: Session, *, user: User, course: Course) -> Eligibility:
    """Hours (online and in every class of the course), the final exam and the course's own rules."""
    assert user.id is not None and course.id is not None
    online, in_class = trainee_hours(session, user_id=user.id, course_id=course.id)
    state = Eligibility(user=user, course=course, online_hours=online, class_hours=in_class)
    state.reasons = course_rules(course, user)
    hours = hours_reason(online=online, in_class=in_class, needed=float(course.min_hours or 0))
    exam = exam_reason(exam_summary(session, user_id=user.id, course_id=course.id).status)
    state.reasons += [reason for reason in (hours, exam) if reason]
    state.existing = valid_certificate_of(session, user_id=user.id, course=course)
    return state


def valid_certificate_of(session: Session, *, user_id: int, course: Course) -> Certificate | None:
    level = vc.COURSE_LEVELS.get(course.level)
    statement = select(Certificate).where(
        Certificate.user_id == user_id,
        Certificate.course_id == course.id,
        Certificate.status == CertificateStatus.valid.value,
    )
    if level is not None:
        statement = statement.where(Certificate.level == int(level))
    return session.exec(statement).first()


# ---- issuing ------------------------------------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def expiry_for(issued_on: date, validity_years: int) -> date | None:
    """The last day of validity: N years after issue, less one day; None when the course sets 0."""
    if validity_years <= 0:
        return None
    return add_years(issued_on, validity_years) - timedelta(days=1)


def subject_id_for(session: Session, *, settings: Settings, user_id: int) -> str:
    """The holder's opaque id: the one of their earlier credentials (stable even if the secret key
    changes), else a keyed hash of the account id."""
    earlier = session.exec(
        select(Certificate.subject_id)
        .where(Certificate.user_id == user_id, col(Certificate.subject_id).is_not(None))
        .order_by(col(Certificate.id))
    ).first()
    return earlier or vc.subject_urn(settings, user_id)


def course_texts(course: Course, level: int) -> tuple[str, str]:
    """(description, criteria) of the achievement, in the course's language (Chinese)."""
    description = f"{vc.level_name(level)}：完成「{course.title}」培训并经考核合格。"
    criteria = f"完成「{course.title}」不少于{_fmt(float(course.min_hours or 0))}学时的学习（线上与面授合计），并通过结业考试。"
    return description, criteria


@dataclass(frozen=True)
class IssueFacts:
    """What goes on the certificate besides the holder: the hours, the class, who issues."""

    hours: float
    cohort_id: int | None = None
    holder_name: str | None = None  # a corrected name (reissue); default: the account's name
    issued_on: date | None = None
    expires_on: date | None = None
    replaces: Certificate | None = None


def issue_certificate(
    session: Session,
    *,
    settings: Settings,
    user: User,
    course: Course,
    actor: User | None,
    facts: IssueFacts,
    ip: str = "",
) -> Certificate:
    """Number, record and signed credential, the audit event and the holder's email, in one savepoint:
    raises Conflict (and changes nothing) when the holder already has a valid certificate of it."""
    assert user.id is not None and course.id is not None
    level = int(vc.COURSE_LEVELS[course.level])
    try:
        with session.begin_nested():
            certificate = _new_certificate(session, settings=settings, user=user, course=course, facts=facts)
            certificate.level = level
            certificate.number = allocate_number(
                session,
                pattern=settings.certificate_number_pattern,
                region=settings.certificate_region_code,
                year=certificate.issued_on.year,
                level=level,
            )
            certificate.issued_by_id = actor.id if actor else None
            _sign(session, certificate, settings=settings, course=course)
            session.add(certificate)
            session.flush()
    except IntegrityError:
        existing = valid_certificate_of(session, user_id=user.id, course=course)
        if existing is None:  # the number, not the holder: the pattern was changed to one that repeats
            raise Conflict(
                _("The new certificate number is already taken; check the number pattern.")
            ) from None
        raise Conflict(
            _("%(name)s already holds certificate %(number)s of this course.")
            % {"name": user.name, "number": existing.number}
        ) from None
    record_event(
        session,
        actor=actor,
        action="certificate.reissued" if facts.replaces else "certificate.issued",
        target_type="certificate",
        target_id=certificate.number,
        before={"number": facts.replaces.number} if facts.replaces else None,
        after=audit_facts(certificate),
        ip=ip,
    )
    _notify_holder(session, settings=settings, user=user, certificate=certificate)
    return certificate


def _new_certificate(
    session: Session, *, settings: Settings, user: User, course: Course, facts: IssueFacts
) -> Certificate:
    id_number = security.decrypt_field(settings.secret_key, user.id_number_encrypted)
    issued_on = facts.issued_on or vc.today_in_beijing()
    level = int(vc.COURSE_LEVELS[course.level])
    years = rules.validity_years_for(session, level=level, course=course)
    expires_on = facts.expires_on if facts.replaces else expiry_for(issued_on, years)
    return Certificate(
        number="",
        level=0,
        source=CertificateSource.issued.value,
        title=course.certificate_title,
        course_title=course.title,
        hours=facts.hours,
        holder_name=(facts.holder_name or user.name).strip(),
        id_number_masked=mask_id_number(id_number),
        id_number_encrypted=user.id_number_encrypted,
        id_number_hash=user.id_number_hash,
        organisation=user.organisation,
        region=user.region,
        issuer_name=settings.certificate_issuer_name,
        issued_on=issued_on,
        expires_on=expires_on,
        user_id=user.id,
        course_id=course.id,
        cohort_id=facts.cohort_id,
        credential_uuid=str(uuid.uuid4()),
        subject_id=subject_id_for(session, settings=settings, user_id=user.id or 0),
        replaces_id=facts.replaces.id if facts.replaces else None,
        renewal_count=facts.replaces.renewal_count if facts.replaces else 0,
    )


def _sign(session: Session, certificate: Certificate, *, settings: Settings, course: Course) -> None:
    key = current_key(settings)
    description, criteria = course_texts(course, certificate.level)
    credential = vc.build_credential(
        certificate, settings=settings, course_slug=course.slug, criteria=criteria, description=description
    )
    certificate.key_id = key.kid
    certificate.credential_jwt = vc.sign_credential(credential, key=key, settings=settings)


def _notify_holder(session: Session, *, settings: Settings, user: User, certificate: Certificate) -> None:
    message = messages.certificate_issued_message(
        name=certificate.holder_name,
        certificate_title=certificate.title,
        number=certificate.number,
        link=f"{settings.public_base_url}/me/certificates",
    )
    notify(
        session, user=user, to_email=user.email, kind=message.kind, subject=message.subject, body=message.body
    )


def audit_facts(certificate: Certificate) -> dict[str, Any]:
    """What the audit log keeps of a certificate: never the ID number."""
    return {
        "number": certificate.number,
        "status": certificate.status,
        "holder_name": certificate.holder_name,
        "user_id": certificate.user_id,
        "course_id": certificate.course_id,
        "cohort_id": certificate.cohort_id,
        "level": certificate.level,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
        "revocation_reason": certificate.revocation_reason,
    }


def issue_one(
    session: Session, *, settings: Settings, user: User, course: Course, actor: User, ip: str = ""
) -> Certificate:
    """Issue to one trainee after checking eligibility (the reasons are the error's message)."""
    state = eligibility(session, user=user, course=course)
    if state.existing is not None:
        raise Conflict(
            _("%(name)s already holds certificate %(number)s of this course.")
            % {"name": user.name, "number": state.existing.number}
        )
    if not state.eligible:
        raise DomainError(
            _("%(name)s is not eligible yet: %(reasons)s")
            % {"name": user.name, "reasons": " ".join(state.reasons)}
        )
    facts = IssueFacts(hours=state.hours)
    return issue_certificate(
        session, settings=settings, user=user, course=course, actor=actor, facts=facts, ip=ip
    )


# ---- lookups ------------------------------------------------------------------------------------------


def get_by_number(session: Session, number: str) -> Certificate:
    certificate = session.exec(select(Certificate).where(Certificate.number == number)).first()
    if certificate is None:
        raise NotFound(_("There is no certificate with this number."))
    return certificate


def find_by_number(session: Session, number: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.number == number)).first()


def get_by_credential(session: Session, credential_uuid: str) -> Certificate:
    certificate = session.exec(
        select(Certificate).where(Certificate.credential_uuid == credential_uuid)
    ).first()
    if certificate is None or certificate.credential_jwt is None:
        raise NotFound(_("There is no such credential."))
    return certificate


def renewed_credential(session: Session, credential_uuid: str) -> CertificateRenewal | None:
    """The credential of a validity period that ended in a renewal (superseded, still verifiable)."""
    return session.exec(
        select(CertificateRenewal).where(
            CertificateRenewal.credential_uuid == credential_uuid,
            col(CertificateRenewal.credential_jwt).is_not(None),
        )
    ).first()


def credential_jwt_of(session: Session, credential_uuid: str) -> tuple[Certificate, str]:
    """(the certificate, the VC-JWT) of a credential id: the current one, or one superseded by renewal."""
    certificate = session.exec(
        select(Certificate).where(Certificate.credential_uuid == credential_uuid)
    ).first()
    if certificate is not None and certificate.credential_jwt:
        return certificate, certificate.credential_jwt
    renewal = renewed_credential(session, credential_uuid)
    if renewal is not None and renewal.credential_jwt:
        current = session.get(Certificate, renewal.certificate_id)
        if current is not None:
            return current, renewal.credential_jwt
    raise NotFound(_("There is no such credential."))


def certificates_of(session: Session, *, user_id: int) -> list[Certificate]:
    statement = (
        select(Certificate)
        .where(Certificate.user_id == user_id)
        .order_by(col(Certificate.issued_on).desc(), col(Certificate.id).desc())
    )
    return list(session.exec(statement))


def search(session: Session, *, query: str = "", status: str = "", page: int = 1) -> Page[Certificate]:
    """One page of certificates (newest first) matching a number, name or organisation."""
    statement = select(Certificate)
    if query.strip():
        needle = f"%{query.strip()}%"
        statement = statement.where(
            or_(
                col(Certificate.number).like(needle),
                col(Certificate.holder_name).like(needle),
                col(Certificate.organisation).like(needle),
            )
        )
    if status in set(CertificateStatus):
        statement = statement.where(Certificate.status == status)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    page = max(page, 1)
    rows = session.exec(
        statement.order_by(col(Certificate.id).desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    )
    return Page(items=list(rows), total=int(total), page=page, page_size=PAGE_SIZE)


def history(session: Session, *, number: str) -> list[AuditEvent]:
    statement = (
        select(AuditEvent)
        .where(AuditEvent.target_type == "certificate", AuditEvent.target_id == number)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    return list(session.exec(statement))


def revocation_list(session: Session) -> list[Certificate]:
    """Credentials that are no longer valid: revoked, or superseded by a reissue."""
    statement = (
        select(Certificate)
        .where(
            col(Certificate.credential_uuid).is_not(None),
            col(Certificate.status).in_(
                [CertificateStatus.revoked.value, CertificateStatus.superseded.value]
            ),
        )
        .order_by(col(Certificate.id))
    )
    return list(session.exec(statement))


def renewal_revocations(session: Session) -> list[CertificateRenewal]:
    """Credentials superseded by a renewal (the certificate itself lives on with a new credential)."""
    statement = (
        select(CertificateRenewal)
        .where(col(CertificateRenewal.credential_uuid).is_not(None))
        .order_by(col(CertificateRenewal.id))
    )
    return list(session.exec(statement))
