"""Who may do what: the administrators' roster pages and exports are theirs alone; anyone sees the public
page and API, which carry only public, masked data."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.config import Settings
from backend.models import User
from tests.roster.support import add_certificate, csv_bytes, good_row
from tests.support import csrf_token, login, post_form

ADMIN_PAGES = (
    "/admin/roster",
    "/admin/roster/import",
    "/admin/roster/settings",
    "/admin/roster/import/template.csv",
    "/admin/roster/exports/1",
)


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_a_trainee_is_refused_the_admin_pages(client: TestClient, trainee: User, url: str) -> None:
    login(client, trainee.email)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_an_instructor_cannot_export_or_import(
    client: TestClient, instructor: User, db: Session, settings: Settings
) -> None:
    add_certificate(db, settings, number="L-1")
    login(client, instructor.email)
    assert post_form(client, "/admin/roster/export", {"format": "csv", "full_ids": "1"}).status_code == 403
    files = {"file": ("r.csv", csv_bytes([good_row(1)]), "text/csv")}
    assert (
        client.post("/admin/roster/import", files=files, data={"csrf_token": csrf_token(client)}).status_code
        == 403
    )
    assert (
        post_form(client, "/admin/roster/settings", {"target_count": "5", "target_label": "x"}).status_code
        == 403
    )


def test_the_api_export_needs_an_administrators_token(client: TestClient, trainee: User) -> None:
    assert client.get("/api/v1/roster/export").status_code == 401
    token = client.post(
        "/api/v1/auth/token", data={"username": trainee.email, "password": "Qiushi-Broker-2026"}
    ).json()["access_token"]
    assert (
        client.get("/api/v1/roster/export", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    )


def test_anonymous_visitors_see_the_public_page_and_api(
    client: TestClient, db: Session, settings: Settings
) -> None:
    add_certificate(db, settings, number="L-1", name="王小明")
    assert client.get("/roster").status_code == 200
    assert client.get("/api/v1/roster/stats").json()["valid"] == 1
    data = client.get("/api/v1/roster").json()
    assert data["items"][0]["holder_name"] == "王*明" and data["items"][0]["number"] is None
    assert client.get("/me/directory").status_code == 303  # the opt-in is for holders, signed in


def test_the_export_form_needs_the_csrf_token(admin_client: TestClient) -> None:
    assert admin_client.post("/admin/roster/export", data={"format": "csv"}).status_code == 403
