"""Administrator pages: the user list (search, role, active flag) and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from backend.accounts.deps import AdminUser, SettingsDep, get_admin_user
from backend.accounts.service import user_public
from backend.admin import service
from backend.db import SessionDep
from backend.errors import DomainError
from backend.i18n import _
from backend.models import Role
from backend.web import redirect, render

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(get_admin_user)])


@router.get("")
def admin_home(request: Request) -> Response:
    return redirect(request, "/admin/users")


@router.get("/users")
def users_page(
    request: Request, session: SessionDep, settings: SettingsDep, q: str = "", role: str = "", page: int = 1
) -> Response:
    result = service.list_users(session, query=q, role=role, page=page)
    rows = [user_public(user, settings=settings) for user in result.items]
    context = {"result": result, "rows": rows, "q": q, "role": role, "roles": list(Role)}
    return render(request, "admin/users.html", context, block="results")


@router.post("/users/{user_id}/role")
def change_role(
    request: Request, session: SessionDep, actor: AdminUser, user_id: int, role: Annotated[str, Form()]
) -> Response:
    try:
        user = service.change_role(session, actor=actor, user_id=user_id, role=role, ip=_ip(request))
    except DomainError as error:
        return redirect(request, "/admin/users", flash=error.message, category="error")
    return redirect(request, "/admin/users", flash=_("Role of %(email)s changed.") % {"email": user.email})


@router.post("/users/{user_id}/active")
def set_active(
    request: Request, session: SessionDep, actor: AdminUser, user_id: int, active: Annotated[bool, Form()]
) -> Response:
    try:
        user = service.set_active(session, actor=actor, user_id=user_id, active=active, ip=_ip(request))
    except DomainError as error:
        return redirect(request, "/admin/users", flash=error.message, category="error")
    message = _("%(email)s can sign in again.") if active else _("%(email)s has been deactivated.")
    return redirect(request, "/admin/users", flash=message % {"email": user.email})


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    date_from: str = "",
    date_to: str = "",
    page: int = 1,
) -> Response:
    filters = service.AuditFilter(
        action=action,
        actor=actor,
        target_type=target_type,
        date_from=_parse_date(date_from),
        date_to=_parse_date(date_to),
    )
    result = service.list_events(session, filters=filters, page=page)
    context = {
        "result": result,
        "filters": filters,
        "date_from": date_from,
        "date_to": date_to,
        "actions": service.event_actions(session),
    }
    return render(request, "admin/audit.html", context, block="results")


def _parse_date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""
