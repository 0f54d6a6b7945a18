"""A class's in-person sessions (timetable), attendance taken as a checklist, and the hours that count
toward a course's min_hours: attended class hours beside completed online module hours."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from backend.audit import record_event
from backend.cohorts.enrolment import enrolled_trainees
from backend.cohorts.schemas import SessionForm
from backend.cohorts.service import instructors_of
from backend.errors import NotFound, ValidationFailed
from backend.i18n import _
from backend.models import (
    Attendance,
    ClassSession,
    Cohort,
    CourseModule,
    ModuleProgress,
    User,
    utcnow,
)

MAX_SESSION_HOURS = 24


def list_sessions(session: Session, *, cohort_id: int) -> list[ClassSession]:
    statement = (
        select(ClassSession)
        .where(ClassSession.cohort_id == cohort_id)
        .order_by(col(ClassSession.date), col(ClassSession.id))
    )
    return list(session.exec(statement).all())


def get_session(session: Session, *, cohort_id: int, session_id: int) -> ClassSession:
    row = session.get(ClassSession, session_id)
    if row is None or row.cohort_id != cohort_id:
        raise NotFound(_("No such session in this class."))
    return row


def _validate(session: Session, *, cohort: Cohort, form: SessionForm) -> tuple[date, str, float, int | None]:
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(form.date.strip())
    except ValueError:
        errors["date"] = _("Enter the date of the session.")
    else:
        if not cohort.start_date <= day <= cohort.end_date:
            errors["date"] = _("The date must be within the class's dates (%(start)s to %(end)s).") % {
                "start": cohort.start_date.isoformat(),
                "end": cohort.end_date.isoformat(),
            }
    topic = form.topic.strip()
    if not topic:
        errors["topic"] = _("Enter the topic of the session.")
    elif len(topic) > 200:
        errors["topic"] = _("The topic can have at most 200 characters.")
    try:
        hours = float(form.hours.strip())
    except ValueError:
        hours = 0
    if not 0 < hours <= MAX_SESSION_HOURS:
        errors["hours"] = _("Enter the hours (学时) of the session: more than 0, at most 24.")
    instructor_id: int | None = None
    if form.instructor_id.strip():
        assert cohort.id is not None
        allowed = {user.id for user in instructors_of(session, cohort_id=cohort.id)}
        try:
            instructor_id = int(form.instructor_id)
        except ValueError:
            instructor_id = None
        if instructor_id not in allowed:
            errors["instructor_id"] = _("Choose one of the class's instructors.")
    if errors:
        raise ValidationFailed(errors)
    return day, topic, hours, instructor_id


def _snapshot(row: ClassSession) -> dict[str, object]:
    return {
        "date": row.date.isoformat(),
        "topic": row.topic,
        "hours": row.hours,
        "instructor_id": row.instructor_id,
    }


def create_session(
    session: Session, *, cohort: Cohort, form: SessionForm, actor: User, ip: str = ""
) -> ClassSession:
    day, topic, hours, instructor_id = _validate(session, cohort=cohort, form=form)
    assert cohort.id is not None
    row = ClassSession(cohort_id=cohort.id, date=day, topic=topic, hours=hours, instructor_id=instructor_id)
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="class_session.created",
        target_type="class_session",
        target_id=row.id or "",
        after={"cohort_id": cohort.id, **_snapshot(row)},
        ip=ip,
    )
    return row


def update_session(
    session: Session, *, cohort: Cohort, row: ClassSession, form: SessionForm, actor: User, ip: str = ""
) -> ClassSession:
    day, topic, hours, instructor_id = _validate(session, cohort=cohort, form=form)
    before = _snapshot(row)
    row.date, row.topic, row.hours, row.instructor_id = day, topic, hours, instructor_id
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="class_session.updated",
        target_type="class_session",
        target_id=row.id or "",
        before=before,
        after=_snapshot(row),
        ip=ip,
    )
    return row


def delete_session(session: Session, *, row: ClassSession, actor: User, ip: str = "") -> None:
    before = {"cohort_id": row.cohort_id, **_snapshot(row)}
    target_id = row.id or ""
    session.delete(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="class_session.deleted",
        target_type="class_session",
        target_id=target_id,
        before=before,
        ip=ip,
    )


# ---- attendance -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceLine:
    user: User
    present: bool
    recorded: bool  # False until attendance has been saved for this session


def attendance_sheet(session: Session, *, row: ClassSession) -> list[AttendanceLine]:
    """Every trainee enrolled in the class, with what has been recorded for this session so far."""
    trainees = enrolled_trainees(session, cohort_id=row.cohort_id)
    marks = {
        mark.user_id: mark.present
        for mark in session.exec(select(Attendance).where(Attendance.session_id == row.id)).all()
    }
    return [
        AttendanceLine(user, marks.get(user.id or 0, False), (user.id or 0) in marks) for user in trainees
    ]


def record_attendance(
    session: Session, *, row: ClassSession, present_user_ids: Iterable[int], actor: User, ip: str = ""
) -> tuple[int, int]:
    """Save the checklist: every enrolled trainee gets a mark, present when ticked. Returns (present,
    absent). Ids that are not enrolled trainees are ignored."""
    assert row.id is not None
    trainees = enrolled_trainees(session, cohort_id=row.cohort_id)
    ticked = set(present_user_ids)
    existing = {
        mark.user_id: mark
        for mark in session.exec(select(Attendance).where(Attendance.session_id == row.id)).all()
    }
    now = utcnow()
    present: list[int] = []
    for user in trainees:
        assert user.id is not None
        mark = existing.get(user.id) or Attendance(session_id=row.id, user_id=user.id)
        mark.present = user.id in ticked
        mark.recorded_by = actor.id
        mark.recorded_at = now
        session.add(mark)
        if mark.present:
            present.append(user.id)
    session.flush()
    absent = len(trainees) - len(present)
    record_event(
        session,
        actor=actor,
        action="attendance.recorded",
        target_type="class_session",
        target_id=row.id,
        after={"cohort_id": row.cohort_id, "present": present, "absent": absent},
        ip=ip,
    )
    return len(present), absent


def attendance_counts(session: Session, *, cohort_id: int) -> dict[int, tuple[int, bool]]:
    """Per session of the class: (number present, whether attendance has been taken)."""
    statement = (
        select(Attendance.session_id, func.count(), func.sum(case((col(Attendance.present), 1), else_=0)))
        .join(ClassSession, col(ClassSession.id) == Attendance.session_id)
        .where(ClassSession.cohort_id == cohort_id)
        .group_by(col(Attendance.session_id))
    )
    return {sid: (int(present or 0), total > 0) for sid, total, present in session.exec(statement).all()}


# ---- hours ------------------------------------------------------------------------------------------


def class_hours(session: Session, *, user_id: int, cohort_id: int) -> float:
    """Hours of the class's sessions the trainee attended."""
    return class_hours_by_user(session, cohort_id=cohort_id, user_ids=[user_id]).get(user_id, 0.0)


