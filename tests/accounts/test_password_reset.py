"""Forgotten passwords and set-your-password links, driven over HTTP as a person would."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update

from backend.accounts.password_reset import issue_reset_link, issue_welcome_links
from backend.config import Settings
from backend.main import create_app
from backend.models import AuditEvent, Notification, PasswordResetToken, User, utcnow
from tests.notifications.smtp_sink import SmtpSink
from tests.support import TEST_PASSWORD, csrf_token, login, make_user, post_form, visible_text

NEW_PASSWORD = "Qiantang-River-Tide-88"
LINK = re.compile(r"https?://\S+/password/reset/[A-Za-z0-9_-]+")


def _outbox(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(session.exec(select(Notification).order_by(col(Notification.id))).all())


def _link_path(body: str) -> str:
    match = LINK.search(body)
    assert match, body
    return "/password" + match.group(0).split("/password", 1)[1]


def _submit_form(client: TestClient, page: str, data: dict[str, str]) -> Response:
    """Post the page's form as a browser without JavaScript does: with the CSRF token the form carries."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert action and token and token.group(1), "the form has no CSRF token"
    return client.post(action.group(1), data={**data, "csrf_token": token.group(1)})


def _try_login(client: TestClient, email: str, password: str) -> int:
    return post_form(client, "/login", {"email": email, "password": password}).status_code


def test_login_page_links_to_the_forgot_page(client: TestClient) -> None:
    page = client.get("/login")
    assert 'href="/password/forgot"' in page.text
    assert client.get("/password/forgot").status_code == 200


