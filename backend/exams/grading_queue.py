"""Grading essay (case-analysis) answers by a person: the queue of submitted attempts waiting for a
grader, one attempt's essays with the marking guide, and giving points and a comment.

An attempt's result becomes final when its last essay is graded. A grade changed after the result was
released is allowed (a second look), recomputes the score and is audit-logged as exam.grade_changed
with the points and the score before and after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.audit import record_event
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.exams import results
from backend.exams.attempts import locked_attempt
from backend.exams.service import may_grade
from backend.i18n import _
from backend.models import (
    AttemptStatus,
    Cohort,
    CohortInstructor,
    Course,
    Enrollment,
    EnrollmentStatus,
    ExamAnswer,
    ExamAttempt,
    ExamItem,
    QuestionVersion,
    Role,
    User,
    utcnow,
)

COMMENT_LIMIT = 4000


@dataclass(frozen=True)
class QueueRow:
    attempt: ExamAttempt
    course: Course
    trainee: User
    pending: int


@dataclass(frozen=True)
class EssayItem:
    item: ExamItem
    version: QuestionVersion
    answer: str
    grader: str  # name of who graded it, "" if not yet


def grading_queue(session: Session, *, staff: User, include_final: bool = False) -> list[QueueRow]:
    """Submitted attempts with essays to grade that `staff` may grade, oldest submission first; with
    `include_final`, also the released results (for a second look), newest first after them."""
    statuses = [AttemptStatus.submitted.value] + ([AttemptStatus.graded.value] if include_final else [])
    query = (
        select(ExamAttempt, Course, User)
        .join(Course, col(Course.id) == ExamAttempt.course_id)
        .join(User, col(User.id) == ExamAttempt.user_id)
        .where(col(ExamAttempt.status).in_(statuses))
        .order_by(col(ExamAttempt.submitted_at))
    )
    rows = list(session.exec(query).all())
    if not rows:
        return []
    ids = [attempt.id for attempt, _c, _u in rows]
    essays = select(ExamItem.attempt_id, ExamItem.awarded).where(
        col(ExamItem.attempt_id).in_(ids), ExamItem.type == "essay"
    )
    pending: dict[int, int] = {}
    has_essay: set[int] = set()
    for attempt_id, awarded in session.exec(essays):
        has_essay.add(attempt_id)
        pending[attempt_id] = pending.get(attempt_id, 0) + (awarded is None)
    allowed = _gradable_filter(session, staff=staff, pairs={(a.user_id, a.course_id) for a, _c, _u in rows})
    found = [
        QueueRow(attempt, course, trainee, pending.get(attempt.id or 0, 0))
        for attempt, course, trainee in rows
        if (attempt.user_id, attempt.course_id) in allowed and (attempt.id or 0) in has_essay
    ]
    waiting = [row for row in found if row.attempt.status == AttemptStatus.submitted.value]
    done = [row for row in found if row.attempt.status != AttemptStatus.submitted.value]
    done.sort(key=lambda row: row.attempt.finalized_at or row.attempt.started_at, reverse=True)
    return waiting + done


def waiting_count(session: Session, *, staff: User) -> int:
    """How many submitted attempts wait for `staff` to grade their case-analysis answers."""
    return len(grading_queue(session, staff=staff))


def _gradable_filter(session: Session, *, staff: User, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (trainee, course) pairs `staff` may grade; three queries whatever the number of pairs."""
    if staff.role == Role.admin.value:
        return pairs
    if staff.role != Role.instructor.value:
        return set()
    trainees = {trainee for trainee, _course in pairs}
    enrolled = select(Enrollment.user_id, Cohort.course_id, Cohort.id).join(
        Cohort, col(Cohort.id) == Enrollment.cohort_id
    )
    enrolled = enrolled.where(
        col(Enrollment.user_id).in_(trainees), Enrollment.status == EnrollmentStatus.enrolled.value
    )
    classes: dict[tuple[int, int], set[int]] = {}
    for user_id, course_id, cohort_id in session.exec(enrolled):
        classes.setdefault((user_id, course_id), set()).add(cohort_id or 0)
    mine = set(session.exec(select(CohortInstructor.cohort_id).where(CohortInstructor.user_id == staff.id)))
    return {pair for pair in pairs if not classes.get(pair) or classes[pair] & mine}


