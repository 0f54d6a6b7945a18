"""The exam can be reached: the course page and /me link to the exam page and say where the trainee stands
(not open yet and why, open, in progress with the time left, waiting for grading, the result); the
teaching pages link to the grading queue (with how many wait) and to the question banks."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.models import Course, ExamAttempt, User
from tests.exams.support import credit_hours, paper
from tests.support import login, post_form, visible_text


def _submit_with_an_essay(client: TestClient, db: Session, attempt_url: str) -> None:
    """Answer the case analysis and submit: the attempt waits for a grader."""
    attempt_id = int(attempt_url.rsplit("/", 1)[1])
    essay = next(row for row in paper(db, attempt_id).values() if row.type == "essay")
    saved = post_form(client, f"{attempt_url}/answers/{essay.position}", {"text": "确认权属、评估作价。"})
    assert saved.status_code == 303
    assert post_form(client, f"{attempt_url}/submit", {}).status_code == 303


def _exam_card(html: str) -> str:
    """The visible text of the exam part of /me or of the course page."""
    found = re.search(r'<section class="(?:me-exam|card course-exam)".*?</section>', html, re.S)
    assert found, "no exam section on the page"
    return visible_text(found.group(0))


def test_course_page_and_me_say_where_the_exam_stands(
    client: TestClient, db: Session, trainee: User, course: Course
) -> None:
    credit_hours(db, trainee, course, {"01-basics": 2.0})
    client.get("/language?lang=en&next=/")
    login(client, trainee.email)

    course_page = client.get("/courses/sample-course").text
    assert 'href="/exams/sample-course"' in course_page
    said = _exam_card(course_page)
    assert "Not open yet" in said and "4 more hours before the exam opens" in said
    me = client.get("/me").text
    assert 'href="/exams/sample-course"' in me
    assert "4 more hours before the exam opens" in _exam_card(me)

    credit_hours(db, trainee, course, {"02-law": 3.0, "03-practice": 1.5})
    said = _exam_card(client.get("/me").text)
    assert "Open You may start attempt 1 of 2 now." in said and "Go to the exam" in said

    started = post_form(client, "/exams/sample-course/attempts", {})
    assert started.status_code == 303
    attempt_url = started.headers["location"]
    me = client.get("/me").text
    said = _exam_card(me)
    assert "Sitting the exam Time left: 30 min" in said and "Continue the exam" in said
    assert f'href="{attempt_url}"' in me
    assert "Time left: 30 min" in _exam_card(client.get("/courses/sample-course").text)

    _submit_with_an_essay(client, db, attempt_url)
    said = _exam_card(client.get("/me").text)
    assert "Awaiting grading" in said and "an instructor is grading the case analysis" in said

    attempt_id = int(attempt_url.rsplit("/", 1)[1])
    db.commit()  # end the read snapshot: the app has written since
    db.expire_all()
    attempt = db.get(ExamAttempt, attempt_id)
    assert attempt is not None
    attempt.status, attempt.score_percent, attempt.passed = "graded", 85.0, True
    db.add(attempt)
    db.commit()
    me = client.get("/me").text
    assert "Passed Your score: 85%." in _exam_card(me)
    assert f'href="/exams/attempts/{attempt_id}/result"' in me


def test_a_failed_exam_with_no_attempt_left_shows_the_result_and_why(
    client: TestClient, db: Session, ready_trainee: User, course: Course
) -> None:
    client.get("/language?lang=en&next=/")
    login(client, ready_trainee.email)
    for number in (1, 2):
        started = post_form(client, "/exams/sample-course/attempts", {})
        attempt_id = int(started.headers["location"].rsplit("/", 1)[1])
        db.commit()  # end the read snapshot: the app has written since
        db.expire_all()
        attempt = db.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.number == number
        attempt.status, attempt.score_percent, attempt.passed = "graded", 40.0 + number, False
        db.add(attempt)
        db.commit()
    said = _exam_card(client.get("/courses/sample-course").text)
    assert "Not passed Best score: 42% (pass mark 60%)." in said
    assert "You have used all 2 attempts at this exam." in said


def test_a_visitor_sees_the_exam_link_on_the_course_page(client: TestClient, course: Course) -> None:
    client.get("/language?lang=en&next=/")
    page = client.get("/courses/sample-course").text
    assert 'href="/exams/sample-course"' in page
    said = _exam_card(page)
    assert "The exam opens once you have the hours the course requires." in said
    assert "Log in to see whether you may sit it" in said


def test_teaching_pages_link_to_grading_with_the_count_and_to_the_question_banks(
    app: FastAPI, client: TestClient, db: Session, instructor: User, ready_trainee: User, course: Course
) -> None:
    with TestClient(app, follow_redirects=False) as sitting:
        login(sitting, ready_trainee.email)
        started = post_form(sitting, "/exams/sample-course/attempts", {})
        _submit_with_an_essay(sitting, db, started.headers["location"])
    client.get("/language?lang=en&next=/")
    login(client, instructor.email)

    home = client.get("/instructor").text
    nav = re.search(r'<nav class="subnav" aria-label="Teaching">.*?</nav>', home, re.S)
    assert nav, "the teaching pages have no navigation"
    for href in (
        "/instructor/courses",
        "/instructor/classes",
        "/instructor/grading",
        "/instructor/questions",
    ):
        assert f'href="{href}"' in nav.group(0)
    assert "Grading 1 waiting" in visible_text(nav.group(0))
    assert "1 submitted exams are waiting to be graded." in visible_text(home)
    assert "Question banks" in visible_text(home)
    for page in (
        "/instructor/grading",
        "/instructor/questions",
        "/instructor/classes",
        "/instructor/courses",
    ):
        shown = client.get(page)
        assert shown.status_code == 200 and 'aria-label="Teaching"' in shown.text, page
        assert 'href="/instructor/grading"' in shown.text and 'href="/instructor/questions"' in shown.text