def test_forgot_then_reset_then_log_in_with_the_new_password(
    client: TestClient, app: object, engine: Engine, settings: Settings, trainee: User
) -> None:
    other_device = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    login(other_device, trainee.email)
    assert other_device.get("/me", follow_redirects=False).status_code == 200

    answer = _submit_form(client, client.get("/password/forgot").text, {"email": trainee.email.upper()})
    assert answer.status_code == 200
    assert trainee.email.upper() in visible_text(answer.text)

    [mail] = _outbox(engine)
    assert (mail.kind, mail.to_email, mail.user_id) == ("password_reset", trainee.email, trainee.id)
    assert mail.subject == "【技术经纪人学院】重置密码"
    assert "60 分钟" in mail.body and mail.body.startswith(f"{trainee.name}，您好")
    assert LINK.search(mail.body).group(0).startswith(settings.public_base_url + "/password/reset/")  # type: ignore[union-attr]
    path = _link_path(mail.body)

    form = client.get(path)
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    assert 'name="password_confirm"' in form.text and trainee.email in form.text

    done = _submit_form(client, form.text, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/login"

    assert _try_login(client, trainee.email, TEST_PASSWORD) == 401
    assert _try_login(client, trainee.email, NEW_PASSWORD) == 303
    assert other_device.get("/me", follow_redirects=False).status_code == 303  # signed out everywhere

    again = client.get(path)
    assert again.status_code == 410
    assert 'href="/password/forgot"' in again.text
    assert (
        post_form(
            client, path, {"password": "Another-Long-Pass-99", "password_confirm": "Another-Long-Pass-99"}
        ).status_code
        == 410
    )
    assert _try_login(client, trainee.email, NEW_PASSWORD) == 303

    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
        assert (event.actor_id, event.target_id, event.after) == (
            trainee.id,
            str(trainee.id),
            {"purpose": "reset"},
        )
        token = session.exec(select(PasswordResetToken)).one()
        assert token.used_at is not None and path.rsplit("/", 1)[1] not in token.token_hash


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_stored(
    client: TestClient, engine: Engine, trainee: User
) -> None:
    known = post_form(client, "/password/forgot", {"email": trainee.email})
    unknown = post_form(client, "/password/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert visible_text(known.text).replace(trainee.email, "X") == visible_text(unknown.text).replace(
        "nobody@example.com", "X"
    )
    assert [mail.to_email for mail in _outbox(engine)] == [trainee.email]
    with Session(engine) as session:
        assert len(session.exec(select(PasswordResetToken)).all()) == 1


def test_an_expired_link_says_so_and_changes_nothing(
    client: TestClient, db: Session, engine: Engine, settings: Settings, trainee: User
) -> None:
    link = issue_reset_link(db, settings=settings, user=trainee)
    db.commit()
    with Session(engine) as session:
        session.exec(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    path = _link_path(link)

    page = client.get(path)
    assert page.status_code == 410
    assert "expired" in page.text or "已过期" in page.text
    assert 'href="/password/forgot"' in page.text
    refused = post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert refused.status_code == 410
    assert _try_login(client, trainee.email, TEST_PASSWORD) == 303


def test_a_new_link_voids_the_earlier_one(client: TestClient, engine: Engine, trainee: User) -> None:
    post_form(client, "/password/forgot", {"email": trainee.email})
    post_form(client, "/password/forgot", {"email": trainee.email})
    first, second = (_link_path(mail.body) for mail in _outbox(engine))
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_at_most_three_links_an_hour_per_address(client: TestClient, engine: Engine, trainee: User) -> None:
    answers = [post_form(client, "/password/forgot", {"email": trainee.email}) for _ in range(4)]
    assert {answer.status_code for answer in answers} == {200}
    assert len({visible_text(answer.text) for answer in answers}) == 1  # the fourth looks the same
    assert len(_outbox(engine)) == 3


def test_a_weak_or_mistyped_password_is_refused_with_its_reason(
    client: TestClient, db: Session, settings: Settings, trainee: User
) -> None:
    path = _link_path(issue_reset_link(db, settings=settings, user=trainee))
    db.commit()

    short = post_form(client, path, {"password": "short", "password_confirm": "short"})
    assert short.status_code == 422
    assert "at least 10 characters" in short.text or "至少 10 个字符" in visible_text(short.text)
    common = post_form(client, path, {"password": "password123", "password_confirm": "password123"})
    assert common.status_code == 422 and 'id="e-password"' in common.text
    mistyped = post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert mistyped.status_code == 422 and 'id="e-password_confirm"' in mistyped.text

    assert (
        post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code
        == 303
    )
    assert _try_login(client, trainee.email, NEW_PASSWORD) == 303


def test_a_welcome_link_lets_a_new_account_set_its_password(
    client: TestClient, db: Session, engine: Engine, settings: Settings
) -> None:
    newcomer = make_user(
        db, settings, email="zhao@example.com", name="赵六", password="Unknown-Random-Secret-1"
    )
    links = issue_welcome_links(db, settings=settings, users=[newcomer], class_name="2026 年春季初级班")
    db.commit()

    [mail] = _outbox(engine)
    assert (mail.kind, mail.to_email) == ("account_created", "zhao@example.com")
    assert mail.subject == "【技术经纪人学院】您的学员账户已开通"
    assert "用于参加「2026 年春季初级班」" in mail.body and "7 天内" in mail.body
    assert links[newcomer.id] in mail.body  # type: ignore[index]

    path = _link_path(mail.body)
    page = client.get(path)
    assert page.status_code == 200 and ("Set your password" in page.text or "设置您的密码" in page.text)
    assert (
        post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code
        == 303
    )
    assert _try_login(client, "zhao@example.com", NEW_PASSWORD) == 303


def test_the_email_is_sent_once_the_request_has_committed(
    engine: Engine, settings: Settings, db: Session, trainee: User
) -> None:
    with SmtpSink() as sink:
        smtp = settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_starttls": False}
        )
        application = create_app(smtp)
        with TestClient(application, follow_redirects=False) as browser:
            token = csrf_token(browser)
            answer = browser.post("/password/forgot", data={"email": trainee.email, "csrf_token": token})
            assert answer.status_code == 200
        application.state.engine.dispose()
        [received] = sink.received
    assert received["To"] == trainee.email and received["Subject"] == "【技术经纪人学院】重置密码"
    assert "/password/reset/" in received.get_content()
    [mail] = _outbox(engine)
    assert mail.status == "sent" and mail.sent_at is not None


def test_a_reset_ends_the_lockout_left_by_failed_sign_ins(
    client: TestClient, db: Session, settings: Settings, trainee: User
) -> None:
    for _ in range(settings.login_max_failures):
        _try_login(client, trainee.email, "wrong-password-123")
    assert _try_login(client, trainee.email, TEST_PASSWORD) == 429
    path = _link_path(issue_reset_link(db, settings=settings, user=trainee))
    db.commit()
    assert (
        post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code
        == 303
    )
    assert _try_login(client, trainee.email, NEW_PASSWORD) == 303
