"""Test fixtures: one database per run built by the migrations (SQLite by default, PostgreSQL when
ACADEMY_TEST_DATABASE_URL is set), emptied after every test; an app and a browser-like client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import backend.models  # noqa: F401  (every table)
from backend import schema
from backend.config import Settings
from backend.db import make_engine
from backend.main import create_app
from backend.models import Role, User
from tests.support import VALID_ID_NUMBERS, make_user


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("ACADEMY_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    schema.upgrade_head(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        courses_dir=Path(__file__).parent / "courses" / "sample",
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("engine")
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
    # The ids of the emptied tables are used again by the next test: forget what this process cached by id.
    from backend.courses.reading import clear_caches
    from backend.roster import stats

    clear_caches()
    stats.invalidate()


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def trainee(db: Session, settings: Settings) -> User:
    return make_user(db, settings, id_number=VALID_ID_NUMBERS[0])


@pytest.fixture
def instructor(db: Session, settings: Settings) -> User:
    return make_user(db, settings, email="teacher@example.com", name="李老师", role=Role.instructor)


@pytest.fixture
def admin(db: Session, settings: Settings) -> User:
    return make_user(db, settings, email="admin@example.com", name="管理员", role=Role.admin)
