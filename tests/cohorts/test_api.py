"""The classes API (bearer tokens): who sees which classes, the roster import, the dashboard data; and the
exam window other features ask the classes about."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from backend.cohorts.service import exam_window_open
from backend.models import Cohort, Course, Enrollment, User
from tests.cohorts.support import assign, complete_modules, csv_bytes, enrol, roster_rows
from tests.support import TEST_PASSWORD


def bearer(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_class_list_by_role(
    client: TestClient,
    admin: User,
    instructor: User,
    trainee: User,
    make_cohort: Callable[..., Cohort],
    db: Session,
) -> None:
    taught = make_cohort(name="讲师的班", status="running")
    make_cohort(name="报名中的班", status="open")
    make_cohort(name="筹备中的班", status="planned")
    assign(db, taught, instructor)
    assert client.get("/api/v1/classes").status_code == 401
    names = {
        who.email: {
            c["name"] for c in client.get("/api/v1/classes", headers=bearer(client, who.email)).json()
        }
        for who in (admin, instructor, trainee)
    }
    assert names[admin.email] == {"讲师的班", "报名中的班", "筹备中的班"}
    assert names[instructor.email] == {"讲师的班"}
    assert names[trainee.email] == {"报名中的班"}
    one = client.get("/api/v1/classes", headers=bearer(client, trainee.email)).json()[0]
    assert one["course_slug"] == "broker-junior" and one["seats_taken"] == 0 and one["capacity"] == 50


def test_import_api_reports_then_imports(
    client: TestClient, admin: User, instructor: User, cohort: Cohort, db: Session
) -> None:
    rows = roster_rows(4)
    rows[2][1] = "123"
    url = f"/api/v1/classes/{cohort.id}/enrolments/import"
    refused = client.post(
        url, files={"file": ("r.csv", csv_bytes(rows), "text/csv")}, headers=bearer(client, instructor.email)
    )
    assert refused.status_code == 403
    headers = bearer(client, admin.email)
    bad = client.post(url, files={"file": ("r.csv", csv_bytes(rows), "text/csv")}, headers=headers)
    assert bad.status_code == 400
    body = bad.json()
    assert body["ok"] is False and body["problems"] == [
        {"row": 4, "column": "id_number", "message": "身份证号 123 无效：身份证号应为 18 位。"}
    ]
    good = client.post(url, files={"file": ("r.csv", csv_bytes(roster_rows(4)), "text/csv")}, headers=headers)
    assert good.status_code == 200 and good.json()["enrolled"] == 4 and good.json()["accounts_created"] == 4
    db.rollback()
    assert db.exec(select(func.count()).select_from(Enrollment)).one() == 4


def test_dashboard_api_for_staff_of_the_class_only(
    client: TestClient,
    instructor: User,
    trainee: User,
    cohort: Cohort,
    course: Course,
    person: Callable[..., User],
    make_cohort: Callable[..., Cohort],
    db: Session,
) -> None:
    learner = person("赵六")
    enrol(db, cohort, learner)
    complete_modules(db, course, learner, 2)
    url = f"/api/v1/classes/{cohort.id}/dashboard"
    assert client.get(url, headers=bearer(client, instructor.email)).status_code == 403  # not theirs yet
    assert client.get(url, headers=bearer(client, trainee.email)).status_code == 403
    assign(db, cohort, instructor)
    data = client.get(url, headers=bearer(client, instructor.email)).json()
    assert data["cohort"]["id"] == cohort.id
    [row] = data["trainees"]
    assert row["name"] == "赵六" and row["online_hours"] == 8 and row["class_hours"] == 0
    assert row["modules_completed"] == 2 and row["modules_total"] == 3 and row["eligible"] is False
    assert "*" in row["id_number_masked"]


def test_exam_window(
    make_cohort: Callable[..., Cohort], person: Callable[..., User], course: Course, db: Session
) -> None:
    outsider, member = person(), person()
    cohort = make_cohort(
        exam_opens_at=datetime(2026, 6, 20, 1, tzinfo=UTC),
        exam_closes_at=datetime(2026, 6, 30, 10, tzinfo=UTC),
    )
    enrol(db, cohort, member)
    course_id = course.id or 0
    assert exam_window_open(
        db, user_id=outsider.id or 0, course_id=course_id, now=datetime(2026, 1, 1, tzinfo=UTC)
    ) == (True, None)
    early = exam_window_open(
        db, user_id=member.id or 0, course_id=course_id, now=datetime(2026, 6, 19, tzinfo=UTC)
    )
    assert early[0] is False and early[1] and "2026-06-20 09:00（北京时间）开放" in early[1]
    assert exam_window_open(
        db, user_id=member.id or 0, course_id=course_id, now=datetime(2026, 6, 25, tzinfo=UTC)
    ) == (True, None)
    late = exam_window_open(
        db, user_id=member.id or 0, course_id=course_id, now=datetime(2026, 7, 1, tzinfo=UTC)
    )
    assert late[0] is False and late[1] and "已于 2026-06-30 18:00（北京时间）关闭" in late[1]
