"""Certificate pages for people who are signed in: the holder's /me/certificates and PDF download, the
class's certificate page (issue to every eligible trainee, or one), and the administrators' list,
issue, revoke and reissue. Public verification and credentials: public.py; JSON: api.py. `routers` is
what create_app() includes."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import select

from backend.accounts.deps import AdminUser, CurrentUser, SettingsDep, StaffUser, get_admin_user
from backend.accounts.service import find_user_by_email
from backend.certificates import api, class_issue, fonts, lifecycle, public, service
from backend.certificates.credential import level_name
from backend.certificates.deps import OwnCertificate
from backend.certificates.pdf import render_certificate_pdf
from backend.certificates.schemas import IssueForm
from backend.certificates.service import IssueFacts
from backend.certificates.verify import certificate_state
from backend.cohorts.deps import ManagedCohort
from backend.cohorts.service import classes_of_trainee
from backend.db import SessionDep
from backend.errors import DomainError, NotFound
from backend.i18n import _
from backend.jobs.service import job_url
from backend.models import Certificate, CertificateStatus, Course, User
from backend.web import redirect, render

router = APIRouter(tags=["certificates"])
admin = APIRouter(prefix="/admin/certificates", tags=["certificates"], dependencies=[Depends(get_admin_user)])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def helpers() -> dict[str, Any]:
    return {"level_name": level_name, "certificate_state": certificate_state}


# ---- the holder -------------------------------------------------------------------------------------


@router.get("/me/certificates")
def my_certificates(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    assert user.id is not None
    certificates = service.certificates_of(session, user_id=user.id)
    held = {c.course_id for c in certificates if c.status == CertificateStatus.valid.value}
    pending = []
    for row in classes_of_trainee(session, user_id=user.id):
        if row.course.id not in held and row.course.certificate_title:
            held.add(row.course.id)
            pending.append(service.eligibility(session, user=user, course=row.course))
    if certificates:
        fonts.warm_in_background(settings)  # the PDF is the next click; the font is built once
    context = {"certificates": certificates, "pending": pending, **helpers()}
    return render(request, "certificates/mine.html", context)


@router.get("/certificates/{number}/pdf")
def certificate_pdf(certificate: OwnCertificate, settings: SettingsDep) -> Response:
    data = render_certificate_pdf(certificate, settings=settings)
    filename = f"certificate-{certificate.number}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
        },
    )


# ---- a class ------------------------------------------------------------------------------------------


@router.get("/instructor/classes/{cohort_id:int}/certificates")
def class_certificates(
    request: Request, session: SessionDep, settings: SettingsDep, user: StaffUser, cohort: ManagedCohort
) -> Response:
    plan = class_issue.class_plan(session, settings=settings, cohort=cohort)
    context = {
        "plan": plan,
        "may_issue": class_issue.may_issue_for_class(session, settings=settings, cohort=cohort, user=user),
        "large": class_issue.LARGE_CLASS,
        **helpers(),
    }
    return render(request, "certificates/class.html", context)


@router.post("/instructor/classes/{cohort_id:int}/certificates")
def issue_class(
    request: Request, session: SessionDep, settings: SettingsDep, user: StaffUser, cohort: ManagedCohort
) -> Response:
    class_issue.require_issuer(session, settings=settings, cohort=cohort, user=user)
    back = f"/instructor/classes/{cohort.id}/certificates"
    plan = class_issue.class_plan(session, settings=settings, cohort=cohort)
    count = len(plan.to_issue)
    if count == 0:
        return redirect(
            request, back, flash=_("Nobody in the class is waiting for a certificate."), category="info"
        )
    if count > class_issue.LARGE_CLASS:
        job = class_issue.start_class_job(request, session, cohort=cohort, actor=user, count=count)
        return redirect(request, job_url(job))
    outcome = class_issue.issue_for_class(
        session, settings=settings, cohort=cohort, actor=user, ip=client_ip(request)
    )
    public.schedule_mail(request)
    return redirect(request, back, flash=outcome.message())


@router.post("/instructor/classes/{cohort_id:int}/certificates/{user_id:int}")
def issue_in_class(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    cohort: ManagedCohort,
    user_id: int,
) -> Response:
    class_issue.require_issuer(session, settings=settings, cohort=cohort, user=user)
    back = f"/instructor/classes/{cohort.id}/certificates"
    plan = class_issue.class_plan(session, settings=settings, cohort=cohort)
    row = next((r for r in plan.rows if r.status.user_id == user_id), None)
    trainee = session.get(User, user_id)
    if row is None or trainee is None:
        raise NotFound(_("This person is not enrolled in the class."))
    if not row.to_issue:
        reason = " ".join(row.reasons) or _("A certificate of this course is already held.")
        return redirect(request, back, flash=f"{trainee.name}: {reason}", category="error")
    facts = IssueFacts(hours=row.status.total_hours, cohort_id=cohort.id)
    certificate = service.issue_certificate(
        session,
        settings=settings,
        user=trainee,
        course=plan.course,
        actor=user,
        facts=facts,
        ip=client_ip(request),
    )
    public.schedule_mail(request)
    message = _("Certificate %(number)s issued to %(name)s.") % {
        "number": certificate.number,
        "name": trainee.name,
    }
    return redirect(request, back, flash=message)


# ---- administrators ------------------------------------------------------------------------------------


def _list_context(
    session: SessionDep, *, q: str, status: str, page: int, form: IssueForm, errors: dict[str, str]
) -> dict[str, Any]:
    courses = session.exec(select(Course).where(Course.certificate_title != "").order_by(Course.title)).all()
    return {
        "result": service.search(session, query=q, status=status, page=page),
        "q": q,
        "status": status,
        "statuses": list(CertificateStatus),
        "courses": courses,
        "form": form,
        "errors": errors,
        **helpers(),
    }


@admin.get("")
def admin_list(
    request: Request, session: SessionDep, q: str = "", status: str = "", page: int = 1
) -> Response:
    context = _list_context(session, q=q, status=status, page=page, form=IssueForm(), errors={})
    return render(request, "certificates/admin_list.html", context, block="results")


@admin.post("/issue")
def admin_issue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AdminUser,
    form: Annotated[IssueForm, Form()],
) -> Response:
    errors: dict[str, str] = {}
    trainee = find_user_by_email(session, form.email) if form.email.strip() else None
    course = session.get(Course, int(form.course_id)) if form.course_id.strip().isdigit() else None
    if trainee is None:
        errors["email"] = _("No account has this email address.")
    if course is None:
        errors["course_id"] = _("Choose a course.")
    if trainee is not None and course is not None:
        try:
            certificate = service.issue_one(
                session, settings=settings, user=trainee, course=course, actor=actor, ip=client_ip(request)
            )
        except DomainError as error:
            errors["email"] = error.message
        else:
            public.schedule_mail(request)
            message = _("Certificate %(number)s issued to %(name)s.") % {
                "number": certificate.number,
                "name": trainee.name,
            }
            return redirect(request, f"/admin/certificates/{certificate.number}", flash=message)
    context = _list_context(session, q="", status="", page=1, form=form, errors=errors)
    return render(request, "certificates/admin_list.html", context, status_code=422)


def _detail(
    request: Request,
    session: SessionDep,
    number: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    certificate = service.get_by_number(session, number)
    context = {
        "certificate": certificate,
        "replaces": session.get(Certificate, certificate.replaces_id) if certificate.replaces_id else None,
        "superseded_by": session.get(Certificate, certificate.superseded_by_id)
        if certificate.superseded_by_id
        else None,
        "events": service.history(session, number=certificate.number),
        "errors": errors or {},
        **helpers(),
    }
    return render(request, "certificates/admin_detail.html", context, status_code=status_code)


@admin.get("/{number}")
def admin_detail(request: Request, session: SessionDep, number: str) -> Response:
    return _detail(request, session, number)


@admin.post("/{number}/revoke")
def admin_revoke(
    request: Request, session: SessionDep, actor: AdminUser, number: str, reason: Annotated[str, Form()] = ""
) -> Response:
    certificate = service.get_by_number(session, number)
    try:
        lifecycle.revoke(session, certificate=certificate, reason=reason, actor=actor, ip=client_ip(request))
    except DomainError as error:
        return _detail(request, session, number, errors={"reason": error.message}, status_code=422)
    message = _("Certificate %(number)s has been revoked.") % {"number": number}
    return redirect(request, f"/admin/certificates/{number}", flash=message)


@admin.post("/{number}/reissue")
def admin_reissue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AdminUser,
    number: str,
    holder_name: Annotated[str, Form()] = "",
    reissue_reason: Annotated[str, Form()] = "",
) -> Response:
    certificate = service.get_by_number(session, number)
    try:
        new = lifecycle.reissue(
            session,
            settings=settings,
            certificate=certificate,
            holder_name=holder_name,
            reason=reissue_reason,
            actor=actor,
            ip=client_ip(request),
        )
    except DomainError as error:
        return _detail(request, session, number, errors={"reissue_reason": error.message}, status_code=422)
    public.schedule_mail(request)
    message = _("Certificate %(new)s replaces %(old)s, which is now marked superseded.") % {
        "new": new.number,
        "old": number,
    }
    return redirect(request, f"/admin/certificates/{new.number}", flash=message)


routers = [public.router, api.router, router, admin]
