"""The security baseline a visitor's browser sees: headers, CSRF, role enforcement, error pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.models import User
from tests.support import TEST_PASSWORD, csrf_token, login, post_form


def test_security_headers_on_pages(client: TestClient) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "<script>" not in response.text  # no inline scripts: the CSP would block them
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in response.text
    assert client.get("/static/vendor/htmx-2.0.11/htmx.min.js").status_code == 200


def test_form_post_without_csrf_token_is_refused(client: TestClient, trainee: User) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": trainee.email, "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert "表单已过期" in response.text
    response = client.post(
        "/login", data={"email": trainee.email, "password": TEST_PASSWORD, "csrf_token": "forged.value"}
    )
    assert response.status_code == 403


def test_csrf_token_accepted_from_htmx_header(client: TestClient, trainee: User) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": trainee.email, "password": TEST_PASSWORD},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.headers["hx-redirect"] == "/me"


def test_logout_needs_csrf(client: TestClient, trainee: User) -> None:
    login(client, trainee.email)
    assert client.post("/logout").status_code == 403
    assert client.get("/me").status_code == 200


def test_trainee_gets_403_on_admin_pages_and_api(client: TestClient, trainee: User) -> None:
    login(client, trainee.email)
    response = client.get("/admin/users", headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert "此页面仅供管理员使用" in response.text
    assert client.get("/admin/audit").status_code == 403
    token = client.post(
        "/api/v1/auth/token", data={"username": trainee.email, "password": TEST_PASSWORD}
    ).json()
    assert token["access_token"]


def test_instructor_is_not_an_admin(client: TestClient, instructor: User) -> None:
    login(client, instructor.email)
    assert client.get("/admin/users").status_code == 403
    assert post_form(client, f"/admin/users/{instructor.id}/role", {"role": "admin"}).status_code == 403


def test_anonymous_is_sent_to_login_from_admin(client: TestClient) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/users"


def test_404_page_in_both_languages(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "页面不存在" in response.text
    response = client.get("/no-such-page?lang=en", headers={"Accept": "text/html"})
    assert "Page not found" in response.text
    assert client.get("/api/v1/nothing").json() == {"detail": "Not Found"}
