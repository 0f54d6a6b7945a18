"""Fixtures for the roster tests: signed-in browsers for an administrator and a trainee."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend import i18n
from backend.i18n import LANG_COOKIE
from backend.models import User
from tests.support import login


@pytest.fixture
def admin_client(client: TestClient, admin: User) -> TestClient:
    client.cookies.set(LANG_COOKIE, "en")  # pages in English, as the assertions are written
    login(client, admin.email)
    return client


@pytest.fixture
def english() -> Iterator[None]:
    """Messages built outside a request (services) in English, as the assertions are written."""
    token = i18n.current_locale.set("en")
    yield
    i18n.current_locale.reset(token)
