"""Verification, for anyone: a certificate number (the check character first, then the record), or a
credential pasted or uploaded (a VC-JWT, or its JSON), checked for signature, issuer, key, dates and
revocation, each check reported on its own."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from backend.certificates import credential as vc
from backend.certificates.keys import find_key, is_current, issuer_id
from backend.certificates.numbering import FULL_WIDTH, normalise_number, number_problem
from backend.certificates.service import credential_jwt_of, find_by_number, renewed_credential
from backend.config import Settings
from backend.errors import NotFound
from backend.i18n import _
from backend.models import Certificate, CertificateRenewal, CertificateSource, CertificateStatus

STATES = ("valid", "expired", "revoked", "superseded", "not_found", "mistyped", "invalid")


def mask_name(name: str) -> str:
    """王*明, 王*, Zhang S***: enough to compare with the paper, not enough to find the person."""
    name = name.strip()
    if " " in name:
        first, *rest = name.split()
        return " ".join([first, *(part[:1] + "*" * (len(part) - 1) for part in rest)])
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def certificate_state(certificate: Certificate, *, today: date | None = None) -> str:
    if certificate.status != CertificateStatus.valid.value:
        return certificate.status
    today = today or vc.today_in_beijing()
    if certificate.expires_on is not None and today > certificate.expires_on:
        return "expired"
    return "valid"


@dataclass
class NumberVerification:
    number: str
    state: str  # one of STATES
    certificate: Certificate | None = None
    message: str = ""
    superseded_by: str | None = None
    renewed_on: date | None = None  # the start of the current period, when the certificate was renewed


def verify_number(session: Session, *, settings: Settings, raw: str) -> NumberVerification:
    """The check character first (a typo is reported as such, not as "not found"); a legacy record
    whose own number happens to fail that check is still found, and is looked up as typed too (its
    number may contain dashes)."""
    number = normalise_number(raw)
    if not number:
        return NumberVerification(number, "not_found", message=_("Type the certificate number."))
    problem = number_problem(
        number, pattern=settings.certificate_number_pattern, region=settings.certificate_region_code
    )
    as_typed = raw.strip().translate(FULL_WIDTH).upper()
    certificate = None
    for candidate in dict.fromkeys((number, as_typed)):
        if 0 < len(candidate) <= 40 and certificate is None:
            certificate = find_by_number(session, candidate)
    if problem and not (certificate and certificate.source == CertificateSource.legacy.value):
        return NumberVerification(number, "mistyped", message=_(problem))
    if certificate is None:
        return NumberVerification(
            number,
            "not_found",
            message=_("No certificate with this number was issued by this training base."),
        )
    result = NumberVerification(certificate.number, certificate_state(certificate), certificate)
    if certificate.superseded_by_id:
        newer = session.get(Certificate, certificate.superseded_by_id)
        result.superseded_by = newer.number if newer else None
    if certificate.renewal_count:
        result.renewed_on = session.exec(
            select(col(CertificateRenewal.renewed_on))
            .where(CertificateRenewal.certificate_id == certificate.id)
            .order_by(col(CertificateRenewal.renewal_count).desc())
        ).first()
    return result


def public_facts(certificate: Certificate, settings: Settings) -> dict[str, Any]:
    """What a verifier is shown: masked personal data, no account details."""
    return {
        "number": certificate.number,
        "status": certificate.status,
        "title": certificate.title,
        "level": certificate.level,
        "level_name": vc.level_name(certificate.level),
        "course_title": certificate.course_title,
        "holder_name": mask_name(certificate.holder_name),
        "id_number": certificate.id_number_masked,
        "organisation": certificate.organisation,
        "hours": certificate.hours,
        "issuer_name": certificate.issuer_name or settings.certificate_issuer_name,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
        "revocation_reason": certificate.revocation_reason,
        "renewal_count": certificate.renewal_count,
        "source": certificate.source,
        "credential_url": vc.credential_url(settings, certificate.credential_uuid)
        if certificate.credential_uuid and certificate.credential_jwt
        else None,
        "verify_url": f"{settings.public_base_url}/verify/{certificate.number}",
    }


# ---- a credential ---------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str  # format | signature | issuer | key | dates | revocation
    ok: bool
    detail: str


@dataclass
class CredentialVerification:
    state: str = "invalid"
    checks: list[Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None
    certificate: Certificate | None = None

    def failed(self, name: str) -> bool:
        return any(check.name == name and not check.ok for check in self.checks)


def verify_credential(
    session: Session, *, settings: Settings, text: str, now: datetime | None = None
) -> CredentialVerification:
    result = CredentialVerification()
    token = _token_from(session, text.strip(), result)
    if token is None:
        return result
    try:
        header, payload = vc.unverified_parts(token)
    except vc.MalformedJWT:
        result.checks.append(
            Check("format", False, _("This is not a credential: paste the whole JWT or its JSON."))
        )
        return result
    if not result.checks:
        result.checks.append(Check("format", True, _("A signed credential (VC-JWT).")))
    result.credential = vc.credential_of(token)
    key = _check_key(settings, header, result)
    _check_signature(settings, token, header, key, result)
    _check_issuer(settings, payload, result)
    expired = _check_dates(payload, result, now=now or datetime.now(UTC))
    revoked = _check_revocation(session, payload, result)
    if any(not check.ok for check in result.checks if check.name in ("format", "signature", "issuer", "key")):
        result.state = "invalid"
    elif revoked:
        result.state = revoked
    elif expired:
        result.state = "expired"
    elif result.failed("dates"):
        result.state = "invalid"
    else:
        result.state = "valid"
    return result


def _token_from(session: Session, text: str, result: CredentialVerification) -> str | None:
    """The JWT to check: the text itself, or, for the JSON of a credential, the signed credential this
    issuer holds for that id, provided the JSON is exactly what was signed."""
    if not text.startswith("{"):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        result.checks.append(Check("format", False, _("The JSON could not be read.")))
        return None
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        result.checks.append(Check("format", False, _("The JSON is not a credential (it has no id).")))
        return None
    uuid = document["id"].rstrip("/").rsplit("/", 1)[-1]
    try:
        _stored, stored_jwt = credential_jwt_of(session, uuid)  # current, or superseded by a renewal
    except NotFound:
        result.checks.append(
            Check("format", False, _("This issuer has not issued a credential with this id."))
        )
        return None
    if vc.credential_of(stored_jwt) != document:
        result.checks.append(
            Check("format", False, _("The JSON differs from the credential that was issued with this id."))
        )
        return None
    result.checks.append(
        Check(
            "format",
            True,
            _(
                "Unsigned JSON, identical to the signed credential issued with this id; that signature is checked."
            ),
        )
    )
    return stored_jwt


def _check_key(settings: Settings, header: dict[str, Any], result: CredentialVerification) -> Any:
    kid_url = str(header.get("kid", ""))
    prefix = f"{settings.public_base_url}/keys/"
    kid = kid_url[len(prefix) :] if kid_url.startswith(prefix) else ""
    key = find_key(settings, kid) if kid else None
    if key is None:
        result.checks.append(
            Check(
                "key", False, _("The key %(kid)s is not one this issuer publishes.") % {"kid": kid_url or "—"}
            )
        )
        return None
    retired = not is_current(settings, key.kid)
    detail = (
        _("Published key %(kid)s (retired; kept so earlier credentials still verify).")
        if retired
        else _("Published key %(kid)s (the current key).")
    )
    result.checks.append(Check("key", True, detail % {"kid": key.kid}))
    return key


def _check_signature(
    settings: Settings, token: str, header: dict[str, Any], key: Any, result: CredentialVerification
) -> None:
    if header.get("alg") != vc.ALGORITHM:
        result.checks.append(
            Check(
                "signature",
                False,
                _("Only ES256 signatures are accepted, not %(alg)s.") % {"alg": header.get("alg")},
            )
        )
    elif key is None:
        result.checks.append(Check("signature", False, _("Cannot be checked without a key of this issuer.")))
    elif vc.signature_is_valid(token, key, settings):
        result.checks.append(
            Check("signature", True, _("The ES256 signature matches: nothing was changed since signing."))
        )
    else:
        result.checks.append(
            Check(
                "signature",
                False,
                _("The signature does not match: the credential was changed or not signed by this issuer."),
            )
        )


def _check_issuer(settings: Settings, payload: dict[str, Any], result: CredentialVerification) -> None:
    expected = issuer_id(settings)
    issuer = payload.get("issuer")
    named = issuer.get("id") if isinstance(issuer, dict) else issuer
    if payload.get("iss") == expected and named == expected:
        name = issuer.get("name", "") if isinstance(issuer, dict) else ""
        result.checks.append(
            Check("issuer", True, _("Issued by %(name)s (%(id)s).") % {"name": name, "id": expected})
        )
    else:
        result.checks.append(
            Check(
                "issuer",
                False,
                _("The issuer %(id)s is not this training base.") % {"id": named or payload.get("iss")},
            )
        )


def _check_dates(payload: dict[str, Any], result: CredentialVerification, *, now: datetime) -> bool:
    """Appends the dates check; returns True when the credential has expired."""
    moment = int(now.timestamp())
    nbf, exp = payload.get("nbf"), payload.get("exp")
    if not isinstance(nbf, int) or (exp is not None and not isinstance(exp, int)):
        result.checks.append(Check("dates", False, _("The credential's dates cannot be read.")))
        return False
    start = _day(nbf)
    if moment < nbf:
        result.checks.append(Check("dates", False, _("Not valid before %(start)s.") % {"start": start}))
        return False
    if exp is not None and moment > exp:
        result.checks.append(Check("dates", False, _("Expired: valid until %(end)s.") % {"end": _day(exp)}))
        return True
    if exp is None:
        detail = _("Valid from %(start)s, with no expiry.") % {"start": start}
    else:
        detail = _("Valid from %(start)s until %(end)s.") % {"start": start, "end": _day(exp)}
    result.checks.append(Check("dates", True, detail))
    return False


def _day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, vc.BEIJING).date().isoformat()


def _check_revocation(
    session: Session, payload: dict[str, Any], result: CredentialVerification
) -> str | None:
    """Appends the revocation check; returns "revoked" or "superseded" when it is no longer valid."""
    credential_id = str(payload.get("jti") or payload.get("id") or "")
    uuid = credential_id.rstrip("/").rsplit("/", 1)[-1]
    certificate = (
        session.exec(select(Certificate).where(Certificate.credential_uuid == uuid)).first() if uuid else None
    )
    renewal = renewed_credential(session, uuid) if uuid and certificate is None else None
    if renewal is not None:
        certificate = session.get(Certificate, renewal.certificate_id)
    result.certificate = certificate
    if (
        renewal is not None
        and certificate is not None
        and certificate.status == CertificateStatus.valid.value
    ):
        result.checks.append(
            Check(
                "revocation",
                False,
                _(
                    "Superseded by renewal: the certificate was renewed on %(date)s and keeps its number; its current credential is valid until %(until)s."
                )
                % {
                    "date": renewal.renewed_on.isoformat(),
                    "until": certificate.expires_on.isoformat() if certificate.expires_on else "—",
                },
            )
        )
        return CertificateStatus.superseded.value
    if certificate is None or certificate.status == CertificateStatus.valid.value:
        result.checks.append(Check("revocation", True, _("Not on the issuer's revocation list.")))
        return None
    reason = certificate.revocation_reason or "—"
    if certificate.status == CertificateStatus.superseded.value:
        result.checks.append(
            Check(
                "revocation",
                False,
                _("Superseded by a reissued certificate: %(reason)s") % {"reason": reason},
            )
        )
    else:
        result.checks.append(Check("revocation", False, _("Revoked: %(reason)s") % {"reason": reason}))
    return certificate.status
