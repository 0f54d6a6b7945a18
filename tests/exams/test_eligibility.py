"""The exam page says plainly why an exam is not open: hours (online and in class) short of min_hours, no
attempts left, the class's exam window closed, already passed, an attempt waiting for grading."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.exams import attempts, service
from backend.models import Attendance, ClassSession, Cohort, Course, Enrollment, User, utcnow
from tests.exams.support import credit_hours
from tests.support import login, post_form, visible_text


def test_hours_short_are_explained_and_start_is_refused(
    client: TestClient, db: Session, trainee: User, course: Course
) -> None:
    credit_hours(db, trainee, course, {"01-basics": 2.0})
    client.get("/language?lang=en&next=/")
    login(client, trainee.email)
    page = visible_text(client.get("/exams/sample-course").text)
    assert "2 of 6 hours done (online 2, in class 0)" in page
    assert (
        "You have 2 of the 6 hours needed (online 2, in class 0): 4 more hours before the exam opens." in page
    )
    assert "Start attempt" not in page
    refused = post_form(client, "/exams/sample-course/attempts", {})
    assert refused.status_code == 409 and "4 more hours" in visible_text(refused.text)


def test_class_hours_count_and_the_class_window_decides(db: Session, trainee: User, course: Course) -> None:
    credit_hours(db, trainee, course, {"01-basics": 2.0, "02-law": 3.0})  # 5 online
    cohort = Cohort(
        name="2026 春季班",
        course_id=course.id or 0,
        year=2026,
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 6, 30),
        capacity=30,
        status="running",
        exam_opens_at=utcnow() + timedelta(days=2),
    )
    db.add(cohort)
    db.flush()
    db.add(Enrollment(cohort_id=cohort.id or 0, user_id=trainee.id or 0))
    lesson = ClassSession(cohort_id=cohort.id or 0, date=dt.date(2026, 3, 2), topic="开班", hours=3)
    db.add(lesson)
    db.flush()
    db.add(Attendance(session_id=lesson.id or 0, user_id=trainee.id or 0, present=True))
    db.commit()
    state = service.eligibility(db, user=trainee, course=course)
    assert (state.online_hours, state.class_hours, state.hours_done) == (5, 3, 8)
    assert len(state.reasons) == 1 and "2026 春季班" in state.reasons[0]
    cohort.exam_opens_at = utcnow() - timedelta(hours=1)
    db.add(cohort)
    db.commit()
    assert service.eligibility(db, user=trainee, course=course).reasons == []


def test_no_attempts_left_and_already_passed(db: Session, ready_trainee: User, course: Course) -> None:
    for _ in range(2):
        attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
        attempts.submit_attempt(db, attempt_id=attempt.id or 0)  # blank: 0 points, final, failed
        db.commit()
    state = service.eligibility(db, user=ready_trainee, course=course)
    assert state.attempts_used == 2 and state.attempts_left == 0
    assert any("all 2 attempts" in reason or "2 次" in reason for reason in state.reasons)
    summary = service.exam_summary(db, user_id=ready_trainee.id or 0, course_id=course.id or 0)
    assert summary.status == "failed" and summary.score == 0 and summary.passed is False
    attempt.passed = True
    db.add(attempt)
    db.commit()
    state = service.eligibility(db, user=ready_trainee, course=course)
    assert any("already passed" in reason or "已通过" in reason for reason in state.reasons)


def test_an_attempt_waiting_for_grading_blocks_a_new_one(
    db: Session, ready_trainee: User, course: Course
) -> None:
    from tests.exams.support import paper

    attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
    essay = paper(db, attempt.id or 0)["practice-case"]
    attempts.save_answer(
        db,
        attempt_id=attempt.id or 0,
        position=essay.position,
        user_id=ready_trainee.id or 0,
        answer={"text": "分析"},
    )
    attempts.submit_attempt(db, attempt_id=attempt.id or 0)
    db.commit()
    state = service.eligibility(db, user=ready_trainee, course=course)
    assert len(state.reasons) == 1 and not state.can_start
    summary = service.exam_summary(db, user_id=ready_trainee.id or 0, course_id=course.id or 0)
    assert summary.status == "awaiting grading"


def test_summary_statuses(db: Session, ready_trainee: User, course: Course) -> None:
    user_id, course_id = ready_trainee.id or 0, course.id or 0
    assert service.exam_summary(db, user_id=user_id, course_id=course_id).status == "not started"
    attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    assert service.exam_summary(db, user_id=user_id, course_id=course_id).status == "in progress"
