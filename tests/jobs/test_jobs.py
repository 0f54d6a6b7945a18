"""Background jobs: a handler runs in its own thread and transaction, its progress is visible while it
runs, its result link when it is done, and a failure keeps none of its writes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from backend.audit import record_event
from backend.db import SessionDep
from backend.jobs import service as jobs
from backend.jobs.service import ProgressFn
from backend.models import AuditEvent, Job, User, utcnow
from backend.web import redirect
from tests.support import TEST_PASSWORD, login, make_user, post_form, visible_text

ITEMS = 20
GATE_AT = 10


class Gate:
    """Holds a handler at one item until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()


@pytest.fixture
def gate() -> Iterator[Gate]:
    opened = Gate()
    yield opened
    opened.release.set()  # never leave a handler waiting


@pytest.fixture(autouse=True)
def handlers(gate: Gate) -> None:
    def count_items(session: Session, job: Job, progress: ProgressFn) -> dict[str, Any]:
        progress(0, "Starting", total=ITEMS)
        for item in range(1, ITEMS + 1):
            record_event(session, actor=None, action="test.item", target_id=item, after={"job": job.id})
            if item == job.payload.get("fail_at"):
                raise ValueError(f"row {item} is not valid")
            progress(item, f"Item {item} of {ITEMS}")
            if item == GATE_AT and job.payload.get("gated"):
                gate.reached.set()
                assert gate.release.wait(10)
        return {"url": "/admin/audit?action=test.item", "count": ITEMS}

    jobs.register_handler("test.count_items", count_items)


def _create(engine: Engine, owner: User | None, **payload: Any) -> int:
    with Session(engine) as session:
        job = jobs.create_job(session, kind="test.count_items", owner=owner, payload=payload)
        session.commit()
        assert job.id is not None
        return job.id


def _job(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _items_written(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).where(col(AuditEvent.action) == "test.item")).one()


def test_a_job_runs_to_the_end_and_its_page_shows_the_result(
    client: TestClient, engine: Engine, admin: User
) -> None:
    login(client, admin.email)
    job_id = _create(engine, admin)
    jobs.launch(engine, job_id).join(timeout=15)

    job = _job(engine, job_id)
    assert (job.status, job.done, job.total, job.result) == (
        "done",
        ITEMS,
        ITEMS,
        {"url": "/admin/audit?action=test.item", "count": ITEMS},
    )
    assert job.started_at and job.finished_at and job.error is None
    assert _items_written(engine) == ITEMS

    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "20 of 20 (100%)" in text or "20 / 20（100%）" in text
    assert '<progress id="job-bar" max="100" value="100"' in page.text
    assert 'href="/admin/audit?action=test.item"' in page.text
    assert "hx-trigger" not in page.text and "refresh" not in page.text  # finished: no more polling


def test_progress_is_visible_while_the_job_runs(
    client: TestClient, engine: Engine, trainee: User, gate: Gate
) -> None:
    login(client, trainee.email)  # before the job starts writing (SQLite has one writer at a time)
    token = _bearer(client, trainee)
    job_id = _create(engine, trainee, gated=True)
    thread = jobs.launch(engine, job_id)
    assert gate.reached.wait(15)

    page = client.get(f"/jobs/{job_id}")
    assert "10 of 20 (50%)" in visible_text(page.text) or "10 / 20（50%）" in visible_text(page.text)
    assert "Item 10 of 20" in page.text
    assert 'hx-trigger="every 1s"' in page.text and f'hx-get="/jobs/{job_id}"' in page.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text

    fragment = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true", "HX-Target": "progress"})
    assert fragment.text.lstrip().startswith('<div id="progress"') and "<html" not in fragment.text

    api = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert {k: api.json()[k] for k in ("status", "done", "total", "percent", "finished")} == {
        "status": "running",
        "done": GATE_AT,
        "total": ITEMS,
        "percent": 50,
        "finished": False,
    }

    gate.release.set()
    thread.join(timeout=15)
    done = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true", "HX-Target": "progress"})
    assert "hx-trigger" not in done.text and 'value="100"' in done.text
    final = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}).json()
    assert (final["status"], final["percent"], final["result_url"]) == (
        "done",
        100,
        "/admin/audit?action=test.item",
    )


def test_progress_reaches_the_database_for_other_processes(engine: Engine, trainee: User, gate: Gate) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("on SQLite a handler that has written holds the only write lock: progress is in memory")
    job_id = _create(engine, trainee, gated=True)
    thread = jobs.launch(engine, job_id)
    assert gate.reached.wait(15)
    _wait_until(lambda: _job(engine, job_id).done == GATE_AT)
    gate.release.set()
    thread.join(timeout=15)


