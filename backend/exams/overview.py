"""Where a trainee stands in a course's final exam, said in one plain line for the course page and /me:
not open yet (and why), open, in progress (with the time left), waiting to be graded, or the result.
Each links to the exam page, /exams/{slug}, where the trainee starts or resumes an attempt."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session, col, select

from backend.cohorts.service import beijing_time
from backend.exams.service import eligibility
from backend.models import AttemptStatus, Course, ExamAttempt, User, utcnow

# The states, in the order a trainee goes through them (a visitor who is not signed in: SIGN_IN).
SIGN_IN, NOT_OPEN, OPEN, IN_PROGRESS, AWAITING_GRADING, PASSED, FAILED = (
    "sign_in",
    "not_open",
    "open",
    "in_progress",
    "awaiting_grading",
    "passed",
    "failed",
)


@dataclass(frozen=True)
class ExamOverview:
    course: Course
    title: str  # the exam's title (course.yaml's exam.title), "" for the default
    state: str  # one of the states above
    url: str  # the exam page
    attempt_url: str = ""  # the attempt to resume, or the result to read
    reasons: list[str] = field(default_factory=list)  # why a new attempt may not start (not_open, failed)
    minutes_left: int | None = None  # in_progress
    ends_at: str = ""  # in_progress: the deadline, Beijing time
    score: float | None = None  # best final percent, once there is one
    pass_score: float | None = None
    attempts_left: int = 0
    next_attempt: int = 1


def exam_url(course: Course) -> str:
    return f"/exams/{course.slug}"


def course_exam(session: Session, *, course_id: int, user: User | None) -> ExamOverview | None:
    """For the course page: None when the course has no final exam."""
    course = session.get(Course, course_id)
    if course is None or not course.exam_rules:
        return None
    if user is None:
        return ExamOverview(course=course, title=_title(course), state=SIGN_IN, url=exam_url(course))
    return exam_overview(session, user=user, course=course)


def exam_overview(
    session: Session, *, user: User, course: Course, now: datetime | None = None
) -> ExamOverview:
    """Read only: an overdue open attempt shows as in progress with no time left until the exam page
    (or any other read of the attempt) submits it."""
    now = now or utcnow()
    state = eligibility(session, user=user, course=course, now=now)
    graded = [a for a in state.attempts if a.status == AttemptStatus.graded.value]
    best = max(graded, key=lambda a: a.score_percent or 0.0, default=None)
    base = ExamOverview(
        course=course,
        title=_title(course),
        state=NOT_OPEN,
        url=exam_url(course),
        score=best.score_percent if best else None,
        pass_score=best.pass_score if best else None,
        attempts_left=state.attempts_left,
        next_attempt=state.attempts_used + 1,
    )
    passed = next((a for a in graded if a.passed), None)
    if passed is not None:
        return replace(base, state=PASSED, attempt_url=_result_url(passed))
    if state.open_attempt is not None:
        attempt = state.open_attempt
        seconds = max(0.0, (attempt.deadline - now).total_seconds())
        return replace(
            base,
            state=IN_PROGRESS,
            attempt_url=f"/exams/attempts/{attempt.id}",
            minutes_left=math.ceil(seconds / 60),
            ends_at=beijing_time(attempt.deadline, "%H:%M"),
        )
    waiting = [a for a in state.attempts if a.status == AttemptStatus.submitted.value]
    if waiting:
        return replace(base, state=AWAITING_GRADING, attempt_url=_result_url(waiting[-1]))
    if state.can_start:
        return replace(base, state=OPEN)
    if best is not None:
        return replace(base, state=FAILED, attempt_url=_result_url(best), reasons=state.reasons)
    return replace(base, reasons=state.reasons)


def exam_overviews(session: Session, *, user: User, course_ids: list[int]) -> dict[int, ExamOverview]:
    """The overview of each of these courses that has a final exam, by course id (for /me)."""
    if not course_ids:
        return {}
    now = utcnow()
    courses = session.exec(select(Course).where(col(Course.id).in_(course_ids))).all()
    return {
        course.id: exam_overview(session, user=user, course=course, now=now)
        for course in courses
        if course.id is not None and course.exam_rules
    }


def _title(course: Course) -> str:
    return str((course.exam_rules or {}).get("title") or "")


def _result_url(attempt: ExamAttempt) -> str:
    return f"/exams/attempts/{attempt.id}/result"
