"""Reminders 90 and 30 days before expiry, through the notification outbox, each sent once (time travel:
`today=` is passed to the reminder run)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from backend.config import Settings
from backend.models import Certificate, Notification, RenewalReminder, User
from backend.renewal.reminders import run_once, send_reminders
from tests.renewal.support import today
from tests.roster.support import add_certificate

KIND = "certificate_expiry_reminder"


def reminders_to(db: Session, user: User) -> list[Notification]:
    db.expire_all()
    return list(
        db.exec(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == KIND)
            .order_by(col(Notification.id))
        )
    )


def run(db: Session, settings: Settings, day: date) -> list[tuple[str, int]]:
    outcome = send_reminders(db, settings=settings, today=day)
    db.commit()
    return outcome.sent


def test_reminders_go_out_90_and_30_days_before_expiry_once_each(
    db: Session, settings: Settings, person: Callable[..., User], expiring: Callable[..., Certificate]
) -> None:
    holder = person("李四")
    expires = today() + timedelta(days=200)
    certificate = expiring(holder, expires)

    assert run(db, settings, expires - timedelta(days=91)) == []
    assert run(db, settings, expires - timedelta(days=90)) == [(certificate.number, 90)]
    assert run(db, settings, expires - timedelta(days=90)) == []  # a re-run the same day
    assert run(db, settings, expires - timedelta(days=60)) == []
    assert run(db, settings, expires - timedelta(days=30)) == [(certificate.number, 30)]
    assert run(db, settings, expires - timedelta(days=29)) == []
    assert run(db, settings, expires + timedelta(days=1)) == []  # lapsed: no more reminders

    sent = reminders_to(db, holder)
    assert len(sent) == 2
    assert "90天后到期" in sent[0].subject and certificate.number in sent[0].subject
    assert "30天后到期" in sent[1].subject
    assert expires.isoformat() in sent[1].body and "/me/renewal" in sent[1].body
    assert sent[1].to_email == holder.email


def test_a_certificate_first_seen_20_days_before_expiry_gets_one_reminder(
    db: Session, settings: Settings, person: Callable[..., User], expiring: Callable[..., Certificate]
) -> None:
    holder = person()
    certificate = expiring(holder, today() + timedelta(days=20))

    assert run(db, settings, today()) == [(certificate.number, 30)]
    assert run(db, settings, today() + timedelta(days=1)) == []

    assert len(reminders_to(db, holder)) == 1
    recorded = db.exec(
        select(RenewalReminder.days_before).where(RenewalReminder.certificate_id == certificate.id)
    )
    assert sorted(recorded) == [30, 90]


def test_a_legacy_record_is_reminded_through_the_account_with_its_id_number(
    db: Session, settings: Settings, person: Callable[..., User]
) -> None:
    holder = person("王五")
    legacy = add_certificate(db, settings, number="ZJ-2019-0001", expires_on=today() + timedelta(days=80))
    legacy.id_number_hash = holder.id_number_hash
    db.add(legacy)
    add_certificate(
        db, settings, number="ZJ-2019-0002", expires_on=today() + timedelta(days=80)
    )  # no account
    db.commit()

    outcome = send_reminders(db, settings=settings, today=today())
    db.commit()

    assert outcome.sent == [("ZJ-2019-0001", 90)]
    assert outcome.skipped_no_email == 1
    assert len(reminders_to(db, holder)) == 1


def test_the_command_sends_them(
    db: Session,
    engine: Engine,
    settings: Settings,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder = person()
    certificate = expiring(holder, today() + timedelta(days=400))
    monkeypatch.setattr("backend.renewal.cli.get_settings", lambda: settings)
    from backend.cli import app

    travelled = (today() + timedelta(days=400 - 30)).isoformat()
    result = CliRunner().invoke(app, ["renewal", "remind", "--today", travelled])
    assert result.exit_code == 0, result.output
    assert f"reminded {certificate.number} (30-day reminder)" in result.output
    again = CliRunner().invoke(app, ["renewal", "remind", "--today", travelled])
    assert "reminders sent: 0" in again.output
    assert len(reminders_to(db, holder)) == 1
    assert run_once(engine, settings, today=today()).sent == []