def test_a_failing_job_keeps_none_of_its_writes(client: TestClient, engine: Engine, admin: User) -> None:
    login(client, admin.email)
    job_id = _create(engine, admin, fail_at=6)
    jobs.launch(engine, job_id).join(timeout=15)

    job = _job(engine, job_id)
    assert (job.status, job.error, job.done) == ("failed", "row 6 is not valid", 5)
    assert job.finished_at is not None and job.result is None
    assert _items_written(engine) == 0  # items 1-5 were written, then rolled back with the failure

    page = visible_text(client.get(f"/jobs/{job_id}").text)
    assert "row 6 is not valid" in page
    assert "Failed with an error" in page or "出错停止" in page


def test_only_the_owner_and_administrators_can_follow_a_job(
    client: TestClient, db: Session, engine: Engine, trainee: User, admin: User, settings: Any
) -> None:
    job_id = _create(engine, trainee)
    jobs.launch(engine, job_id).join(timeout=15)
    make_user(db, settings, email="other@example.com", name="张三")

    assert client.get(f"/jobs/{job_id}").status_code == 303  # not signed in: to the login page
    login(client, "other@example.com")
    assert client.get(f"/jobs/{job_id}").status_code == 404
    other_token = _bearer(client, "other@example.com")
    assert (
        client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {other_token}"}).status_code
        == 404
    )
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 401
    login(client, admin.email)
    assert client.get(f"/jobs/{job_id}").status_code == 200
    login(client, trainee.email)
    assert client.get(f"/jobs/{job_id}").status_code == 200
    assert client.get("/jobs/999999").status_code == 404


def test_resume_stale_reruns_jobs_of_a_dead_process(engine: Engine, trainee: User) -> None:
    dead = _create(engine, trainee)
    alive = _create(engine, trainee)
    waiting = _create(engine, trainee)
    with Session(engine) as session:
        for job_id, heartbeat in ((dead, utcnow() - timedelta(minutes=2)), (alive, utcnow())):
            job = session.get(Job, job_id)
            assert job is not None
            job.status, job.attempt, job.heartbeat_at, job.done = "running", 1, heartbeat, 7
            session.add(job)
        session.commit()

    assert sorted(jobs.resume_stale(engine)) == sorted([dead, waiting])

    _wait_until(lambda: _job(engine, dead).status == "done" and _job(engine, waiting).status == "done")
    rerun = _job(engine, dead)
    assert (rerun.attempt, rerun.done, rerun.result) == (
        2,
        ITEMS,
        {"url": "/admin/audit?action=test.item", "count": ITEMS},
    )
    assert _job(engine, alive).status == "running"  # its process is alive: left alone
    assert _items_written(engine) == 2 * ITEMS


def test_a_job_started_by_a_request_runs_after_the_request_commits(
    app: FastAPI, client: TestClient, engine: Engine, admin: User
) -> None:
    @app.post("/test/start-job")
    def start(request: Request, session: SessionDep) -> Response:
        job = jobs.create_job(session, kind="test.count_items", owner=None, payload={})
        jobs.start_after_commit(request, job)
        return redirect(request, jobs.job_url(job))

    login(client, admin.email)
    response = post_form(client, "/test/start-job", {})
    assert response.status_code == 303
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    _wait_until(lambda: _job(engine, job_id).status == "done")
    assert _items_written(engine) == ITEMS


def test_an_unknown_kind_cannot_be_queued(db: Session) -> None:
    with pytest.raises(ValueError, match="no handler"):
        jobs.create_job(db, kind="test.nobody_handles_this", owner=None, payload={})


def _bearer(client: TestClient, user: User | str) -> str:
    email = user if isinstance(user, str) else user.email
    response = client.post("/api/v1/auth/token", data={"username": email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_emails_queued_by_a_job_are_sent_once_it_has_committed(
    db: Session, engine: Engine, settings: Any
) -> None:
    from backend.accounts.password_reset import issue_welcome_links
    from backend.models import Notification
    from tests.notifications.smtp_sink import SmtpSink

    newcomers = [make_user(db, settings, email=f"new{n}@example.com", name=f"学员{n}") for n in range(3)]

    def welcome_class(session: Session, job: Job, progress: ProgressFn) -> dict[str, Any]:
        people = [session.get(User, user_id) for user_id in job.payload["users"]]
        issue_welcome_links(
            session, settings=jobs.job_settings(session), users=[p for p in people if p], class_name="第 3 期"
        )
        progress(len(people), "Links sent", total=len(people))
        return {}

    jobs.register_handler("test.welcome_class", welcome_class)
    with SmtpSink() as sink:
        smtp = settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_starttls": False}
        )
        with Session(engine, expire_on_commit=False) as session:
            job = jobs.create_job(
                session, kind="test.welcome_class", owner=None, payload={"users": [u.id for u in newcomers]}
            )
            session.commit()
        assert job.id is not None
        jobs.launch(engine, job.id, settings=smtp).join(timeout=15)
        assert sorted(message["To"] for message in sink.received) == [u.email for u in newcomers]
    assert "第 3 期" in sink.received[0].get_content()
    with Session(engine) as session:
        assert {n.status for n in session.exec(select(Notification)).all()} == {"sent"}
