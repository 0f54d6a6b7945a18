"""Lapse: an expired certificate shows "expired" on verification (page and API) and leaves the roster's valid
count; the roster statistics show lapsed and renewed counts per year, and a renewed holder counts once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.certificates.service import add_years
from backend.config import Settings
from backend.models import Certificate, Course, User
from backend.renewal import service
from tests.renewal.support import today
from tests.roster.support import add_certificate
from tests.support import visible_text


def test_an_expired_certificate_shows_expired_and_leaves_the_valid_count(
    db: Session, settings: Settings, client: TestClient
) -> None:
    yesterday = today() - timedelta(days=1)
    add_certificate(
        db, settings, number="ZJ-2019-0001", expires_on=yesterday, issued_on=add_years(yesterday, -3)
    )
    add_certificate(db, settings, number="ZJ-2019-0002", expires_on=today(), issued_on=add_years(today(), -3))

    lapsed = client.get("/verify/ZJ-2019-0001", cookies={"academy_lang": "en"})
    assert "This certificate has expired." in visible_text(lapsed.text)
    assert client.get("/api/v1/verify", params={"number": "ZJ-2019-0001"}).json()["state"] == "expired"
    assert client.get("/api/v1/verify", params={"number": "ZJ-2019-0002"}).json()["state"] == "valid"

    stats = client.get("/api/v1/roster/stats").json()
    assert stats["valid"] == 1 and stats["expired"] == 1
    assert {item["key"]: item["count"] for item in stats["lapsed_by_year"]}[str(yesterday.year)] == 1


def test_renewed_and_lapsed_per_year_and_a_renewed_holder_counts_once(
    db: Session,
    settings: Settings,
    client: TestClient,
    admin: User,
    course: Course,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
) -> None:
    holder = person()
    certificate = expiring(holder, today() + timedelta(days=10))
    late = today() - timedelta(days=30)
    add_certificate(db, settings, number="ZJ-2017-0042", expires_on=late, issued_on=add_years(late, -3))
    add_certificate(db, settings, number="ZJ-2017-0043", expires_on=late, issued_on=add_years(late, -3))
    before = client.get("/api/v1/roster/stats").json()
    assert before["valid"] == 1 and before["renewed"] == 0

    service.renew(db, settings=settings, certificate=certificate, actor=admin, as_admin=True, note="核验")
    late_record = db.exec(select(Certificate).where(Certificate.number == "ZJ-2017-0042")).one()
    service.renew(
        db, settings=settings, certificate=late_record, actor=admin, as_admin=True, note="纸质学时证明"
    )
    db.commit()

    stats = client.get("/api/v1/roster/stats").json()
    assert stats["valid"] == 2  # the renewed holder once, the late-renewed legacy record once
    assert stats["expired"] == 1 and stats["renewed"] == 2
    renewed = {item["key"]: item["count"] for item in stats["renewed_by_year"]}
    lapsed = {item["key"]: item["count"] for item in stats["lapsed_by_year"]}
    assert renewed[str(today().year)] == 2
    assert lapsed[str(late.year)] == 2  # one still expired, one that lapsed before it was renewed
    assert [item["key"] for item in stats["renewed_by_year"]] == [
        item["key"] for item in stats["lapsed_by_year"]
    ]

    page = visible_text(client.get("/roster", cookies={"academy_lang": "en"}).text)
    assert "Renewals and lapses by year" in page
    assert "Renewed so far: 2" in page


def test_verification_shows_the_new_expiry_and_the_renewal_count(
    db: Session,
    settings: Settings,
    client: TestClient,
    admin: User,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
) -> None:
    holder = person()
    expires = today() + timedelta(days=20)
    certificate = expiring(holder, expires)
    service.renew(db, settings=settings, certificate=certificate, actor=admin, as_admin=True, note="核验")
    db.commit()

    page = visible_text(client.get(f"/verify/{certificate.number}", cookies={"academy_lang": "en"}).text)
    assert "This certificate is valid." in page
    assert add_years(expires, 3).isoformat() in page
    assert "Renewals: 1 (the number stays the same)." in page
    body = client.get("/api/v1/verify", params={"number": certificate.number}).json()
    assert body["certificate"]["expires_on"] == add_years(expires, 3).isoformat()
    assert body["certificate"]["renewal_count"] == 1 and body["number"] == certificate.number
