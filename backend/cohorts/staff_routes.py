"""Pages for a class's instructors and administrators: the timetable, attendance checklists, and the
class dashboard (filter and sort with htmx or plain GET) with its CSV and XLSX exports."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from backend.accounts.deps import CurrentUser, SettingsDep, get_staff_user
from backend.audit import record_event
from backend.cohorts import exports, service
from backend.cohorts import sessions as timetable
from backend.cohorts.dashboard import EXAM_STATUSES, DashboardQuery, dashboard_rows, exam_status_label
from backend.cohorts.deps import ManagedCohort
from backend.cohorts.schemas import SessionForm
from backend.db import SessionDep
from backend.errors import ValidationFailed
from backend.i18n import _
from backend.models import Cohort
from backend.web import redirect, render

router = APIRouter(prefix="/instructor/classes", tags=["classes"], dependencies=[Depends(get_staff_user)])


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _base(cohort: Cohort) -> str:
    return f"/instructor/classes/{cohort.id}"


# ---- timetable ------------------------------------------------------------------------------------


def _timetable_context(session: SessionDep, cohort: Cohort, **extra: Any) -> dict[str, Any]:
    assert cohort.id is not None
    context: dict[str, Any] = {
        "row": service.cohort_row(session, cohort),
        "sessions": timetable.list_sessions(session, cohort_id=cohort.id),
        "attendance": timetable.attendance_counts(session, cohort_id=cohort.id),
        "instructors": service.instructors_of(session, cohort_id=cohort.id),
        "form": SessionForm(date=cohort.start_date.isoformat()),
        "errors": {},
    }
    context.update(extra)
    return context


@router.get("/{cohort_id:int}/sessions")
def sessions_page(request: Request, session: SessionDep, cohort: ManagedCohort) -> Response:
    return render(request, "cohorts/sessions.html", _timetable_context(session, cohort))


@router.post("/{cohort_id:int}/sessions")
def add_session(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    cohort: ManagedCohort,
    form: Annotated[SessionForm, Form()],
) -> Response:
    try:
        row = timetable.create_session(session, cohort=cohort, form=form, actor=user, ip=_ip(request))
    except ValidationFailed as failed:
        context = _timetable_context(session, cohort, form=form, errors=failed.errors)
        return render(request, "cohorts/sessions.html", context, status_code=422)
    message = _("Session “%(topic)s” added to the timetable.") % {"topic": row.topic}
    return redirect(request, f"{_base(cohort)}/sessions", flash=message)


@router.get("/{cohort_id:int}/sessions/{session_id:int}/edit")
def edit_session_page(
    request: Request, session: SessionDep, cohort: ManagedCohort, session_id: int
) -> Response:
    assert cohort.id is not None
    row = timetable.get_session(session, cohort_id=cohort.id, session_id=session_id)
    form = SessionForm(
        date=row.date.isoformat(),
        topic=row.topic,
        hours=f"{row.hours:g}",
        instructor_id=str(row.instructor_id or ""),
    )
    context = {
        "row": service.cohort_row(session, cohort),
        "item": row,
        "form": form,
        "errors": {},
        "instructors": service.instructors_of(session, cohort_id=cohort.id),
    }
    return render(request, "cohorts/session_form.html", context)


@router.post("/{cohort_id:int}/sessions/{session_id:int}/edit")
def edit_session(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    cohort: ManagedCohort,
    session_id: int,
    form: Annotated[SessionForm, Form()],
) -> Response:
    assert cohort.id is not None
    row = timetable.get_session(session, cohort_id=cohort.id, session_id=session_id)
    try:
        timetable.update_session(session, cohort=cohort, row=row, form=form, actor=user, ip=_ip(request))
    except ValidationFailed as failed:
        context = {
            "row": service.cohort_row(session, cohort),
            "item": row,
            "form": form,
            "errors": failed.errors,
            "instructors": service.instructors_of(session, cohort_id=cohort.id),
        }
        return render(request, "cohorts/session_form.html", context, status_code=422)
    return redirect(request, f"{_base(cohort)}/sessions", flash=_("The session has been saved."))


@router.post("/{cohort_id:int}/sessions/{session_id:int}/delete")
def delete_session(
    request: Request, session: SessionDep, user: CurrentUser, cohort: ManagedCohort, session_id: int
) -> Response:
    assert cohort.id is not None
    row = timetable.get_session(session, cohort_id=cohort.id, session_id=session_id)
    timetable.delete_session(session, row=row, actor=user, ip=_ip(request))
    return redirect(request, f"{_base(cohort)}/sessions", flash=_("The session has been removed."))


# ---- attendance -----------------------------------------------------------------------------------


@router.get("/{cohort_id:int}/sessions/{session_id:int}/attendance")
def attendance_page(
    request: Request, session: SessionDep, cohort: ManagedCohort, session_id: int
) -> Response:
    assert cohort.id is not None
    row = timetable.get_session(session, cohort_id=cohort.id, session_id=session_id)
    context = {
        "row": service.cohort_row(session, cohort),
        "item": row,
        "lines": timetable.attendance_sheet(session, row=row),
    }
    return render(request, "cohorts/attendance.html", context)


@router.post("/{cohort_id:int}/sessions/{session_id:int}/attendance")
def save_attendance(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    cohort: ManagedCohort,
    session_id: int,
    present: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """The checklist posts one `present` field per ticked trainee; an unticked box sends nothing."""
    assert cohort.id is not None
    row = timetable.get_session(session, cohort_id=cohort.id, session_id=session_id)
    here, away = timetable.record_attendance(
        session, row=row, present_user_ids=present or [], actor=user, ip=_ip(request)
    )
    message = _("Attendance saved: %(present)d present, %(absent)d absent.") % {
        "present": here,
        "absent": away,
    }
    return redirect(request, f"{_base(cohort)}/sessions", flash=message)


# ---- dashboard ------------------------------------------------------------------------------------


def _dashboard_query(q: str, eligibility: str, sort: str, order: str) -> DashboardQuery:
    return DashboardQuery.parse(q=q, eligibility=eligibility, sort=sort, order=order)


@router.get("/{cohort_id:int}/dashboard")
def dashboard_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cohort: ManagedCohort,
    q: str = "",
    eligibility: str = "",
    sort: str = "name",
    order: str = "asc",
) -> Response:
    view = _dashboard_query(q, eligibility, sort, order)
    rows = dashboard_rows(session, settings=settings, cohort=cohort, view=view)
    filters = f"q={quote(view.query)}&eligibility={view.eligibility}"
    context = {
        "row": service.cohort_row(session, cohort),
        "rows": rows,
        "view": view,
        "filters": filters,
        "exam_label": exam_status_label,
        "exam_statuses": EXAM_STATUSES,
    }
    return render(request, "cohorts/dashboard.html", context, block="results")


def _export(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, cohort: Cohort, kind: str
) -> list[Any]:
    params = request.query_params
    view = _dashboard_query(
        params.get("q", ""),
        params.get("eligibility", ""),
        params.get("sort", "name"),
        params.get("order", "asc"),
    )
    rows = dashboard_rows(session, settings=settings, cohort=cohort, view=view)
    # A download is a GET, whose transaction only reads; the audit record gets its own writing one.
    with Session(request.app.state.writer_engine) as writer:
        record_event(
            writer,
            actor=user,
            action="cohort.dashboard_exported",
            target_type="cohort",
            target_id=cohort.id or "",
            after={"format": kind, "rows": len(rows), "id_numbers": "masked"},
            ip=_ip(request),
        )
        writer.commit()
    return rows


def _download(content: bytes, media_type: str, filename: str) -> Response:
    disposition = (
        f"attachment; filename=\"class.{filename.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(filename)}"
    )
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/{cohort_id:int}/dashboard.csv")
def dashboard_csv(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, cohort: ManagedCohort
) -> Response:
    rows = _export(request, session, settings, user, cohort, "csv")
    return _download(exports.dashboard_csv(rows), exports.CSV_MEDIA_TYPE, f"{cohort.name}.csv")


@router.get("/{cohort_id:int}/dashboard.xlsx")
def dashboard_xlsx(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, cohort: ManagedCohort
) -> Response:
    rows = _export(request, session, settings, user, cohort, "xlsx")
    content = exports.dashboard_xlsx(rows, title=cohort.name)
    return _download(content, exports.XLSX_MEDIA_TYPE, f"{cohort.name}.xlsx")
