"""Fixtures for the exam tests: the sample course imported with a draw that puts every exam question on the
paper (options shuffled), trainees with enough hours, and clients signed in as them. (The exam in a real
browser is tests/e2e/test_exam_journeys.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.config import Settings
from backend.models import Course, User
from tests.exams.support import course_copy, credit_hours, import_folder
from tests.support import login, make_user


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
