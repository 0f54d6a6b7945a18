"""The read-only course API: /api/v1/courses, /api/v1/courses/{slug} and /api/v1/me/progress."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.courses import service
from backend.models import Course, CourseModule, User, utcnow
from tests.courses.reading_support import load_sample_course
from tests.support import TEST_PASSWORD


@pytest.fixture
def course(db: Session) -> Course:
    return load_sample_course(db)


def _bearer(client: TestClient, user: User) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": user.email, "password": TEST_PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_course_list(client: TestClient, course: Course) -> None:
    response = client.get("/api/v1/courses")
    assert response.status_code == 200
    assert response.json() == [
        {
            "slug": "sample-course",
            "title": "示例课程",
            "title_en": "Sample Course",
            "level": "junior",
            "language": "zh-CN",
            "description": "A small course that exercises every part of the course format.",
            "min_hours": 6.0,
            "total_hours": 6.5,
            "module_count": 3,
        }
    ]


def test_course_detail_lists_modules_in_order(client: TestClient, db: Session, course: Course) -> None:
    body = client.get("/api/v1/courses/sample-course").json()
    assert body["slug"] == "sample-course" and body["module_count"] == 3
    assert [(m["name"], m["group"], m["hours"], m["position"]) for m in body["modules"]] == [
        ("01-basics", "公共知识", 2.0, 0),
        ("02-law", "政策法规", 3.0, 1),
        ("03-practice", "实务技能", 1.5, 2),
    ]
    assert body["modules"][1]["title"] == "《促进科技成果转化法》要点"
    assert set(body["modules"][0]) == {"name", "title", "title_en", "group", "hours", "position"}

    module = db.exec(select(CourseModule).where(CourseModule.name == "02-law")).one()
    module.archived_at = utcnow()
    db.add(module)
    db.commit()
    body = client.get("/api/v1/courses/sample-course").json()
    assert [m["name"] for m in body["modules"]] == ["01-basics", "03-practice"]
    assert body["total_hours"] == 3.5


def test_unknown_course_is_404_json(client: TestClient, course: Course) -> None:
    response = client.get("/api/v1/courses/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "没有这门课程。"}


def test_progress_needs_a_bearer_token(client: TestClient, trainee: User) -> None:
    assert client.get("/api/v1/me/progress").status_code == 401
    assert client.get("/api/v1/me/progress", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_progress_is_empty_before_starting(client: TestClient, course: Course, trainee: User) -> None:
    assert client.get("/api/v1/me/progress", headers=_bearer(client, trainee)).json() == {"courses": []}


def test_progress_counts_started_and_completed_modules(
    client: TestClient, db: Session, course: Course, trainee: User
) -> None:
    user_id = trainee.id or 0
    service.answer_self_check(
        db,
        user_id=user_id,
        slug="sample-course",
        name="03-practice",
        qid="practice-exact",
        answer={"value": "1"},
    )
    db.commit()
    body = client.get("/api/v1/me/progress", headers=_bearer(client, trainee)).json()
    assert body["courses"][0]["hours_done"] == 0 and body["courses"][0]["completed_modules"] == []
    assert body["courses"][0]["hours_left"] == 6

    for qid, answer in (
        ("basics-single", {"choice": 1}),
        ("basics-multiple", {"choice": [0]}),
        ("basics-truefalse", {"truth": False}),
        ("basics-selfcheck", {"choice": 1}),
    ):
        service.answer_self_check(
            db, user_id=user_id, slug="sample-course", name="01-basics", qid=qid, answer=answer
        )
    progress = service.complete_module(db, user_id=user_id, slug="sample-course", name="01-basics")
    db.commit()
    assert isinstance(progress.completed_at, datetime)
    course_progress = client.get("/api/v1/me/progress", headers=_bearer(client, trainee)).json()["courses"][0]
    assert course_progress["hours_by_group"] == {
        "公共知识": 2.0,
        "政策法规": 0.0,
        "实务技能": 0.0,
        "能力提升": 0.0,
    }
    assert course_progress["hours_done"] == 2.0 and course_progress["hours_left"] == 4.0
    assert course_progress["completed_modules"] == ["01-basics"]


def test_openapi_describes_the_course_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/courses", "/api/v1/courses/{slug}", "/api/v1/me/progress"} <= set(paths)
