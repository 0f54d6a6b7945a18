"""An attempt's result: the score once every item is graded (points, percent, pass or fail), points per
syllabus group, the review with right answers and explanations (only once the result is final), the
trainee's exam summary for dashboards, and the email sent when a result becomes final.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from backend.courses.format import GROUPS
from backend.models import AttemptStatus, ExamAnswer, ExamAttempt, ExamItem, QuestionVersion, User, utcnow

log = logging.getLogger("academy.exams")


@dataclass(frozen=True)
class ExamSummary:
    """A trainee's standing in a course's final exam: status is one of "not started", "in progress",
    "awaiting grading", "passed", "failed"; score is the best final percent."""

    status: str
    score: float | None
    passed: bool | None


@dataclass
class GroupScore:
    group: str
    points: float = 0.0
    max_points: float = 0.0
    pending: bool = False  # an essay of this group is not graded yet


@dataclass(frozen=True)
class ReviewItem:
    item: ExamItem
    version: QuestionVersion
    answer: dict[str, Any]  # as stored (file option indexes)
    answered: bool


@dataclass
class AttemptResult:
    attempt: ExamAttempt
    final: bool
    pending: int  # essays still to grade
    groups: list[GroupScore] = field(default_factory=list)
    review: list[ReviewItem] = field(default_factory=list)  # empty until the result is final


def score_of(items: list[ExamItem]) -> tuple[float, int]:
    """(points awarded so far, number of items still to grade)."""
    points = sum(item.awarded or 0.0 for item in items)
    return round(points, 4), sum(item.awarded is None for item in items)


def finalize(
    session: Session, *, attempt: ExamAttempt, now: datetime | None = None, base_url: str = ""
) -> None:
    """Every item is graded: compute the score, release the result and tell the trainee."""
    items = list(session.exec(select(ExamItem).where(ExamItem.attempt_id == attempt.id)))
    apply_score(attempt, items)
    attempt.status = AttemptStatus.graded.value
    attempt.finalized_at = now or utcnow()
    session.flush()
    notify_result(session, attempt=attempt, base_url=base_url)


def apply_score(attempt: ExamAttempt, items: list[ExamItem]) -> None:
    points, _pending = score_of(items)
    maximum = attempt.max_points or round(sum(item.points for item in items), 4)
    percent = round(points * 100 / maximum, 2) if maximum > 0 else 0.0
    attempt.score_points = points
    attempt.score_percent = percent
    attempt.passed = percent + 1e-9 >= attempt.pass_score


def result_url(attempt: ExamAttempt, base_url: str = "") -> str:
    return f"{base_url.rstrip('/')}/exams/attempts/{attempt.id}/result"


def notify_result(
    session: Session, *, attempt: ExamAttempt, base_url: str = "", changed: bool = False
) -> None:
    """Email the trainee that the result is final (or was changed), when the notifications feature exists."""
    try:
        notifications = importlib.import_module("backend.notifications.service")
        messages = importlib.import_module("backend.notifications.messages")
    except ImportError:
        return
    notify = getattr(notifications, "notify", None)
    build = getattr(messages, "exam_result_message", None)
    user = session.get(User, attempt.user_id)
    if notify is None or build is None or user is None:
        return
    title = attempt.title + ("（成绩已更新）" if changed else "")
    message = build(
        name=user.name,
        exam_title=title,
        passed=bool(attempt.passed),
        score=attempt.score_percent or 0.0,
        pass_score=attempt.pass_score,
        link=result_url(attempt, base_url),
    )
    notify(
        session,
        user=user,
        to_email=user.email,
        kind="exam_result",
        subject=message.subject,
        body=message.body,
    )


def attempt_result(session: Session, *, attempt: ExamAttempt) -> AttemptResult:
    """The result page's data; the review (right answers, explanations) only when the result is final."""
    query = (
        select(ExamItem, QuestionVersion, ExamAnswer)
        .join(QuestionVersion, col(QuestionVersion.id) == ExamItem.question_version_id)
        .outerjoin(ExamAnswer, col(ExamAnswer.item_id) == ExamItem.id)
        .where(ExamItem.attempt_id == attempt.id)
        .order_by(col(ExamItem.position))
    )
    rows = list(session.exec(query).all())
    final = attempt.status == AttemptStatus.graded.value
    _points, pending = score_of([item for item, _v, _a in rows])
    groups = {name: GroupScore(name) for name in GROUPS}
    for item, _version, _answer in rows:
        group = groups.setdefault(item.group or "—", GroupScore(item.group or "—"))
        group.max_points = round(group.max_points + item.points, 4)
        group.points = round(group.points + (item.awarded or 0.0), 4)
        group.pending = group.pending or item.awarded is None
    review = []
    if final:
        review = [
            ReviewItem(item, version, dict(answer.answer) if answer else {}, bool(answer and answer.answered))
            for item, version, answer in rows
        ]
    present = [group for group in groups.values() if group.max_points > 0]
    return AttemptResult(attempt, final, pending, present, review)


def exam_summary(session: Session, *, user_id: int, course_id: int) -> ExamSummary:
    """Where the trainee stands in the course's final exam (read only: an overdue open attempt still
    counts as in progress until it is swept or read)."""
    query = select(ExamAttempt).where(ExamAttempt.user_id == user_id, ExamAttempt.course_id == course_id)
    return summary_of(list(session.exec(query)))


def summary_of(attempts: list[ExamAttempt]) -> ExamSummary:
    """The exam summary of one trainee's attempts at one course (for callers that load many at once)."""
    final = [a for a in attempts if a.status == AttemptStatus.graded.value]
    best = max((a.score_percent or 0.0 for a in final), default=None)
    if any(a.passed for a in final):
        return ExamSummary("passed", best, True)
    if any(a.status == AttemptStatus.open.value for a in attempts):
        return ExamSummary("in progress", best, None)
    if any(a.status == AttemptStatus.submitted.value for a in attempts):
        return ExamSummary("awaiting grading", best, None)
    if final:
        return ExamSummary("failed", best, False)
    return ExamSummary("not started", None, None)
