"""Seats in a class: counting them, and taking one (enrol) or giving it back (withdraw) with a capacity
that holds under concurrency. The lowest layer of the classes package (no import from service.py)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.audit import record_event
from backend.errors import Conflict, NotFound
from backend.i18n import _
from backend.models import (
    Cohort,
    CohortStatus,
    Enrollment,
    EnrollmentSource,
    EnrollmentStatus,
    User,
    utcnow,
)


def seats_taken(session: Session, *, cohort_id: int) -> int:
    statement = select(func.count()).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.enrolled.value
    )
    return int(session.exec(statement).one())


def seats_taken_by_cohort(session: Session, cohort_ids: Iterable[int]) -> dict[int, int]:
    ids = list(cohort_ids)
    if not ids:
        return {}
    statement = (
        select(Enrollment.cohort_id, func.count())
        .where(col(Enrollment.cohort_id).in_(ids), Enrollment.status == EnrollmentStatus.enrolled.value)
        .group_by(col(Enrollment.cohort_id))
    )
    return {cohort_id: int(count) for cohort_id, count in session.exec(statement).all()}


def lock_cohort(session: Session, *, cohort_id: int) -> Cohort:
    """The class row, locked until the transaction ends, so seats are counted and taken one writer at a
    time: SELECT ... FOR UPDATE on PostgreSQL; on SQLite a writing request already holds the database's
    write lock from its first statement (BEGIN IMMEDIATE, see backend/db.py) and FOR UPDATE is omitted."""
    statement = (
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    cohort = session.exec(statement).first()
    if cohort is None:
        raise NotFound(_("No such class."))
    return cohort


def enrolment_of(session: Session, *, cohort_id: int, user_id: int) -> Enrollment | None:
    statement = select(Enrollment).where(Enrollment.cohort_id == cohort_id, Enrollment.user_id == user_id)
    return session.exec(statement).first()


def enrol(
    session: Session,
    *,
    cohort_id: int,
    user: User,
    actor: User,
    source: EnrollmentSource = EnrollmentSource.self,
    ip: str = "",
) -> Enrollment:
    """Give `user` a seat in the class, or raise Conflict (not open, already enrolled, full). Two people
    taking the last seat at the same moment: the cohort row lock makes exactly one of them get it."""
    cohort = lock_cohort(session, cohort_id=cohort_id)
    if source == EnrollmentSource.self and cohort.status != CohortStatus.open.value:
        raise Conflict(_("This class is not open for enrolment."))
    assert user.id is not None
    existing = enrolment_of(session, cohort_id=cohort_id, user_id=user.id)
    if existing is not None and existing.status == EnrollmentStatus.enrolled.value:
        if source == EnrollmentSource.self:
            raise Conflict(_("You are already enrolled in this class."))
        raise Conflict(_("%(name)s is already enrolled in this class.") % {"name": user.name})
    if seats_taken(session, cohort_id=cohort_id) >= cohort.capacity:
        raise Conflict(_("This class is full."))
    enrolment = existing or Enrollment(cohort_id=cohort_id, user_id=user.id)
    enrolment.status = EnrollmentStatus.enrolled.value
    enrolment.source = source.value
    enrolment.enrolled_at = utcnow()
    enrolment.withdrawn_at = None
    session.add(enrolment)
    session.flush()
    record_enrolment(session, enrolment=enrolment, user=user, actor=actor, ip=ip)
    return enrolment


def record_enrolment(
    session: Session, *, enrolment: Enrollment, user: User, actor: User | None, ip: str
) -> None:
    record_event(
        session,
        actor=actor,
        action="enrollment.created",
        target_type="cohort",
        target_id=enrolment.cohort_id,
        after={"user_id": user.id, "email": user.email, "source": enrolment.source},
        ip=ip,
    )


def withdraw(session: Session, *, cohort_id: int, user_id: int, actor: User, ip: str = "") -> Enrollment:
    enrolment = enrolment_of(session, cohort_id=cohort_id, user_id=user_id)
    if enrolment is None or enrolment.status != EnrollmentStatus.enrolled.value:
        raise NotFound(_("This person is not enrolled in this class."))
    enrolment.status = EnrollmentStatus.withdrawn.value
    enrolment.withdrawn_at = utcnow()
    session.add(enrolment)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="enrollment.withdrawn",
        target_type="cohort",
        target_id=cohort_id,
        before={"user_id": user_id, "status": EnrollmentStatus.enrolled.value},
        after={"user_id": user_id, "status": EnrollmentStatus.withdrawn.value},
        ip=ip,
    )
    return enrolment


def enrolled_trainees(session: Session, *, cohort_id: int) -> list[User]:
    statement = (
        select(User)
        .join(Enrollment, col(Enrollment.user_id) == User.id)
        .where(Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.enrolled.value)
        .order_by(col(User.name), col(User.id))
    )
    return list(session.exec(statement).all())
