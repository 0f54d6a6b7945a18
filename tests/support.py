"""Helpers the tests share: acting as a browser (CSRF, forms, login) and creating users directly."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from backend.accounts import service as accounts
from backend.accounts.idcard import mod11_2_check_char
from backend.accounts.schemas import Registration
from backend.config import Settings
from backend.models import Role, User
from backend.security import CSRF_COOKIE

TEST_PASSWORD = "Qiushi-Broker-2026"


def valid_id_number(base17: str) -> str:
    return base17 + mod11_2_check_char(base17)


VALID_ID_NUMBERS = (
    valid_id_number("11010519491231002"),
    valid_id_number("33010619900101123"),
    valid_id_number("44030819850505001"),
)


def csrf_token(client: TestClient) -> str:
    """The CSRF token a browser would send back: read from the cookie after any page load."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/login")
    return client.cookies[CSRF_COOKIE]


def post_form(client: TestClient, url: str, data: dict[str, str], **kwargs: Any) -> Response:
    return client.post(url, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


def make_user(
    db: Session,
    settings: Settings,
    *,
    email: str = "trainee@example.com",
    name: str = "王小明",
    role: Role = Role.trainee,
    password: str = TEST_PASSWORD,
    id_number: str = "",
) -> User:
    form = Registration(
        email=email, name=name, password=password, password_confirm=password, id_number=id_number
    )
    user = accounts.register_user(db, settings=settings, form=form, role=role)
    db.commit()
    return user


def login(client: TestClient, email: str, password: str = TEST_PASSWORD) -> None:
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text


def visible_text(html: str) -> str:
    """The text a person reads: tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
