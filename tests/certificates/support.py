"""Helpers the certificate tests share: hours and a passed exam, issuing, reading a VC-JWT, and checking
its ES256 signature with the `cryptography` package alone (no python-jose), as an outside verifier would."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlmodel import Session, select

from backend.certificates import service
from backend.config import Settings
from backend.models import Certificate, Course, CourseModule, ExamAttempt, ModuleProgress, User, utcnow

MIN_HOURS = 12.0
SCHEMA_PATH = Path(__file__).parent / "schema" / "ob_v3p0_achievementcredential_schema.json"


def credit_hours(db: Session, course: Course, user: User, hours: float = MIN_HOURS) -> None:
    module = db.exec(select(CourseModule).where(CourseModule.course_id == course.id)).first()
    assert module is not None
    db.add(
        ModuleProgress(
            user_id=user.id or 0, module_id=module.id or 0, completed_at=utcnow(), hours_credited=hours
        )
    )
    db.commit()


def pass_exam(db: Session, course: Course, user: User, *, passed: bool = True) -> None:
    db.add(
        ExamAttempt(
            user_id=user.id or 0,
            course_id=course.id or 0,
            number=1,
            status="graded",
            deadline=utcnow(),
            time_limit_minutes=90,
            pass_score=60,
            score_percent=85 if passed else 40,
            passed=passed,
        )
    )
    db.commit()


def issue(
    db: Session, settings: Settings, user: User, course: Course, actor: User | None = None
) -> Certificate:
    certificate = service.issue_one(db, settings=settings, user=user, course=course, actor=actor or user)
    db.commit()
    return certificate


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), b64url_decode(signature)


def public_key_from_jwk(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256"
    x = int.from_bytes(b64url_decode(jwk["x"]), "big")
    y = int.from_bytes(b64url_decode(jwk["y"]), "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def es256_signature_ok(token: str, jwks: dict[str, Any]) -> bool:
    """JWS ES256 by hand: the header's kid picks the JWK; the signature is raw r||s (64 bytes)."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        signature = b64url_decode(signature_b64)
    except ValueError:
        return False
    if header.get("alg") != "ES256" or len(signature) != 64:
        return False
    jwk = next((k for k in jwks["keys"] if k["kid"] == header.get("kid")), None)
    if jwk is None:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public_key_from_jwk(jwk).verify(
            encode_dss_signature(r, s),
            f"{header_b64}.{payload_b64}".encode("ascii"),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        return False
    return True


def stored(db: Session, number: str) -> Certificate:
    """The row as the app left it (a fresh read: the test session keeps objects after commits)."""
    db.commit()
    db.expire_all()
    return db.exec(select(Certificate).where(Certificate.number == number)).one()
