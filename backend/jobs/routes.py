"""Following a background job: the progress page (polled by htmx, refreshed without JavaScript) and JSON."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts.deps import ApiUser, CurrentUser
from backend.db import SessionDep
from backend.jobs import service
from backend.jobs.schemas import JobPublic
from backend.web import render

router = APIRouter(tags=["jobs"])
api = APIRouter(prefix="/api/v1", tags=["jobs"])


@router.get("/jobs/{job_id}")
def job_page(request: Request, session: SessionDep, user: CurrentUser, job_id: int) -> Response:
    job = service.get_job_for(session, job_id=job_id, user=user)
    response = render(request, "jobs/job.html", {"job": service.job_public(job)}, block="progress")
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/jobs/{job_id}", response_model=JobPublic)
def api_job(session: SessionDep, user: ApiUser, job_id: int) -> JobPublic:
    return service.job_public(service.get_job_for(session, job_id=job_id, user=user))
