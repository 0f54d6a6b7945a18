"""Issuing a whole class in one action: who gets a certificate (eligible and not already holding one),
issued in the request for a small class, or as a background job with progress for a large one, which
completes even if the page is closed. Running it again issues nothing twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlmodel import Session, col, select

from backend import i18n
from backend.audit import record_event
from backend.certificates import service
from backend.cohorts.dashboard import class_statuses
from backend.cohorts.schemas import TraineeStatus
from backend.cohorts.service import is_instructor_of
from backend.config import Settings
from backend.errors import Conflict, DomainError, Forbidden
from backend.i18n import _
from backend.jobs.service import ProgressFn, create_job, job_settings, register_handler, start_after_commit
from backend.models import Certificate, CertificateStatus, Cohort, Course, Job, Role, User

JOB_KIND = "certificates.issue_class"
LARGE_CLASS = 20  # more to issue than this: a background job with a progress page


@dataclass
class ClassRow:
    status: TraineeStatus
    reasons: list[str]
    certificate: Certificate | None  # the valid certificate of the course the trainee holds

    @property
    def to_issue(self) -> bool:
        return self.certificate is None and not self.reasons


@dataclass
class ClassPlan:
    cohort: Cohort
    course: Course
    rows: list[ClassRow] = field(default_factory=list)

    @property
    def to_issue(self) -> list[ClassRow]:
        return [row for row in self.rows if row.to_issue]

    @property
    def holding(self) -> int:
        return sum(1 for row in self.rows if row.certificate is not None)


def may_issue_for_class(session: Session, *, settings: Settings, cohort: Cohort, user: User) -> bool:
    if user.role == Role.admin.value:
        return True
    return (
        settings.instructors_may_issue
        and user.role == Role.instructor.value
        and is_instructor_of(session, cohort_id=cohort.id or 0, user_id=user.id or 0)
    )


def require_issuer(session: Session, *, settings: Settings, cohort: Cohort, user: User) -> None:
    if not may_issue_for_class(session, settings=settings, cohort=cohort, user=user):
        raise Forbidden(
            _(
                "Only administrators (and, when the settings allow it, its instructors) issue a class's certificates."
            )
        )


def class_plan(session: Session, *, settings: Settings, cohort: Cohort) -> ClassPlan:
    """Every enrolled trainee: the class dashboard's eligibility (hours online and in this class, the
    exam) plus the course's own rules, and the certificate already held."""
    course = session.get(Course, cohort.course_id)
    assert course is not None and course.id is not None
    statuses = class_statuses(session, settings=settings, cohort=cohort)
    users = {
        user.id: user
        for user in session.exec(select(User).where(col(User.id).in_([s.user_id for s in statuses])))
    }
    held = {
        cert.user_id: cert
        for cert in session.exec(
            select(Certificate).where(
                Certificate.course_id == course.id,
                Certificate.status == CertificateStatus.valid.value,
                col(Certificate.user_id).in_(list(users)),
            )
        )
    }
    plan = ClassPlan(cohort=cohort, course=course)
    for status in statuses:
        reasons = service.course_rules(course, users[status.user_id]) + list(status.reasons)
        plan.rows.append(ClassRow(status=status, reasons=reasons, certificate=held.get(status.user_id)))
    return plan


@dataclass
class ClassOutcome:
    issued: list[str] = field(default_factory=list)  # numbers
    already: int = 0  # held one before (or someone issued it meanwhile)
    not_eligible: int = 0

    def message(self) -> str:
        return _(
            "%(issued)d certificates issued; %(already)d trainees already held one; %(not)d are not eligible yet."
        ) % {"issued": len(self.issued), "already": self.already, "not": self.not_eligible}

    def as_result(self, cohort_id: int) -> dict[str, Any]:
        return {
            "message": self.message(),
            "url": f"/instructor/classes/{cohort_id}/certificates",
            "issued": self.issued,
            "already": self.already,
            "not_eligible": self.not_eligible,
        }


def issue_for_class(
    session: Session,
    *,
    settings: Settings,
    cohort: Cohort,
    actor: User | None,
    progress: ProgressFn | None = None,
    ip: str = "",
) -> ClassOutcome:
    """Issue to every eligible trainee who holds no certificate of the course yet."""
    plan = class_plan(session, settings=settings, cohort=cohort)
    todo = plan.to_issue
    outcome = ClassOutcome(already=plan.holding, not_eligible=sum(1 for r in plan.rows if r.reasons))
    users = {
        u.id: u for u in session.exec(select(User).where(col(User.id).in_([r.status.user_id for r in todo])))
    }
    if progress:
        progress(0, _("Issuing %(n)d certificates") % {"n": len(todo)}, total=len(todo))
    for done, row in enumerate(todo, start=1):
        facts = service.IssueFacts(hours=row.status.total_hours, cohort_id=cohort.id)
        try:
            certificate = service.issue_certificate(
                session,
                settings=settings,
                user=users[row.status.user_id],
                course=plan.course,
                actor=actor,
                facts=facts,
                ip=ip,
            )
        except Conflict:
            outcome.already += 1
        else:
            outcome.issued.append(certificate.number)
        if progress:
            progress(done, _("%(done)d of %(total)d issued") % {"done": done, "total": len(todo)})
    record_event(
        session,
        actor=actor,
        action="certificate.class_issued",
        target_type="cohort",
        target_id=cohort.id or 0,
        after={
            "issued": len(outcome.issued),
            "already": outcome.already,
            "not_eligible": outcome.not_eligible,
        },
        ip=ip,
    )
    return outcome


def start_class_job(request: Request, session: Session, *, cohort: Cohort, actor: User, count: int) -> Job:
    payload = {
        "title": _("Issuing the certificates of %(name)s") % {"name": cohort.name},
        "cohort_id": cohort.id,
        "locale": i18n.current_locale.get(),
        "ip": request.client.host if request.client else "",
    }
    job = create_job(session, kind=JOB_KIND, owner=actor, payload=payload, total=count)
    start_after_commit(request, job)
    return job


def run_class_job(session: Session, job: Job, progress: ProgressFn) -> dict[str, Any]:
    settings = job_settings(session)
    token = i18n.current_locale.set(str(job.payload.get("locale") or i18n.DEFAULT_LOCALE))
    try:
        cohort = session.get(Cohort, int(job.payload["cohort_id"]))
        actor = session.get(User, job.owner_id) if job.owner_id else None
        if cohort is None:
            raise DomainError(_("The class no longer exists."))
        outcome = issue_for_class(
            session,
            settings=settings,
            cohort=cohort,
            actor=actor,
            progress=progress,
            ip=str(job.payload.get("ip", "")),
        )
        return outcome.as_result(cohort.id or 0)
    finally:
        i18n.current_locale.reset(token)


register_handler(JOB_KIND, run_class_job)
