"""Item statistics in the question bank: times drawn, share correct and the discrimination index (upper 27%
minus lower 27% share correct by total score), shown "—" with fewer than 10 graded attempts."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from backend.exams import stats
from backend.models import Course, ExamAttempt, ExamItem, Question, QuestionVersion, User, utcnow
from tests.support import login, visible_text


def _versions(db: Session, course: Course) -> dict[str, tuple[int, QuestionVersion]]:
    rows = db.exec(
        select(Question.qid, Question.id, QuestionVersion)
        .join(QuestionVersion, col(QuestionVersion.question_id) == Question.id)
        .where(Question.course_id == course.id)
    ).all()
    return {qid: (question_id or 0, version) for qid, question_id, version in rows}


def _attempts(db: Session, course: Course, user: User) -> None:
    """12 graded attempts: basics-single right in the six best, basics-truefalse right everywhere, the
    essay's points set the ranking; law-fill on the first five papers only; one attempt still open."""
    versions = _versions(db, course)
    now = utcnow()
    for number in range(1, 14):
        graded = number <= 12
        attempt = ExamAttempt(
            user_id=user.id or 0,
            course_id=course.id or 0,
            number=number,
            status="graded" if graded else "open",
            started_at=now,
            deadline=now + timedelta(minutes=30),
            time_limit_minutes=30,
            pass_score=60,
        )
        db.add(attempt)
        db.flush()
        plan = [
            ("basics-single", 2.0 if number > 6 else 0.0),
            ("basics-truefalse", 1.0),
            ("practice-case", float(min(number, 10))),
        ]
        if number <= 5:
            plan.append(("law-fill", 1.0 if number % 2 else 0.0))
        for position, (qid, awarded) in enumerate(plan, start=1):
            question_id, version = versions[qid]
            db.add(
                ExamItem(
                    attempt_id=attempt.id or 0,
                    position=position,
                    question_id=question_id,
                    question_version_id=version.id or 0,
                    type=version.type,
                    points=version.points,
                    awarded=awarded if graded else None,
                    correct=awarded == version.points if graded else None,
                )
            )
    db.commit()


def test_item_statistics(db: Session, course: Course, trainee: User) -> None:
    _attempts(db, course, trainee)
    versions = _versions(db, course)
    figures = stats.item_statistics(db, course_id=course.id or 0)
    single = figures[versions["basics-single"][0]]
    assert (single.drawn, single.share_correct, single.final_attempts) == (12, 0.5, 12)
    assert single.discrimination == 1.0  # right in the top 27%, wrong in the bottom 27%
    truefalse = figures[versions["basics-truefalse"][0]]
    assert truefalse.share_correct == 1.0 and truefalse.discrimination == 0.0
    fill = figures[versions["law-fill"][0]]
    assert fill.drawn == 5 and fill.share_correct == 0.6 and fill.discrimination is None  # fewer than 10
    assert versions["law-range"][0] not in figures  # never drawn


def test_the_bank_page_shows_statistics(
    client: TestClient, db: Session, course: Course, trainee: User, instructor: User
) -> None:
    _attempts(db, course, trainee)
    login(client, instructor.email)
    page = client.get("/instructor/questions/sample-course")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "basics-single" in text and "1.00" in text and "50%" in text and "—" in text
    assert "basics-selfcheck" in text  # self-check questions are listed too, marked as such
    assert client.get("/instructor/questions").status_code == 200
    client.cookies.clear()
    login(client, trainee.email)
    assert client.get("/instructor/questions/sample-course").status_code == 403
