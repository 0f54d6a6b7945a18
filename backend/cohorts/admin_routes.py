"""Administrator pages for classes: the list with filters, create and edit, instructors, enrolling one
person or a whole roster (upload, row-numbered report, templates), and withdrawing a trainee."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from backend.accounts.deps import AdminUser, SettingsDep, get_admin_user
from backend.accounts.service import find_user_by_email
from backend.cohorts import enrolment, exports, import_jobs, notices, service
from backend.cohorts.enrolment_import import ImportOutcome, import_roster
from backend.cohorts.roster_file import column_label, read_roster
from backend.cohorts.schemas import CohortForm
from backend.db import SessionDep
from backend.errors import DomainError, ValidationFailed
from backend.i18n import _
from backend.models import Cohort, CohortStatus, EnrollmentSource
from backend.web import redirect, render

router = APIRouter(prefix="/admin/classes", tags=["admin"], dependencies=[Depends(get_admin_user)])
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@router.get("")
def classes_page(
    request: Request, session: SessionDep, q: str = "", course: str = "", year: str = "", status: str = ""
) -> Response:
    filters = service.CohortFilter(query=q, course_id=_int(course), year=_int(year), status=status)
    context = {
        "rows": service.list_cohorts(session, filters=filters),
        "filters": filters,
        "courses": service.courses_for_choice(session),
        "statuses": list(CohortStatus),
        "q": q,
        "year": year,
    }
    return render(request, "cohorts/admin_list.html", context, block="results")


def _form_context(
    session: SessionDep, form: CohortForm, errors: dict[str, str], cohort: Cohort | None
) -> dict[str, Any]:
    return {
        "form": form,
        "errors": errors,
        "cohort": cohort,
        "courses": service.courses_for_choice(session),
        "statuses": list(CohortStatus),
    }


@router.get("/new")
def new_class_page(request: Request, session: SessionDep) -> Response:
    from datetime import date

    form = CohortForm(year=str(date.today().year), place="", capacity="50")
    return render(request, "cohorts/form.html", _form_context(session, form, {}, None))


@router.post("/new")
def create_class(
    request: Request, session: SessionDep, actor: AdminUser, form: Annotated[CohortForm, Form()]
) -> Response:
    try:
        cohort = service.create_cohort(session, form=form, actor=actor, ip=_ip(request))
    except ValidationFailed as failed:
        return render(
            request, "cohorts/form.html", _form_context(session, form, failed.errors, None), status_code=422
        )
    message = _("Class %(name)s created. Assign its instructors and enrol its trainees.") % {
        "name": cohort.name
    }
    return redirect(request, f"/admin/classes/{cohort.id}/edit", flash=message)


def _edit_context(
    session: SessionDep, cohort: Cohort, form: CohortForm, errors: dict[str, str]
) -> dict[str, Any]:
    assert cohort.id is not None
    context = _form_context(session, form, errors, cohort)
    context["instructors"] = service.instructors_of(session, cohort_id=cohort.id)
    context["candidates"] = service.staff_candidates(session)
    return context


@router.get("/{cohort_id:int}/edit")
def edit_class_page(request: Request, session: SessionDep, cohort_id: int) -> Response:
    cohort = service.get_cohort(session, cohort_id)
    context = _edit_context(session, cohort, service.cohort_form_values(cohort), {})
    return render(request, "cohorts/form.html", context)


@router.post("/{cohort_id:int}/edit")
def update_class(
    request: Request,
    session: SessionDep,
    actor: AdminUser,
    cohort_id: int,
    form: Annotated[CohortForm, Form()],
) -> Response:
    cohort = service.get_cohort(session, cohort_id)
    try:
        service.update_cohort(session, cohort=cohort, form=form, actor=actor, ip=_ip(request))
    except ValidationFailed as failed:
        context = _edit_context(session, cohort, form, failed.errors)
        return render(request, "cohorts/form.html", context, status_code=422)
    return redirect(request, f"/admin/classes/{cohort_id}/edit", flash=_("The class has been saved."))


@router.post("/{cohort_id:int}/instructors")
def add_instructor(
    request: Request,
    session: SessionDep,
    actor: AdminUser,
    cohort_id: int,
    user_id: Annotated[str, Form()] = "",
) -> Response:
    cohort = service.get_cohort(session, cohort_id)
    target = f"/admin/classes/{cohort_id}/edit"
    try:
        user = service.add_instructor(
            session, cohort=cohort, user_id=_int(user_id) or 0, actor=actor, ip=_ip(request)
        )
    except DomainError as error:
        return redirect(request, target, flash=error.message, category="error")
    return redirect(request, target, flash=_("%(name)s now teaches this class.") % {"name": user.name})


@router.post("/{cohort_id:int}/instructors/{user_id:int}/remove")
def remove_instructor(
    request: Request, session: SessionDep, actor: AdminUser, cohort_id: int, user_id: int
) -> Response:
    cohort = service.get_cohort(session, cohort_id)
    service.remove_instructor(session, cohort=cohort, user_id=user_id, actor=actor, ip=_ip(request))
    return redirect(request, f"/admin/classes/{cohort_id}/edit", flash=_("The instructor has been removed."))


@router.post("/{cohort_id:int}/enrolments")
def enrol_one(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AdminUser,
    cohort_id: int,
    email: Annotated[str, Form()] = "",
) -> Response:
    """Enrol one existing account by email (a whole roster goes through the import)."""
    target = f"/instructor/classes/{cohort_id}"
    user = find_user_by_email(session, email) if email.strip() else None
    if user is None:
        return redirect(request, target, flash=_("No account has this email."), category="error")
    try:
        enrolment.enrol(
            session,
            cohort_id=cohort_id,
            user=user,
            actor=actor,
            source=EnrollmentSource.admin,
            ip=_ip(request),
        )
    except DomainError as error:
        return redirect(request, target, flash=error.message, category="error")
    cohort = service.get_cohort(session, cohort_id)
    notices.enrolment_confirmed(session, settings=settings, user=user, cohort=cohort)
    notices.schedule(request)
    return redirect(request, target, flash=_("%(name)s has been enrolled.") % {"name": user.name})


@router.post("/{cohort_id:int}/enrolments/{user_id:int}/withdraw")
def withdraw(
    request: Request, session: SessionDep, actor: AdminUser, cohort_id: int, user_id: int
) -> Response:
    target = f"/instructor/classes/{cohort_id}"
    try:
        enrolment.withdraw(session, cohort_id=cohort_id, user_id=user_id, actor=actor, ip=_ip(request))
    except DomainError as error:
        return redirect(request, target, flash=error.message, category="error")
    return redirect(request, target, flash=_("The trainee has been withdrawn from the class."))


# ---- roster import --------------------------------------------------------------------------------


@router.get("/import-template.csv")
def template_csv() -> Response:
    headers = {"Content-Disposition": 'attachment; filename="enrolment-template.csv"'}
    return Response(exports.template_csv(), media_type=exports.CSV_MEDIA_TYPE, headers=headers)


@router.get("/import-template.xlsx")
def template_xlsx() -> Response:
    headers = {"Content-Disposition": 'attachment; filename="enrolment-template.xlsx"'}
    return Response(exports.template_xlsx(), media_type=exports.XLSX_MEDIA_TYPE, headers=headers)


def _import_context(session: SessionDep, cohort: Cohort, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "row": service.cohort_row(session, cohort),
        "outcome": None,
        "filename": "",
        "column_label": column_label,
        "large_rows": import_jobs.LARGE_IMPORT_ROWS,
    }
    context.update(extra)
    return context


@router.get("/{cohort_id:int}/import")
def import_page(request: Request, session: SessionDep, cohort_id: int, job: int | None = None) -> Response:
    cohort = service.get_cohort(session, cohort_id)
    outcome = import_jobs.outcome_of_job(session, job_id=job, cohort_id=cohort_id) if job else None
    if outcome is not None and outcome.ok:
        # The job sent the messages it queued when it finished; any that failed then (the mail server was
        # down) are tried again from here. Sending twice is impossible: each message is claimed once.
        notices.schedule(request)
    return render(request, "cohorts/import.html", _import_context(session, cohort, outcome=outcome))


@router.post("/{cohort_id:int}/import")
def import_roster_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AdminUser,
    cohort_id: int,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    cohort = service.get_cohort(session, cohort_id)
    outcome, job_id = run_import(request, session, settings=settings, actor=actor, cohort=cohort, file=file)
    if job_id is not None:
        return redirect(
            request, f"/jobs/{job_id}", flash=_("The import is running; this page shows its progress.")
        )
    assert outcome is not None
    if not outcome.ok:
        context = _import_context(session, cohort, outcome=outcome, filename=file.filename if file else "")
        return render(request, "cohorts/import.html", context, status_code=422)
    notices.schedule(request)
    message = _(
        "%(n)d trainees enrolled; %(created)d new accounts were created and sent a link to set a password."
    )
    return redirect(
        request,
        f"/instructor/classes/{cohort_id}",
        flash=message % {"n": outcome.enrolled, "created": outcome.accounts_created},
    )


def run_import(
    request: Request,
    session: SessionDep,
    *,
    settings: SettingsDep,
    actor: AdminUser,
    cohort: Cohort,
    file: UploadFile | None,
) -> tuple[ImportOutcome | None, int | None]:
    """Shared by the page and the API: the outcome of a small import, or the id of the job of a large one."""
    from backend.spreadsheets import ImportProblem

    assert cohort.id is not None
    data = file.file.read(MAX_UPLOAD_BYTES + 1) if file is not None else b""
    if len(data) > MAX_UPLOAD_BYTES:
        return ImportOutcome(
            rows=0, problems=[ImportProblem(None, None, _("The file is larger than 10 MB."))]
        ), None
    rows, problems = read_roster(data, file.filename or "" if file else "")
    if problems:
        return ImportOutcome(rows=len(rows), problems=problems), None
    if len(rows) > import_jobs.LARGE_IMPORT_ROWS:
        job_id = import_jobs.start_import_job(
            request,
            session,
            settings=settings,
            actor=actor,
            cohort_id=cohort.id,
            data=data,
            filename=file.filename or "" if file else "",
            rows=len(rows),
        )
        return None, job_id
    outcome = import_roster(
        session, settings=settings, cohort_id=cohort.id, rows=rows, actor=actor, ip=_ip(request)
    )
    return outcome, None
