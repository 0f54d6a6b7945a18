"""Eligibility and issuing as administrators and instructors do it in the browser: one trainee, a whole
class (twice, issuing nothing twice; a large class as a background job), revoke and reissue, and the
audit log and the holder's email that go with every act."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from backend.certificates import class_issue, service
from backend.config import Settings
from backend.models import AuditEvent, Certificate, Cohort, Course, Job, Notification, User
from tests.certificates.support import credit_hours, issue, pass_exam, stored
from tests.cohorts.support import assign, enrol
from tests.support import login, post_form


@pytest.fixture
def cohort(db: Session, course: Course) -> Cohort:
    cohort = Cohort(
        name="2026年杭州市技术经纪人培训班（第一期）",
        course_id=course.id or 0,
        year=2026,
        start_date=date(2026, 3, 1),
        end_date=date(2026, 6, 30),
        capacity=600,
        status="running",
    )
    db.add(cohort)
    db.commit()
    return cohort


def test_eligibility_says_what_is_missing(
    db: Session, course: Course, person: Callable[..., User], english: None
) -> None:
    user = person("钱七", with_id=False)
    credit_hours(db, course, user, 5)
    pass_exam(db, course, user, passed=False)
    state = service.eligibility(db, user=user, course=course)
    assert not state.eligible
    text = " ".join(state.reasons)
    assert "ID card" in text and "7 more hours" in text and "not passed" in text
    course.certificate_title = ""
    assert "does not lead to a certificate" in " ".join(service.course_rules(course, user))


def test_an_admin_issues_to_one_trainee_and_the_holder_is_told(
    client: TestClient, db: Session, course: Course, graduate: Callable[..., User], admin: User
) -> None:
    trainee = graduate()
    login(client, admin.email)
    response = post_form(
        client, "/admin/certificates/issue", {"email": trainee.email, "course_id": str(course.id)}
    )
    assert response.status_code == 303
    number = response.headers["location"].rsplit("/", 1)[-1]
    certificate = stored(db, number)
    assert certificate.holder_name == trainee.name and certificate.issued_by_id == admin.id
    assert certificate.hours == 12 and certificate.expires_on is not None
    assert certificate.expires_on.year == certificate.issued_on.year + 3
    mail = db.exec(select(Notification).where(Notification.kind == "certificate_issued")).one()
    assert number in mail.body and mail.to_email == trainee.email
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "certificate.issued")).one()
    assert event.target_id == number and event.actor_id == admin.id
    assert "id_number" not in str(event.after)
    again = post_form(
        client, "/admin/certificates/issue", {"email": trainee.email, "course_id": str(course.id)}
    )
    assert again.status_code == 422 and number in again.text


def test_a_trainee_who_is_not_eligible_is_refused_with_the_reason(
    client: TestClient, db: Session, course: Course, person: Callable[..., User], admin: User
) -> None:
    trainee = person()
    credit_hours(db, course, trainee, 4)
    login(client, admin.email)
    response = post_form(
        client, "/admin/certificates/issue", {"email": trainee.email, "course_id": str(course.id)}
    )
    assert response.status_code == 422
    assert 'id="e-email"' in response.text
    assert db.exec(select(Certificate)).first() is None


def test_a_class_is_issued_in_one_action_and_rerunning_issues_nothing_twice(
    client: TestClient,
    db: Session,
    course: Course,
    cohort: Cohort,
    graduate: Callable[..., User],
    person: Callable[..., User],
    admin: User,
) -> None:
    done = [graduate(f"学员甲{i}") for i in range(3)]
    waiting = person("学员乙")
    enrol(db, cohort, *done, waiting)
    login(client, admin.email)
    response = post_form(client, f"/instructor/classes/{cohort.id}/certificates", {})
    assert response.status_code == 303
    db.commit()
    issued = db.exec(select(Certificate).order_by(col(Certificate.number))).all()
    assert sorted(c.user_id for c in issued) == sorted(u.id for u in done)
    assert all(c.cohort_id == cohort.id for c in issued)
    assert post_form(client, f"/instructor/classes/{cohort.id}/certificates", {}).status_code == 303
    db.commit()
    assert len(db.exec(select(Certificate)).all()) == 3
    page = client.get(f"/instructor/classes/{cohort.id}/certificates")
    assert page.status_code == 200
    assert all(c.number in page.text for c in issued)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "certificate.class_issued")).all()


def test_instructors_issue_only_when_the_settings_allow_it(
    app: FastAPI,
    client: TestClient,
    db: Session,
    course: Course,
    cohort: Cohort,
    graduate: Callable[..., User],
    instructor: User,
) -> None:
    trainee = graduate()
    enrol(db, cohort, trainee)
    assign(db, cohort, instructor)
    login(client, instructor.email)
    assert client.get(f"/instructor/classes/{cohort.id}/certificates").status_code == 200
    refused = post_form(client, f"/instructor/classes/{cohort.id}/certificates/{trainee.id}", {})
    assert refused.status_code == 403
    app.state.settings = app.state.settings.model_copy(update={"instructors_may_issue": True})
    allowed = post_form(client, f"/instructor/classes/{cohort.id}/certificates/{trainee.id}", {})
    assert allowed.status_code == 303
    db.commit()
    assert (
        db.exec(select(Certificate).where(Certificate.user_id == trainee.id)).one().issued_by_id
        == instructor.id
    )


def test_a_large_class_is_issued_by_a_background_job_with_progress(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    cohort: Cohort,
    graduate: Callable[..., User],
    admin: User,
) -> None:
    people = [graduate(f"学员{i:03d}") for i in range(class_issue.LARGE_CLASS + 3)]
    enrol(db, cohort, *people)
    login(client, admin.email)
    response = post_form(client, f"/instructor/classes/{cohort.id}/certificates", {})
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    job_id = int(response.headers["location"].rsplit("/", 1)[-1])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        db.commit()
        job = db.get(Job, job_id)
        assert job is not None
        db.refresh(job)
        if job.status in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job.status == "done", job.error
    assert job.done == job.total == len(people)
    db.commit()
    assert len(db.exec(select(Certificate)).all()) == len(people)
    page = client.get(f"/jobs/{job_id}")
    assert f"/instructor/classes/{cohort.id}/certificates" in page.text
    assert len(db.exec(select(Notification).where(Notification.kind == "certificate_issued")).all()) == len(
        people
    )


def test_revoke_needs_a_reason_and_is_audited(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    admin: User,
) -> None:
    certificate = issue(db, settings, graduate(), course, admin)
    login(client, admin.email)
    empty = post_form(client, f"/admin/certificates/{certificate.number}/revoke", {"reason": " "})
    assert empty.status_code == 422 and 'id="e-reason"' in empty.text
    done = post_form(client, f"/admin/certificates/{certificate.number}/revoke", {"reason": "学时造假"})
    assert done.status_code == 303
    row = stored(db, certificate.number)
    assert row.status == "revoked" and row.revocation_reason == "学时造假" and row.revoked_at is not None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "certificate.revoked")).one()
    assert (
        event.before
        and event.before["status"] == "valid"
        and event.after
        and event.after["status"] == "revoked"
    )
    assert (
        post_form(client, f"/admin/certificates/{certificate.number}/revoke", {"reason": "again"}).status_code
        == 422
    )


def test_reissue_makes_a_new_certificate_and_supersedes_the_old(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    admin: User,
) -> None:
    old = issue(db, settings, graduate("王小民"), course, admin)
    login(client, admin.email)
    response = post_form(
        client,
        f"/admin/certificates/{old.number}/reissue",
        {"holder_name": "王小明", "reissue_reason": "姓名录入错误，更正"},
    )
    assert response.status_code == 303
    new_number = response.headers["location"].rsplit("/", 1)[-1]
    new, previous = stored(db, new_number), stored(db, old.number)
    assert new.number != old.number and new.holder_name == "王小明" and new.replaces_id == previous.id
    assert previous.status == "superseded" and previous.superseded_by_id == new.id
    assert new.expires_on == previous.expires_on
    page = client.get(f"/verify/{old.number}")
    assert "cert-banner--superseded" in page.text and f"/verify/{new_number}" in page.text
    revoked_ids = [r["id"] for r in client.get("/status/revocations").json()["revokedCredential"]]
    assert revoked_ids == [f"{settings.public_base_url}/credentials/{previous.credential_uuid}"]
    actions = {e.action for e in db.exec(select(AuditEvent)).all()}
    assert {"certificate.reissued", "certificate.superseded"} <= actions


def test_the_admin_list_finds_certificates(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    admin: User,
) -> None:
    certificate = issue(db, settings, graduate("孙悟空"), course, admin)
    login(client, admin.email)
    page = client.get("/admin/certificates", params={"q": "悟空"})
    assert page.status_code == 200 and certificate.number in page.text
    assert certificate.number not in client.get("/admin/certificates", params={"q": "八戒"}).text
    detail = client.get(f"/admin/certificates/{certificate.number}")
    assert "certificate.issued" in detail.text


def test_the_api_issues_revokes_and_reads(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    admin: User,
) -> None:
    from tests.support import TEST_PASSWORD

    trainee = graduate()
    token = client.post(
        "/api/v1/auth/token", data={"username": admin.email, "password": TEST_PASSWORD}
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    created = client.post(
        "/api/v1/certificates", json={"user_id": trainee.id, "course_id": course.id}, headers=headers
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["holder_name"] == trainee.name and "*" in created.json()["id_number"]
    twice = client.post(
        "/api/v1/certificates", json={"user_id": trainee.id, "course_id": course.id}, headers=headers
    )
    assert twice.status_code == 409
    revoked = client.post(
        f"/api/v1/certificates/{number}/revoke", json={"reason": "撤销测试"}, headers=headers
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert (
        client.get(f"/api/v1/certificates/{number}", headers=headers).json()["revocation_reason"]
        == "撤销测试"
    )
