"""The JSON API: OAuth2 password flow and /api/v1/me with a bearer token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.models import User
from tests.support import TEST_PASSWORD, VALID_ID_NUMBERS


def _token(client: TestClient, email: str, password: str = TEST_PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    return str(body["access_token"])


def test_token_and_me(client: TestClient, trainee: User) -> None:
    token = _token(client, trainee.email)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == trainee.email
    number = VALID_ID_NUMBERS[0]
    assert body["id_number_masked"] == number[:6] + "********" + number[-4:]
    assert number not in response.text


def test_wrong_password_and_missing_token(client: TestClient, trainee: User) -> None:
    response = client.post(
        "/api/v1/auth/token", data={"username": trainee.email, "password": "nope-nope-nope"}
    )
    assert response.status_code == 400
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer forged.token.value"}).status_code == 401


def test_token_signed_with_another_key_or_algorithm_is_refused(client: TestClient, trainee: User) -> None:
    from jose import jwt

    forged = jwt.encode(
        {"sub": str(trainee.id), "sid": "x", "typ": "session"}, "other-key", algorithm="HS256"
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    header = '{"alg":"none","typ":"JWT"}'
    import base64

    none_token = (
        base64.urlsafe_b64encode(header.encode()).rstrip(b"=").decode()
        + "."
        + base64.urlsafe_b64encode(f'{{"sub":"{trainee.id}","sid":"x","typ":"session"}}'.encode())
        .rstrip(b"=")
        .decode()
        + "."
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {none_token}"}).status_code == 401


def test_api_token_dies_after_password_change(client: TestClient, trainee: User) -> None:
    token = _token(client, trainee.email)
    from tests.support import login, post_form

    login(client, trainee.email)
    new = "Another-Strong-Pass-77"
    post_form(
        client,
        "/me/password",
        {"current_password": TEST_PASSWORD, "new_password": new, "new_password_confirm": new},
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