def gradable_attempt(session: Session, *, attempt_id: int, staff: User) -> ExamAttempt:
    attempt = session.get(ExamAttempt, attempt_id)
    if attempt is None or not may_grade(
        session, staff=staff, trainee_id=attempt.user_id, course_id=attempt.course_id
    ):
        raise NotFound(_("There is no such exam attempt."))
    return attempt


def essay_items(session: Session, *, attempt: ExamAttempt) -> list[EssayItem]:
    query = (
        select(ExamItem, QuestionVersion, ExamAnswer, User.name)
        .join(QuestionVersion, col(QuestionVersion.id) == ExamItem.question_version_id)
        .outerjoin(ExamAnswer, col(ExamAnswer.item_id) == ExamItem.id)
        .outerjoin(User, col(User.id) == ExamItem.graded_by_id)
        .where(ExamItem.attempt_id == attempt.id, ExamItem.type == "essay")
        .order_by(col(ExamItem.position))
    )
    return [
        EssayItem(item, version, str(answer.answer.get("text", "")) if answer else "", grader or "")
        for item, version, answer, grader in session.exec(query).all()
    ]


def parse_points(raw: str, maximum: float) -> float:
    """A grader's points: a number from 0 to the item's points (ValidationFailed otherwise)."""
    text = raw.strip().replace("，", ".").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or value > maximum + 1e-9:
        raise ValidationFailed({"points": _("Enter points from 0 to %(max)s.") % {"max": f"{maximum:g}"}})
    return round(value, 2)


def grade_item(
    session: Session,
    *,
    attempt_id: int,
    position: int,
    grader: User,
    points: float,
    comment: str,
    base_url: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> ExamAttempt:
    """Give an essay its points and comment; finalises the attempt when nothing is left to grade."""
    now = now or utcnow()
    attempt = session.exec(locked_attempt(attempt_id)).first()
    if attempt is None or not may_grade(
        session, staff=grader, trainee_id=attempt.user_id, course_id=attempt.course_id
    ):
        raise NotFound(_("There is no such exam attempt."))
    if attempt.status == AttemptStatus.open.value:
        raise Conflict(_("This attempt has not been submitted yet."))
    fresh = (
        select(ExamItem).where(ExamItem.attempt_id == attempt_id).execution_options(populate_existing=True)
    )
    items = list(session.exec(fresh))
    item = next((row for row in items if row.position == position and row.type == "essay"), None)
    if item is None:
        raise NotFound(_("There is no such essay question in this attempt."))
    if not 0 <= points <= item.points + 1e-9:
        raise ValidationFailed({"points": _("Enter points from 0 to %(max)s.") % {"max": f"{item.points:g}"}})
    comment = comment.strip()
    if len(comment) > COMMENT_LIMIT:
        raise ValidationFailed({"comment": _("A comment may be at most 4000 characters long.")})
    before = {"points": item.awarded, "comment": item.comment, "score_percent": attempt.score_percent}
    released = attempt.status == AttemptStatus.graded.value
    item.awarded, item.correct = points, points >= item.points - 1e-9
    item.comment, item.graded_by_id, item.graded_at = comment, grader.id, now
    session.flush()
    if released:
        if before["points"] == points and before["comment"] == comment:
            return attempt
        results.apply_score(attempt, items)
        after = {"points": points, "comment": comment, "score_percent": attempt.score_percent}
        record_event(
            session,
            actor=grader,
            action="exam.grade_changed",
            before={"position": position, **before},
            after={"position": position, **after, "passed": attempt.passed},
            target_type="exam_attempt",
            target_id=attempt.id or 0,
            ip=ip,
        )
        session.flush()
        results.notify_result(session, attempt=attempt, base_url=base_url, changed=True)
        return attempt
    record_event(
        session,
        actor=grader,
        action="exam.essay_graded",
        after={"position": position, "points": points, "max_points": item.points},
        target_type="exam_attempt",
        target_id=attempt.id or 0,
        ip=ip,
    )
    if all(row.awarded is not None for row in items):
        results.finalize(session, attempt=attempt, now=now, base_url=base_url)
    return attempt
