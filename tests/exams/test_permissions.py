"""An attempt is visible only to its trainee and to staff who may grade it: an administrator, an instructor
of the trainee's class (any instructor when the trainee is in no class of the course). Anyone else gets
404, as if the attempt did not exist; pages need a sign-in."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.config import Settings
from backend.exams import attempts
from backend.models import Cohort, CohortInstructor, Course, Enrollment, ExamAttempt, Role, User
from tests.support import TEST_PASSWORD, login, make_user, post_form


@pytest.fixture
def attempt(db: Session, course: Course, ready_trainee: User) -> ExamAttempt:
    started = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    return started


def _token(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": TEST_PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_another_trainee_gets_404_everywhere(
    client: TestClient, attempt: ExamAttempt, other_trainee: User
) -> None:
    login(client, other_trainee.email)
    base = f"/exams/attempts/{attempt.id}"
    for url in (base, f"{base}/result", f"{base}/submit"):
        assert client.get(url).status_code == 404, url
    assert post_form(client, f"{base}/answers/1", {"text": "x"}).status_code == 404
    assert post_form(client, f"{base}/flags/1", {"flagged": "1"}).status_code == 404
    assert post_form(client, f"{base}/submit", {}).status_code == 404
    headers = _token(client, other_trainee.email)
    api = f"/api/v1/exams/attempts/{attempt.id}"
    assert client.get(api, headers=headers).status_code == 404
    assert client.get(f"{api}/result", headers=headers).status_code == 404
    assert client.put(f"{api}/answers/1", json={"text": "x"}, headers=headers).status_code == 404
    assert client.post(f"{api}/submit", headers=headers).status_code == 404
    assert client.get("/instructor/grading").status_code == 403


def test_pages_need_a_sign_in(client: TestClient, attempt: ExamAttempt) -> None:
    response = client.get(f"/exams/attempts/{attempt.id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/exams/sample-course").status_code == 303
    assert client.get(f"/api/v1/exams/attempts/{attempt.id}").status_code == 401


def test_staff_without_classes_may_read_but_not_take(
    client: TestClient, attempt: ExamAttempt, instructor: User, db: Session
) -> None:
    login(client, instructor.email)
    assert client.get(f"/exams/attempts/{attempt.id}/result").status_code == 200
    take = client.get(f"/exams/attempts/{attempt.id}")
    assert take.status_code == 303 and take.headers["location"].endswith("/result")
    assert post_form(client, f"/exams/attempts/{attempt.id}/answers/1", {"text": "x"}).status_code == 404
    assert post_form(client, f"/exams/attempts/{attempt.id}/submit", {}).status_code == 404
    assert client.get(f"/instructor/grading/attempts/{attempt.id}").status_code == 200


def _class_of(db: Session, course: Course, trainee: User, teacher: User) -> Cohort:
    cohort = Cohort(
        name="2026 春季班",
        course_id=course.id or 0,
        year=2026,
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 6, 30),
        capacity=30,
        status="running",
    )
    db.add(cohort)
    db.flush()
    db.add(Enrollment(cohort_id=cohort.id or 0, user_id=trainee.id or 0))
    db.add(CohortInstructor(cohort_id=cohort.id or 0, user_id=teacher.id or 0))
    db.commit()
    return cohort


def test_in_a_class_only_its_instructors_and_admins(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    ready_trainee: User,
    instructor: User,
    admin: User,
) -> None:
    other_teacher = make_user(db, settings, email="teacher2@example.com", name="张老师", role=Role.instructor)
    _class_of(db, course, ready_trainee, instructor)
    attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
    attempts.submit_attempt(db, attempt_id=attempt.id or 0)
    db.commit()
    result = f"/exams/attempts/{attempt.id}/result"
    login(client, other_teacher.email)
    assert client.get(result).status_code == 404
    assert client.get(f"/instructor/grading/attempts/{attempt.id}").status_code == 404
    client.cookies.clear()
    login(client, instructor.email)
    assert client.get(result).status_code == 200
    queue = client.get("/instructor/grading")
    assert f"/instructor/grading/attempts/{attempt.id}" in queue.text
    client.cookies.clear()
    login(client, admin.email)
    assert client.get(result).status_code == 200


def test_the_queue_of_another_instructor_does_not_list_the_attempt(
    client: TestClient, db: Session, settings: Settings, course: Course, ready_trainee: User, instructor: User
) -> None:
    other_teacher = make_user(db, settings, email="teacher2@example.com", name="张老师", role=Role.instructor)
    _class_of(db, course, ready_trainee, instructor)
    attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
    from tests.exams.support import paper

    row = paper(db, attempt.id or 0)["practice-case"]
    attempts.save_answer(
        db,
        attempt_id=attempt.id or 0,
        position=row.position,
        user_id=ready_trainee.id or 0,
        answer={"text": "分析"},
    )
    attempts.submit_attempt(db, attempt_id=attempt.id or 0)
    db.commit()
    login(client, other_teacher.email)
    assert f"/instructor/grading/attempts/{attempt.id}" not in client.get("/instructor/grading").text
