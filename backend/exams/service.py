"""Final exams as the pages and the API see them: whether a trainee may sit a course's exam and why not,
the paper of an attempt with the saved answers (never the right answers), who may look at an attempt,
and the trainee's exam summary for dashboards.

The writes (start, save, flag, submit, grade) live in attempts.py and grading_queue.py; the result in
results.py. Services only add and flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from backend.cohorts import sessions as cohort_sessions
from backend.cohorts.service import exam_window_open
from backend.errors import NotFound
from backend.exams import draw
from backend.exams.attempts import SavedAnswer, attempts_used, open_attempt, paper_rows, shown_answer
from backend.exams.results import ExamSummary, exam_summary  # noqa: F401  (the class dashboard reads them here)
from backend.i18n import _
from backend.models import (
    AttemptStatus,
    Cohort,
    CohortInstructor,
    Course,
    CourseModule,
    Enrollment,
    EnrollmentStatus,
    ExamAnswer,
    ExamAttempt,
    ExamItem,
    Role,
    User,
    utcnow,
)


def get_course(session: Session, *, slug: str) -> Course:
    course = session.exec(select(Course).where(Course.slug == slug)).first()
    if course is None:
        raise NotFound(_("There is no such course."))
    return course


def get_course_by_id(session: Session, *, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(_("There is no such course."))
    return course


def paper_size(session: Session, *, course: Course) -> int:
    """How many questions the course's draw rules put on a paper."""
    query = select(CourseModule.name).where(
        CourseModule.course_id == course.id, col(CourseModule.archived_at).is_(None)
    )
    rules = course.exam_rules or {}
    counts = draw.draw_counts(rules, list(session.exec(query)))
    return sum(counts.values()) + int((rules.get("draw") or {}).get("essay") or 0)


# ---- hours and eligibility ----------------------------------------------------------------------------------


def class_ids(session: Session, *, user_id: int, course_id: int) -> list[int]:
    """The classes of the course the trainee is enrolled in."""
    query = (
        select(Cohort.id)
        .join(Enrollment, col(Enrollment.cohort_id) == Cohort.id)
        .where(
            Enrollment.user_id == user_id,
            Enrollment.status == EnrollmentStatus.enrolled.value,
            Cohort.course_id == course_id,
        )
    )
    return [cohort_id for cohort_id in session.exec(query) if cohort_id is not None]


def trainee_hours(session: Session, *, user_id: int, course_id: int) -> tuple[float, float]:
    """(online hours credited for completed modules, class hours attended in the course's classes)."""
    online = cohort_sessions.online_hours(session, user_id=user_id, course_id=course_id)
    in_class = sum(
        cohort_sessions.class_hours(session, user_id=user_id, cohort_id=cohort_id)
        for cohort_id in class_ids(session, user_id=user_id, course_id=course_id)
    )
    return round(online, 2), round(in_class, 2)


@dataclass
class Eligibility:
    course: Course
    online_hours: float
    class_hours: float
    min_hours: float
    attempts_used: int
    max_attempts: int
    open_attempt: ExamAttempt | None
    attempts: list[ExamAttempt] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why a new attempt may not start; empty when it may

    @property
    def hours_done(self) -> float:
        return round(self.online_hours + self.class_hours, 2)

    @property
    def hours_missing(self) -> float:
        return max(0.0, round(self.min_hours - self.hours_done, 2))

    @property
    def attempts_left(self) -> int:
        return max(0, self.max_attempts - self.attempts_used)

    @property
    def can_start(self) -> bool:
        return self.open_attempt is None and not self.reasons


def eligibility(session: Session, *, user: User, course: Course, now: datetime | None = None) -> Eligibility:
    """Each condition for starting a new attempt that is not met, said plainly (read only)."""
    now = now or utcnow()
    user_id, course_id = user.id or 0, course.id or 0
    rules = course.exam_rules or {}
    online, in_class = trainee_hours(session, user_id=user_id, course_id=course_id)
    query = (
        select(ExamAttempt)
        .where(ExamAttempt.user_id == user_id, ExamAttempt.course_id == course_id)
        .order_by(col(ExamAttempt.number))
    )
    attempts = list(session.exec(query))
    state = Eligibility(
        course=course,
        online_hours=online,
        class_hours=in_class,
        min_hours=float(course.min_hours or 0),
        attempts_used=attempts_used(session, user_id=user_id, course_id=course_id),
        max_attempts=int(rules.get("max_attempts") or 1),
        open_attempt=open_attempt(session, user_id=user_id, course_id=course_id),
        attempts=attempts,
    )
    state.reasons = _reasons(session, state, user_id=user_id, now=now)
    return state


