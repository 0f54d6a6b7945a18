"""The demo's training side: two classes of the broker-junior course with trainees at every stage (enrolled,
some modules done, hours met, exam in progress, awaiting grading, failed, passed, certificate issued, one
revoked), made through the other features' own services (course import, classes, self-checks and module
completion, exam attempts and grading, certificate issuing and revoking). A stage that a feature refuses
(a course without exam questions, say) is skipped with a note, never faked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from backend.certificates import keys as certificate_keys
from backend.certificates import service as certificates
from backend.certificates.lifecycle import revoke
from backend.cohorts import enrolment
from backend.cohorts import service as cohorts
from backend.config import Settings
from backend.courses import service as courses
from backend.courses.grading import grade_answer
from backend.courses.importer import import_course
from backend.exams import attempts as exam_attempts
from backend.exams import grading_queue
from backend.models import Course, CourseModule, ExamItem, QuestionVersion, SelfCheckAnswer, User, utcnow
from backend.roster.demo_data import DEMO_MARK

COURSE_SLUG = "broker-junior"
ESSAY = (
    DEMO_MARK
    + "本案例中，技术经纪人应先核实成果权属与专利法律状态，再根据双方需求设计许可方式与价款支付结构，并协助办理技术合同认定登记。"
)


@dataclass
class Training:
    """What the training side made, for the summary printed at the end."""

    notes: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    stages: dict[str, int] = field(default_factory=dict)
    trainee_login: User | None = None

    def count(self, stage: str) -> None:
        self.stages[stage] = self.stages.get(stage, 0) + 1


def ensure_course(session: Session, settings: Settings, training: Training) -> Course | None:
    course = session.exec(select(Course).where(Course.slug == COURSE_SLUG)).first()
    if course is not None:
        return course
    folder = settings.courses_dir / COURSE_SLUG
    if not folder.is_dir():
        training.notes.append(f"skipped the classes: no course {COURSE_SLUG} (and no folder {folder})")
        return None
    import_course(session, folder)
    return session.exec(select(Course).where(Course.slug == COURSE_SLUG)).first()


def _local(moment: datetime) -> str:
    return (moment + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # the form takes Beijing time


def make_class(session: Session, *, course: Course, admin: User, spec: dict[str, Any]) -> Any:
    from backend.cohorts.schemas import CohortForm

    form = CohortForm(
        name=spec["name"],
        course_id=str(course.id),
        year=str(spec["start"].year),
        start_date=spec["start"].isoformat(),
        end_date=spec["end"].isoformat(),
        place=spec["place"],
        capacity="40",
        status=spec["status"],
        exam_opens_at=_local(spec["opens"]),
        exam_closes_at=_local(spec["closes"]),
    )
    return cohorts.create_cohort(session, form=form, actor=admin)


def plain_answer(version: Any, order: list[int] | None = None) -> dict[str, Any]:
    """The right answer to a question version; `order` maps shown positions to option indexes (exams)."""
    order = list(order or range(len(version.options)))
    right = [index for index, option in enumerate(version.options) if option.get("correct")]
    if version.type == "single":
        return {"choice": order.index(right[0])} if right and right[0] in order else {}
    if version.type == "multiple":
        return {"choice": sorted(order.index(index) for index in right if index in order)}
    if version.type == "truefalse":
        return {"truth": bool(version.truth)}
    if version.type == "fill":
        return {"text": version.accepted[0]} if version.accepted else {}
    if version.type == "numeric" and version.numeric_low is not None and version.numeric_high is not None:
        return {"value": f"{(version.numeric_low + version.numeric_high) / 2:g}"}
    return {"text": ESSAY}


class ModuleReader:
    """Completes a trainee's first modules. Each self-check is answered correctly and graded by the courses'
    own grader, the answers written in one statement per trainee (a trainee answering page by page would take
    one request each: far too slow for ~1,500 answers); then every module is completed through the courses'
    `complete_module`, which refuses a module whose self-checks are not all answered."""

    def __init__(self, session: Session, course: Course) -> None:
        self.session, self.course = session, course
        self.modules = session.exec(
            select(CourseModule)
            .where(CourseModule.course_id == course.id, col(CourseModule.archived_at).is_(None))
            .order_by(col(CourseModule.position))
        ).all()
        self.checks: dict[int, list[Any]] = {}

    def complete(self, user: User, count: int) -> None:
        modules = self.modules[:count]
        rows = []
        for module in modules:
            if module.id not in self.checks:
                self.checks[module.id or 0] = courses.module_selfchecks(
                    self.session, module_id=module.id or 0, user_id=None
                )
            for check in self.checks[module.id or 0]:
                answer = plain_answer(check.version)
                rows.append(
                    {
                        "user_id": user.id,
                        "question_id": check.question_id,
                        "question_version_id": check.version.id,
                        "answer": answer,
                        "correct": grade_answer(check.version, answer).correct,
                        "answered_at": utcnow(),
                    }
                )
        if rows:
            self.session.execute(insert(SelfCheckAnswer), rows)
        for module in modules:
            courses.complete_module(
                self.session, user_id=user.id or 0, slug=self.course.slug, name=module.name
            )


def sit_exam(
    session: Session,
    *,
    course: Course,
    user: User,
    start: datetime,
    right_share: float,
    submit: bool,
    grade: Callable[[int, int, float], None] | None = None,
) -> Any:
    """Start an attempt at `start`, answer `right_share` of it correctly (the rest left blank), submit it
    fifty minutes later when asked, and have the essays graded with `grade` (attempt, position, points)."""
    attempt = exam_attempts.start_attempt(session, user=user, course=course, now=start)
    attempt_id, user_id = attempt.id or 0, user.id or 0
    items = session.exec(
        select(ExamItem, QuestionVersion)
        .join(QuestionVersion, col(QuestionVersion.id) == ExamItem.question_version_id)
        .where(ExamItem.attempt_id == attempt.id)
        .order_by(col(ExamItem.position))
    ).all()
    answered = round(len(items) * right_share)
    for index, (item, version) in enumerate(items):
        if index >= answered and item.type != "essay":
            continue
        answer = plain_answer(version, item.option_order)
        if answer:
            exam_attempts.save_answer(
                session,
                attempt_id=attempt_id,
                position=item.position,
                user_id=user_id,
                answer=answer,
                now=start + timedelta(minutes=1 + index),
            )
    if submit:
        exam_attempts.submit_attempt(session, attempt_id=attempt_id, now=start + timedelta(minutes=50))
        if grade is not None:
            for item, _version in items:
                if item.type == "essay":
                    grade(attempt_id, item.position, item.points * (0.8 if right_share >= 0.6 else 0.3))
    return attempt


def class_specs(today: date, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{today.year}年春季初级技术经纪人培训班（演示）",
            "start": today - timedelta(days=60),
            "end": today + timedelta(days=14),
            "place": "杭州市西湖区文三路（演示地址）",
            "status": "running",
            "opens": now - timedelta(days=14),
            "closes": now + timedelta(days=30),
            "stages": [
                "certified",
                "certified",
                "revoked",
                "passed",
                "failed",
                "grading",
                "in_exam",
                "hours_met",
            ],
        },
        {
            "name": f"{today.year}年秋季初级技术经纪人培训班（演示）",
            "start": today + timedelta(days=7),
            "end": today + timedelta(days=90),
            "place": "线上 + 杭州市滨江区（演示地址）",
            "status": "open",
            "opens": now + timedelta(days=80),
            "closes": now + timedelta(days=95),
            "stages": ["enrolled", "enrolled", "some_modules", "some_modules", "hours_met", "hours_met"],
        },
    ]


def build_training(
    session: Session,
    settings: Settings,
    *,
    admin: User,
    instructor: User,
    make_trainee: Callable[[int], User],
) -> Training:
    training = Training()
    course = ensure_course(session, settings, training)
    if course is None:
        return training
    reading = ModuleReader(session, course)
    certificate_keys.ensure_key(settings)
    now = utcnow()
    number = 0
    login_certified = False  # the login printed is the first certified trainee's (else the first trainee's)
    for spec in class_specs(date.today(), now):
        cohort = make_class(session, course=course, admin=admin, spec=spec)
        cohorts.add_instructor(session, cohort=cohort, user_id=instructor.id or 0, actor=admin)
        training.classes.append(cohort.name)
        for stage in spec["stages"]:
            number += 1
            trainee = make_trainee(number)
            enrolment.enrol(session, cohort_id=cohort.id, user=trainee, actor=admin, source=_admin_source())
            reached = _advance(
                session,
                settings,
                stage,
                training=training,
                course=course,
                trainee=trainee,
                admin=admin,
                instructor=instructor,
                reading=reading,
                now=now,
            )
            training.count(reached)
            if training.trainee_login is None or (reached == "certified" and not login_certified):
                training.trainee_login = trainee
                login_certified = reached == "certified"
    return training


def _admin_source() -> Any:
    from backend.models import EnrollmentSource

    return EnrollmentSource.admin


def step(session: Session, training: Training, what: str, action: Callable[[], object]) -> bool:
    """Run one stage in a savepoint: when the feature refuses it (a course without exam questions, say),
    the refusal becomes a note and nothing of that stage is kept."""
    from backend.errors import DomainError

    try:
        with session.begin_nested():
            action()
    except DomainError as error:
        note = f"{what} stopped: {error.message}"
        if note not in training.notes:
            training.notes.append(note)
        return False
    return True


def _advance(
    session: Session,
    settings: Settings,
    stage: str,
    *,
    training: Training,
    course: Course,
    trainee: User,
    admin: User,
    instructor: User,
    reading: ModuleReader,
    now: datetime,
) -> str:
    """Take one trainee as far as `stage`; returns the stage actually reached."""
    if stage == "enrolled":
        return "enrolled"
    count = 3 if stage == "some_modules" else 99
    if not step(session, training, "completing modules", lambda: reading.complete(trainee, count)):
        return "enrolled"
    if stage in ("some_modules", "hours_met"):
        return "some_modules" if stage == "some_modules" else "hours_met"
    if stage == "in_exam":
        started = step(
            session,
            training,
            "starting an exam",
            lambda: sit_exam(
                session,
                course=course,
                user=trainee,
                start=now - timedelta(minutes=20),
                right_share=0.3,
                submit=False,
            ),
        )
        return "in_exam" if started else "hours_met"

    def grade(attempt_id: int, position: int, points: float) -> None:
        grading_queue.grade_item(
            session,
            attempt_id=attempt_id,
            position=position,
            grader=instructor,
            points=points,
            comment=DEMO_MARK + "论述基本清楚。",
            now=now - timedelta(days=2),
        )

    graded = stage != "grading"
    share = 0.3 if stage == "failed" else 0.9

    def sit() -> None:
        sit_exam(
            session,
            course=course,
            user=trainee,
            start=now - timedelta(days=3),
            right_share=share,
            submit=True,
            grade=grade if graded else None,
        )

    if not step(session, training, "sitting the exam", sit):
        return "hours_met"
    if not graded:
        return "grading"
    if stage in ("failed", "passed"):
        return "failed" if stage == "failed" else "passed"
    issued: list[Any] = []

    def issue() -> None:
        issued.append(
            certificates.issue_one(session, settings=settings, user=trainee, course=course, actor=admin)
        )

    if not step(session, training, "issuing a certificate", issue):
        return "passed"
    reason = DEMO_MARK + "发现培训考勤记录有误，经复核撤销该证书。"
    if stage == "revoked" and step(
        session,
        training,
        "revoking a certificate",
        lambda: revoke(session, certificate=issued[0], reason=reason, actor=admin),
    ):
        return "revoked"
    return "certified"
