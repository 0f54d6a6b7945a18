"""JSON API for classes (bearer token): the class list, the roster import and the dashboard data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse

from backend.accounts.deps import ApiAdmin, ApiUser, SettingsDep
from backend.cohorts import notices, service
from backend.cohorts.admin_routes import run_import
from backend.cohorts.dashboard import DashboardQuery, dashboard_rows
from backend.cohorts.deps import ApiManagedCohort
from backend.cohorts.schemas import (
    CohortPublic,
    DashboardPublic,
    DashboardRowPublic,
    ImportOutcomePublic,
    ImportProblemPublic,
)
from backend.db import SessionDep
from backend.models import Role

router = APIRouter(prefix="/api/v1/classes", tags=["classes"])


@router.get("", response_model=list[CohortPublic])
def list_classes(session: SessionDep, user: ApiUser) -> list[CohortPublic]:
    """Administrators: every class; instructors: the classes they teach; trainees: the open classes."""
    if user.role == Role.admin.value:
        rows = service.list_cohorts(session)
    elif user.role == Role.instructor.value:
        rows = service.list_cohorts(session, instructor_id=user.id)
    else:
        rows = service.open_cohorts(session)
    return [service.cohort_public(row) for row in rows]


@router.post(
    "/{cohort_id}/enrolments/import",
    response_model=ImportOutcomePublic,
    responses={202: {"model": ImportOutcomePublic}, 400: {"model": ImportOutcomePublic}},
)
def import_enrolments(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ApiAdmin,
    cohort_id: int,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GBK) or XLSX roster")],
) -> JSONResponse:
    """All or nothing: 200 with what was done, 400 with every problem by row (nothing imported), or
    202 with `job_id` for a large roster imported in the background (follow GET /api/v1/jobs/{id})."""
    cohort = service.get_cohort(session, cohort_id)
    outcome, job_id = run_import(request, session, settings=settings, actor=actor, cohort=cohort, file=file)
    if job_id is not None:
        body = ImportOutcomePublic(ok=True, rows=0, job_id=job_id)
        return JSONResponse(body.model_dump(mode="json"), status_code=202)
    assert outcome is not None
    body = ImportOutcomePublic(
        ok=outcome.ok,
        rows=outcome.rows,
        problems=[
            ImportProblemPublic(row=p.row, column=p.column, message=p.message) for p in outcome.problems
        ],
        enrolled=outcome.enrolled,
        accounts_created=outcome.accounts_created,
    )
    if outcome.ok:
        notices.schedule(request)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if outcome.ok else 400)


@router.get("/{cohort_id}/dashboard", response_model=DashboardPublic)
def class_dashboard(
    session: SessionDep,
    settings: SettingsDep,
    cohort: ApiManagedCohort,
    q: str = "",
    eligibility: str = "",
    sort: str = "name",
    order: str = "asc",
) -> DashboardPublic:
    """Per trainee: hours online and in class, modules, exam, eligibility and what is missing (ID masked)."""
    view = DashboardQuery.parse(q=q, eligibility=eligibility, sort=sort, order=order)
    rows = dashboard_rows(session, settings=settings, cohort=cohort, view=view)
    return DashboardPublic(
        cohort=service.cohort_public(service.cohort_row(session, cohort)),
        trainees=[
            DashboardRowPublic(
                user_id=row.user_id,
                name=row.name,
                email=row.email,
                id_number_masked=row.id_number_masked,
                organisation=row.organisation,
                online_hours=row.online_hours,
                class_hours=row.class_hours,
                total_hours=row.total_hours,
                min_hours=row.min_hours,
                modules_completed=row.modules_completed,
                modules_total=row.modules_total,
                exam_status=row.exam_status,
                exam_score=row.exam_score,
                eligible=row.eligible,
                reasons=row.reasons,
            )
            for row in rows
        ],
    )
