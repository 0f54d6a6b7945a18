"""Pages for a forgotten password (/password/forgot) and for using an emailed link (/password/reset/...).

Both work without JavaScript. The forgot form answers the same whether or not the address has an
account, so it cannot be used to find out who is registered."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from backend.accounts import password_reset
from backend.accounts.deps import SettingsDep
from backend.db import SessionDep
from backend.errors import ValidationFailed
from backend.i18n import _
from backend.models import ResetPurpose
from backend.notifications.service import schedule_delivery
from backend.web import redirect, render

router = APIRouter(tags=["accounts"])


def _no_store(response: Response) -> Response:
    """The pages carry a live token in their address: keep them out of caches and Referer headers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return render(request, "accounts/forgot.html", {"email": "", "sent": False, "error": ""})


@router.post("/password/forgot")
def forgot_submit(
    request: Request, session: SessionDep, settings: SettingsDep, email: Annotated[str, Form()] = ""
) -> Response:
    email = email.strip()
    if not email or "@" not in email:
        context = {"email": email, "sent": False, "error": _("Enter the email address of your account.")}
        return render(request, "accounts/forgot.html", context, status_code=422)
    if password_reset.request_password_reset(session, settings=settings, email=email):
        schedule_delivery(request)
    context = {"email": email, "sent": True, "error": "", "minutes": password_reset.RESET_LIFETIME_MINUTES}
    return render(request, "accounts/forgot.html", context)


@router.get("/password/reset/{token}")
def reset_page(request: Request, session: SessionDep, token: str) -> Response:
    found = password_reset.check_link(session, token=token)
    context: dict[str, Any] = {
        "token": token,
        "problem": found.problem,
        "welcome": found.token is not None and found.token.purpose == ResetPurpose.welcome,
        "email": found.user.email if found.user else "",
        "errors": {},
    }
    status = 200 if found.token is not None else 410
    return _no_store(render(request, "accounts/reset.html", context, status_code=status))


@router.post("/password/reset/{token}")
def reset_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
) -> Response:
    try:
        password_reset.reset_password(
            session,
            settings=settings,
            token=token,
            password=password,
            confirm=password_confirm,
            ip=request.client.host if request.client else "",
        )
    except ValidationFailed as failed:
        found = password_reset.check_link(session, token=token)
        context: dict[str, Any] = {
            "token": token,
            "problem": failed.errors.get("token", ""),
            "welcome": found.token is not None and found.token.purpose == ResetPurpose.welcome,
            "email": found.user.email if found.user else "",
            "errors": failed.errors,
        }
        status = 410 if "token" in failed.errors else 422
        return _no_store(render(request, "accounts/reset.html", context, status_code=status))
    message = _("Your password has been set. Log in with it now; every other device has been signed out.")
    return redirect(request, "/login", flash=message)
