"""Setting the stage on the live server's database, for what a person on a journey cannot do in the
browser in reasonable time or is somebody else's job: a class to enrol in, class hours attended, exams
already passed by trainees imported a moment ago, a case-analysis answer waiting for a grader. Also the
answer key of an exam paper (the trainee studied; the test knows the answers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from backend.db import make_engine, writer_engine
from backend.models import (
    AttemptStatus,
    Attendance,
    ClassSession,
    Cohort,
    CohortStatus,
    Course,
    CourseModule,
    ExamAttempt,
    ExamItem,
    ModuleProgress,
    ModuleVersion,
    QuestionVersion,
    User,
    utcnow,
)


@contextmanager
def database(database_url: str) -> Iterator[Session]:
    """One writing transaction on the live server's database, committed at the end."""
    engine = make_engine(database_url)
    try:
        with Session(writer_engine(engine)) as session:
            yield session
            session.commit()
    finally:
        engine.dispose()


def _user(session: Session, email: str) -> User:
    return session.exec(select(User).where(User.email == email)).one()


def _course(session: Session, slug: str) -> Course:
    return session.exec(select(Course).where(Course.slug == slug)).one()


def open_class(database_url: str, *, name: str, course_slug: str, capacity: int = 30) -> int:
    """A class open for enrolment, from today for a month, with no exam window: the administrator's job."""
    today = dt.date.today()
    with database(database_url) as session:
        cohort = Cohort(
            name=name,
            course_id=_course(session, course_slug).id or 0,
            year=today.year,
            start_date=today,
            end_date=today + dt.timedelta(days=30),
            place="杭州市西湖区文三路 90 号",
            capacity=capacity,
            status=CohortStatus.open.value,
        )
        session.add(cohort)
        session.flush()
        return cohort.id or 0


def attended(database_url: str, *, cohort_id: int, email: str, hours: list[float]) -> None:
    """Class sessions of these hours, each with the trainee marked present: the instructor's register."""
    with database(database_url) as session:
        user = _user(session, email)
        for number, length in enumerate(hours, start=1):
            day = dt.date.today() - dt.timedelta(days=len(hours) - number)
            item = ClassSession(cohort_id=cohort_id, date=day, topic=f"面授课第 {number} 讲", hours=length)
            session.add(item)
            session.flush()
            session.add(Attendance(session_id=item.id or 0, user_id=user.id or 0, present=True))


def completed_every_module(database_url: str, *, email: str, course_slug: str) -> None:
    with database(database_url) as session:
        user = _user(session, email)
        course = _course(session, course_slug)
        modules = session.exec(select(CourseModule).where(CourseModule.course_id == course.id)).all()
        for module in modules:
            version = session.exec(
                select(ModuleVersion).where(
                    ModuleVersion.module_id == module.id, ModuleVersion.number == module.current_version
                )
            ).one()
            session.add(
                ModuleProgress(
                    user_id=user.id or 0,
                    module_id=module.id or 0,
                    completed_at=utcnow(),
                    hours_credited=version.hours,
                )
            )


def passed_exam(database_url: str, *, email: str, course_slug: str) -> None:
    """A final exam sat and passed (graded, released) some days ago."""
    with database(database_url) as session:
        user = _user(session, email)
        course = _course(session, course_slug)
        rules = course.exam_rules or {}
        when = utcnow() - dt.timedelta(days=2)
        session.add(
            ExamAttempt(
                user_id=user.id or 0,
                course_id=course.id or 0,
                number=1,
                status=AttemptStatus.graded.value,
                started_at=when,
                deadline=when + dt.timedelta(minutes=30),
                submitted_at=when + dt.timedelta(minutes=20),
                finalized_at=when + dt.timedelta(minutes=20),
                title=str(rules.get("title") or "结业考试"),
                time_limit_minutes=int(rules.get("time_limit_minutes") or 30),
                pass_score=float(rules.get("pass_score") or 60),
                max_points=10,
                score_points=9,
                score_percent=90,
                passed=True,
            )
        )


def essay_waiting_for_a_grader(database_url: str, *, email: str, course_slug: str, essay: str) -> int:
    """The trainee (with every module completed) sat the exam, wrote the case analysis and submitted:
    the attempt waits for a grader. Returns the attempt id."""
    from backend.exams import attempts
    from backend.exams.service import get_course

    completed_every_module(database_url, email=email, course_slug=course_slug)
    with database(database_url) as session:
        user = _user(session, email)
        attempt = attempts.start_attempt(session, user=user, course=get_course(session, slug=course_slug))
        session.flush()
        essays = session.exec(
            select(ExamItem.position).where(ExamItem.attempt_id == attempt.id, ExamItem.type == "essay")
        ).all()
        for position in essays:
            attempts.save_answer(
                session,
                attempt_id=attempt.id or 0,
                position=position,
                user_id=user.id or 0,
                form={"text": [essay]},
            )
        attempts.submit_attempt(session, attempt_id=attempt.id or 0)
        return attempt.id or 0


# ---- the answer key -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """The right answer to one question as the paper shows it: option positions as shown (choice), a
    truth value, a text (fill, numeric) or nothing to know in advance (essay)."""

    position: int
    type: str
    choice: tuple[int, ...] = ()
    truth: bool | None = None
    text: str = ""


def answer_key(database_url: str, *, attempt_id: int) -> list[Key]:
    with database(database_url) as session:
        rows = session.exec(
            select(ExamItem, QuestionVersion)
            .join(QuestionVersion, col(QuestionVersion.id) == ExamItem.question_version_id)
            .where(ExamItem.attempt_id == attempt_id)
            .order_by(col(ExamItem.position))
        ).all()
        return [_key(item, version) for item, version in rows]


def _key(item: ExamItem, version: QuestionVersion) -> Key:
    options: list[dict[str, Any]] = version.options
    if item.type in ("single", "multiple"):
        order = list(item.option_order)
        right = tuple(shown for shown, index in enumerate(order) if options[index].get("correct"))
        return Key(item.position, item.type, choice=right)
    if item.type == "truefalse":
        return Key(item.position, item.type, truth=bool(version.truth))
    if item.type == "fill":
        return Key(item.position, item.type, text=version.accepted[0])
    if item.type == "numeric":
        return Key(item.position, item.type, text=f"{version.numeric_low:g}")
    return Key(item.position, item.type, text="")


def set_role(database_url: str, *, email: str, role: str) -> None:
    with database(database_url) as session:
        user = _user(session, email)
        user.role = role
        session.add(user)
