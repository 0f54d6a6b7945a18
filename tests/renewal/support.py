"""Helpers for the renewal tests: courses written straight into the tables, certificates issued so that they
expire on a given day, CE hours (a completed module, an attended class session), and time travel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, select

from backend.certificates import credential as vc
from backend.certificates.service import IssueFacts, add_years, issue_certificate
from backend.config import Settings
from backend.models import (
    Attendance,
    Certificate,
    ClassSession,
    Cohort,
    Course,
    CourseModule,
    ModuleProgress,
    ModuleVersion,
    User,
)


def today() -> date:
    return vc.today_in_beijing()


def at_noon(day: date) -> datetime:
    """Noon of `day` in Beijing, as the aware UTC moment the tables store."""
    return datetime.combine(day, time(12, 0), vc.BEIJING).astimezone(UTC)


def add_course(
    db: Session,
    *,
    slug: str,
    title: str,
    certificate_title: str,
    title_en: str = "",
    level: str = "junior",
    validity_years: int = 3,
    modules: tuple[tuple[str, float], ...] = (("01-basics", 4.0),),
) -> Course:
    course = Course(
        slug=slug,
        title=title,
        title_en=title_en,
        level=level,
        min_hours=0,
        certificate_title=certificate_title,
        validity_years=validity_years,
    )
    db.add(course)
    db.flush()
    for position, (name, hours) in enumerate(modules):
        module = CourseModule(course_id=course.id or 0, name=name, position=position)
        db.add(module)
        db.flush()
        db.add(
            ModuleVersion(
                module_id=module.id or 0,
                number=1,
                text="",
                content_hash=f"{slug}-{name}",
                title=f"Module {name}",
                group="政策法规",
                hours=hours,
            )
        )
    db.commit()
    return course


def issue_expiring(
    db: Session, settings: Settings, *, user: User, course: Course, expires_on: date, hours: float = 32
) -> Certificate:
    """A certificate issued here (signed credential) whose 3-year validity ends on `expires_on`."""
    issued_on = add_years(expires_on + timedelta(days=1), -3)
    certificate = issue_certificate(
        db,
        settings=settings,
        user=user,
        course=course,
        actor=None,
        facts=IssueFacts(hours=hours, issued_on=issued_on),
    )
    db.commit()
    assert certificate.expires_on == expires_on
    return certificate


def complete_module(
    db: Session, user: User, course: Course, name: str, *, on: datetime | None = None
) -> None:
    module = db.exec(
        select(CourseModule).where(CourseModule.course_id == course.id, CourseModule.name == name)
    ).one()
    version = db.exec(select(ModuleVersion).where(ModuleVersion.module_id == module.id)).one()
    db.add(
        ModuleProgress(
            user_id=user.id or 0,
            module_id=module.id or 0,
            started_at=on or datetime.now(UTC),
            completed_at=on or datetime.now(UTC),
            hours_credited=version.hours,
        )
    )
    db.commit()


def attend(
    db: Session, user: User, course: Course, *, on: date, hours: float, present: bool = True
) -> ClassSession:
    """A session of a class of `course` held on `on`, and the user's attendance recorded that evening."""
    cohort = Cohort(
        name=f"{course.slug} {on.isoformat()}",
        course_id=course.id or 0,
        year=on.year,
        start_date=on,
        end_date=on,
        capacity=30,
    )
    db.add(cohort)
    db.flush()
    session = ClassSession(cohort_id=cohort.id or 0, date=on, topic="法规更新研讨", hours=hours)
    db.add(session)
    db.flush()
    db.add(
        Attendance(
            session_id=session.id or 0,
            user_id=user.id or 0,
            present=present,
            recorded_at=datetime.combine(on, time(20, 0), vc.BEIJING).astimezone(UTC),
        )
    )
    db.commit()
    return session


def fresh(db: Session, number: str) -> Certificate:
    db.commit()
    db.expire_all()
    return db.exec(select(Certificate).where(Certificate.number == number)).one()
