"""The Open Badges 3.0 credential: valid against the official JSON Schema, a subject id and no ID number,
a VC-JWT whose ES256 signature verifies from the published JWKS without python-jose, fails when any
byte changes, and keeps verifying after the key is rotated."""

from __future__ import annotations

import json
from collections.abc import Callable

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.certificates import keys
from backend.certificates.credential import credential_of
from backend.certificates.verify import verify_credential
from backend.config import Settings
from backend.models import Course, User
from tests.certificates.support import SCHEMA_PATH, b64url_decode, es256_signature_ok, issue, jwt_parts
from tests.cohorts.support import id_number

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_every_issued_credential_validates_against_the_schema_and_has_a_subject_id(
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    validator: jsonschema.protocols.Validator,
) -> None:
    for name in ("王小明", "欧阳娜娜", "李四"):
        certificate = issue(db, settings, graduate(name), course)
        assert certificate.credential_jwt
        credential = credential_of(certificate.credential_jwt)
        errors = sorted(validator.iter_errors(credential), key=str)
        assert errors == [], [e.message for e in errors]
        subject = credential["credentialSubject"]
        assert subject["id"].startswith("urn:uuid:") or subject.get("identifier")
        assert subject["id"].startswith("urn:uuid:")
        assert subject["identifier"] == [
            {"type": "IdentityObject", "identityType": "ext:name", "hashed": False, "identityHash": name}
        ]
        assert subject["licenseNumber"] == certificate.number
        assert credential["credentialStatus"]["type"] == "1EdTechRevocationList"
        assert credential["credentialSchema"][0]["type"] == "1EdTechJsonSchemaValidator2019"
        assert credential["@context"][1] == "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def test_the_jwt_is_shaped_as_the_readme_says(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate(), course)
    header, payload, signature = jwt_parts(certificate.credential_jwt or "")
    assert set(header) == {"alg", "kid", "typ"}
    assert header["alg"] == "ES256" and header["typ"] == "JWT"
    assert header["kid"] == f"{settings.public_base_url}/keys/{certificate.key_id}"
    assert len(signature) == 64
    assert payload["iss"] == payload["issuer"]["id"] == f"{settings.public_base_url}/issuer"
    assert (
        payload["jti"]
        == payload["id"]
        == f"{settings.public_base_url}/credentials/{certificate.credential_uuid}"
    )
    assert payload["sub"] == payload["credentialSubject"]["id"]
    assert (
        isinstance(payload["nbf"], int)
        and isinstance(payload["exp"], int)
        and payload["exp"] > payload["nbf"]
    )
    assert "vc" not in payload


def test_no_id_number_goes_in_a_credential(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    user = graduate()
    certificate = issue(db, settings, user, course)
    token = certificate.credential_jwt or ""
    text = json.dumps(jwt_parts(token)[1], ensure_ascii=False)
    for n in range(100, 110):  # whoever of the fixture's people this is
        full = id_number(n)
        assert full not in text and full[6:14] not in text and full.lower() not in text
    assert "*" not in text  # not even the masked one


def test_the_signature_verifies_with_the_published_key_without_python_jose(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate(), course)
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    jwks = response.json()
    assert all(key["iss"] == f"{settings.public_base_url}/issuer" for key in jwks["keys"])
    assert es256_signature_ok(certificate.credential_jwt or "", jwks)
    kid = certificate.key_id
    single = client.get(f"/keys/{kid}").json()
    assert single["kid"] == jwt_parts(certificate.credential_jwt or "")[0]["kid"]
    assert es256_signature_ok(certificate.credential_jwt or "", {"keys": [single]})


def _changed(token: str, position: int) -> str:
    """The token with the character at `position` replaced so that what it encodes changes."""
    segment_start = token.rfind(".", 0, position) + 1
    segment_end = token.find(".", position)
    segment_end = len(token) if segment_end < 0 else segment_end
    original = b64url_decode(token[segment_start:segment_end])
    for replacement in B64URL:
        if replacement == token[position]:
            continue
        candidate = token[:position] + replacement + token[position + 1 :]
        try:
            if b64url_decode(candidate[segment_start:segment_end]) != original:
                return candidate
        except ValueError:
            continue
    raise AssertionError(position)


def test_changing_any_byte_of_the_jwt_fails_verification(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate(), course)
    token = certificate.credential_jwt or ""
    jwks = keys.jwks(settings)
    assert es256_signature_ok(token, jwks)
    positions = [i for i, char in enumerate(token) if char != "."]
    for position in positions:
        assert not es256_signature_ok(_changed(token, position), jwks), position
    # and through the app's own verifier (python-jose), a sample across the three parts
    for position in positions[:: max(1, len(positions) // 40)]:
        result = verify_credential(db, settings=settings, text=_changed(token, position))
        assert result.state == "invalid", position


def test_a_rotated_key_still_verifies_the_credentials_it_signed(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    english: None,
) -> None:
    old = issue(db, settings, graduate("张三"), course)
    new_key = keys.create_key(settings)
    new = issue(db, settings, graduate("李四"), course)
    assert old.key_id != new.key_id == new_key.kid
    jwks = client.get("/.well-known/jwks.json").json()
    kids = [k["kid"].rsplit("/", 1)[-1] for k in jwks["keys"]]
    assert old.key_id in kids and new.key_id in kids and len(kids) == len(set(kids))
    assert es256_signature_ok(old.credential_jwt or "", jwks)
    assert es256_signature_ok(new.credential_jwt or "", jwks)
    checked = verify_credential(db, settings=settings, text=old.credential_jwt or "")
    assert checked.state == "valid"
    key_check = next(c for c in checked.checks if c.name == "key")
    assert key_check.ok and "retired" in key_check.detail


def test_a_credential_signed_with_an_unknown_key_or_another_algorithm_is_refused(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    from jose import jws

    certificate = issue(db, settings, graduate(), course)
    header, payload, _sig = jwt_parts(certificate.credential_jwt or "")
    forged = jws.sign(payload, settings.secret_key, algorithm="HS256", headers={"kid": header["kid"]})
    result = verify_credential(db, settings=settings, text=forged)
    assert result.state == "invalid"
    assert not next(c for c in result.checks if c.name == "signature").ok
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    other = jws.sign(payload, stranger.decode(), algorithm="ES256", headers={"kid": header["kid"]})
    assert verify_credential(db, settings=settings, text=other).state == "invalid"


def test_key_files_are_private_and_named_by_their_thumbprint(settings: Settings) -> None:
    key = keys.create_key(settings)
    assert key.path.stat().st_mode & 0o777 == 0o600
    assert key.kid in key.path.name and key.kid == keys.thumbprint(key.public_key)
    assert keys.is_current(settings, key.kid)
