"""The Open Badges 3.0 AchievementCredential of a certificate, signed as a VC-JWT (ES256, python-jose).

As ../shared/certificates/README.md asks: the JWT payload is the credential itself plus iss, jti, sub,
nbf and (when it expires) exp; the header is alg, kid (the URL of the public JWK) and typ. The holder is
an opaque urn:uuid with the name as an IdentityObject; no ID-card number, hashed or not, ever goes in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from jose import jws
from jose.exceptions import JOSEError

from backend.certificates.keys import SigningKey, issuer_id, key_url
from backend.config import Settings
from backend.models import Certificate, CertificateLevel

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
ALGORITHM = "ES256"
BEIJING = timezone(timedelta(hours=8))
LEVEL_NAMES = {
    CertificateLevel.junior: "初级技术经纪人",
    CertificateLevel.intermediate: "中级技术经纪人",
    CertificateLevel.senior: "高级技术经理人",
}
COURSE_LEVELS = {"junior": CertificateLevel.junior, "intermediate": CertificateLevel.intermediate}
COURSE_LEVELS["senior"] = CertificateLevel.senior


def level_name(level: int) -> str:
    try:
        return LEVEL_NAMES[CertificateLevel(level)]
    except ValueError:
        return str(level)


def subject_urn(settings: Settings, user_id: int) -> str:
    """The holder's opaque id: the same for every credential of one person, meaningless to anyone else
    (a keyed hash of the account id, shaped as a UUID)."""
    digest = hmac.new(settings.secret_key.encode(), f"credential-subject:{user_id}".encode(), hashlib.sha256)
    return f"urn:uuid:{uuid.UUID(bytes=digest.digest()[:16], version=4)}"


def credential_url(settings: Settings, credential_uuid: str) -> str:
    return f"{settings.public_base_url}/credentials/{credential_uuid}"


def valid_from(certificate: Certificate) -> datetime:
    """Midnight (Beijing time) of the issue date: the certificate is valid for the whole day."""
    return datetime.combine(certificate.issued_on, time(0, 0), BEIJING)


def valid_until(certificate: Certificate) -> datetime | None:
    """The end of the expiry date (Beijing time): valid up to and including the printed date."""
    if certificate.expires_on is None:
        return None
    return datetime.combine(certificate.expires_on, time(23, 59, 59), BEIJING)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_credential(
    certificate: Certificate,
    *,
    settings: Settings,
    course_slug: str,
    criteria: str,
    description: str,
    valid_from_day: date | None = None,
) -> dict[str, Any]:
    """`valid_from_day`: the start of a renewed validity period (default: the issue date)."""
    assert certificate.credential_uuid and certificate.subject_id
    base = settings.public_base_url
    starts = valid_from(certificate)
    if valid_from_day is not None:
        starts = datetime.combine(valid_from_day, time(0, 0), BEIJING)
    credential: dict[str, Any] = {
        "@context": CONTEXTS,
        "id": credential_url(settings, certificate.credential_uuid),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_id(settings),
            "type": ["Profile"],
            "name": settings.certificate_issuer_name,
            "url": settings.certificate_issuer_url,
        },
        "name": certificate.title,
        "validFrom": iso(starts),
    }
    until = valid_until(certificate)
    if until is not None:
        credential["validUntil"] = iso(until)
    credential["credentialSubject"] = {
        "id": certificate.subject_id,
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "ext:name",
                "hashed": False,
                "identityHash": certificate.holder_name,
            }
        ],
        "licenseNumber": certificate.number,
        "achievement": {
            "id": f"{base}/achievements/{course_slug}",
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": certificate.title,
            "description": description,
            "criteria": {"narrative": criteria},
            "humanCode": level_name(certificate.level),
            "inLanguage": "zh-CN",
        },
    }
    credential["credentialStatus"] = {"id": f"{base}/status/revocations", "type": "1EdTechRevocationList"}
    credential["credentialSchema"] = [SCHEMA]
    return credential


def jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The JWT payload: the credential plus the registered claims that mirror it."""
    claims = dict(credential)
    claims["iss"] = credential["issuer"]["id"]
    claims["jti"] = credential["id"]
    claims["sub"] = credential["credentialSubject"]["id"]
    claims["nbf"] = _epoch(credential["validFrom"])
    if "validUntil" in credential:
        claims["exp"] = _epoch(credential["validUntil"])
    return claims


def _epoch(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def sign_credential(credential: dict[str, Any], *, key: SigningKey, settings: Settings) -> str:
    assert key.private_pem is not None
    payload = json.dumps(jwt_claims(credential), ensure_ascii=False, separators=(",", ":")).encode()
    token = jws.sign(
        payload,
        key.private_pem.decode(),
        headers={"kid": key_url(settings, key.kid), "typ": "JWT"},
        algorithm=ALGORITHM,
    )
    return str(token)


# ---- reading a JWT (no trust implied) -----------------------------------------------------------------


class MalformedJWT(ValueError):
    pass


def _b64decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as error:
        raise MalformedJWT(str(error)) from error


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS, read without checking anything."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise MalformedJWT("a compact JWS has three non-empty parts separated by dots")
    try:
        header = json.loads(_b64decode(parts[0]))
        payload = json.loads(_b64decode(parts[1]))
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedJWT(str(error)) from error
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedJWT("header and payload must be JSON objects")
    return header, payload


def signature_is_valid(token: str, key: SigningKey, settings: Settings) -> bool:
    """ES256 only, with the key the caller chose by kid (never one the token names for itself)."""
    try:
        jws.verify(token.strip(), key.public_jwk(settings), algorithms=[ALGORITHM])
    except (JOSEError, ValueError):
        return False
    return True


def credential_of(token: str) -> dict[str, Any]:
    """The credential inside a VC-JWT payload (the payload less its registered claims)."""
    _header, payload = unverified_parts(token)
    return {k: v for k, v in payload.items() if k not in ("iss", "jti", "sub", "nbf", "exp", "iat")}


def today_in_beijing() -> date:
    return datetime.now(BEIJING).date()
