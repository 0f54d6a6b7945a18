"""Where each trainee of a class stands (hours online and in class, modules, exam, eligibility for a
certificate and why not), and the class dashboard built from it: filtered and sorted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from backend import security
from backend.accounts.idcard import mask_id_number
from backend.cohorts.enrolment import enrolled_trainees
from backend.cohorts.schemas import TraineeStatus
from backend.cohorts.sessions import class_hours_by_user, modules_total, online_progress_by_user
from backend.config import Settings
from backend.exams.results import ExamSummary, summary_of
from backend.i18n import N_, _
from backend.models import Cohort, Course, ExamAttempt, User

EXAM_STATUSES = {
    "not started": N_("Not started"),
    "in progress": N_("Sitting the exam"),
    "awaiting grading": N_("Awaiting grading"),
    "passed": N_("Passed"),
    "failed": N_("Failed"),
}


def exam_status_label(status: str) -> str:
    return _(EXAM_STATUSES.get(status, status))


def exam_summaries(session: Session, *, course_id: int, user_ids: list[int]) -> dict[int, ExamSummary]:
    """Each trainee's final-exam status and best score in the course (`exam_summary` for a whole class,
    in one query)."""
    attempts: dict[int, list[ExamAttempt]] = {user_id: [] for user_id in user_ids}
    if user_ids:
        query = select(ExamAttempt).where(
            ExamAttempt.course_id == course_id, col(ExamAttempt.user_id).in_(user_ids)
        )
        for attempt in session.exec(query):
            attempts.setdefault(attempt.user_id, []).append(attempt)
    return {user_id: summary_of(rows) for user_id, rows in attempts.items()}


def _fmt(value: float) -> str:
    return f"{value:g}"


def _status_for(
    user: User,
    *,
    settings: Settings,
    course: Course,
    online: tuple[float, int],
    class_hours: float,
    modules: int,
    exam: ExamSummary,
) -> TraineeStatus:
    assert user.id is not None
    online_hours, completed = online
    total = round(online_hours + class_hours, 2)
    reasons: list[str] = []
    if total < course.min_hours:
        reasons.append(
            _("%(missing)s more hours needed: %(total)s of %(min)s (online %(online)s, in class %(class)s).")
            % {
                "missing": _fmt(round(course.min_hours - total, 2)),
                "total": _fmt(total),
                "min": _fmt(course.min_hours),
                "online": _fmt(online_hours),
                "class": _fmt(class_hours),
            }
        )
    if exam.status != "passed":
        if exam.status == "failed":
            reasons.append(_("The final exam was not passed."))
        elif exam.status == "awaiting grading":
            reasons.append(_("The final exam is waiting to be graded."))
        else:
            reasons.append(_("The final exam has not been passed yet."))
    id_number = security.decrypt_field(settings.secret_key, user.id_number_encrypted)
    return TraineeStatus(
        user_id=user.id,
        name=user.name,
        email=user.email,
        id_number_masked=mask_id_number(id_number),
        organisation=user.organisation,
        online_hours=online_hours,
        class_hours=class_hours,
        min_hours=course.min_hours,
        modules_completed=completed,
        modules_total=modules,
        exam_status=exam.status,
        exam_score=exam.score,
        eligible=not reasons,
        reasons=reasons,
    )


def class_statuses(
    session: Session, *, settings: Settings, cohort: Cohort, users: list[User] | None = None
) -> list[TraineeStatus]:
    """Every enrolled trainee's status (or only `users`), with a handful of queries for the whole class."""
    assert cohort.id is not None
    course = session.get(Course, cohort.course_id)
    assert course is not None and course.id is not None
    trainees = users if users is not None else enrolled_trainees(session, cohort_id=cohort.id)
    ids = [user.id for user in trainees if user.id is not None]
    online = online_progress_by_user(session, course_id=course.id, user_ids=ids)
    in_class = class_hours_by_user(session, cohort_id=cohort.id, user_ids=ids)
    modules = modules_total(session, course_id=course.id)
    exams = exam_summaries(session, course_id=course.id, user_ids=ids)
    return [
        _status_for(
            user,
            settings=settings,
            course=course,
            online=online.get(user.id or 0, (0.0, 0)),
            class_hours=in_class.get(user.id or 0, 0.0),
            modules=modules,
            exam=exams[user.id or 0],
        )
        for user in trainees
    ]


def trainee_status(
    session: Session, *, cohort: Cohort, user: User, settings: Settings | None = None
) -> TraineeStatus:
    """One trainee's status in the class (certificates use `eligible` and `reasons`)."""
    if settings is None:
        from backend.config import get_settings

        settings = get_settings()
    return class_statuses(session, settings=settings, cohort=cohort, users=[user])[0]


# ---- the dashboard: filter and sort -----------------------------------------------------------------

SORT_KEYS: dict[str, Callable[[TraineeStatus], Any]] = {
    "name": lambda s: (s.name, s.user_id),
    "online": lambda s: (s.online_hours, s.name),
    "class": lambda s: (s.class_hours, s.name),
    "total": lambda s: (s.total_hours, s.name),
    "modules": lambda s: (s.modules_completed, s.name),
    "exam": lambda s: (
        list(EXAM_STATUSES).index(s.exam_status) if s.exam_status in EXAM_STATUSES else 99,
        s.name,
    ),
    "score": lambda s: (s.exam_score if s.exam_score is not None else -1.0, s.name),
    "eligible": lambda s: (s.eligible, s.name),
}


@dataclass(frozen=True)
class DashboardQuery:
    query: str = ""
    eligibility: str = ""  # "" | "eligible" | "not-eligible"
    sort: str = "name"
    order: str = "asc"

    @classmethod
    def parse(
        cls, *, q: str = "", eligibility: str = "", sort: str = "name", order: str = "asc"
    ) -> DashboardQuery:
        return cls(
            query=q.strip(),
            eligibility=eligibility if eligibility in ("eligible", "not-eligible") else "",
            sort=sort if sort in SORT_KEYS else "name",
            order="desc" if order == "desc" else "asc",
        )


def dashboard_rows(
    session: Session, *, settings: Settings, cohort: Cohort, view: DashboardQuery
) -> list[TraineeStatus]:
    rows = class_statuses(session, settings=settings, cohort=cohort)
    if view.query:
        needle = view.query.lower()
        rows = [
            row
            for row in rows
            if needle in row.name.lower() or needle in row.email.lower() or needle in row.organisation.lower()
        ]
    if view.eligibility:
        wanted = view.eligibility == "eligible"
        rows = [row for row in rows if row.eligible == wanted]
    return sorted(rows, key=SORT_KEYS[view.sort], reverse=view.order == "desc")
