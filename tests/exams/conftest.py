"""Fixtures for the exam tests: the sample course imported with a draw that puts every exam question on the
paper (options shuffled), trainees with enough hours, and clients signed in as them; the browser test
borrows the live server and Chromium fixtures of tests/e2e."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from backend.config import Settings
from backend.models import Course, User
from tests.e2e.conftest import (  # noqa: F401  (the browser fixtures of tests/e2e, for test_browser.py)
    browser,
    chromium,
    live_server,
    new_context,
    screenshots,
)
from tests.exams.support import course_copy, credit_hours, import_folder
from tests.support import login, make_user


@pytest.fixture(scope="session")
def server_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The live server's database for test_browser.py: like tests/e2e's, but a database of its own, so
    the two live servers of one PostgreSQL run never drop each other's."""
    test_url = os.environ.get("ACADEMY_TEST_DATABASE_URL", "")
    if not test_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('exams-e2e-db') / 'academy.sqlite3'}"
        return
    base = make_url(test_url).set(drivername="postgresql+psycopg")
    name = f"{base.database}_exams_e2e"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def course(db: Session, tmp_path: Path) -> Course:
    return import_folder(db, course_copy(tmp_path))


@pytest.fixture
def ready_trainee(db: Session, trainee: User, course: Course) -> User:
    credit_hours(db, trainee, course)
    return trainee


@pytest.fixture
def other_trainee(db: Session, settings: Settings, course: Course) -> User:
    user = make_user(db, settings, email="other@example.com", name="李四")
    credit_hours(db, user, course)
    return user


@pytest.fixture
def trainee_client(client: TestClient, ready_trainee: User) -> TestClient:
    login(client, ready_trainee.email)
    return client
