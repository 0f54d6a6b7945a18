"""Account pages (register, log in, log out, profile, password) and the token API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import Session

from backend.accounts import service
from backend.accounts.deps import ApiUser, CurrentUser, OptionalUser, SettingsDep, get_reader
from backend.accounts.schemas import ProfileUpdate, Registration, TokenResponse, UserPublic
from backend.courses.service import progress_summary
from backend.db import SessionDep, run_read
from backend.errors import LoginRequired, ValidationFailed
from backend.exams.overview import exam_overviews
from backend.i18n import _
from backend.security import SESSION_COOKIE
from backend.web import redirect, render

router = APIRouter(tags=["accounts"])
api = APIRouter(prefix="/api/v1", tags=["accounts"])


def _safe_next(next_path: str | None) -> str:
    if next_path and next_path.startswith("/") and not next_path.startswith("//") and "\\" not in next_path:
        return next_path
    return "/me"


def _set_session_cookie(response: Response, token: str, lifetime: int, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=lifetime, httponly=True, samesite="lax", secure=secure, path="/"
    )


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/register")
def register_page(request: Request, user: OptionalUser) -> Response:
    if user is not None:
        return redirect(request, "/me")
    return render(request, "accounts/register.html", {"form": {}, "errors": {}})


@router.post("/register")
def register_submit(
    request: Request, session: SessionDep, settings: SettingsDep, form: Annotated[Registration, Form()]
) -> Response:
    try:
        user = service.register_user(session, settings=settings, form=form)
    except ValidationFailed as failed:
        kept = form.model_dump(exclude={"password", "password_confirm"})
        return render(
            request, "accounts/register.html", {"form": kept, "errors": failed.errors}, status_code=422
        )
    token, lifetime = service.start_session(
        session, settings=settings, user=user, user_agent=request.headers.get("user-agent", "")
    )
    response = redirect(request, "/me", flash=_("Welcome! Your account has been created."))
    _set_session_cookie(response, token, lifetime, secure=settings.is_production)
    return response


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return redirect(request, _safe_next(next))
    return render(request, "accounts/login.html", {"email": "", "next": next or "", "error": ""})


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    outcome = service.authenticate(
        session, settings=settings, email=email, password=password, ip=_client_ip(request)
    )
    if outcome.user is None:
        context: dict[str, Any] = {"email": email, "next": next, "error": outcome.message}
        return render(request, "accounts/login.html", context, status_code=outcome.status_code)
    token, lifetime = service.start_session(
        session, settings=settings, user=outcome.user, user_agent=request.headers.get("user-agent", "")
    )
    response = redirect(request, _safe_next(next))
    _set_session_cookie(response, token, lifetime, secure=settings.is_production)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    session_id = getattr(request.state, "session_id", None)
    if session_id:
        service.end_session(session, session_id=session_id)
    response = redirect(request, "/", flash=_("You have logged out."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
async def me_page(request: Request, session: SessionDep) -> Response:
    # Where every trainee lands after signing in. Read-only: in the event loop on SQLite (db.run_read).
    return await run_read(request, session, _me_page, request, session)


def _me_page(request: Request, session: Session) -> Response:
    settings = request.app.state.settings
    user = get_reader(request, session, settings)
    if user is None:
        raise LoginRequired()
    profile = service.user_public(user, settings=settings)
    learning = progress_summary(session, user_id=user.id or 0)
    exams = exam_overviews(session, user=user, course_ids=[entry.course.id for entry in learning])
    return render(request, "accounts/me.html", {"profile": profile, "learning": learning, "exams": exams})


@router.get("/me/profile")
def profile_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    profile = service.user_public(user, settings=settings)
    form = {"name": user.name, "phone": "", "organisation": user.organisation, "region": user.region}
    return render(request, "accounts/profile.html", {"profile": profile, "form": form, "errors": {}})


@router.post("/me/profile")
def profile_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    form: Annotated[ProfileUpdate, Form()],
) -> Response:
    try:
        service.update_profile(session, settings=settings, user=user, form=form)
    except ValidationFailed as failed:
        profile = service.user_public(user, settings=settings)
        context = {"profile": profile, "form": form.model_dump(), "errors": failed.errors}
        return render(request, "accounts/profile.html", context, status_code=422)
    return redirect(request, "/me", flash=_("Your profile has been saved."))


@router.get("/me/password")
def password_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "accounts/password.html", {"errors": {}})


@router.post("/me/password")
def password_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    new_password_confirm: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.change_password(
            session,
            settings=settings,
            user=user,
            current=current_password,
            new=new_password,
            confirm=new_password_confirm,
        )
    except ValidationFailed as failed:
        return render(request, "accounts/password.html", {"errors": failed.errors}, status_code=422)
    token, lifetime = service.start_session(
        session, settings=settings, user=user, user_agent=request.headers.get("user-agent", "")
    )
    message = _("Your password has been changed. Every other device has been signed out.")
    response = redirect(request, "/me", flash=message)
    _set_session_cookie(response, token, lifetime, secure=settings.is_production)
    return response


@api.post("/auth/token", response_model=TokenResponse)
def api_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Response | TokenResponse:
    outcome = service.authenticate(
        session, settings=settings, email=form.username, password=form.password, ip=_client_ip(request)
    )
    if outcome.user is None:
        from fastapi.responses import JSONResponse

        status = 400 if outcome.status_code == 401 else outcome.status_code
        return JSONResponse({"detail": outcome.message}, status_code=status)
    token, lifetime = service.start_session(
        session, settings=settings, user=outcome.user, user_agent=request.headers.get("user-agent", "")
    )
    return TokenResponse(access_token=token, expires_in=lifetime)


@api.get("/me", response_model=UserPublic)
def api_me(user: ApiUser, settings: SettingsDep) -> UserPublic:
    return service.user_public(user, settings=settings)
