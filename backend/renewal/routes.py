"""Renewal pages: the holder's /me/renewal (hours in the current period, renew), the banner on /me, and the
administrators' /admin/renewal (the rule, certificates due, renewing any record). `routers` is what
create_app() includes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from backend.accounts.deps import AdminUser, CurrentUser, SettingsDep, get_admin_user
from backend.certificates import service as certificates
from backend.certificates.credential import level_name
from backend.certificates.numbering import normalise_number
from backend.db import SessionDep
from backend.errors import DomainError, NotFound, ValidationFailed
from backend.i18n import _
from backend.models import Certificate, CertificateStatus, Course, RenewalSettings, User
from backend.notifications.service import schedule_delivery
from backend.renewal import rules, service
from backend.web import redirect, render, templates

router = APIRouter(tags=["renewal"])
admin = APIRouter(prefix="/admin/renewal", tags=["renewal"], dependencies=[Depends(get_admin_user)])
DUE_LIST_LIMIT = 100


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def ce_courses(session: Session) -> list[Course]:
    return list(
        session.exec(
            select(Course).where(col(Course.slug).startswith(rules.CE_SLUG_PREFIX)).order_by(col(Course.slug))
        )
    )


def helpers() -> dict[str, Any]:
    return {
        "level_name": level_name,
        "fmt_hours": service.fmt_hours,
        "window_days": rules.RENEWAL_WINDOW_DAYS,
    }


# ---- the banner on /me ---------------------------------------------------------------------------------


def states_for_me(request: Request) -> list[service.RenewalState]:
    """For templates/renewal/_me_banner.html (included by /me): the signed-in holder's certificates that
    expire (valid or lapsed), with their CE hours, read in a short session of their own."""
    user = getattr(request.state, "user", None)
    if user is None or user.id is None:
        return []
    with Session(request.app.state.engine) as session:
        fresh = session.get(User, user.id)
        if fresh is None:
            return []
        return [state for state in service.states_of_holder(session, user=fresh) if state.is_renewable_kind]


templates.env.globals["renewal_states_for_me"] = states_for_me


# ---- the holder ----------------------------------------------------------------------------------------


def _me_context(session: Session, user: User) -> dict[str, Any]:
    states = service.states_of_holder(session, user=user)
    return {
        "states": states,
        "blockers": {
            state.certificate.number: state.blockers(as_admin=False, actor=user) for state in states
        },
        "ce_courses": ce_courses(session),
        **helpers(),
    }


@router.get("/me/renewal")
def my_renewal(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(request, "renewal/me.html", _me_context(session, user))


@router.post("/me/renewal/{number}")
def renew_mine(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, number: str
) -> Response:
    certificate = certificates.find_by_number(session, normalise_number(number))
    if certificate is None or certificate.user_id != user.id:
        raise NotFound(_("There is no certificate with this number."))
    try:
        service.renew(session, settings=settings, certificate=certificate, actor=user, ip=client_ip(request))
    except DomainError as error:
        return redirect(request, "/me/renewal", flash=error.message, category="error")
    schedule_delivery(request)
    message = _("Certificate %(number)s renewed: valid until %(date)s, same number.") % {
        "number": certificate.number,
        "date": certificate.expires_on.isoformat() if certificate.expires_on else "—",
    }
    return redirect(request, "/me/renewal", flash=message)


# ---- administrators ------------------------------------------------------------------------------------


def _form_of(row: RenewalSettings | None) -> dict[str, str]:
    form: dict[str, str] = {}
    for name in rules.LEVEL_FIELDS.values():
        for kind in ("validity", "hours"):
            value = getattr(row, f"{kind}_{name}") if row is not None else None
            form[f"{kind}_{name}"] = "" if value is None else f"{value:g}"
    return form


def _admin_context(
    session: Session, *, form: dict[str, str], errors: dict[str, str], number: str = ""
) -> dict[str, Any]:
    today = service.moment_of(None, None)[0]
    due = session.exec(
        select(Certificate)
        .where(
            Certificate.status == CertificateStatus.valid.value,
            col(Certificate.expires_on).is_not(None),
            col(Certificate.expires_on) <= today + timedelta(days=max(rules.REMINDER_DAYS)),
            col(Certificate.expires_on) >= today - timedelta(days=365),
        )
        .order_by(col(Certificate.expires_on))
        .limit(DUE_LIST_LIMIT)
    ).all()
    return {
        "form": form,
        "errors": errors,
        "rule": rules.current_rule(session),
        "defaults": rules.DEFAULT_HOURS,
        "levels": list(rules.LEVEL_FIELDS.items()),
        "ce_courses": ce_courses(session),
        "due": due,
        "today": today,
        "number": number,
        "reminder_days": rules.REMINDER_DAYS,
        **helpers(),
    }


@admin.get("")
def admin_page(request: Request, session: SessionDep, number: str = "") -> Response:
    if number.strip():
        found = certificates.find_by_number(session, normalise_number(number)) or certificates.find_by_number(
            session, number.strip().upper()
        )
        if found is not None:
            return redirect(request, f"/admin/renewal/{found.number}")
        context = _admin_context(
            session,
            form=_form_of(session.get(RenewalSettings, 1)),
            errors={"number": _("There is no certificate with this number.")},
            number=number,
        )
        return render(request, "renewal/admin.html", context, status_code=404)
    context = _admin_context(session, form=_form_of(session.get(RenewalSettings, 1)), errors={})
    return render(request, "renewal/admin.html", context)


@admin.post("")
async def admin_save(request: Request, session: SessionDep, actor: AdminUser) -> Response:
    data = await request.form()
    form = {key: str(data.get(key, "")) for key in _form_of(None)}
    try:
        rules.save_settings(session, form=form, actor=actor, ip=client_ip(request))
    except ValidationFailed as error:
        return render(
            request,
            "renewal/admin.html",
            _admin_context(session, form=form, errors=error.errors),
            status_code=422,
        )
    return redirect(request, "/admin/renewal", flash=_("Renewal settings saved."))


def _certificate_page(
    request: Request, session: Session, number: str, *, errors: dict[str, str] | None = None, note: str = ""
) -> Response:
    certificate = certificates.get_by_number(session, number)
    state = service.renewal_state(session, certificate)
    context = {
        "state": state,
        "certificate": certificate,
        "blockers": state.blockers(as_admin=True),
        "renewals": service.renewals_of(session, certificate),
        "errors": errors or {},
        "note": note,
        **helpers(),
    }
    return render(request, "renewal/admin_certificate.html", context, status_code=422 if errors else 200)


@admin.get("/{number}")
def admin_certificate(request: Request, session: SessionDep, number: str) -> Response:
    return _certificate_page(request, session, number)


@admin.post("/{number}")
def admin_renew(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AdminUser,
    number: str,
    note: Annotated[str, Form()] = "",
) -> Response:
    certificate = certificates.get_by_number(session, number)
    try:
        service.renew(
            session,
            settings=settings,
            certificate=certificate,
            actor=actor,
            as_admin=True,
            note=note,
            ip=client_ip(request),
        )
    except DomainError as error:
        return _certificate_page(request, session, number, errors={"note": error.message}, note=note)
    schedule_delivery(request)
    message = _("Certificate %(number)s renewed: valid until %(date)s, same number.") % {
        "number": certificate.number,
        "date": certificate.expires_on.isoformat() if certificate.expires_on else "—",
    }
    return redirect(request, f"/admin/renewal/{certificate.number}", flash=message)


routers = (router, admin)
