"""Fixtures for the renewal tests: a certificate course and a continuing-education (CE) course with modules,
holders, certificates issued so that they expire on a chosen day, and signed-in browsers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend import i18n
from backend.config import Settings
from backend.i18n import LANG_COOKIE
from backend.models import Certificate, Course, Role, User
from tests.renewal.support import add_course, issue_expiring
from tests.support import login, make_user, valid_id_number


@pytest.fixture
def english() -> Iterator[None]:
    token = i18n.current_locale.set("en")
    yield
    i18n.current_locale.reset(token)


@pytest.fixture
def course(db: Session) -> Course:
    return add_course(
        db,
        slug="broker-junior",
        title="初级技术经纪人培训",
        certificate_title="技术经纪人（初级）培训合格证书",
    )


@pytest.fixture
def ce_course(db: Session) -> Course:
    return add_course(
        db,
        slug="ce-refresher",
        title="继续教育：法规更新",
        title_en="Continuing Education: Legal Updates",
        certificate_title="继续教育学时证明",
        validity_years=0,
        modules=(
            ("01-science-progress-law-2021", 2.0),
            ("02-patent-rules-2023", 2.0),
            ("03-open-licensing", 2.0),
        ),
    )


@pytest.fixture
def person(db: Session, settings: Settings) -> Callable[..., User]:
    counter = iter(range(100, 900))

    def build(name: str = "", *, email: str = "", role: Role = Role.trainee) -> User:
        n = next(counter)
        return make_user(
            db,
            settings,
            email=email or f"holder{n}@example.com",
            name=name or f"学员{n}",
            role=role,
            id_number=valid_id_number(f"330106{19900101 + n % 28:08d}{n % 1000:03d}"),
        )

    return build


@pytest.fixture
def expiring(db: Session, settings: Settings, course: Course) -> Callable[..., Certificate]:
    """issue(user, expires_on) → a certificate issued here that expires on that day."""

    def build(user: User, expires_on: date) -> Certificate:
        return issue_expiring(db, settings, user=user, course=course, expires_on=expires_on)

    return build


@pytest.fixture
def holder_client(client: TestClient) -> Callable[[User], TestClient]:
    def sign_in(user: User) -> TestClient:
        client.cookies.set(LANG_COOKIE, "en")
        login(client, user.email)
        return client

    return sign_in


@pytest.fixture
def admin_client(client: TestClient, admin: User) -> TestClient:
    client.cookies.set(LANG_COOKIE, "en")
    login(client, admin.email)
    return client
