"""API fuzzing: schemathesis generates requests for every operation in /openapi.json (the JSON API and
the pages) and sends them to the app in-process, signed in as an administrator with a bearer token and a
valid CSRF token. No answer may be a server error, and every documented answer must match its schema.
Needs no browser, so it runs wherever the unit tests run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from backend.config import Settings
from backend.main import create_app
from backend.models import Role
from backend.security import CSRF_COOKIE, CSRF_HEADER
from tests.support import TEST_PASSWORD, csrf_token, make_user

API_EXAMPLES = 25  # per operation under /api/
PAGE_EXAMPLES = 5  # per page or form: the browser journeys drive them as well
PHASES = ["examples", "fuzzing"]  # the coverage phase alone takes minutes on a 2-core machine
ADMIN_EMAIL = "fuzz-admin@example.com"

# The operations are read at collection time from an app that never touches a database; each generated
# request then goes to the module's own app (`app=`) on the migrated test database.
# (schemathesis.pytest.from_fixture would avoid this, but it fails under pytest 9: no Node._nodeid.)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(Settings(env="test", database_url="sqlite://", secret_key="openapi-only-" + "x" * 32)),
)
schema.config.phases.update(phases=PHASES)
json_api = schema.include(path_regex="^/api/")
pages = schema.exclude(path_regex="^/api/")


@pytest.fixture(scope="module")
def fuzzed_app(settings: Settings) -> Iterator[FastAPI]:
    """One app and one administrator for every operation: building them per operation cost more than
    the fuzzing itself. The rows the fuzzer leaves behind are removed at the end of the module (this
    fixture does not use the `engine` fixture, whose per-test cleanup would delete the administrator)."""
    application = create_app(settings)
    with Session(application.state.engine, expire_on_commit=False) as session:
        make_user(session, settings, email=ADMIN_EMAIL, name="模糊测试管理员", role=Role.admin)
    yield application
    _empty_all_tables(application.state.engine)
    application.state.engine.dispose()


@pytest.fixture
def signed_in(fuzzed_app: FastAPI) -> Iterator[dict[str, dict[str, str]]]:
    """A fresh bearer token per operation (a fuzzed POST /logout ends the one it was sent with), plus a
    valid CSRF cookie and header, so that generated form posts reach the handlers behind the CSRF check."""
    with TestClient(fuzzed_app) as client:
        response = client.post(
            "/api/v1/auth/token", data={"username": ADMIN_EMAIL, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200, response.text
        csrf = csrf_token(client)
        yield {
            "headers": {"Authorization": f"Bearer {response.json()['access_token']}", CSRF_HEADER: csrf},
            "cookies": {CSRF_COOKIE: csrf},
        }


def _fuzz(case: schemathesis.Case, app: FastAPI, signed_in: dict[str, dict[str, str]]) -> None:
    case.call_and_validate(
        app=app,
        headers=signed_in["headers"],
        cookies=signed_in["cookies"],
        checks=[not_a_server_error, response_schema_conformance],
    )


def _examples(count: int) -> hypothesis_settings:
    return hypothesis_settings(
        max_examples=count,
        deadline=None,
        derandomize=True,  # the same requests on every run: a failure here is reproducible, never flaky
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report's curl line reproduces it
        suppress_health_check=list(HealthCheck),
    )


@json_api.parametrize()
@_examples(API_EXAMPLES)
def test_json_api_answers_without_server_errors_and_as_documented(
    case: schemathesis.Case, fuzzed_app: FastAPI, signed_in: dict[str, dict[str, str]]
) -> None:
    _fuzz(case, fuzzed_app, signed_in)


@pages.parametrize()
@_examples(PAGE_EXAMPLES)
def test_pages_and_forms_answer_without_server_errors(
    case: schemathesis.Case, fuzzed_app: FastAPI, signed_in: dict[str, dict[str, str]]
) -> None:
    _fuzz(case, fuzzed_app, signed_in)


def _empty_all_tables(engine: Engine) -> None:
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
