"""The certificate a request is about, and who may see or change it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

from backend.accounts.deps import ApiUser, CurrentUser
from backend.certificates import service
from backend.certificates.numbering import normalise_number
from backend.db import SessionDep
from backend.i18n import _
from backend.models import Certificate, Role, User


def may_see(user: User, certificate: Certificate) -> bool:
    """Its holder and administrators (instructors see their classes' certificates on the class page)."""
    return user.role == Role.admin.value or (
        certificate.user_id is not None and certificate.user_id == user.id
    )


def get_own_certificate(number: str, session: SessionDep, user: CurrentUser) -> Certificate:
    certificate = service.find_by_number(session, normalise_number(number))
    if certificate is None or not may_see(user, certificate):
        raise HTTPException(status_code=404, detail=_("There is no certificate with this number."))
    return certificate


def get_api_certificate(number: str, session: SessionDep, user: ApiUser) -> Certificate:
    certificate = service.find_by_number(session, normalise_number(number))
    if certificate is None or not may_see(user, certificate):
        raise HTTPException(status_code=404, detail=_("There is no certificate with this number."))
    return certificate


OwnCertificate = Annotated[Certificate, Depends(get_own_certificate)]
ApiCertificate = Annotated[Certificate, Depends(get_api_certificate)]
