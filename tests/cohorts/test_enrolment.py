"""A trainee enrols in an open class until it is full; two people racing for the last seat: exactly one
gets it, on SQLite and on PostgreSQL (two app instances, two threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.cohorts import enrolment
from backend.config import Settings
from backend.main import create_app
from backend.models import AuditEvent, Cohort, Enrollment, Notification, User
from tests.cohorts.support import enrol
from tests.support import login, post_form, visible_text


def _fresh(db: Session) -> None:
    db.rollback()
    db.expire_all()


def test_trainee_sees_open_classes_and_enrols(
    client: TestClient, trainee: User, make_cohort: Callable[..., Cohort], db: Session
) -> None:
    open_class = make_cohort(name="报名中的班", capacity=30)
    make_cohort(name="筹备中的班", status="planned")
    login(client, trainee.email)
    listing = visible_text(client.get("/classes", params={"course": "broker-junior"}).text)
    assert "报名中的班" in listing and "筹备中的班" not in listing and "剩余 30 个名额" in listing
    response = post_form(client, f"/classes/{open_class.id}/enrol", {})
    assert response.status_code == 303
    page = visible_text(client.get(f"/classes/{open_class.id}").text)
    assert "您已报名“报名中的班”" in page and "我的进度" in page
    _fresh(db)
    enrolment = db.exec(select(Enrollment)).one()
    assert enrolment.user_id == trainee.id and enrolment.source == "self" and enrolment.status == "enrolled"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "enrollment.created")).one()
    assert event.actor_id == trainee.id and event.after and event.after["source"] == "self"
    mail = db.exec(select(Notification)).one()
    assert (
        mail.kind == "enrolment_confirmed" and mail.to_email == trainee.email and "报名中的班" in mail.subject
    )


def test_cannot_enrol_twice_in_a_full_or_a_closed_class(
    client: TestClient,
    trainee: User,
    make_cohort: Callable[..., Cohort],
    person: Callable[..., User],
    db: Session,
) -> None:
    full = make_cohort(name="满员班", capacity=1)
    enrol(db, full, person())
    planned = make_cohort(name="筹备班", status="planned")
    mine = make_cohort(name="我的班")
    enrol(db, mine, trainee)
    login(client, trainee.email)
    assert "本班名额已满" in post_form(client, f"/classes/{full.id}/enrol", {}, follow_redirects=True).text
    assert (
        "本班目前不接受报名"
        in post_form(client, f"/classes/{planned.id}/enrol", {}, follow_redirects=True).text
    )
    assert "您已报名本班" in post_form(client, f"/classes/{mine.id}/enrol", {}, follow_redirects=True).text
    _fresh(db)
    assert len(db.exec(select(Enrollment)).all()) == 2
    assert db.exec(select(Notification)).all() == []


def test_withdraw_frees_the_seat_and_can_enrol_again(
    client: TestClient, trainee: User, make_cohort: Callable[..., Cohort], db: Session
) -> None:
    cohort = make_cohort(capacity=1)
    login(client, trainee.email)
    post_form(client, f"/classes/{cohort.id}/enrol", {})
    withdrawn = post_form(client, f"/classes/{cohort.id}/withdraw", {}, follow_redirects=True)
    assert "您已退出" in withdrawn.text and "剩余 1 个名额" not in withdrawn.text
    _fresh(db)
    assert enrolment.seats_taken(db, cohort_id=cohort.id or 0) == 0
    post_form(client, f"/classes/{cohort.id}/enrol", {})
    _fresh(db)
    assert db.exec(select(Enrollment)).one().status == "enrolled"


def test_anonymous_visitor_is_asked_to_log_in(client: TestClient, cohort: Cohort) -> None:
    page = client.get(f"/classes/{cohort.id}")
    assert page.status_code == 200 and "登录后报名" in page.text
    response = post_form(client, f"/classes/{cohort.id}/enrol", {})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.fixture
def slow_seat_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the race: count the seats, then wait before taking one. Without the lock on the class
    row both requests would count one free seat and both enrol."""
    real = enrolment.seats_taken

    def slow(session: Session, *, cohort_id: int) -> int:
        taken = real(session, cohort_id=cohort_id)
        time.sleep(0.4)
        return taken

    monkeypatch.setattr(enrolment, "seats_taken", slow)


