"""Administrators create and edit classes (messages next to the fields), filter the list and assign
instructors; instructors see only their own classes; trainees get 403 on staff pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.models import AuditEvent, Cohort, CohortInstructor, Course, Role, User
from tests.cohorts.support import assign, enrol
from tests.support import login, post_form, visible_text

GOOD_FORM = {
    "name": "2026年杭州市技术经纪人培训班（第二期）",
    "year": "2026",
    "start_date": "2026-09-01",
    "end_date": "2026-11-30",
    "place": "online",
    "capacity": "40",
    "status": "open",
    "exam_opens_at": "2026-11-20T09:00",
    "exam_closes_at": "2026-11-30T18:00",
}


def _fresh(db: Session) -> None:
    db.rollback()
    db.expire_all()


def test_admin_creates_a_class(client: TestClient, admin: User, course: Course, db: Session) -> None:
    login(client, admin.email)
    page = client.get("/admin/classes/new")
    assert page.status_code == 200 and "初级技术经纪人培训" in page.text  # the course is offered
    response = post_form(client, "/admin/classes/new", {**GOOD_FORM, "course_id": str(course.id)})
    assert response.status_code == 303, response.text
    _fresh(db)
    cohort = db.exec(select(Cohort)).one()
    assert cohort.capacity == 40 and cohort.place == "online" and cohort.status == "open"
    assert cohort.exam_opens_at is not None and cohort.exam_opens_at.hour == 1  # 09:00 Beijing = 01:00 UTC
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "cohort.created")).one()
    assert event.actor_id == admin.id and event.after and event.after["capacity"] == 40
    listing = visible_text(client.get("/admin/classes").text)
    assert "2026年杭州市技术经纪人培训班（第二期）" in listing and "线上" in listing and "报名中" in listing


def test_invalid_class_form_says_what_is_wrong_next_to_each_field(
    client: TestClient, admin: User, course: Course, db: Session
) -> None:
    login(client, admin.email)
    bad = {
        **GOOD_FORM,
        "name": "",
        "course_id": "9999",
        "start_date": "2026-09-01",
        "end_date": "2026-08-01",
        "capacity": "0",
        "exam_opens_at": "2026-11-30T09:00",
        "exam_closes_at": "2026-11-20T09:00",
    }
    response = post_form(client, "/admin/classes/new", bad)
    assert response.status_code == 422
    text = visible_text(response.text)
    assert "请输入培训班名称" in text
    assert "请选择本班学习的课程" in text
    assert "结业日期不能早于开班日期" in text
    assert "容量须为不小于 1 的整数" in text
    assert "考试结束时间必须晚于开始时间" in text
    assert 'id="e-capacity"' in response.text and 'aria-invalid="true"' in response.text
    assert "2026-08-01" in response.text  # what was typed is kept
    _fresh(db)
    assert db.exec(select(Cohort)).all() == []


def test_edit_keeps_capacity_above_enrolled(
    client: TestClient, admin: User, cohort: Cohort, person: Callable[..., User], db: Session
) -> None:
    enrol(db, cohort, person(), person(), person())
    login(client, admin.email)
    form = client.get(f"/admin/classes/{cohort.id}/edit")
    assert form.status_code == 200 and "杭州市科技大厦" in form.text
    data = {
        "name": cohort.name,
        "course_id": str(cohort.course_id),
        "year": "2026",
        "start_date": "2026-03-01",
        "end_date": "2026-06-30",
        "place": "杭州市科技大厦",
        "capacity": "2",
        "status": "running",
    }
    refused = post_form(client, f"/admin/classes/{cohort.id}/edit", data)
    assert refused.status_code == 422 and "已有 3 名学员报名，容量不能低于此数" in visible_text(refused.text)
    saved = post_form(client, f"/admin/classes/{cohort.id}/edit", {**data, "capacity": "3"})
    assert saved.status_code == 303
    _fresh(db)
    stored = db.get(Cohort, cohort.id)
    assert stored is not None and stored.capacity == 3 and stored.status == "running"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "cohort.updated")).one()
    assert event.before == {"capacity": 50, "status": "open"} and event.after == {
        "capacity": 3,
        "status": "running",
    }


def test_list_filters(
    client: TestClient, admin: User, make_cohort: Callable[..., Cohort], db: Session
) -> None:
    make_cohort(name="2025年第一期", year=2025, status="finished")
    make_cohort(name="2026年第一期", year=2026, status="open")
    make_cohort(name="2026年第二期", year=2026, status="planned")
    login(client, admin.email)
    by_year = visible_text(client.get("/admin/classes", params={"year": "2026"}).text)
    assert "2026年第一期" in by_year and "2026年第二期" in by_year and "2025年第一期" not in by_year
    by_status = visible_text(client.get("/admin/classes", params={"status": "finished"}).text)
    assert "2025年第一期" in by_status and "2026年第一期" not in by_status
    by_name = client.get(
        "/admin/classes", params={"q": "第二期"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert by_name.text.lstrip().startswith('<div id="results">')
    assert "2026年第二期" in by_name.text and "2026年第一期" not in by_name.text


def test_assign_instructor_and_they_see_only_their_classes(
    client: TestClient,
    admin: User,
    instructor: User,
    make_cohort: Callable[..., Cohort],
    person: Callable[..., User],
    db: Session,
) -> None:
    theirs = make_cohort(name="讲师的班")
    other = make_cohort(name="别人的班")
    login(client, admin.email)
    response = post_form(client, f"/admin/classes/{theirs.id}/instructors", {"user_id": str(instructor.id)})
    assert response.status_code == 303
    _fresh(db)
    assert db.exec(select(CohortInstructor)).one().user_id == instructor.id
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "cohort.instructor_added")).one()

    client.cookies.clear()
    login(client, instructor.email)
    mine = visible_text(client.get("/instructor/classes").text)
    assert "讲师的班" in mine and "别人的班" not in mine
    assert client.get(f"/instructor/classes/{theirs.id}").status_code == 200
    for path in ("", "/dashboard", "/sessions", "/dashboard.csv"):
        refused = client.get(f"/instructor/classes/{other.id}{path}")
        assert refused.status_code == 403, path
        assert "您不是本班的讲师" in refused.text
    assert client.get("/admin/classes").status_code == 403


def test_trainee_gets_403_on_staff_pages(
    client: TestClient, trainee: User, cohort: Cohort, db: Session
) -> None:
    enrol(db, cohort, trainee)
    login(client, trainee.email)
    for path in (
        "/instructor/classes",
        f"/instructor/classes/{cohort.id}",
        f"/instructor/classes/{cohort.id}/dashboard",
        f"/instructor/classes/{cohort.id}/sessions",
        f"/admin/classes/{cohort.id}/import",
        "/admin/classes",
    ):
        assert client.get(path).status_code == 403, path
    refused = post_form(
        client,
        f"/instructor/classes/{cohort.id}/sessions",
        {"date": "2026-03-02", "topic": "x", "hours": "4"},
    )
    assert refused.status_code == 403


def test_admin_removes_an_instructor(
    client: TestClient, admin: User, instructor: User, cohort: Cohort, db: Session
) -> None:
    assign(db, cohort, instructor)
    login(client, admin.email)
    page = visible_text(client.get(f"/admin/classes/{cohort.id}/edit").text)
    assert "李老师" in page
    post_form(client, f"/admin/classes/{cohort.id}/instructors/{instructor.id}/remove", {})
    _fresh(db)
    assert db.exec(select(CohortInstructor)).all() == []


def test_only_staff_can_be_assigned(
    client: TestClient, admin: User, trainee: User, cohort: Cohort, db: Session
) -> None:
    login(client, admin.email)
    response = post_form(
        client, f"/admin/classes/{cohort.id}/instructors", {"user_id": str(trainee.id)}, follow_redirects=True
    )
    assert "请选择一位讲师" in response.text
    _fresh(db)
    assert db.exec(select(CohortInstructor)).all() == []
    assert trainee.role == Role.trainee


def test_every_class_page_renders_in_both_languages(
    client: TestClient,
    admin: User,
    instructor: User,
    cohort: Cohort,
    person: Callable[..., User],
    db: Session,
) -> None:
    from tests.cohorts.support import add_session

    assign(db, cohort, instructor)
    enrol(db, cohort, person("孙七"))
    day = add_session(db, cohort, day=1, hours=3)
    login(client, admin.email)
    pages = [
        "/admin/classes",
        "/admin/classes/new",
        f"/admin/classes/{cohort.id}/edit",
        f"/admin/classes/{cohort.id}/import",
        "/instructor/classes",
        f"/instructor/classes/{cohort.id}",
        f"/instructor/classes/{cohort.id}/sessions",
        f"/instructor/classes/{cohort.id}/sessions/{day.id}/edit",
        f"/instructor/classes/{cohort.id}/sessions/{day.id}/attendance",
        f"/instructor/classes/{cohort.id}/dashboard",
        "/classes",
        f"/classes/{cohort.id}",
    ]
    for lang, word in (("zh_CN", "培训班"), ("en", "class")):
        client.get("/language", params={"lang": lang})
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (lang, path)
            assert word in response.text.lower(), (lang, path)
            # every form carries the token a browser without JavaScript sends back
            tokens = re.findall(r'name="csrf_token" value="([^"]*)"', response.text)
            assert all(token == client.cookies["academy_csrf"] for token in tokens), path
    client.get("/language", params={"lang": "zh_CN"})
    nav = client.get("/admin/users").text
    assert 'href="/admin/classes"' in nav
