"""Class pages for trainees (open classes, enrol, withdraw) and for instructors (their classes and a
class's overview). Timetable, attendance and dashboard: staff_routes.py; administration: admin_routes.py;
JSON: api.py. `routers` is what create_app() includes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import select

from backend.accounts.deps import CurrentUser, OptionalUser, SettingsDep, get_staff_user
from backend.cohorts import admin_routes, api, enrolment, notices, service, staff_routes
from backend.cohorts.dashboard import trainee_status
from backend.cohorts.deps import ManagedCohort
from backend.cohorts.sessions import attendance_counts, list_sessions
from backend.db import SessionDep
from backend.errors import DomainError, NotFound
from backend.i18n import _
from backend.models import CohortStatus, Course, EnrollmentStatus, Role
from backend.web import redirect, render

router = APIRouter(tags=["classes"])
instructor = APIRouter(prefix="/instructor", tags=["classes"], dependencies=[Depends(get_staff_user)])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def page_helpers() -> dict[str, Any]:
    return {"beijing_time": service.beijing_time}


@router.get("/classes")
def open_classes_page(
    request: Request, session: SessionDep, user: OptionalUser, course: str = ""
) -> Response:
    """Classes open for enrolment (of one course with ?course=slug), and the signed-in person's own."""
    chosen = session.exec(select(Course).where(Course.slug == course)).first() if course else None
    rows = service.open_cohorts(session, course_id=chosen.id if chosen else None)
    mine = service.classes_of_trainee(session, user_id=user.id) if user and user.id else []
    mine_ids = {row.cohort.id for row in mine}
    context = {"rows": rows, "mine": mine, "mine_ids": mine_ids, "course": chosen, **page_helpers()}
    return render(request, "cohorts/open_list.html", context)


@router.get("/classes/{cohort_id:int}")
def class_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser, cohort_id: int
) -> Response:
    cohort = service.get_cohort(session, cohort_id)
    row = service.cohort_row(session, cohort)
    seat = enrolment.enrolment_of(session, cohort_id=cohort_id, user_id=user.id) if user and user.id else None
    enrolled = seat is not None and seat.status == EnrollmentStatus.enrolled.value
    staff = user is not None and service.can_manage(session, cohort=cohort, user=user)
    if not (enrolled or staff or cohort.status in (CohortStatus.open.value, CohortStatus.running.value)):
        raise NotFound(_("No such class."))
    status = (
        trainee_status(session, cohort=cohort, user=user, settings=settings) if enrolled and user else None
    )
    context = {
        "row": row,
        "enrolled": enrolled,
        "staff": staff,
        "status": status,
        "sessions": list_sessions(session, cohort_id=cohort_id) if enrolled or staff else [],
        "instructors": service.instructors_of(session, cohort_id=cohort_id),
        **page_helpers(),
    }
    return render(request, "cohorts/detail.html", context)


@router.post("/classes/{cohort_id:int}/enrol")
def enrol(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, cohort_id: int
) -> Response:
    target = f"/classes/{cohort_id}"
    try:
        enrolment.enrol(session, cohort_id=cohort_id, user=user, actor=user, ip=client_ip(request))
    except DomainError as error:
        return redirect(request, target, flash=error.message, category="error")
    cohort = service.get_cohort(session, cohort_id)
    notices.enrolment_confirmed(session, settings=settings, user=user, cohort=cohort)
    response = redirect(request, target, flash=_("You are enrolled in %(name)s.") % {"name": cohort.name})
    notices.schedule(request)
    return response


@router.post("/classes/{cohort_id:int}/withdraw")
def withdraw(request: Request, session: SessionDep, user: CurrentUser, cohort_id: int) -> Response:
    cohort = service.get_cohort(session, cohort_id)
    target = f"/classes/{cohort_id}"
    if cohort.status != CohortStatus.open.value:
        message = _("The class has started; ask the training base to withdraw you.")
        return redirect(request, target, flash=message, category="error")
    assert user.id is not None
    try:
        enrolment.withdraw(session, cohort_id=cohort_id, user_id=user.id, actor=user, ip=client_ip(request))
    except DomainError as error:
        return redirect(request, target, flash=error.message, category="error")
    return redirect(request, target, flash=_("You have withdrawn from %(name)s.") % {"name": cohort.name})


@instructor.get("/classes")
def instructor_classes(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """An instructor's own classes; an administrator sees every class."""
    mine = user.role != Role.admin.value
    rows = service.list_cohorts(session, instructor_id=user.id if mine else None)
    return render(request, "cohorts/instructor_list.html", {"rows": rows, "mine": mine, **page_helpers()})


@instructor.get("/classes/{cohort_id:int}")
def class_overview(
    request: Request, session: SessionDep, settings: SettingsDep, cohort: ManagedCohort
) -> Response:
    assert cohort.id is not None
    from backend.accounts.service import user_public

    trainees = [
        user_public(user, settings=settings)
        for user in enrolment.enrolled_trainees(session, cohort_id=cohort.id)
    ]
    context = {
        "row": service.cohort_row(session, cohort),
        "trainees": trainees,
        "instructors": service.instructors_of(session, cohort_id=cohort.id),
        "sessions": list_sessions(session, cohort_id=cohort.id),
        "attendance": attendance_counts(session, cohort_id=cohort.id),
        **page_helpers(),
    }
    return render(request, "cohorts/overview.html", context)


routers = (router, instructor, staff_routes.router, admin_routes.router, api.router)
