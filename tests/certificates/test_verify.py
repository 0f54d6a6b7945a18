"""Verification as a verifier meets it: /verify/{number} and /api/v1/verify for valid, revoked (with the
reason), expired, superseded, mistyped and unknown numbers; a pasted or uploaded credential with every
check shown; a legacy record; the revocation list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.certificates import lifecycle
from backend.certificates.credential import credential_of
from backend.certificates.verify import verify_credential
from backend.config import Settings
from backend.models import Certificate, CertificateSource, Course, User
from tests.certificates.support import issue, stored
from tests.support import csrf_token, visible_text


def test_a_valid_certificate_shows_valid_with_masked_personal_data(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate("王小明"), course)
    page = client.get(f"/verify/{certificate.number}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "cert-banner--valid" in page.text
    assert certificate.number in text and "王*明" in text and "王小明" not in text
    assert certificate.id_number_masked in text
    assert page.headers["cache-control"] == "no-store"
    api = client.get("/api/v1/verify", params={"number": certificate.number})
    assert api.status_code == 200
    body = api.json()
    assert body["state"] == "valid"
    assert body["certificate"]["holder_name"] == "王*明"
    assert body["certificate"]["credential_url"].endswith(certificate.credential_uuid or "")


def test_revoked_shows_the_reason_on_the_page_and_the_api(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    admin: User,
) -> None:
    certificate = issue(db, settings, graduate(), course)
    lifecycle.revoke(db, certificate=certificate, reason="考试作弊，经查实撤销", actor=admin)
    db.commit()
    page = client.get(f"/verify/{certificate.number}")
    assert "cert-banner--revoked" in page.text and "考试作弊，经查实撤销" in page.text
    body = client.get("/api/v1/verify", params={"number": certificate.number}).json()
    assert body["state"] == "revoked"
    assert body["certificate"]["revocation_reason"] == "考试作弊，经查实撤销"
    revocations = client.get("/status/revocations")
    assert revocations.headers["access-control-allow-origin"] == "*"
    listed = revocations.json()
    assert listed["id"].endswith("/status/revocations") and listed["issuer"].endswith("/issuer")
    assert listed["revokedCredential"] == [
        {
            "id": f"{settings.public_base_url}/credentials/{certificate.credential_uuid}",
            "revoked": True,
            "revocationReason": "考试作弊，经查实撤销",
        }
    ]


def test_expired_shows_expired_on_the_page_and_the_api(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate(), course)
    row = stored(db, certificate.number)
    row.issued_on, row.expires_on = date(2020, 1, 1), date(2022, 12, 31)
    db.add(row)
    db.commit()
    page = client.get(f"/verify/{certificate.number}")
    assert "cert-banner--expired" in page.text and "2022-12-31" in page.text
    assert client.get("/api/v1/verify", params={"number": certificate.number}).json()["state"] == "expired"
    later = datetime.now(UTC) + timedelta(days=365 * 4)
    checked = verify_credential(db, settings=settings, text=certificate.credential_jwt or "", now=later)
    assert checked.state == "expired"
    assert not next(c for c in checked.checks if c.name == "dates").ok
    assert next(c for c in checked.checks if c.name == "signature").ok


def test_a_mistyped_number_is_caught_before_lookup_with_a_clear_message(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate(), course)
    digit = certificate.number[8]
    typo = certificate.number[:8] + ("1" if digit != "1" else "2") + certificate.number[9:]
    form = client.get("/verify", params={"number": typo})
    assert form.status_code == 422
    assert 'aria-invalid="true"' in form.text and 'id="e-number"' in form.text
    api = client.get("/api/v1/verify", params={"number": typo})
    assert api.status_code == 422 and api.json()["state"] == "mistyped"
    direct = client.get(f"/verify/{typo}")
    assert direct.status_code == 404 and "cert-banner--mistyped" in direct.text
    ok = client.get(
        "/verify", params={"number": certificate.number.lower()[:-1] + certificate.number[-1].lower()}
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/verify/{certificate.number}"


def test_an_unknown_number_is_not_found(client: TestClient) -> None:
    from backend.accounts.idcard import mod11_2_check_char

    body = "3301002026199999"
    number = body + mod11_2_check_char(body)
    page = client.get(f"/verify/{number}")
    assert page.status_code == 404 and "cert-banner--not_found" in page.text
    assert client.get("/api/v1/verify", params={"number": number}).status_code == 404


def test_a_legacy_record_verifies_by_its_own_number(client: TestClient, db: Session) -> None:
    db.add(
        Certificate(
            number="ZJJJ2015-0042",
            source=CertificateSource.legacy.value,
            level=1,
            title="浙江省技术经纪人培训合格证书",
            holder_name="赵六",
            id_number_masked="330106********1234",
            issuer_name="杭州市科技局",
            issued_on=date(2015, 6, 1),
        )
    )
    db.commit()
    page = client.get("/verify/ZJJJ2015-0042")
    assert page.status_code == 200 and "cert-banner--valid" in page.text and "赵*" in page.text
    api = client.get("/api/v1/verify", params={"number": "zjjj2015-0042"})
    assert api.status_code == 200 and api.json()["certificate"]["number"] == "ZJJJ2015-0042"


def _check_form(client: TestClient, **data: object) -> str:
    response = client.post("/verify", data={"csrf_token": csrf_token(client), **data})
    assert response.status_code == 200, response.text
    return response.text


def test_a_pasted_credential_shows_every_check_passing_then_the_revocation(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    admin: User,
) -> None:
    certificate = issue(db, settings, graduate(), course)
    token = certificate.credential_jwt or ""
    client.get("/verify")
    html = _check_form(client, credential=token)
    assert html.count("cert-check--ok") == 6 and "cert-check--fail" not in html
    assert "cert-banner--valid" in html
    lifecycle.revoke(db, certificate=stored(db, certificate.number), reason="证书信息有误", actor=admin)
    db.commit()
    html = _check_form(client, credential=token)
    assert "cert-banner--revoked" in html and "证书信息有误" in html
    assert html.count("cert-check--fail") == 1


def test_an_uploaded_json_credential_is_checked_against_what_was_signed(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    import json

    certificate = issue(db, settings, graduate(), course)
    credential = client.get(f"/credentials/{certificate.credential_uuid}", params={"format": "json"}).json()
    assert credential == credential_of(certificate.credential_jwt or "")
    client.get("/verify")
    upload = client.post(
        "/verify",
        data={"csrf_token": csrf_token(client)},
        files={"file": ("credential.json", json.dumps(credential).encode(), "application/json")},
    )
    assert upload.status_code == 200 and "cert-banner--valid" in upload.text
    credential["credentialSubject"]["identifier"][0]["identityHash"] = "冒名者"
    api = client.post("/api/v1/verify", json=credential)
    assert api.status_code == 200 and api.json()["state"] == "invalid"


def test_the_api_verifies_a_posted_jwt(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate(), course)
    token = certificate.credential_jwt or ""
    response = client.post("/api/v1/verify", content=token, headers={"content-type": "text/plain"})
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "valid"
    assert [c["name"] for c in body["checks"]] == [
        "format",
        "key",
        "signature",
        "issuer",
        "dates",
        "revocation",
    ]
    wrapped = client.post("/api/v1/verify", json={"credential": token})
    assert wrapped.json()["state"] == "valid"
    garbage = client.post(
        "/api/v1/verify", content="not a credential", headers={"content-type": "text/plain"}
    )
    assert garbage.json()["state"] == "invalid"


def test_credentials_are_served_as_jwt_and_json(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate(), course)
    jwt = client.get(f"/credentials/{certificate.credential_uuid}")
    assert jwt.status_code == 200 and jwt.headers["content-type"].startswith("application/jwt")
    assert jwt.text == certificate.credential_jwt
    as_json = client.get(
        f"/credentials/{certificate.credential_uuid}", headers={"accept": "application/json"}
    )
    assert as_json.json()["id"].endswith(certificate.credential_uuid or "")
    assert client.get("/credentials/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/issuer").json()["type"] == ["Profile"]
    assert client.get("/achievements/broker-junior").json()["achievementType"] == "Certificate"
