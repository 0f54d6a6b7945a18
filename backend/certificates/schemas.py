"""What the certificate pages and the JSON API take and give: forms and requests in, public views out.
A Certificate row is never a response: the ID number leaves only masked, the credential only on its own
route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class IssueRequest(BaseModel):
    user_id: int
    course_id: int


class IssueForm(BaseModel):
    email: str = ""
    course_id: str = ""


class RevokeRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ReissueRequest(BaseModel):
    holder_name: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=500)


class CertificatePublic(BaseModel):
    number: str
    status: str
    state: str  # valid | expired | revoked | superseded
    source: str
    title: str
    level: int
    level_name: str
    course_title: str
    holder_name: str
    id_number: str  # masked: first 6 and last 4
    organisation: str
    hours: float | None
    issuer_name: str
    issued_on: str
    expires_on: str | None
    revocation_reason: str | None
    verify_url: str
    credential_url: str | None
    user_id: int | None = None
    course_id: int | None = None
    cohort_id: int | None = None


class ClassIssueResult(BaseModel):
    issued: list[str] = []
    already: int = 0
    not_eligible: int = 0
    message: str = ""
    job_id: int | None = None


class VerificationPublic(BaseModel):
    """GET /api/v1/verify?number=…: the state and, when found, the facts a verifier needs."""

    number: str
    state: str  # valid | expired | revoked | superseded | not_found | mistyped
    message: str = ""
    superseded_by: str | None = None
    certificate: dict[str, Any] | None = None


class CheckPublic(BaseModel):
    name: str  # format | signature | issuer | key | dates | revocation
    ok: bool
    detail: str


class CredentialVerificationPublic(BaseModel):
    """POST /api/v1/verify with a credential: the overall state and every check."""

    state: str  # valid | expired | revoked | superseded | invalid
    checks: list[CheckPublic]
    certificate: dict[str, Any] | None = None


class CredentialPaste(BaseModel):
    credential: str = Field(min_length=1, max_length=200_000)