def _reasons(session: Session, state: Eligibility, *, user_id: int, now: datetime) -> list[str]:
    reasons = []
    numbers = {"done": f"{state.hours_done:g}", "needed": f"{state.min_hours:g}"}
    numbers |= {"missing": f"{state.hours_missing:g}", "online": f"{state.online_hours:g}"}
    numbers |= {"class": f"{state.class_hours:g}"}
    if any(attempt.passed for attempt in state.attempts):
        reasons.append(_("You have already passed this exam."))
    if state.hours_missing > 0:
        reasons.append(
            _(
                "You have %(done)s of the %(needed)s hours needed (online %(online)s, in class %(class)s): "
                "%(missing)s more hours before the exam opens."
            )
            % numbers
        )
    if state.attempts_used >= state.max_attempts and state.open_attempt is None:
        reasons.append(_("You have used all %(max)d attempts at this exam.") % {"max": state.max_attempts})
    waiting = [a for a in state.attempts if a.status == AttemptStatus.submitted.value]
    if waiting:
        reasons.append(
            _("Your attempt %(number)d is waiting for an instructor to grade it.")
            % {"number": waiting[-1].number}
        )
    is_open, why = exam_window_open(session, user_id=user_id, course_id=state.course.id or 0, now=now)
    if not is_open:
        reasons.append(why or _("The exam window of your class is closed."))
    return reasons


# ---- who may see an attempt -----------------------------------------------------------------------------


def may_view_attempt(session: Session, *, viewer: User, attempt: ExamAttempt) -> bool:
    """The trainee who sits it; an administrator; an instructor of one of the trainee's classes of the
    course, or any instructor when the trainee is in no class of the course."""
    if viewer.id == attempt.user_id:
        return True
    return may_grade(session, staff=viewer, trainee_id=attempt.user_id, course_id=attempt.course_id)


def may_grade(session: Session, *, staff: User, trainee_id: int, course_id: int) -> bool:
    if staff.role == Role.admin.value:
        return True
    if staff.role != Role.instructor.value:
        return False
    cohorts = class_ids(session, user_id=trainee_id, course_id=course_id)
    if not cohorts:
        return True
    query = select(CohortInstructor.cohort_id).where(
        CohortInstructor.user_id == staff.id, col(CohortInstructor.cohort_id).in_(cohorts)
    )
    return session.exec(query).first() is not None


def visible_attempt(session: Session, *, attempt_id: int, viewer: User) -> ExamAttempt:
    """The attempt, or NotFound for anyone who may not see it (its existence is not revealed)."""
    attempt = session.get(ExamAttempt, attempt_id)
    if attempt is None or not may_view_attempt(session, viewer=viewer, attempt=attempt):
        raise NotFound(_("There is no such exam attempt."))
    return attempt


# ---- the paper while it is taken -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperItem:
    position: int
    type: str
    points: float
    group: str
    stem: str
    options: list[str]  # in the order shown
    answer: dict[str, Any]  # option positions as shown
    answered: bool
    flagged: bool
    saved_at: datetime | None

    def picked(self, index: int) -> bool:
        choice = self.answer.get("choice")
        return choice == index if self.type == "single" else isinstance(choice, list) and index in choice


def attempt_paper(session: Session, *, attempt: ExamAttempt) -> list[PaperItem]:
    """The paper as the trainee sees it, with every saved answer: no right answer, no marking guide."""
    paper = []
    for item, version, answer in paper_rows(session, attempt_id=attempt.id or 0):
        order = list(item.option_order or [])
        options = [str(version.options[index].get("text", "")) for index in order]
        paper.append(
            PaperItem(
                position=item.position,
                type=item.type,
                points=item.points,
                group=item.group,
                stem=version.stem,
                options=options,
                answer=shown_answer(item.type, order, answer.answer if answer else None),
                answered=bool(answer and answer.answered),
                flagged=bool(answer and answer.flagged),
                saved_at=answer.saved_at if answer and (answer.answered or answer.answer) else None,
            )
        )
    return paper


def saved_state(session: Session, *, attempt_id: int, position: int) -> SavedAnswer:
    """What is saved for one question now (for a save that was refused)."""
    query = (
        select(ExamAnswer)
        .join(ExamItem, col(ExamItem.id) == ExamAnswer.item_id)
        .where(ExamItem.attempt_id == attempt_id, ExamItem.position == position)
    )
    answer = session.exec(query).first()
    if answer is None:
        return SavedAnswer(position, False, False, None)
    return SavedAnswer(
        position, answer.answered, answer.flagged, answer.saved_at if answer.answered else None
    )


def seconds_left(attempt: ExamAttempt, now: datetime | None = None) -> int:
    if attempt.status != AttemptStatus.open.value:
        return 0
    return max(0, int((attempt.deadline - (now or utcnow())).total_seconds()))
