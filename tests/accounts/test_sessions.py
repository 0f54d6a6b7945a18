"""Signing in and out, throttling, and sessions that end when they should."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select, update

from backend.models import LoginAttempt, User
from tests.support import TEST_PASSWORD, login, post_form, visible_text


def test_login_and_logout(client: TestClient, trainee: User) -> None:
    assert client.get("/me").status_code == 303  # not signed in: sent to the login page
    response = post_form(client, "/login", {"email": "TRAINEE@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/me").status_code == 200
    response = post_form(client, "/logout", {})
    assert response.status_code == 303
    assert client.get("/me").status_code == 303


def test_logged_out_token_stays_dead_when_replayed(app: object, client: TestClient, trainee: User) -> None:
    login(client, trainee.email)
    stolen = dict(client.cookies)
    post_form(client, "/logout", {})
    replay = TestClient(client.app, follow_redirects=False, cookies=stolen)
    assert replay.get("/me").status_code == 303


def test_login_redirects_back_to_the_page_asked_for(client: TestClient, trainee: User) -> None:
    first = client.get("/me/password")
    assert first.headers["location"] == "/login?next=/me/password"
    response = post_form(
        client, "/login", {"email": trainee.email, "password": TEST_PASSWORD, "next": "/me/password"}
    )
    assert response.headers["location"] == "/me/password"
    evil = post_form(
        client, "/login", {"email": trainee.email, "password": TEST_PASSWORD, "next": "//evil.example"}
    )
    assert evil.headers["location"] == "/me"


def test_wrong_password_message(client: TestClient, trainee: User) -> None:
    response = post_form(client, "/login", {"email": trainee.email, "password": "wrong-password-1"})
    assert response.status_code == 401
    assert "邮箱或密码不正确" in response.text
    assert 'value="trainee@example.com"' in response.text


def test_sixth_try_is_refused_with_a_retry_time_even_with_the_right_password(
    client: TestClient, trainee: User, db: Session
) -> None:
    for _ in range(5):
        response = post_form(client, "/login", {"email": trainee.email, "password": "wrong-password-1"})
        assert response.status_code == 401
    response = post_form(client, "/login", {"email": trainee.email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    text = visible_text(response.text)
    assert "登录失败次数过多" in text and "15 分钟后" in text
    # Kept in the database: another app process (a new client on a new app) is refused too.
    from backend.main import create_app

    other = TestClient(create_app(client.app.state.settings), follow_redirects=False)
    assert post_form(other, "/login", {"email": trainee.email, "password": TEST_PASSWORD}).status_code == 429
    # Once the failures are older than the lockout, the right password works again.
    db.exec(update(LoginAttempt).values(at=LoginAttempt.at - timedelta(minutes=16)))  # type: ignore[operator]
    db.commit()
    assert post_form(client, "/login", {"email": trainee.email, "password": TEST_PASSWORD}).status_code == 303


def test_success_resets_the_failure_count(client: TestClient, trainee: User, db: Session) -> None:
    for _ in range(4):
        post_form(client, "/login", {"email": trainee.email, "password": "wrong-password-1"})
    login(client, trainee.email)
    for _ in range(4):
        assert (
            post_form(client, "/login", {"email": trainee.email, "password": "wrong-password-1"}).status_code
            == 401
        )
    assert len(db.exec(select(LoginAttempt)).all()) == 9


def test_password_change_logs_out_other_browsers(client: TestClient, trainee: User) -> None:
    login(client, trainee.email)
    other_browser = TestClient(client.app, follow_redirects=False)
    login(other_browser, trainee.email)
    assert other_browser.get("/me").status_code == 200
    new = "Another-Strong-Pass-77"
    response = post_form(
        client,
        "/me/password",
        {"current_password": TEST_PASSWORD, "new_password": new, "new_password_confirm": new},
    )
    assert response.status_code == 303
    assert client.get("/me").status_code == 200  # this browser stays signed in with a fresh session
    assert other_browser.get("/me").status_code == 303  # the old cookie no longer works
    fresh = TestClient(client.app, follow_redirects=False)
    assert post_form(fresh, "/login", {"email": trainee.email, "password": TEST_PASSWORD}).status_code == 401
    login(fresh, trainee.email, new)


def test_password_change_refused_with_wrong_current_password(client: TestClient, trainee: User) -> None:
    login(client, trainee.email)
    new = "Another-Strong-Pass-77"
    response = post_form(
        client,
        "/me/password",
        {"current_password": "nope-nope-nope", "new_password": new, "new_password_confirm": new},
    )
    assert response.status_code == 422
    assert "当前密码不正确" in response.text
    fresh = TestClient(client.app, follow_redirects=False)
    login(fresh, trainee.email, TEST_PASSWORD)


def test_deactivated_user_cannot_sign_in_and_is_signed_out(
    client: TestClient, trainee: User, db: Session
) -> None:
    login(client, trainee.email)
    db.exec(update(User).where(User.id == trainee.id).values(is_active=False))  # type: ignore[arg-type]
    db.commit()
    assert client.get("/me").status_code == 303
    response = post_form(client, "/login", {"email": trainee.email, "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert "该账号已停用" in response.text


def test_profile_edit(client: TestClient, trainee: User) -> None:
    login(client, trainee.email)
    response = post_form(
        client,
        "/me/profile",
        {"name": "王大明", "phone": "139-0013-9000", "organisation": "之江实验室", "region": "杭州"},
    )
    assert response.status_code == 303
    text = visible_text(client.get("/me").text)
    assert "王大明" in text and "之江实验室" in text and "139****9000" in text
    bad = post_form(client, "/me/profile", {"name": "王大明", "phone": "12345"})
    assert bad.status_code == 422 and "11 位手机号码" in bad.text
