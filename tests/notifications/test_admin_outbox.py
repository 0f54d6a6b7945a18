"""/admin/outbox: administrators read every message (nothing is silently dropped) and send failed ones again."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.models import AuditEvent, Notification, User
from backend.notifications import messages
from backend.notifications.service import notify
from tests.support import login, post_form, visible_text


def _outbox(db: Session, trainee: User) -> list[Notification]:
    reset = messages.password_reset_message(
        name=trainee.name, link="http://127.0.0.1:8000/password/reset/abc", minutes=60
    )
    welcome = messages.account_created_message(
        name="李四",
        email="lisi@example.com",
        link="http://127.0.0.1:8000/password/reset/def",
        days=7,
        class_name="第 12 期培训班",
    )
    rows = [
        notify(
            db, user=trainee, to_email=trainee.email, kind=reset.kind, subject=reset.subject, body=reset.body
        ),
        notify(
            db,
            user=None,
            to_email="lisi@example.com",
            kind=welcome.kind,
            subject=welcome.subject,
            body=welcome.body,
        ),
    ]
    rows[0].status = "failed"
    rows[0].attempts = 3
    rows[0].last_error = "SMTPRecipientsRefused: 550 mailbox unavailable"
    rows[1].status = "kept"
    db.commit()
    return rows


def test_the_outbox_lists_filters_and_shows_whole_messages(
    client: TestClient, db: Session, admin: User, trainee: User
) -> None:
    failed, kept = _outbox(db, trainee)
    login(client, admin.email)

    page = client.get("/admin/outbox")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "2 messages" in text or "2 封邮件" in text
    assert trainee.email in text and "lisi@example.com" in text
    assert "【技术经纪人学院】重置密码" in text and "【技术经纪人学院】您的学员账户已开通" in text

    only_failed = visible_text(client.get("/admin/outbox?status=failed").text)
    assert trainee.email in only_failed and "lisi@example.com" not in only_failed
    by_kind = visible_text(client.get("/admin/outbox?kind=account_created").text)
    assert "lisi@example.com" in by_kind and trainee.email not in by_kind
    by_email = visible_text(client.get("/admin/outbox?email=LISI").text)
    assert "lisi@example.com" in by_email and trainee.email not in by_email

    fragment = client.get("/admin/outbox?status=kept", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in fragment.text and "lisi@example.com" in fragment.text

    detail = client.get(f"/admin/outbox/{kept.id}")
    assert detail.status_code == 200
    body = visible_text(detail.text)
    assert "培训基地已为您开通技术经纪人学院的学员账户，用于参加「第 12 期培训班」" in body
    assert "http://127.0.0.1:8000/password/reset/def" in body
    assert not re.search(
        r'action="/admin/outbox/\d+/retry"', detail.text
    )  # kept, and no mail server to send it

    failed_page = client.get(f"/admin/outbox/{failed.id}")
    assert "550 mailbox unavailable" in visible_text(failed_page.text)
    assert f'action="/admin/outbox/{failed.id}/retry"' in failed_page.text


def test_an_administrator_sends_a_failed_message_again(
    client: TestClient, db: Session, engine: Engine, admin: User, trainee: User
) -> None:
    failed, kept = _outbox(db, trainee)
    login(client, admin.email)

    page = client.get(f"/admin/outbox/{failed.id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)  # the form carries its own token
    assert token
    response = client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token.group(1)})
    assert response.status_code == 303 and response.headers["location"] == f"/admin/outbox/{failed.id}"
    with Session(engine) as session:
        row = session.get(Notification, failed.id)
        assert row is not None
        assert row.status == "kept"  # queued again, then delivered after the request: no mail server here
        assert (
            session.exec(select(AuditEvent).where(AuditEvent.action == "notification.retry")).one().actor_id
            == admin.id
        )

    refused = post_form(client, f"/admin/outbox/{kept.id}/retry", {}, follow_redirects=True)
    assert "Only a message that could not be sent" in refused.text or "只有发送失败的邮件" in refused.text


def test_trainees_cannot_read_the_outbox(client: TestClient, db: Session, trainee: User) -> None:
    failed, _kept = _outbox(db, trainee)
    login(client, trainee.email)
    assert client.get("/admin/outbox").status_code == 403
    assert client.get(f"/admin/outbox/{failed.id}").status_code == 403
    assert post_form(client, f"/admin/outbox/{failed.id}/retry", {}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient) -> None:
    response = client.get("/admin/outbox")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_admin_navigation_links_to_the_outbox(client: TestClient, admin: User) -> None:
    login(client, admin.email)
    assert 'href="/admin/outbox"' in client.get("/admin/users").text
