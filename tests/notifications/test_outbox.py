"""The outbox: a message exists exactly when the act that wrote it commits, is delivered by SMTP after
the commit (or kept for an administrator when there is no mail server), and failures are kept and retried."""

from __future__ import annotations

import smtplib
import socket
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select, update

from backend.config import Settings
from backend.models import Notification, User, utcnow
from backend.notifications import messages
from backend.notifications.service import deliver_pending, notify
from tests.notifications.smtp_sink import SmtpSink


def _notify(db: Session, user: User | None, to_email: str = "wang@example.com") -> Notification:
    message = messages.enrolment_confirmed_message(
        name="王小明", class_name="2026 年春季初级技术经纪人培训班", link="http://127.0.0.1:8000/me"
    )
    return notify(
        db, user=user, to_email=to_email, kind=message.kind, subject=message.subject, body=message.body
    )


def _rows(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(session.exec(select(Notification).order_by(Notification.id)).all())


def test_notify_writes_a_pending_row_in_the_callers_transaction(
    db: Session, engine: Engine, trainee: User
) -> None:
    _notify(db, trainee, trainee.email)
    assert _rows(engine) == []  # not committed yet: nobody else sees it
    db.commit()
    [row] = _rows(engine)
    assert (row.status, row.user_id, row.to_email, row.kind) == (
        "pending",
        trainee.id,
        trainee.email,
        "enrolment_confirmed",
    )
    assert row.subject == "【技术经纪人学院】报名确认：2026 年春季初级技术经纪人培训班"
    assert "您已成功报名「2026 年春季初级技术经纪人培训班」" in row.body


def test_a_rolled_back_act_sends_nothing(
    db: Session, engine: Engine, smtp_settings: Settings, smtp_sink: SmtpSink
) -> None:
    _notify(db, None)
    db.rollback()
    assert deliver_pending(engine, smtp_settings) == 0
    assert _rows(engine) == []
    assert smtp_sink.received == []


def test_delivery_sends_by_smtp_and_marks_sent(
    db: Session, engine: Engine, smtp_settings: Settings, smtp_sink: SmtpSink
) -> None:
    _notify(db, None, "wang@example.com")
    _notify(db, None, "li@example.com")
    db.commit()

    assert deliver_pending(engine, smtp_settings) == 2

    assert [row.status for row in _rows(engine)] == ["sent", "sent"]
    assert all(row.sent_at is not None and row.attempts == 1 for row in _rows(engine))
    first = smtp_sink.received[0]
    assert first["To"] == "wang@example.com"
    assert first["Subject"] == "【技术经纪人学院】报名确认：2026 年春季初级技术经纪人培训班"
    assert first["From"] == "技术经纪人学院 <noreply@127.0.0.1>"
    assert "您已成功报名" in first.get_content()
    assert deliver_pending(engine, smtp_settings) == 0  # nothing is sent twice
    assert len(smtp_sink.received) == 2


def test_without_a_mail_server_messages_are_kept_for_the_administrator(
    db: Session, engine: Engine, settings: Settings
) -> None:
    assert not settings.smtp_configured
    _notify(db, None)
    db.commit()
    assert deliver_pending(engine, settings) == 0
    [row] = _rows(engine)
    assert (row.status, row.attempts, row.sent_at) == ("kept", 0, None)


def test_a_refused_message_is_failed_with_the_error_then_retried(
    db: Session, engine: Engine, smtp_settings: Settings, smtp_sink: SmtpSink
) -> None:
    _notify(db, None)
    db.commit()
    smtp_sink.refuse_recipients = True

    assert deliver_pending(engine, smtp_settings) == 0
    [row] = _rows(engine)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error and "550" in row.last_error and "mailbox unavailable" in row.last_error

    assert deliver_pending(engine, smtp_settings) == 0  # a retry waits a minute
    assert _rows(engine)[0].attempts == 1

    smtp_sink.refuse_recipients = False
    _age_attempts(engine)
    assert deliver_pending(engine, smtp_settings) == 1
    [row] = _rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(smtp_sink.received) == 1


def test_after_three_failed_attempts_a_message_is_left_for_the_administrator(
    db: Session, engine: Engine, smtp_settings: Settings, smtp_sink: SmtpSink
) -> None:
    _notify(db, None)
    db.commit()
    smtp_sink.refuse_recipients = True
    for _ in range(4):
        deliver_pending(engine, smtp_settings)
        _age_attempts(engine)
    [row] = _rows(engine)
    assert (row.status, row.attempts) == ("failed", 3)


def test_an_unreachable_server_fails_every_due_message(
    db: Session, engine: Engine, settings: Settings
) -> None:
    _notify(db, None)
    _notify(db, None)
    db.commit()
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout": 2.0}
    )
    assert deliver_pending(engine, unreachable) == 0
    rows = _rows(engine)
    assert [row.status for row in rows] == ["failed", "failed"]
    assert all("ConnectionRefusedError" in (row.last_error or "") for row in rows)


def test_starttls_and_login_are_used_when_configured(
    db: Session, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Any]] = []

    class RecordingSMTP:
        def __init__(self, host: str, port: int, local_hostname: str, timeout: float) -> None:
            calls.append(("connect", (host, port, local_hostname, timeout)))

        def starttls(self, context: object) -> None:
            calls.append(("starttls", None))

        def login(self, user: str, password: str) -> None:
            calls.append(("login", (user, password)))

        def send_message(self, message: Any) -> None:
            calls.append(("send", message["To"]))

        def quit(self) -> None:
            calls.append(("quit", None))

    monkeypatch.setattr(smtplib, "SMTP", RecordingSMTP)
    configured = settings.model_copy(
        update={
            "smtp_host": "smtp.example.com",
            "smtp_port": 587,
            "smtp_user": "academy",
            "smtp_password": "s3cret",
            "smtp_from": "培训基地 <training@example.com>",
            "public_base_url": "https://academy.example.com",
        }
    )
    _notify(db, None, "wang@example.com")
    db.commit()
    assert deliver_pending(engine, configured) == 1
    assert calls == [
        ("connect", ("smtp.example.com", 587, "academy.example.com", 10.0)),
        ("starttls", None),
        ("login", ("academy", "s3cret")),
        ("send", "wang@example.com"),
        ("quit", None),
    ]


def _age_attempts(engine: Engine) -> None:
    with Session(engine) as session:
        session.exec(update(Notification).values(attempted_at=utcnow() - timedelta(minutes=5)))
        session.commit()


def test_the_send_command_delivers_the_outbox(
    db: Session, engine: Engine, smtp_settings: Settings, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from backend.cli import app as cli
    from backend.notifications import cli as notifications_cli

    _notify(db, None)
    db.commit()
    monkeypatch.setattr(notifications_cli, "get_settings", lambda: smtp_settings)
    result = CliRunner().invoke(cli, ["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and "outbox: sent 1" in result.output
    assert len(smtp_sink.received) == 1
