"""The holder's /me/certificates: the certificate with its PDF, credential and share link, and what is
still missing for a certificate not issued yet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.config import Settings
from backend.models import Cohort, Course, User
from tests.certificates.support import credit_hours, es256_signature_ok, issue
from tests.cohorts.support import enrol
from tests.support import login


def test_the_holder_finds_the_pdf_the_credential_and_a_share_link(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    trainee = graduate()
    certificate = issue(db, settings, trainee, course)
    login(client, trainee.email)
    page = client.get("/me/certificates")
    assert page.status_code == 200
    assert f"/certificates/{certificate.number}/pdf" in page.text
    share = f"{settings.public_base_url}/verify/{certificate.number}"
    assert f'value="{share}"' in page.text
    jwt_link = f"/credentials/{certificate.credential_uuid}?download=1"
    assert jwt_link in page.text
    download = client.get(jwt_link)
    assert download.headers["content-disposition"].startswith("attachment")
    assert es256_signature_ok(download.text, client.get("/.well-known/jwks.json").json())
    assert client.get("/api/v1/me/certificates").status_code == 401  # the API takes bearer tokens only


def test_the_holder_sees_what_is_still_missing(
    client: TestClient, db: Session, course: Course, person: Callable[..., User]
) -> None:
    trainee = person()
    cohort = Cohort(
        name="第二期",
        course_id=course.id or 0,
        year=2026,
        start_date=date(2026, 3, 1),
        end_date=date(2026, 6, 30),
        capacity=30,
        status="running",
    )
    db.add(cohort)
    db.commit()
    enrol(db, cohort, trainee)
    credit_hours(db, course, trainee, 4)
    login(client, trainee.email)
    page = client.get("/me/certificates")
    assert page.status_code == 200
    assert course.certificate_title in page.text and "cert-pending" in page.text
    assert page.text.count("<li>") >= 2  # the hours and the exam


def test_certificates_need_a_sign_in(client: TestClient) -> None:
    response = client.get("/me/certificates")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
