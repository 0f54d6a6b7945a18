"""Fixtures for the class tests: a course with three modules (12 online hours, 20 required), a class of
it, and helpers to create people, complete modules and build rosters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session

from backend.config import Settings
from backend.models import Cohort, Course, CourseModule, Role, User
from tests.cohorts.support import MIN_HOURS, id_number
from tests.support import make_user


@pytest.fixture
def course(db: Session) -> Course:
    course = Course(slug="broker-junior", title="初级技术经纪人培训", level="junior", min_hours=MIN_HOURS)
    db.add(course)
    db.flush()
    for position, name in enumerate(("01-basics", "02-law", "03-practice")):
        db.add(CourseModule(course_id=course.id or 0, name=name, position=position))
    db.commit()
    return course


@pytest.fixture
def make_cohort(db: Session, course: Course) -> Callable[..., Cohort]:
    def build(**fields: object) -> Cohort:
        values: dict[str, object] = {
            "name": "2026年杭州市技术经纪人培训班（第一期）",
            "course_id": course.id,
            "year": 2026,
            "start_date": date(2026, 3, 1),
            "end_date": date(2026, 6, 30),
            "place": "杭州市科技大厦",
            "capacity": 50,
            "status": "open",
        }
        values.update(fields)
        cohort = Cohort.model_validate(values)
        db.add(cohort)
        db.commit()
        return cohort

    return build


@pytest.fixture
def cohort(make_cohort: Callable[..., Cohort]) -> Cohort:
    return make_cohort()


@pytest.fixture
def person(db: Session, settings: Settings) -> Callable[..., User]:
    counter = iter(range(5000, 7000))  # never the ID numbers of roster_rows (1 to 2000)

    def build(name: str = "", *, role: Role = Role.trainee, with_id: bool = True, email: str = "") -> User:
        n = next(counter)
        return make_user(
            db,
            settings,
            email=email or f"person{n}@example.com",
            name=name or f"学员{n}",
            role=role,
            id_number=id_number(n) if with_id else "",
        )

    return build
