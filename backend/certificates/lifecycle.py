"""The life cycle of an issued certificate: revoke it with a reason, or reissue it (a name correction,
say) as a new certificate with a new number and the same validity, the old one marked superseded.
Both keep the old record (its number is never reused) and write the audit log."""

from __future__ import annotations

from sqlmodel import Session

from backend.audit import record_event
from backend.certificates import credential as vc
from backend.certificates.service import IssueFacts, audit_facts, issue_certificate
from backend.config import Settings
from backend.errors import Conflict, DomainError
from backend.i18n import _
from backend.models import Certificate, CertificateStatus, Course, User, utcnow


def revoke(
    session: Session, *, certificate: Certificate, reason: str, actor: User, ip: str = ""
) -> Certificate:
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the reason for revoking: it is shown to anyone who verifies it."))
    if certificate.status != CertificateStatus.valid.value:
        raise Conflict(_("Only a valid certificate can be revoked."))
    before = audit_facts(certificate)
    certificate.status = CertificateStatus.revoked.value
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason[:500]
    session.add(certificate)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="certificate.revoked",
        target_type="certificate",
        target_id=certificate.number,
        before=before,
        after=audit_facts(certificate),
        ip=ip,
    )
    return certificate


def reissue(
    session: Session,
    *,
    settings: Settings,
    certificate: Certificate,
    holder_name: str,
    reason: str,
    actor: User,
    ip: str = "",
) -> Certificate:
    """A new certificate (new number, same validity) replaces a valid one, which becomes superseded."""
    holder_name, reason = holder_name.strip(), reason.strip()
    if certificate.status != CertificateStatus.valid.value:
        raise Conflict(_("Only a valid certificate can be reissued."))
    if not holder_name or not reason:
        raise DomainError(_("Give the name to print and the reason for reissuing."))
    user = session.get(User, certificate.user_id) if certificate.user_id else None
    course = session.get(Course, certificate.course_id) if certificate.course_id else None
    if user is None or course is None or course.level not in vc.COURSE_LEVELS:
        raise DomainError(_("This certificate has no account or course here, so it cannot be reissued."))
    before = audit_facts(certificate)
    certificate.status = CertificateStatus.superseded.value
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason[:500]
    session.add(certificate)
    session.flush()  # the old one stops being "valid" before the new one is inserted
    facts = IssueFacts(
        hours=certificate.hours or 0.0,
        cohort_id=certificate.cohort_id,
        holder_name=holder_name,
        expires_on=certificate.expires_on,
        replaces=certificate,
    )
    new = issue_certificate(
        session, settings=settings, user=user, course=course, actor=actor, facts=facts, ip=ip
    )
    certificate.superseded_by_id = new.id
    session.add(certificate)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="certificate.superseded",
        target_type="certificate",
        target_id=certificate.number,
        before=before,
        after={**audit_facts(certificate), "superseded_by": new.number},
        ip=ip,
    )
    return new
