"""The outbox for administrators: every email the platform wrote, what became of it, and "send again"."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from backend.accounts.deps import AdminUser, SettingsDep, get_admin_user
from backend.db import SessionDep
from backend.errors import DomainError
from backend.i18n import _
from backend.models import NotificationStatus
from backend.notifications import service
from backend.web import redirect, render

router = APIRouter(prefix="/admin/outbox", tags=["admin"], dependencies=[Depends(get_admin_user)])


@router.get("")
def outbox_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    status: str = "",
    kind: str = "",
    email: str = "",
    page: int = 1,
) -> Response:
    filters = service.OutboxFilter(status=status, kind=kind, email=email)
    context = {
        "result": service.list_outbox(session, filters=filters, page=page),
        "filters": filters,
        "statuses": list(NotificationStatus),
        "kinds": service.outbox_kinds(session),
        "counts": service.outbox_counts(session),
        "smtp_configured": settings.smtp_configured,
    }
    return render(request, "notifications/outbox.html", context, block="results")


@router.get("/{notification_id}")
def message_page(
    request: Request, session: SessionDep, settings: SettingsDep, notification_id: int
) -> Response:
    notification = service.get_notification(session, notification_id)
    context = {
        "message": notification,
        "can_retry": service.can_retry(notification, settings=settings),
        "smtp_configured": settings.smtp_configured,
    }
    return render(request, "notifications/message.html", context)


@router.post("/{notification_id}/retry")
def retry_message(
    request: Request, session: SessionDep, settings: SettingsDep, actor: AdminUser, notification_id: int
) -> Response:
    target = f"/admin/outbox/{notification_id}"
    try:
        service.retry(
            session,
            settings=settings,
            actor=actor,
            notification_id=notification_id,
            ip=request.client.host if request.client else "",
        )
    except DomainError as error:
        return redirect(request, target, flash=error.message, category="error")
    service.schedule_delivery(request)
    return redirect(request, target, flash=_("The message is queued to be sent again."))
