"""Taking the exam over HTTP: answers saved as they are given (htmx) and by plain save buttons, restored on
reload and after a restart, kept by two clients at once, refused after the deadline and after submit;
the attempt submitted automatically when its time is up; starting twice gives one attempt."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from backend.config import Settings
from backend.exams import attempts
from backend.main import create_app
from backend.models import Course, ExamAnswer, ExamAttempt, ExamItem, User
from tests.exams.support import move_deadline, paper, right_form, wrong_form
from tests.support import csrf_token, login, post_form, visible_text

HTMX = {"HX-Request": "true"}


def _start(client: TestClient, slug: str = "sample-course") -> int:
    response = post_form(client, f"/exams/{slug}/attempts", {})
    assert response.status_code == 303, response.text
    match = re.match(r"/exams/attempts/(\d+)$", response.headers["location"])
    assert match
    return int(match[1])


def _htmx_save(client: TestClient, attempt_id: int, position: int, form: dict[str, Any]) -> Any:
    headers = {**HTMX, "HX-Target": f"save-{position}", "X-CSRF-Token": csrf_token(client)}
    return client.post(f"/exams/attempts/{attempt_id}/answers/{position}", data=form, headers=headers)


def _answers(db: Session, attempt_id: int) -> dict[int, dict[str, Any]]:
    """Position → the answer stored for it, read fresh from the database."""
    db.commit()  # a fresh snapshot: the app committed in other connections
    rows = db.exec(
        select(ExamItem.position, ExamAnswer.answer)
        .join(ExamItem, col(ExamItem.id) == ExamAnswer.item_id)
        .where(ExamAnswer.attempt_id == attempt_id)
    ).all()
    return {position: dict(answer) for position, answer in rows}


def test_autosave_with_htmx_and_reload_restores_every_answer(trainee_client: TestClient, db: Session) -> None:
    attempt_id = _start(trainee_client)
    rows = paper(db, attempt_id)
    for row in rows.values():
        response = _htmx_save(trainee_client, attempt_id, row.position, right_form(row))
        assert response.status_code == 200, response.text
        assert "saved at" in response.text or "保存于" in response.text
        assert f'id="nav-{row.position}"' in response.text and 'hx-swap-oob="true"' in response.text
        assert "is-answered" in response.text
    page = trainee_client.get(f"/exams/attempts/{attempt_id}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert re.search(r"11 of 11 answered|已答 11 / 11|11 / 11", text), text[:500]
    for row in rows.values():
        if row.type == "fill":
            assert f'value="{row.version.accepted[0]}"' in page.text
        if row.type == "single":
            position = row.right_positions()[0]
            assert re.search(rf'value="{position}" id="q-{row.position}-o{position}" checked', page.text)
        if row.type == "essay":
            assert "确认权属、评估作价、履行公示。" in page.text


def test_plain_save_buttons_without_javascript(trainee_client: TestClient, db: Session) -> None:
    attempt_id = _start(trainee_client)
    rows = paper(db, attempt_id)
    row = rows["law-fill"]
    response = post_form(
        trainee_client,
        f"/exams/attempts/{attempt_id}/answers/{row.position}",
        {"text": "促进科技成果转化", "go": "stay"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/exams/attempts/{attempt_id}#q-{row.position}"
    # One question at a time: "save and next" goes on to the next question.
    response = post_form(
        trainee_client,
        f"/exams/attempts/{attempt_id}/answers/1",
        {**right_form(next(r for r in rows.values() if r.position == 1)), "go": "next", "view": "one"},
    )
    assert response.headers["location"] == f"/exams/attempts/{attempt_id}?q=2"
    single = trainee_client.get(f"/exams/attempts/{attempt_id}?q=2")
    assert single.status_code == 200 and 'aria-current="step"' in single.text
    assert single.text.count('class="exam-question"') == 1
    assert _answers(db, attempt_id)[row.position] == {"text": "促进科技成果转化"}
    assert trainee_client.get(f"/exams/attempts/{attempt_id}?q=99").status_code == 404


def test_latest_save_wins_and_clearing_works(trainee_client: TestClient, db: Session) -> None:
    attempt_id = _start(trainee_client)
    row = paper(db, attempt_id)["practice-multiple"]
    _htmx_save(trainee_client, attempt_id, row.position, {"choice": [str(p) for p in row.right_positions()]})
    _htmx_save(trainee_client, attempt_id, row.position, {"choice": [str(row.wrong_positions()[0])]})
    assert _answers(db, attempt_id)[row.position] == {"choice": [row.order[row.wrong_positions()[0]]]}
    response = _htmx_save(trainee_client, attempt_id, row.position, {})  # every box unticked
    assert "is-answered" not in response.text
    db.commit()
    saved = db.exec(select(ExamAnswer).where(ExamAnswer.attempt_id == attempt_id)).one()
    assert saved.answered is False and saved.answer == {"choice": []}


def test_two_clients_on_one_attempt_lose_nothing(
    app: Any, trainee_client: TestClient, ready_trainee: User, db: Session
) -> None:
    attempt_id = _start(trainee_client)
    rows = sorted(paper(db, attempt_id).values(), key=lambda row: row.position)
    with TestClient(app, follow_redirects=False) as second:
        login(second, ready_trainee.email)
        # Interleaved: each tab answers some questions; both change question 1, the second tab last.
        for index, row in enumerate(rows):
            tab = trainee_client if index % 2 == 0 else second
            assert _htmx_save(tab, attempt_id, row.position, wrong_form(row)).status_code == 200
        for index, row in enumerate(rows):
            tab = second if index % 2 == 0 else trainee_client
            assert _htmx_save(tab, attempt_id, row.position, right_form(row)).status_code == 200
        first = rows[0]
        _htmx_save(trainee_client, attempt_id, first.position, wrong_form(first))
        _htmx_save(second, attempt_id, first.position, right_form(first))
    saved = _answers(db, attempt_id)
    assert len(saved) == len(rows)
    assert (
        attempts.stored_answer(first.type, first.order, _as_answer(first, right_form(first)))
        == saved[first.position]
    )
    for row in rows:
        assert saved[row.position] == attempts.stored_answer(
            row.type, row.order, _as_answer(row, right_form(row))
        )


def _as_answer(row: Any, form: dict[str, Any]) -> dict[str, Any]:
    from backend.courses.grading import answer_from_form

    fields = {key: value if isinstance(value, list) else [value] for key, value in form.items()}
    return answer_from_form(row.type, fields)


def test_a_restart_mid_exam_loses_nothing(
    settings: Settings, trainee_client: TestClient, ready_trainee: User, db: Session
) -> None:
    attempt_id = _start(trainee_client)
    rows = sorted(paper(db, attempt_id).values(), key=lambda row: row.position)
    half = rows[: len(rows) // 2]
    for row in half:
        _htmx_save(trainee_client, attempt_id, row.position, right_form(row))
    # The server restarts: a new app instance (new engine, new pool) on the same database.
    restarted = create_app(settings)
    try:
        with TestClient(restarted, follow_redirects=False) as client:
            login(client, ready_trainee.email)
            page = client.get(f"/exams/attempts/{attempt_id}")
            assert page.status_code == 200
            assert f"{len(half)} of {len(rows)} answered" in visible_text(
                page.text
            ) or f"{len(half)} / {len(rows)}" in visible_text(page.text)
            for row in rows[len(half) :]:
                assert _htmx_save(client, attempt_id, row.position, right_form(row)).status_code == 200
            assert post_form(client, f"/exams/attempts/{attempt_id}/submit", {}).status_code == 303
    finally:
        restarted.state.engine.dispose()
    db.commit()
    attempt = db.get(ExamAttempt, attempt_id)
    db.refresh(attempt)
    assert attempt is not None and attempt.status == "submitted"
    assert len(_answers(db, attempt_id)) == len(rows)


def test_save_after_the_deadline_is_refused_and_the_attempt_submitted(
    trainee_client: TestClient, db: Session
) -> None:
    attempt_id = _start(trainee_client)
    row = paper(db, attempt_id)["law-fill"]
    _htmx_save(trainee_client, attempt_id, row.position, {"text": "促进科技成果转化"})
    move_deadline(db, attempt_id)
    other = paper(db, attempt_id)["law-percent"]
    late = _htmx_save(trainee_client, attempt_id, other.position, {"value": "50"})
    assert late.status_code == 200  # htmx swaps the message in
    assert "not saved" in late.text.lower() or "未保存" in late.text
    plain = post_form(
        trainee_client, f"/exams/attempts/{attempt_id}/answers/{other.position}", {"value": "50"}
    )
    assert plain.status_code == 409
    saved = _answers(db, attempt_id)
    assert other.position not in saved and saved[row.position] == {"text": "促进科技成果转化"}
    db.commit()
    attempt = db.get(ExamAttempt, attempt_id)
    db.refresh(attempt)
    assert (
        attempt is not None and attempt.status == "graded" and attempt.auto_submitted
    )  # blank essay: final at once


def test_an_overdue_attempt_is_submitted_when_it_is_read(trainee_client: TestClient, db: Session) -> None:
    attempt_id = _start(trainee_client)
    row = paper(db, attempt_id)["basics-truefalse"]
    _htmx_save(trainee_client, attempt_id, row.position, right_form(row))
    move_deadline(db, attempt_id, minutes_ago=30)
    page = trainee_client.get(f"/exams/attempts/{attempt_id}")
    assert page.status_code == 303 and page.headers["location"] == f"/exams/attempts/{attempt_id}/result"
    result = trainee_client.get(page.headers["location"])
    assert result.status_code == 200
    assert "automatically" in result.text or "自动" in result.text
    db.commit()
    attempt = db.get(ExamAttempt, attempt_id)
    db.refresh(attempt)
    assert (
        attempt is not None and attempt.status == "graded" and attempt.auto_submitted
    )  # blank essay: final at once
    item = db.exec(
        select(ExamItem).where(ExamItem.attempt_id == attempt_id, ExamItem.position == row.position)
    ).one()
    assert item.correct is True  # graded with what was saved


def test_sweep_submits_overdue_attempts(
    trainee_client: TestClient, db: Session, settings: Settings, monkeypatch: Any
) -> None:
    attempt_id = _start(trainee_client)
    move_deadline(db, attempt_id)
    import backend.exams.cli as exams_cli
    from backend.cli import app as cli_app

    monkeypatch.setattr(exams_cli, "get_settings", lambda: settings)
    result = CliRunner().invoke(cli_app, ["exams", "sweep"])
    assert result.exit_code == 0, result.output
    assert "1 overdue attempt(s) submitted" in result.output
    db.commit()
    attempt = db.get(ExamAttempt, attempt_id)
    db.refresh(attempt)
    assert attempt is not None and attempt.status != "open" and attempt.auto_submitted
    again = CliRunner().invoke(cli_app, ["exams", "sweep"])
    assert "0 overdue attempt(s) submitted" in again.output


def test_answers_cannot_change_after_submit_and_submitting_twice_is_harmless(
    trainee_client: TestClient, db: Session
) -> None:
    attempt_id = _start(trainee_client)
    row = paper(db, attempt_id)["law-fill"]
    post_form(
        trainee_client, f"/exams/attempts/{attempt_id}/answers/{row.position}", {"text": "促进科技成果转化"}
    )
    confirm = trainee_client.get(f"/exams/attempts/{attempt_id}/submit")
    assert confirm.status_code == 200
    assert "Not answered (10)" in visible_text(confirm.text) or "10" in visible_text(confirm.text)
    assert f'?q={row.position}"' not in confirm.text  # the answered one is not listed
    first = post_form(trainee_client, f"/exams/attempts/{attempt_id}/submit", {})
    second = post_form(trainee_client, f"/exams/attempts/{attempt_id}/submit", {})
    assert first.status_code == second.status_code == 303
    late = post_form(trainee_client, f"/exams/attempts/{attempt_id}/answers/{row.position}", {"text": "改了"})
    assert late.status_code == 409
    flag = post_form(trainee_client, f"/exams/attempts/{attempt_id}/flags/{row.position}", {"flagged": "1"})
    assert flag.status_code == 409
    assert _answers(db, attempt_id)[row.position] == {"text": "促进科技成果转化"}
    assert trainee_client.get(f"/exams/attempts/{attempt_id}/submit").headers["location"].endswith("/result")


def test_flag_for_review(trainee_client: TestClient, db: Session) -> None:
    attempt_id = _start(trainee_client)
    row = paper(db, attempt_id)["law-range"]
    _htmx_save(trainee_client, attempt_id, row.position, {"value": "60"})
    headers = {**HTMX, "HX-Target": f"flag-{row.position}", "X-CSRF-Token": csrf_token(trainee_client)}
    response = trainee_client.post(
        f"/exams/attempts/{attempt_id}/flags/{row.position}", data={"flagged": "1"}, headers=headers
    )
    assert (
        response.status_code == 200
        and 'aria-pressed="true"' in response.text
        and "is-flagged" in response.text
    )
    confirm = trainee_client.get(f"/exams/attempts/{attempt_id}/submit")
    assert f'?q={row.position}"' in confirm.text  # listed under "flagged for review"
    post_form(trainee_client, f"/exams/attempts/{attempt_id}/flags/{row.position}", {"flagged": "0"})
    db.commit()
    saved = db.exec(select(ExamAnswer).where(ExamAnswer.attempt_id == attempt_id)).one()
    db.refresh(saved)
    assert saved.flagged is False and saved.answer == {"value": "60"}  # the flag leaves the answer alone


def test_starting_twice_returns_the_open_attempt(trainee_client: TestClient, db: Session) -> None:
    first = _start(trainee_client)
    second = _start(trainee_client)
    assert first == second
    page = trainee_client.get("/exams/sample-course")
    assert "Continue the exam" in page.text or "继续考试" in page.text


def test_concurrent_starts_make_one_attempt(app: Any, ready_trainee: User, db: Session) -> None:
    clients = [TestClient(app, follow_redirects=False) for _ in range(4)]
    for client in clients:
        login(client, ready_trainee.email)
    locations: list[str] = []

    def start(client: TestClient) -> None:
        locations.append(post_form(client, "/exams/sample-course/attempts", {}).headers.get("location", ""))

    threads = [threading.Thread(target=start, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    assert len(set(locations)) == 1 and locations[0].startswith("/exams/attempts/")
    assert len(db.exec(select(ExamAttempt)).all()) == 1


def test_a_lost_start_race_returns_the_winner(
    db: Session, course: Course, ready_trainee: User, monkeypatch: Any
) -> None:
    winner = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    # The loser read "no open attempt, 0 used" before the winner committed.
    calls = {"n": 0}
    real_open = attempts.open_attempt

    def stale_open(session: Session, **kwargs: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_open(session, **kwargs)

    monkeypatch.setattr(attempts, "open_attempt", stale_open)
    from backend.exams import service

    monkeypatch.setattr(service, "open_attempt", lambda session, **kwargs: None)
    monkeypatch.setattr(service, "attempts_used", lambda session, **kwargs: 0)
    loser = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    assert loser.id == winner.id
    assert len(db.exec(select(ExamAttempt)).all()) == 1


def test_concurrent_saves_from_many_tabs_lose_nothing(
    app: Any, trainee_client: TestClient, ready_trainee: User, db: Session
) -> None:
    attempt_id = _start(trainee_client)
    rows = sorted(paper(db, attempt_id).values(), key=lambda row: row.position)
    tabs = [TestClient(app, follow_redirects=False) for _ in range(4)]
    for tab in tabs:
        login(tab, ready_trainee.email)
    failures: list[str] = []

    def work(index: int, tab: TestClient) -> None:
        mine = [row for row in rows if row.position % len(tabs) == index]
        for form in (wrong_form, right_form):  # the right answer is each question's last save
            for row in mine:
                response = _htmx_save(tab, attempt_id, row.position, form(row))
                if response.status_code != 200:
                    failures.append(f"{row.position}: {response.status_code}")

    threads = [threading.Thread(target=work, args=(index, tab)) for index, tab in enumerate(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for tab in tabs:
        tab.close()
    assert failures == []
    saved = _answers(db, attempt_id)
    for row in rows:
        assert saved[row.position] == attempts.stored_answer(
            row.type, row.order, _as_answer(row, right_form(row))
        )


def test_simultaneous_submits_finalise_once(
    app: Any, trainee_client: TestClient, ready_trainee: User, db: Session
) -> None:
    from backend.models import Notification

    attempt_id = _start(trainee_client)  # nothing answered: final at submit, one email
    tabs = [TestClient(app, follow_redirects=False) for _ in range(4)]
    for tab in tabs:
        login(tab, ready_trainee.email)
    codes: list[int] = []
    threads = [
        threading.Thread(
            target=lambda tab=tab: codes.append(
                post_form(tab, f"/exams/attempts/{attempt_id}/submit", {}).status_code
            )
        )
        for tab in tabs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for tab in tabs:
        tab.close()
    assert codes == [303] * 4
    db.commit()
    assert len(db.exec(select(Notification).where(Notification.kind == "exam_result")).all()) == 1


def test_a_submit_that_waited_sees_the_other_submit(
    db: Session, course: Course, ready_trainee: User, engine: Any
) -> None:
    """PostgreSQL: a request that read the attempt before another one submitted it must not grade it again
    (SQLite's writers hold the write lock from their first statement, so this cannot happen there)."""
    from backend.models import Notification

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writing requests from their first statement")
    attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    with Session(engine, expire_on_commit=False) as late, Session(engine) as first:
        stale = late.get(ExamAttempt, attempt.id)  # read while still open
        assert stale is not None and stale.status == "open"
        attempts.submit_attempt(first, attempt_id=attempt.id or 0)
        first.commit()
        again = attempts.submit_attempt(late, attempt_id=attempt.id or 0)
        late.commit()
        assert again.status == "graded"
    db.commit()
    assert len(db.exec(select(Notification).where(Notification.kind == "exam_result")).all()) == 1


def test_the_app_s_periodic_upkeep_submits_overdue_attempts_and_survives_a_failing_task(
    trainee_client: TestClient, db: Session, settings: Settings, engine: Engine
) -> None:
    from backend import maintenance

    attempt_id = _start(trainee_client)
    move_deadline(db, attempt_id)
    by_name = {task.name: task for task in maintenance.tasks(engine, settings)}
    assert set(by_name) == {"exam-sweep", "outbox", "renewal-reminders"}
    assert maintenance.run_task(by_name["exam-sweep"])
    db.commit()
    attempt = db.get(ExamAttempt, attempt_id)
    db.refresh(attempt)
    assert attempt is not None and attempt.status != "open" and attempt.auto_submitted

    def broken() -> None:
        raise RuntimeError("database unreachable")

    assert maintenance.run_task(maintenance.Task("broken", 60, broken)) is False