def class_hours_by_user(
    session: Session, *, cohort_id: int, user_ids: Iterable[int] | None = None
) -> dict[int, float]:
    statement = (
        select(Attendance.user_id, func.sum(ClassSession.hours))
        .join(ClassSession, col(ClassSession.id) == Attendance.session_id)
        .where(ClassSession.cohort_id == cohort_id, col(Attendance.present))
        .group_by(col(Attendance.user_id))
    )
    if user_ids is not None:
        statement = statement.where(col(Attendance.user_id).in_(list(user_ids)))
    return {user_id: round(float(hours or 0), 2) for user_id, hours in session.exec(statement).all()}


def online_hours(session: Session, *, user_id: int, course_id: int) -> float:
    """Hours credited for the course's online modules the trainee completed."""
    return online_progress_by_user(session, course_id=course_id, user_ids=[user_id]).get(user_id, (0.0, 0))[0]


def online_progress_by_user(
    session: Session, *, course_id: int, user_ids: Iterable[int]
) -> dict[int, tuple[float, int]]:
    """Per trainee: (hours credited for completed modules, number of current modules completed).
    Hours of a module later archived stay earned; the module count is out of the current modules."""
    ids = list(user_ids)
    if not ids:
        return {}
    current = func.sum(case((col(CourseModule.archived_at).is_(None), 1), else_=0))
    statement = (
        select(ModuleProgress.user_id, func.sum(ModuleProgress.hours_credited), current)
        .join(CourseModule, col(CourseModule.id) == ModuleProgress.module_id)
        .where(
            CourseModule.course_id == course_id,
            col(ModuleProgress.completed_at).is_not(None),
            col(ModuleProgress.user_id).in_(ids),
        )
        .group_by(col(ModuleProgress.user_id))
    )
    return {
        user_id: (round(float(hours or 0), 2), int(done or 0))
        for user_id, hours, done in session.exec(statement).all()
    }


def modules_total(session: Session, *, course_id: int) -> int:
    statement = select(func.count()).where(
        CourseModule.course_id == course_id, col(CourseModule.archived_at).is_(None)
    )
    return int(session.exec(statement).one())
