"""Request and response shapes for classes (never the table models themselves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel


class CohortForm(BaseModel):
    """The class form as typed: every field is text, so the service can say what is wrong next to each
    field instead of the parser refusing the whole request."""

    name: str = ""
    course_id: str = ""
    year: str = ""
    start_date: str = ""
    end_date: str = ""
    place: str = ""
    capacity: str = ""
    status: str = "planned"
    exam_opens_at: str = ""  # datetime-local, Beijing time
    exam_closes_at: str = ""


class CohortData(BaseModel):
    """A class form after validation: what is written to the Cohort row."""

    name: str
    course_id: int
    year: int
    start_date: date
    end_date: date
    place: str
    capacity: int
    status: str
    exam_opens_at: datetime | None
    exam_closes_at: datetime | None


class SessionForm(BaseModel):
    date: str = ""
    topic: str = ""
    hours: str = ""
    instructor_id: str = ""


class CohortPublic(BaseModel):
    id: int
    name: str
    course_id: int
    course_slug: str
    course_title: str
    year: int
    start_date: date
    end_date: date
    place: str
    capacity: int
    seats_taken: int
    status: str
    exam_opens_at: datetime | None
    exam_closes_at: datetime | None


class ImportProblemPublic(BaseModel):
    row: int | None
    column: str | None
    message: str


class ImportOutcomePublic(BaseModel):
    """The answer to an import: either the problems (nothing imported) or what was done."""

    ok: bool
    rows: int
    problems: list[ImportProblemPublic] = []
    enrolled: int = 0
    accounts_created: int = 0
    job_id: int | None = None


class DashboardRowPublic(BaseModel):
    user_id: int
    name: str
    email: str
    id_number_masked: str
    organisation: str
    online_hours: float
    class_hours: float
    total_hours: float
    min_hours: float
    modules_completed: int
    modules_total: int
    exam_status: str
    exam_score: float | None
    eligible: bool
    reasons: list[str]


class DashboardPublic(BaseModel):
    cohort: CohortPublic
    trainees: list[DashboardRowPublic]


@dataclass
class TraineeStatus:
    """Where one trainee of a class stands: hours (online and in class, shown apart), modules, exam and
    whether a certificate may be issued; `reasons` says what is still missing when not eligible."""

    user_id: int
    name: str
    email: str
    id_number_masked: str
    organisation: str
    online_hours: float
    class_hours: float
    min_hours: float
    modules_completed: int
    modules_total: int
    exam_status: str
    exam_score: float | None
    eligible: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def total_hours(self) -> float:
        return round(self.online_hours + self.class_hours, 2)

    @property
    def hours_met(self) -> bool:
        return self.total_hours >= self.min_hours
