"""JSON API for certificates (bearer token), and verification for anyone: issue one or a class's,
revoke, reissue, read; GET /api/v1/verify?number= and POST /api/v1/verify with a credential."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from backend.accounts.deps import ApiAdmin, ApiUser, SettingsDep
from backend.certificates import class_issue, lifecycle, public, service
from backend.certificates.credential import level_name
from backend.certificates.deps import ApiCertificate
from backend.certificates.schemas import (
    CertificatePublic,
    CheckPublic,
    ClassIssueResult,
    CredentialVerificationPublic,
    IssueRequest,
    ReissueRequest,
    RevokeRequest,
    VerificationPublic,
)
from backend.certificates.verify import certificate_state, public_facts, verify_credential, verify_number
from backend.cohorts.service import get_cohort, require_staff_of
from backend.config import Settings
from backend.db import SessionDep
from backend.errors import NotFound
from backend.i18n import _
from backend.models import Certificate, Course, User

router = APIRouter(prefix="/api/v1", tags=["certificates"])
MAX_CREDENTIAL_BYTES = 200_000
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not allowed to issue or change certificates"},
    404: {"description": "No such certificate, trainee, course or class"},
    409: {"description": "Already issued, or not in a state that allows it"},
}


def certificate_public(certificate: Certificate, settings: Settings) -> CertificatePublic:
    """For the holder and administrators: the full name, the ID number still masked."""
    facts = public_facts(certificate, settings)
    facts.update(
        holder_name=certificate.holder_name,
        state=certificate_state(certificate),
        level_name=level_name(certificate.level),
        user_id=certificate.user_id,
        course_id=certificate.course_id,
        cohort_id=certificate.cohort_id,
    )
    return CertificatePublic.model_validate(facts)


@router.post("/certificates", response_model=CertificatePublic, status_code=201, responses=_ERRORS)
def issue(
    request: Request, session: SessionDep, settings: SettingsDep, actor: ApiAdmin, body: IssueRequest
) -> CertificatePublic:
    """Issue to one trainee; 400 with the reasons when not eligible, 409 when one is already held."""
    trainee = session.get(User, body.user_id)
    course = session.get(Course, body.course_id)
    if trainee is None or course is None:
        raise NotFound(_("There is no such trainee or course."))
    certificate = service.issue_one(session, settings=settings, user=trainee, course=course, actor=actor)
    public.schedule_mail(request)
    return certificate_public(certificate, settings)


@router.post(
    "/classes/{cohort_id}/certificates",
    response_model=ClassIssueResult,
    responses={**_ERRORS, 202: {"model": ClassIssueResult}},
)
def issue_class(
    request: Request, session: SessionDep, settings: SettingsDep, user: ApiUser, cohort_id: int
) -> JSONResponse:
    """Every eligible trainee who holds none yet; a large class runs as a job (202 with `job_id`,
    follow GET /api/v1/jobs/{id})."""
    cohort = get_cohort(session, cohort_id)
    require_staff_of(session, cohort=cohort, user=user)
    class_issue.require_issuer(session, settings=settings, cohort=cohort, user=user)
    plan = class_issue.class_plan(session, settings=settings, cohort=cohort)
    if len(plan.to_issue) > class_issue.LARGE_CLASS:
        job = class_issue.start_class_job(
            request, session, cohort=cohort, actor=user, count=len(plan.to_issue)
        )
        body = ClassIssueResult(job_id=job.id, message=_("Issuing in the background."))
        return JSONResponse(body.model_dump(mode="json"), status_code=202)
    outcome = class_issue.issue_for_class(session, settings=settings, cohort=cohort, actor=user)
    public.schedule_mail(request)
    result = ClassIssueResult(
        issued=outcome.issued,
        already=outcome.already,
        not_eligible=outcome.not_eligible,
        message=outcome.message(),
    )
    return JSONResponse(result.model_dump(mode="json"))


@router.get("/certificates/{number}", response_model=CertificatePublic, responses={404: _ERRORS[404]})
def read(certificate: ApiCertificate, settings: SettingsDep) -> CertificatePublic:
    """The holder's own, or any for an administrator."""
    return certificate_public(certificate, settings)


@router.get("/me/certificates", response_model=list[CertificatePublic])
def mine(session: SessionDep, settings: SettingsDep, user: ApiUser) -> list[CertificatePublic]:
    return [certificate_public(c, settings) for c in service.certificates_of(session, user_id=user.id or 0)]


@router.post("/certificates/{number}/revoke", response_model=CertificatePublic, responses=_ERRORS)
def revoke(
    session: SessionDep, settings: SettingsDep, actor: ApiAdmin, number: str, body: RevokeRequest
) -> CertificatePublic:
    certificate = service.get_by_number(session, number)
    lifecycle.revoke(session, certificate=certificate, reason=body.reason, actor=actor)
    return certificate_public(certificate, settings)


@router.post(
    "/certificates/{number}/reissue", response_model=CertificatePublic, status_code=201, responses=_ERRORS
)
def reissue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ApiAdmin,
    number: str,
    body: ReissueRequest,
) -> CertificatePublic:
    """A new certificate with the corrected name; the old one becomes superseded."""
    certificate = service.get_by_number(session, number)
    new = lifecycle.reissue(
        session,
        settings=settings,
        certificate=certificate,
        holder_name=body.holder_name,
        reason=body.reason,
        actor=actor,
    )
    public.schedule_mail(request)
    return certificate_public(new, settings)


# ---- verification, for anyone ---------------------------------------------------------------------------


@router.get("/verify", response_model=VerificationPublic)
def verify(session: SessionDep, settings: SettingsDep, number: str = "") -> JSONResponse:
    """200 when a certificate was found (whatever its state), 404 when not, 422 for a mistyped number."""
    result = verify_number(session, settings=settings, raw=number)
    body = VerificationPublic(
        number=result.number,
        state=result.state,
        message=result.message,
        superseded_by=result.superseded_by,
        certificate=public_facts(result.certificate, settings) if result.certificate else None,
    )
    status = {"not_found": 404, "mistyped": 422}.get(result.state, 200)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers={"Cache-Control": "no-store"}
    )


async def posted_credential(request: Request) -> str:
    """The raw body: a VC-JWT (text/plain), the credential's JSON, or {"credential": "<JWT>"}."""
    raw = (await request.body())[:MAX_CREDENTIAL_BYTES].decode("utf-8", errors="replace").strip()
    if raw.startswith("{"):
        try:
            document = json.loads(raw)
        except ValueError:
            return raw
        if (
            isinstance(document, dict)
            and set(document) == {"credential"}
            and isinstance(document["credential"], str)
        ):
            return str(document["credential"]).strip()
    return raw


CREDENTIAL_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string", "description": "A VC-JWT"}},
            "application/json": {
                "schema": {"type": "object", "description": "The credential's JSON, or {credential: JWT}"}
            },
        },
    }
}


@router.post("/verify", response_model=CredentialVerificationPublic, openapi_extra=CREDENTIAL_BODY)
def verify_posted(
    session: SessionDep, settings: SettingsDep, text: Annotated[str, Depends(posted_credential)]
) -> CredentialVerificationPublic:
    """Every check of a credential (signature, issuer, key, dates, revocation) and the overall state."""
    result = verify_credential(session, settings=settings, text=text)
    return CredentialVerificationPublic(
        state=result.state,
        checks=[CheckPublic(name=c.name, ok=c.ok, detail=c.detail) for c in result.checks],
        certificate=public_facts(result.certificate, settings) if result.certificate else None,
    )