def test_two_people_race_for_the_last_seat(
    settings: Settings,
    make_cohort: Callable[..., Cohort],
    person: Callable[..., User],
    db: Session,
    slow_seat_count: None,
) -> None:
    cohort = make_cohort(capacity=3)
    enrol(db, cohort, person(), person())  # one seat left
    racers = [person("甲"), person("乙")]
    apps = [create_app(settings), create_app(settings)]  # two app processes' worth: own engines, own pools
    clients = [TestClient(app, follow_redirects=False) for app in apps]
    for client, racer in zip(clients, racers, strict=True):
        client.__enter__()
        login(client, racer.email)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def take_seat(index: int) -> None:
        client = clients[index]
        data = {"csrf_token": client.cookies["academy_csrf"]}
        barrier.wait()
        outcomes[index] = client.post(f"/classes/{cohort.id}/enrol", data=data)

    threads = [threading.Thread(target=take_seat, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        flashes = [visible_text(client.get(f"/classes/{cohort.id}").text) for client in clients]
    finally:
        for client in clients:
            client.__exit__(None, None, None)
        for app in apps:
            app.state.engine.dispose()
    assert all(outcome is not None and outcome.status_code == 303 for outcome in outcomes)
    got_it = ["您已报名“" in text for text in flashes]
    turned_away = ["本班名额已满" in text for text in flashes]
    assert sorted(got_it) == [False, True] and sorted(turned_away) == [False, True]
    _fresh(db)
    assert enrolment.seats_taken(db, cohort_id=cohort.id or 0) == 3
    winners = db.exec(select(Enrollment.user_id).where(Enrollment.user_id.in_([r.id for r in racers]))).all()  # type: ignore[union-attr]
    assert len(winners) == 1


def test_seat_check_and_take_are_one_step_in_the_service(
    engine: Any, make_cohort: Callable[..., Cohort], person: Callable[..., User], db: Session
) -> None:
    """Direct service calls in two transactions, as two workers would make them."""
    from backend.db import writer_engine

    cohort = make_cohort(capacity=1)
    first, second = person(), person()
    errors: list[str] = []

    def take(user: User) -> None:
        with Session(writer_engine(engine)) as session:
            try:
                enrolment.enrol(session, cohort_id=cohort.id or 0, user=user, actor=user)
                time.sleep(0.3)  # hold the lock a while
                session.commit()
            except Exception as error:  # the loser: a domain error, not a crash
                errors.append(type(error).__name__)
                session.rollback()

    threads = [threading.Thread(target=take, args=(u,)) for u in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    _fresh(db)
    assert errors == ["Conflict"]
    assert enrolment.seats_taken(db, cohort_id=cohort.id or 0) == 1


def test_admin_enrols_an_existing_account_by_email(
    client: TestClient, admin: User, trainee: User, cohort: Cohort, db: Session
) -> None:
    login(client, admin.email)
    done = post_form(client, f"/admin/classes/{cohort.id}/enrolments", {"email": "Trainee@Example.com"})
    assert "王小明 已报名" in visible_text(client.get(done.headers["location"]).text)
    again = post_form(
        client, f"/admin/classes/{cohort.id}/enrolments", {"email": trainee.email}, follow_redirects=True
    )
    assert "王小明 已在本班报名" in visible_text(again.text)
    unknown = post_form(
        client,
        f"/admin/classes/{cohort.id}/enrolments",
        {"email": "nobody@example.com"},
        follow_redirects=True,
    )
    assert "没有使用该邮箱的账号" in visible_text(unknown.text)
    withdrawn = post_form(
        client, f"/admin/classes/{cohort.id}/enrolments/{trainee.id}/withdraw", {}, follow_redirects=True
    )
    assert "该学员已退出本班" in visible_text(withdrawn.text)
    _fresh(db)
    enrolment = db.exec(select(Enrollment)).one()
    assert enrolment.source == "admin" and enrolment.status == "withdrawn"
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]  # type: ignore[arg-type]
    assert actions == ["enrollment.created", "enrollment.withdrawn"]
