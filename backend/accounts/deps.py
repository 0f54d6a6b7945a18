"""Who is asking: the signed-in user for pages (session cookie) and for the API (bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from backend.accounts import service
from backend.config import Settings
from backend.db import SessionDep
from backend.errors import Forbidden, LoginRequired
from backend.i18n import _
from backend.models import Role, User
from backend.security import SESSION_COOKIE

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings_dep(request: Request) -> Settings:
    # async: a trivial dependency written as `def` would cost every request a trip through the thread pool
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_optional_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    return _signed_in(request, service.resolve_session(session, settings=settings, token=token))


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_reader(request: Request, session: Session, settings: Settings) -> User | None:
    """As `get_optional_user`, for a page that only reads: a detached copy (`service.resolve_reader`)."""
    token = request.cookies.get(SESSION_COOKIE)
    return _signed_in(request, service.resolve_reader(session, settings=settings, token=token))


def _signed_in(request: Request, resolved: tuple[User, str] | None) -> User | None:
    """Who is signed in, remembered on the request for the page's navigation and for logging out."""
    user, session_id = resolved if resolved else (None, None)
    request.state.user = user
    request.state.session_id = session_id
    return user


def get_current_user(request: Request, user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_staff_user(user: CurrentUser) -> User:
    if user.role not in (Role.instructor.value, Role.admin.value):
        raise Forbidden(_("This page is for instructors and administrators."))
    return user


def get_admin_user(user: CurrentUser) -> User:
    if user.role != Role.admin.value:
        raise Forbidden(_("This page is for administrators."))
    return user


StaffUser = Annotated[User, Depends(get_staff_user)]
AdminUser = Annotated[User, Depends(get_admin_user)]


def get_api_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    return api_user(session, settings=settings, token=token)


def api_user(session: Session, *, settings: Settings, token: str | None) -> User:
    """The user behind a bearer token, or 401. (For a handler that looks the user up itself, in the same
    thread as the rest of its work: see the exam API's save.)"""
    resolved = service.resolve_session(session, settings=settings, token=token)
    if resolved is None:
        raise HTTPException(
            status_code=401, detail=_("Not signed in."), headers={"WWW-Authenticate": "Bearer"}
        )
    return resolved[0]


BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


ApiUser = Annotated[User, Depends(get_api_user)]


def get_api_admin(user: ApiUser) -> User:
    if user.role != Role.admin.value:
        raise HTTPException(status_code=403, detail=_("Administrators only."))
    return user


ApiAdmin = Annotated[User, Depends(get_api_admin)]
