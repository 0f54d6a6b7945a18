"""Training classes (培训班): a cohort of trainees taking one course together, its instructors, its
enrolments, its in-person sessions (timetable) and the attendance taken at each session."""

from __future__ import annotations

import datetime as dt
import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class CohortStatus(enum.StrEnum):
    planned = "planned"
    open = "open"  # open for enrolment
    running = "running"
    finished = "finished"


class EnrollmentStatus(enum.StrEnum):
    enrolled = "enrolled"
    withdrawn = "withdrawn"


class EnrollmentSource(enum.StrEnum):
    self = "self"  # the trainee enrolled in the browser
    imported = "import"  # an administrator's bulk import
    admin = "admin"


class Cohort(SQLModel, table=True):
    __tablename__ = "cohort"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("end_date >= start_date", name="dates_in_order"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    course_id: int = Field(foreign_key="course.id", index=True)
    year: int = Field(index=True)
    start_date: dt.date
    end_date: dt.date
    place: str = Field(default="", max_length=200)  # an address, or "online"
    capacity: int
    status: str = Field(default=CohortStatus.planned.value, max_length=20, index=True)
    exam_opens_at: datetime | None = Field(default=None)
    exam_closes_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class CohortInstructor(SQLModel, table=True):
    __tablename__ = "cohort_instructor"

    cohort_id: int = Field(foreign_key="cohort.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True, ondelete="CASCADE")


class Enrollment(SQLModel, table=True):
    """A trainee's seat in a class; a withdrawn seat stays (history) and is counted free again."""

    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    status: str = Field(default=EnrollmentStatus.enrolled.value, max_length=20)
    source: str = Field(default=EnrollmentSource.self.value, max_length=20)
    enrolled_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = Field(default=None)


class ClassSession(SQLModel, table=True):
    """One in-person (or live online) day or half-day of a class's timetable."""

    __tablename__ = "class_session"
    __table_args__ = (CheckConstraint("hours > 0", name="hours_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    date: dt.date
    topic: str = Field(max_length=200)
    hours: float
    instructor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class Attendance(SQLModel, table=True):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="class_session.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    present: bool = Field(default=False)
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=utcnow)
