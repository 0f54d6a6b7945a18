"""`academy demo`: exactly 1,349 brokers in the earlier register, spread over 2012–2022 and mostly junior,
marked as demo data; two classes with trainees at every stage; and a second run that changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from backend import security
from backend.accounts.idcard import id_number_problem
from backend.config import Settings
from backend.models import AuditEvent, Certificate, Cohort, Enrollment, ExamAttempt, User
from backend.roster import demo_data
from backend.roster.demo import DEMO_PASSWORD, RENEWAL_DUE_DAYS, run_demo
from backend.roster.service import today
from backend.roster.stats import compute_stats
from tests.support import visible_text

REPO_COURSES = Path(__file__).resolve().parents[2] / "courses"


def count(db: Session, statement: object) -> int:
    return int(db.exec(statement).one())  # type: ignore[call-overload]


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"courses_dir": REPO_COURSES})


def test_the_demo_builds_the_training_base_once(engine: Engine, db: Session, demo_settings: Settings) -> None:
    first = run_demo(engine, demo_settings, echo=lambda _line: None)
    assert first.already_present == 0 and first.legacy == 1349
    legacy = select(func.count(col(Certificate.id))).where(Certificate.source == "legacy")
    assert count(db, legacy) == 1349
    by_year = dict(
        db.exec(
            select(func.extract("year", col(Certificate.issued_on)), func.count())
            .where(Certificate.source == "legacy")
            .group_by(func.extract("year", col(Certificate.issued_on)))
        ).all()
    )
    assert {int(year): n for year, n in by_year.items()} == demo_data.LEGACY_PER_YEAR
    levels = dict(
        db.exec(
            select(Certificate.level, func.count())
            .where(Certificate.source == "legacy")
            .group_by(Certificate.level)
        ).all()
    )
    assert levels[1] > 0.8 * 1349 and levels[2] > 0 and levels[3] > 0
    records = db.exec(select(Certificate).where(Certificate.source == "legacy").limit(50)).all()
    for record in records:
        assert record.organisation.startswith("（演示数据）") and record.number.startswith("DEMO")
        number = security.decrypt_field(demo_settings.secret_key, record.id_number_encrypted)
        assert number and id_number_problem(number) is None and "3301" <= number[:4] <= "3311"
        assert record.credential_jwt is None and record.expires_on is None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "roster.legacy_imported")).one()
    assert event.after and event.after["demo"] is True and event.after["rows"] == 1349

    # the classes, with trainees at every stage, through the other features' services
    assert count(db, select(func.count(col(Cohort.id)))) == 2
    assert count(db, select(func.count(col(Enrollment.id)))) == 14
    stages = first.training.stages
    for stage in (
        "enrolled",
        "some_modules",
        "hours_met",
        "in_exam",
        "grading",
        "failed",
        "passed",
        "certified",
        "revoked",
    ):
        assert stages.get(stage), (stage, stages, first.training.notes)
    issued = db.exec(select(Certificate).where(Certificate.source == "issued")).all()
    assert sorted(c.status for c in issued) == ["revoked", "valid", "valid", "valid"]
    due = [c for c in issued if c.expires_on == today() + timedelta(days=RENEWAL_DUE_DAYS)]
    assert len(due) == 1 and due[0].status == "valid"  # the demo holder whose renewal is due
    assert next(c for c in issued if c.status == "revoked").revocation_reason
    statuses = {a.status for a in db.exec(select(ExamAttempt)).all()}
    assert {"open", "submitted", "graded"} <= statuses
    totals = compute_stats(db, on=today())
    assert totals.valid == 1349 + 3 and totals.valid_legacy == 1349 and totals.revoked == 1
    logins = {role: email for role, email, _password in first.logins}
    assert set(logins) == {"admin", "instructor", "trainee", "holder"}
    hashes = {
        u.password_hash for u in db.exec(select(User).where(col(User.email).like("%@demo.example.com"))).all()
    }
    assert len(hashes) == 1  # one shared hash for the demo accounts

    before = {
        "certificates": count(db, select(func.count(col(Certificate.id)))),
        "users": count(db, select(func.count(col(User.id)))),
        "events": count(db, select(func.count(col(AuditEvent.id)))),
    }
    second = run_demo(engine, demo_settings, echo=lambda _line: None)
    db.rollback()
    assert second.already_present == 1349 and second.legacy == 0
    after = {
        "certificates": count(db, select(func.count(col(Certificate.id)))),
        "users": count(db, select(func.count(col(User.id)))),
        "events": count(db, select(func.count(col(AuditEvent.id)))),
    }
    assert after == before


def test_the_demo_logins_work(engine: Engine, demo_settings: Settings, client: object) -> None:
    from fastapi.testclient import TestClient

    from tests.support import login

    assert isinstance(client, TestClient)
    result = run_demo(engine, demo_settings, echo=lambda _line: None)
    for _role, email, password in result.logins:
        client.cookies.clear()
        login(client, email, password)
    assert password == DEMO_PASSWORD
    assert client.get("/me/certificates").status_code == 200
    holder = dict((role, email) for role, email, _password in result.logins)["holder"]
    client.cookies.clear()
    login(client, holder, DEMO_PASSWORD)
    expiry = (today() + timedelta(days=RENEWAL_DUE_DAYS)).isoformat()
    assert expiry in visible_text(client.get("/me").text)  # the renewal reminder on the holder's page


def test_the_demo_refuses_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import config
    from backend.cli import app

    monkeypatch.setenv("ACADEMY_ENV", "production")
    monkeypatch.setenv("ACADEMY_SECRET_KEY", "p" * 48)
    config.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo"])
    finally:
        config.get_settings.cache_clear()
    assert result.exit_code == 1 and "production" in result.output


def test_the_demo_register_is_the_same_every_time() -> None:
    first = demo_data.legacy_roster(demo_data.PeopleFactory())
    again = demo_data.legacy_roster(demo_data.PeopleFactory())
    assert first == again and len(first) == 1349
    assert len({row["id_number"] for row in first}) == 1349 and len({row["number"] for row in first}) == 1349


def test_a_stage_a_feature_refuses_is_skipped_with_a_note(
    engine: Engine, db: Session, demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the exams refuse to start an attempt (as for a course without exam questions), the demo keeps
    every trainee at the last stage they really reached, says why, and fakes nothing after it."""
    from backend.errors import Conflict
    from backend.roster import demo_training

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise Conflict("这门课程还没有考试题目。")

    monkeypatch.setattr(demo_training.exam_attempts, "start_attempt", refuse)
    result = run_demo(engine, demo_settings, echo=lambda _line: None)
    assert result.legacy == 1349
    assert any(
        note.startswith("sitting the exam stopped: 这门课程还没有考试题目") for note in result.training.notes
    )
    assert set(result.training.stages) == {"enrolled", "some_modules", "hours_met"}
    assert count(db, select(func.count(col(Certificate.id))).where(Certificate.source == "issued")) == 0
