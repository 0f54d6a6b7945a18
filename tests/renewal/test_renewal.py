"""Renewing: the holder (hours met, within the window) or an administrator (any valid record, a note when
the hours are short) starts a new period; the number stays, a new credential is signed, the old one still
verifies its signature but shows "superseded by renewal"; every renewal is audit-logged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.certificates.credential import iso
from backend.certificates.service import add_years
from backend.config import Settings
from backend.models import AuditEvent, Certificate, CertificateRenewal, Course, Notification, User
from backend.renewal.service import beijing_midnight
from tests.certificates.support import es256_signature_ok, jwt_parts
from tests.renewal.support import at_noon, complete_module, fresh, today
from tests.roster.support import add_certificate
from tests.support import post_form, visible_text

CE_MODULES = ("01-science-progress-law-2021", "02-patent-rules-2023", "03-open-licensing")


def earn_hours(db: Session, holder: User, ce_course: Course) -> None:
    for name in CE_MODULES:
        complete_module(db, holder, ce_course, name, on=at_noon(today() - timedelta(days=2)))


def test_the_holder_renews_keeping_the_number_with_a_new_credential(
    db: Session,
    settings: Settings,
    client: TestClient,
    ce_course: Course,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
    holder_client: Callable[[User], TestClient],
) -> None:
    holder = person("赵六")
    expires = today() + timedelta(days=20)
    certificate = expiring(holder, expires)
    old_uuid, old_jwt = certificate.credential_uuid, certificate.credential_jwt
    earn_hours(db, holder, ce_course)
    browser = holder_client(holder)

    page = visible_text(browser.get("/me/renewal").text)
    assert "6 of 6 hours earned" in page and f"Renew certificate {certificate.number}" in page
    response = post_form(browser, f"/me/renewal/{certificate.number}", {})
    assert response.status_code == 303

    new_expiry = add_years(expires, 3)
    renewed = fresh(db, certificate.number)
    assert (renewed.number, renewed.expires_on, renewed.renewal_count) == (certificate.number, new_expiry, 1)
    assert renewed.issued_on == certificate.issued_on and renewed.status == "valid"
    assert renewed.credential_uuid != old_uuid and renewed.credential_jwt
    assert "renewed: valid until" in visible_text(browser.get("/me/renewal").text)

    jwks = client.get("/.well-known/jwks.json").json()
    _header, payload, _sig = jwt_parts(renewed.credential_jwt)
    assert es256_signature_ok(renewed.credential_jwt, jwks)
    assert payload["credentialSubject"]["licenseNumber"] == certificate.number
    assert payload["validFrom"] == iso(beijing_midnight(today()))  # the new period starts today
    assert payload["validUntil"].startswith(new_expiry.isoformat())

    # The old credential: still served, its signature still good, but superseded by the renewal.
    assert old_jwt and es256_signature_ok(old_jwt, jwks)
    assert client.get(f"/credentials/{old_uuid}").text == old_jwt
    checked = client.post("/api/v1/verify", content=old_jwt, headers={"Content-Type": "text/plain"}).json()
    assert checked["state"] == "superseded"
    assert {c["name"]: c["ok"] for c in checked["checks"]}["signature"] is True
    assert "Superseded by renewal" in next(
        c["detail"] for c in checked["checks"] if c["name"] == "revocation"
    )
    current = client.post(
        "/api/v1/verify", content=renewed.credential_jwt, headers={"Content-Type": "text/plain"}
    )
    assert current.json()["state"] == "valid"
    revoked = {entry["id"] for entry in client.get("/status/revocations").json()["revokedCredential"]}
    assert any(entry.endswith(old_uuid or "-") for entry in revoked)
    assert not any(entry.endswith(renewed.credential_uuid or "-") for entry in revoked)

    event = db.exec(select(AuditEvent).where(AuditEvent.action == "certificate.renewed")).one()
    assert event.target_id == certificate.number and event.after and event.after["renewal_count"] == 1
    assert event.before and event.before["expires_on"] == expires.isoformat()
    mail = db.exec(select(Notification).where(Notification.kind == "certificate_renewed")).one()
    assert new_expiry.isoformat() in mail.body and certificate.number in mail.body


def test_no_renewal_without_the_hours_or_before_the_window(
    db: Session,
    ce_course: Course,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
    holder_client: Callable[[User], TestClient],
) -> None:
    holder = person()
    short = expiring(holder, today() + timedelta(days=20))
    complete_module(db, holder, ce_course, CE_MODULES[0])
    browser = holder_client(holder)

    page = visible_text(browser.get("/me/renewal").text)
    assert "4 more continuing-education hours needed: 2 of 6 in this period." in page
    response = post_form(browser, f"/me/renewal/{short.number}", {})
    assert response.status_code == 303
    assert fresh(db, short.number).renewal_count == 0
    assert db.exec(select(CertificateRenewal)).all() == []


def test_renewal_opens_90_days_before_expiry(
    db: Session,
    settings: Settings,
    ce_course: Course,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
    english: None,
) -> None:
    from backend.errors import DomainError
    from backend.renewal import service

    holder = person()
    certificate = expiring(holder, today() + timedelta(days=200))
    earn_hours(db, holder, ce_course)
    state = service.renewal_state(db, certificate)
    opens = certificate.expires_on - timedelta(days=90) if certificate.expires_on else None
    assert state.blockers(as_admin=False, actor=holder) == [
        f"Renewal opens on {opens}, 90 days before expiry."
    ]
    try:
        service.renew(db, settings=settings, certificate=certificate, actor=holder)
    except DomainError:
        pass
    else:
        raise AssertionError("renewed before the window opened")
    # Travel to the window: allowed.
    assert service.renewal_state(db, certificate, today=opens).blockers(as_admin=False, actor=holder) == []


def test_an_admin_renews_a_lapsed_legacy_record_with_a_note(
    db: Session,
    settings: Settings,
    admin_client: TestClient,
    course: Course,
) -> None:
    expired = today() - timedelta(days=40)
    add_certificate(db, settings, number="ZJ-2018-0107", expires_on=expired, issued_on=add_years(expired, -3))

    page = admin_client.get("/admin/renewal/ZJ-2018-0107")
    assert page.status_code == 200 and "Expired on" in visible_text(page.text)
    refused = post_form(admin_client, "/admin/renewal/ZJ-2018-0107", {"note": ""})
    assert refused.status_code == 422
    assert "say in the note why" in visible_text(refused.text)
    assert fresh(db, "ZJ-2018-0107").renewal_count == 0

    done = post_form(
        admin_client, "/admin/renewal/ZJ-2018-0107", {"note": "24学时，省技术市场继续教育证明已核验"}
    )
    assert done.status_code == 303
    record = fresh(db, "ZJ-2018-0107")
    assert record.expires_on == add_years(today(), 3) - timedelta(days=1)  # lapsed: 3 years from today
    assert record.renewal_count == 1 and record.source == "legacy"
    assert record.credential_jwt  # a credential naming the junior course's achievement
    renewal = db.exec(select(CertificateRenewal)).one()
    assert renewal.by_admin and renewal.note.startswith("24学时") and renewal.previous_expires_on == expired
    assert (
        db.exec(select(AuditEvent).where(AuditEvent.action == "certificate.renewed")).one().after["by_admin"]
    )
    assert "valid" in admin_client.get("/api/v1/verify", params={"number": "ZJ-2018-0107"}).json()["state"]


def test_a_holder_cannot_renew_someone_elses_certificate(
    db: Session,
    ce_course: Course,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
    holder_client: Callable[[User], TestClient],
) -> None:
    owner, other = person(), person()
    certificate = expiring(owner, today() + timedelta(days=20))
    earn_hours(db, owner, ce_course)
    response = post_form(holder_client(other), f"/me/renewal/{certificate.number}", {})
    assert response.status_code == 404
    assert fresh(db, certificate.number).renewal_count == 0
