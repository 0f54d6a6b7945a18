"""The class timetable and attendance: sessions added and edited by the class's instructor, attendance
taken as a checklist (a plain form), and attended hours counted toward min_hours beside online hours."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.cohorts import sessions as timetable
from backend.cohorts.dashboard import trainee_status
from backend.config import Settings
from backend.models import Attendance, AuditEvent, ClassSession, Cohort, Course, User
from tests.cohorts.support import add_session, assign, complete_modules, enrol
from tests.support import login, post_form, visible_text


def _fresh(db: Session) -> None:
    db.rollback()
    db.expire_all()


def test_instructor_builds_the_timetable(
    client: TestClient, instructor: User, cohort: Cohort, db: Session
) -> None:
    assign(db, cohort, instructor)
    login(client, instructor.email)
    added = post_form(
        client,
        f"/instructor/classes/{cohort.id}/sessions",
        {
            "date": "2026-03-07",
            "topic": "技术合同登记实务",
            "hours": "4",
            "instructor_id": str(instructor.id),
        },
    )
    assert added.status_code == 303
    page = visible_text(client.get(f"/instructor/classes/{cohort.id}/sessions").text)
    assert "课程“技术合同登记实务”已加入课表" in page and "2026-03-07" in page and "李老师" in page
    _fresh(db)
    row = db.exec(select(ClassSession)).one()
    edited = post_form(
        client,
        f"/instructor/classes/{cohort.id}/sessions/{row.id}/edit",
        {"date": "2026-03-08", "topic": "技术合同登记实务", "hours": "3.5", "instructor_id": ""},
    )
    assert edited.status_code == 303
    _fresh(db)
    stored = db.get(ClassSession, row.id)
    assert stored is not None and stored.hours == 3.5 and stored.instructor_id is None
    actions = [e.action for e in db.exec(select(AuditEvent)).all()]
    assert actions == ["class_session.created", "class_session.updated"]
    post_form(client, f"/instructor/classes/{cohort.id}/sessions/{row.id}/delete", {})
    _fresh(db)
    assert db.exec(select(ClassSession)).all() == []


def test_session_form_errors(client: TestClient, admin: User, cohort: Cohort, db: Session) -> None:
    login(client, admin.email)
    response = post_form(
        client, f"/instructor/classes/{cohort.id}/sessions", {"date": "2027-01-01", "topic": "", "hours": "0"}
    )
    assert response.status_code == 422
    text = visible_text(response.text)
    assert "日期须在本班起止日期之内（2026-03-01 至 2026-06-30）" in text
    assert "请输入课程主题" in text and "请输入本次课的学时" in text
    _fresh(db)
    assert db.exec(select(ClassSession)).all() == []


def test_attendance_checklist_without_javascript(
    client: TestClient,
    instructor: User,
    cohort: Cohort,
    person: Callable[..., User],
    db: Session,
) -> None:
    assign(db, cohort, instructor)
    here, away = person("张三"), person("李四")
    enrol(db, cohort, here, away)
    day = add_session(db, cohort, day=6, hours=4, topic="第一天面授")
    login(client, instructor.email)
    sheet = client.get(f"/instructor/classes/{cohort.id}/sessions/{day.id}/attendance")
    assert sheet.status_code == 200
    assert (
        f'name="present" value="{here.id}"' in sheet.text
        and f'name="present" value="{away.id}"' in sheet.text
    )
    assert "本次课尚未保存考勤" in visible_text(sheet.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', sheet.text)
    assert token is not None  # the form's own hidden field, as a browser without JavaScript sends it
    saved = client.post(
        f"/instructor/classes/{cohort.id}/sessions/{day.id}/attendance",
        data={"present": str(here.id), "csrf_token": token.group(1)},
    )
    assert saved.status_code == 303
    assert "考勤已保存：出勤 1 人，缺勤 1 人" in visible_text(client.get(saved.headers["location"]).text)
    again = client.get(f"/instructor/classes/{cohort.id}/sessions/{day.id}/attendance").text
    assert f'value="{here.id}" checked' in again and f'value="{away.id}" checked' not in again
    _fresh(db)
    marks = {m.user_id: m.present for m in db.exec(select(Attendance)).all()}
    assert marks == {here.id: True, away.id: False}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "attendance.recorded")).one()
    assert event.after == {"cohort_id": cohort.id, "present": [here.id], "absent": 1}

    # changed later: both present (a repeated form field)
    client.post(
        f"/instructor/classes/{cohort.id}/sessions/{day.id}/attendance",
        data={"present": [str(here.id), str(away.id)], "csrf_token": client.cookies["academy_csrf"]},
    )
    _fresh(db)
    assert all(m.present for m in db.exec(select(Attendance)).all())
    assert len(db.exec(select(Attendance)).all()) == 2


def test_attended_hours_count_toward_eligibility(
    cohort: Cohort, course: Course, person: Callable[..., User], settings: Settings, db: Session
) -> None:
    trainee = person("王五")
    enrol(db, cohort, trainee)
    complete_modules(db, course, trainee, 3)  # 12 online hours of the 20 required
    first = add_session(db, cohort, day=6, hours=4)
    second = add_session(db, cohort, day=13, hours=4)
    third = add_session(db, cohort, day=20, hours=4)
    status = trainee_status(db, cohort=cohort, user=trainee, settings=settings)
    assert (status.online_hours, status.class_hours, status.total_hours) == (12, 0, 12)
    assert not status.eligible and any("还差 8 学时" in r for r in status.reasons)

    db.add(Attendance(session_id=first.id or 0, user_id=trainee.id or 0, present=True))
    db.add(Attendance(session_id=second.id or 0, user_id=trainee.id or 0, present=True))
    db.add(Attendance(session_id=third.id or 0, user_id=trainee.id or 0, present=False))
    db.commit()
    status = trainee_status(db, cohort=cohort, user=trainee, settings=settings)
    assert (status.online_hours, status.class_hours, status.total_hours) == (12, 8, 20)
    assert status.hours_met
    assert timetable.class_hours(db, user_id=trainee.id or 0, cohort_id=cohort.id or 0) == 8
    assert timetable.online_hours(db, user_id=trainee.id or 0, course_id=course.id or 0) == 12
    # hours are met; only the exam is missing now
    assert not status.eligible and status.reasons == ["尚未通过结业考试。"]


def test_attendance_ignores_people_not_in_the_class(
    client: TestClient, admin: User, cohort: Cohort, person: Callable[..., User], db: Session
) -> None:
    member, outsider = person(), person()
    enrol(db, cohort, member)
    day = add_session(db, cohort, day=1, hours=2)
    login(client, admin.email)
    client.post(
        f"/instructor/classes/{cohort.id}/sessions/{day.id}/attendance",
        data={"present": [str(member.id), str(outsider.id)], "csrf_token": client.cookies["academy_csrf"]},
    )
    _fresh(db)
    assert [(m.user_id, m.present) for m in db.exec(select(Attendance)).all()] == [(member.id, True)]
