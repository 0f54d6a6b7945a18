"""Fixtures for the certificate tests: a course that leads to a certificate, trainees who completed its
hours and passed its exam (or not), a shared font cache (building the CJK font takes a minute, once per
machine), and issuing helpers."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from backend.certificates import fonts
from backend.config import Settings
from backend.models import Course, CourseModule, Role, User
from tests.certificates.support import MIN_HOURS, credit_hours, pass_exam
from tests.cohorts.support import id_number
from tests.support import make_user

FONT_CACHE = Path(tempfile.gettempdir()) / "academy-test-font-cache"


@pytest.fixture(scope="session", autouse=True)
def shared_font_cache(settings: Settings) -> Iterator[None]:
    """The prepared fonts live in {data_dir}/cache/fonts; every test run on this machine shares one."""
    FONT_CACHE.mkdir(parents=True, exist_ok=True)
    link = settings.data_dir / "cache" / "fonts"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(FONT_CACHE, target_is_directory=True)
    yield


@pytest.fixture(scope="session")
def prepared_fonts(settings: Settings, shared_font_cache: None) -> fonts.FontFiles:
    return fonts.warm(settings)


@pytest.fixture
def english() -> Iterator[None]:
    """Messages built outside a request (services) in English, as the assertions are written."""
    from backend import i18n

    token = i18n.current_locale.set("en")
    yield
    i18n.current_locale.reset(token)


@pytest.fixture
def course(db: Session) -> Course:
    course = Course(
        slug="broker-junior",
        title="初级技术经纪人培训",
        title_en="Junior Technology Broker Training",
        level="junior",
        min_hours=MIN_HOURS,
        certificate_title="技术经纪人（初级）培训合格证书",
        validity_years=3,
    )
    db.add(course)
    db.flush()
    for position, name in enumerate(("01-basics", "02-law", "03-practice")):
        db.add(CourseModule(course_id=course.id or 0, name=name, position=position))
    db.commit()
    return course


@pytest.fixture
def person(db: Session, settings: Settings) -> Callable[..., User]:
    counter = iter(range(100, 5000))

    def build(name: str = "", *, with_id: bool = True, email: str = "", role: Role = Role.trainee) -> User:
        n = next(counter)
        return make_user(
            db,
            settings,
            email=email or f"holder{n}@example.com",
            name=name or f"学员{n}",
            role=role,
            id_number=id_number(n) if with_id else "",
        )

    return build


@pytest.fixture
def graduate(db: Session, course: Course, person: Callable[..., User]) -> Callable[..., User]:
    """A trainee who completed the hours and passed the exam."""

    def build(name: str = "王小明", **kwargs: object) -> User:
        user = person(name, **kwargs)
        credit_hours(db, course, user)
        pass_exam(db, course, user)
        return user

    return build
