"""Classes (培训班) without HTTP: create and edit, who may manage a class, instructors, listing, and
the exam window. Seats (enrol, withdraw) are in enrolment.py; timetable, attendance and hours in
sessions.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.audit import record_event
from backend.cohorts.enrolment import seats_taken, seats_taken_by_cohort
from backend.cohorts.schemas import CohortData, CohortForm, CohortPublic
from backend.errors import Forbidden, NotFound, ValidationFailed
from backend.i18n import _
from backend.models import (
    Cohort,
    CohortInstructor,
    CohortStatus,
    Course,
    Enrollment,
    EnrollmentStatus,
    Role,
    User,
)

# The training base is in China (no daylight saving): the exam window is typed and shown in Beijing time.
BEIJING = timezone(timedelta(hours=8), "CST")
EDITABLE_FIELDS = tuple(CohortData.model_fields)


def beijing_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(BEIJING).strftime(fmt) if value else ""


def _parse_local_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.strip()).replace(tzinfo=BEIJING).astimezone(UTC)


def validate_cohort_form(session: Session, *, form: CohortForm, existing: Cohort | None = None) -> CohortData:
    """The form as a CohortData, or ValidationFailed with one message per field and nothing stored."""
    errors: dict[str, str] = {}
    name = form.name.strip()
    if not name:
        errors["name"] = _("Enter the name of the class.")
    elif len(name) > 200:
        errors["name"] = _("The name can have at most 200 characters.")
    course_id = _int_or_none(form.course_id)
    if course_id is None or session.get(Course, course_id) is None:
        errors["course_id"] = _("Choose the course this class takes.")
    year = _int_or_none(form.year)
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = _("Enter a year such as 2026.")
    start = _date_or_none(form.start_date)
    end = _date_or_none(form.end_date)
    if start is None:
        errors["start_date"] = _("Enter the first day of the class.")
    if end is None:
        errors["end_date"] = _("Enter the last day of the class.")
    elif start is not None and end < start:
        errors["end_date"] = _("The last day cannot be before the first day.")
    place = form.place.strip()
    if not place:
        errors["place"] = _("Enter where the class meets, or “online”.")
    capacity = _capacity(session, form.capacity, existing=existing, errors=errors)
    if form.status not in CohortStatus.__members__:
        errors["status"] = _("Choose a status.")
    opens = _local_datetime(form.exam_opens_at, field="exam_opens_at", errors=errors)
    closes = _local_datetime(form.exam_closes_at, field="exam_closes_at", errors=errors)
    if opens and closes and closes <= opens:
        errors["exam_closes_at"] = _("The exam must close after it opens.")
    if errors:
        raise ValidationFailed(errors)
    assert course_id is not None and year is not None and start and end and capacity is not None
    return CohortData(
        name=name,
        course_id=course_id,
        year=year,
        start_date=start,
        end_date=end,
        place=place,
        capacity=capacity,
        status=form.status,
        exam_opens_at=opens,
        exam_closes_at=closes,
    )


def _capacity(session: Session, value: str, *, existing: Cohort | None, errors: dict[str, str]) -> int | None:
    capacity = _int_or_none(value)
    if capacity is None or capacity < 1:
        errors["capacity"] = _("The capacity is a whole number of at least 1.")
    elif existing is not None and existing.id is not None:
        taken = seats_taken(session, cohort_id=existing.id)
        if capacity < taken:
            message = _("%(n)d trainees are already enrolled; the capacity cannot be lower than that.")
            errors["capacity"] = message % {"n": taken}
    return capacity


def _local_datetime(value: str, *, field: str, errors: dict[str, str]) -> datetime | None:
    """A datetime-local field (Beijing time) as UTC; empty means no limit."""
    if not value.strip():
        return None
    try:
        return _parse_local_datetime(value)
    except ValueError:
        errors[field] = _("Enter a date and time, for example 2026-12-20 09:00.")
        return None


def _int_or_none(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


def _date_or_none(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def cohort_form_values(cohort: Cohort) -> CohortForm:
    """A stored class as the form shows it for editing."""
    return CohortForm(
        name=cohort.name,
        course_id=str(cohort.course_id),
        year=str(cohort.year),
        start_date=cohort.start_date.isoformat(),
        end_date=cohort.end_date.isoformat(),
        place=cohort.place,
        capacity=str(cohort.capacity),
        status=cohort.status,
        exam_opens_at=beijing_time(cohort.exam_opens_at, "%Y-%m-%dT%H:%M"),
        exam_closes_at=beijing_time(cohort.exam_closes_at, "%Y-%m-%dT%H:%M"),
    )


def _snapshot(cohort: Cohort) -> dict[str, object]:
    return {name: _jsonable(getattr(cohort, name)) for name in EDITABLE_FIELDS}


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime) else value


def create_cohort(session: Session, *, form: CohortForm, actor: User, ip: str = "") -> Cohort:
    data = validate_cohort_form(session, form=form)
    cohort = Cohort.model_validate(data.model_dump())
    session.add(cohort)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="cohort.created",
        target_type="cohort",
        target_id=cohort.id or "",
        after=_snapshot(cohort),
        ip=ip,
    )
    return cohort


def update_cohort(session: Session, *, cohort: Cohort, form: CohortForm, actor: User, ip: str = "") -> Cohort:
    data = validate_cohort_form(session, form=form, existing=cohort)
    before = _snapshot(cohort)
    for name, value in data.model_dump().items():
        setattr(cohort, name, value)
    session.add(cohort)
    session.flush()
    after = _snapshot(cohort)
    changed = [name for name in EDITABLE_FIELDS if before[name] != after[name]]
    if changed:
        record_event(
            session,
            actor=actor,
            action="cohort.updated",
            target_type="cohort",
            target_id=cohort.id or "",
            before={name: before[name] for name in changed},
            after={name: after[name] for name in changed},
            ip=ip,
        )
    return cohort


def get_cohort(session: Session, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound(_("No such class."))
    return cohort


def is_instructor_of(session: Session, *, cohort_id: int, user_id: int) -> bool:
    row = session.get(CohortInstructor, (cohort_id, user_id))
    return row is not None


def can_manage(session: Session, *, cohort: Cohort, user: User) -> bool:
    """Administrators manage every class; an instructor only the classes they are assigned to."""
    if user.role == Role.admin.value:
        return True
    assert cohort.id is not None and user.id is not None
    return user.role == Role.instructor.value and is_instructor_of(
        session, cohort_id=cohort.id, user_id=user.id
    )


def require_staff_of(session: Session, *, cohort: Cohort, user: User) -> None:
    if not can_manage(session, cohort=cohort, user=user):
        raise Forbidden(_("You do not teach this class."))


def instructors_of(session: Session, *, cohort_id: int) -> list[User]:
    statement = (
        select(User)
        .join(CohortInstructor, col(CohortInstructor.user_id) == User.id)
        .where(CohortInstructor.cohort_id == cohort_id)
        .order_by(col(User.name))
    )
    return list(session.exec(statement).all())


def staff_candidates(session: Session) -> list[User]:
    """Everyone who may be assigned to teach: active instructors and administrators."""
    statement = select(User).where(
        col(User.role).in_([Role.instructor.value, Role.admin.value]), col(User.is_active)
    )
    return list(session.exec(statement.order_by(col(User.name))).all())


def add_instructor(session: Session, *, cohort: Cohort, user_id: int, actor: User, ip: str = "") -> User:
    assert cohort.id is not None
    user = session.get(User, user_id)
    if user is None or user.role not in (Role.instructor.value, Role.admin.value):
        raise ValidationFailed({"user_id": _("Choose an instructor.")})
    if not is_instructor_of(session, cohort_id=cohort.id, user_id=user_id):
        session.add(CohortInstructor(cohort_id=cohort.id, user_id=user_id))
        session.flush()
        record_event(
            session,
            actor=actor,
            action="cohort.instructor_added",
            target_type="cohort",
            target_id=cohort.id,
            after={"user_id": user_id, "email": user.email},
            ip=ip,
        )
    return user


def remove_instructor(session: Session, *, cohort: Cohort, user_id: int, actor: User, ip: str = "") -> None:
    assert cohort.id is not None
    row = session.get(CohortInstructor, (cohort.id, user_id))
    if row is None:
        return
    session.delete(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="cohort.instructor_removed",
        target_type="cohort",
        target_id=cohort.id,
        before={"user_id": user_id},
        ip=ip,
    )


# ---- listing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFilter:
    query: str = ""
    course_id: int | None = None
    year: int | None = None
    status: str = ""


@dataclass(frozen=True)
class CohortRow:
    cohort: Cohort
    course: Course
    seats_taken: int

    @property
    def seats_left(self) -> int:
        return max(0, self.cohort.capacity - self.seats_taken)


def list_cohorts(
    session: Session, *, filters: CohortFilter | None = None, instructor_id: int | None = None
) -> list[CohortRow]:
    """Classes matching the filters, newest first; with `instructor_id`, only the classes they teach."""
    filters = filters or CohortFilter()
    statement = select(Cohort, Course).join(Course, col(Course.id) == Cohort.course_id)
    if instructor_id is not None:
        statement = statement.join(CohortInstructor, col(CohortInstructor.cohort_id) == Cohort.id).where(
            CohortInstructor.user_id == instructor_id
        )
    if filters.query.strip():
        statement = statement.where(func.lower(Cohort.name).like(f"%{filters.query.strip().lower()}%"))
    if filters.course_id is not None:
        statement = statement.where(Cohort.course_id == filters.course_id)
    if filters.year is not None:
        statement = statement.where(Cohort.year == filters.year)
    if filters.status in CohortStatus.__members__:
        statement = statement.where(Cohort.status == filters.status)
    statement = statement.order_by(col(Cohort.start_date).desc(), col(Cohort.id).desc())
    pairs = list(session.exec(statement).all())
    taken = seats_taken_by_cohort(session, [cohort.id for cohort, _course in pairs if cohort.id])
    return [CohortRow(cohort, course, taken.get(cohort.id or 0, 0)) for cohort, course in pairs]


def open_cohorts(session: Session, *, course_id: int | None = None) -> list[CohortRow]:
    """Classes a trainee can enrol in now (open for enrolment), soonest first."""
    rows = list_cohorts(session, filters=CohortFilter(course_id=course_id, status=CohortStatus.open.value))
    return sorted(rows, key=lambda row: (row.cohort.start_date, row.cohort.id or 0))


def cohort_public(row: CohortRow) -> CohortPublic:
    cohort = row.cohort
    assert cohort.id is not None and row.course.id is not None
    return CohortPublic(
        id=cohort.id,
        name=cohort.name,
        course_id=row.course.id,
        course_slug=row.course.slug,
        course_title=row.course.title,
        year=cohort.year,
        start_date=cohort.start_date,
        end_date=cohort.end_date,
        place=cohort.place,
        capacity=cohort.capacity,
        seats_taken=row.seats_taken,
        status=cohort.status,
        exam_opens_at=cohort.exam_opens_at,
        exam_closes_at=cohort.exam_closes_at,
    )


def cohort_row(session: Session, cohort: Cohort) -> CohortRow:
    course = session.get(Course, cohort.course_id)
    assert course is not None and cohort.id is not None
    return CohortRow(cohort, course, seats_taken(session, cohort_id=cohort.id))


def courses_for_choice(session: Session) -> list[Course]:
    return list(session.exec(select(Course).order_by(col(Course.title))).all())


def classes_of_trainee(session: Session, *, user_id: int) -> list[CohortRow]:
    statement = (
        select(Cohort, Course)
        .join(Course, col(Course.id) == Cohort.course_id)
        .join(Enrollment, col(Enrollment.cohort_id) == Cohort.id)
        .where(Enrollment.user_id == user_id, Enrollment.status == EnrollmentStatus.enrolled.value)
        .order_by(col(Cohort.start_date).desc())
    )
    pairs = list(session.exec(statement).all())
    taken = seats_taken_by_cohort(session, [cohort.id for cohort, _course in pairs if cohort.id])
    return [CohortRow(cohort, course, taken.get(cohort.id or 0, 0)) for cohort, course in pairs]


# ---- exam window ------------------------------------------------------------------------------------


def exam_window_open(
    session: Session, *, user_id: int, course_id: int, now: datetime
) -> tuple[bool, str | None]:
    """Whether the trainee may sit the exam of the course now, as far as their class decides: (True,
    None) outside any class; otherwise open when `now` is inside the class's exam window (an unset end
    of the window leaves that side open), else (False, the reason to show)."""
    statement = (
        select(Cohort)
        .join(Enrollment, col(Enrollment.cohort_id) == Cohort.id)
        .where(
            Enrollment.user_id == user_id,
            Enrollment.status == EnrollmentStatus.enrolled.value,
            Cohort.course_id == course_id,
        )
        .order_by(col(Cohort.start_date).desc())
    )
    cohorts = list(session.exec(statement).all())
    if not cohorts:
        return True, None
    reason: str | None = None
    for cohort in cohorts:
        opens, closes = cohort.exam_opens_at, cohort.exam_closes_at
        if opens is not None and now < opens:
            reason = reason or _("The exam of your class %(name)s opens at %(time)s (Beijing time).") % {
                "name": cohort.name,
                "time": beijing_time(opens),
            }
        elif closes is not None and now >= closes:
            reason = reason or _("The exam of your class %(name)s closed at %(time)s (Beijing time).") % {
                "name": cohort.name,
                "time": beijing_time(closes),
            }
        else:
            return True, None
    return False, reason
