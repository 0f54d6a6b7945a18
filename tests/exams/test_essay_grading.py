"""Essay answers go to the grading queue with the marking guide; the grader gives points (validated) and a
comment; the result becomes final when all is graded, the trainee is told by email, and a grade changed
after release is audit-logged with the points and score before and after."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.exams import attempts, grading_queue
from backend.models import AuditEvent, Course, ExamAttempt, Notification, User
from tests.exams.support import paper
from tests.support import login, post_form, visible_text


@pytest.fixture
def submitted(db: Session, course: Course, ready_trainee: User) -> ExamAttempt:
    """An attempt with every objective question right and an essay answer waiting for a grader."""
    from tests.exams.support import right_form
    from tests.exams.test_grading import _grade

    attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()

    def right(row):  # type: ignore[no-untyped-def]
        from tests.exams.test_taking import _as_answer

        return _as_answer(row, right_form(row))

    _grade(db, attempt, dict.fromkeys(paper(db, attempt.id or 0), right))
    db.refresh(attempt)
    return attempt


def test_essay_flow_to_a_final_result(
    client: TestClient, db: Session, submitted: ExamAttempt, instructor: User, ready_trainee: User
) -> None:
    assert submitted.status == "submitted"
    essay = paper(db, submitted.id or 0)["practice-case"]
    login(client, ready_trainee.email)
    waiting = client.get(f"/exams/attempts/{submitted.id}/result")
    assert "评分要点" not in waiting.text  # no marking guide
    assert "tag--right" not in waiting.text and "exam-review-item" not in waiting.text  # no review yet
    client.cookies.clear()

    login(client, instructor.email)
    queue = client.get("/instructor/grading")
    assert f"/instructor/grading/attempts/{submitted.id}" in queue.text and ready_trainee.name in queue.text
    page = client.get(f"/instructor/grading/attempts/{submitted.id}")
    text = visible_text(page.text)
    assert "某高校团队拟把一项专利作价入股" in text  # the stem
    assert "确认权属、评估作价、履行公示。" in text  # the trainee's answer
    assert "评分要点" in text and "评估作价（4 分）" in text  # the marking guide
    url = f"/instructor/grading/attempts/{submitted.id}/items/{essay.position}"
    for bad in ("11", "-1", "abc", ""):
        refused = post_form(client, url, {"points": bad, "comment": "好"})
        assert refused.status_code == 422, bad
        assert "0" in visible_text(refused.text) and 'aria-invalid="true"' in refused.text
    db.commit()
    db.refresh(submitted)
    assert submitted.status == "submitted"
    done = post_form(client, url, {"points": "7.5", "comment": "权属分析到位，公示程序不完整。"})
    assert done.status_code == 303 and done.headers["location"] == "/instructor/grading"
    db.commit()
    db.refresh(submitted)
    assert submitted.status == "graded" and submitted.finalized_at is not None
    assert submitted.score_points == submitted.max_points - 2.5
    assert submitted.passed is True
    mail = db.exec(select(Notification).where(Notification.kind == "exam_result")).all()
    assert len(mail) == 1 and mail[0].to_email == ready_trainee.email
    assert f"/exams/attempts/{submitted.id}/result" in mail[0].body
    client.cookies.clear()

    login(client, ready_trainee.email)
    result = visible_text(client.get(f"/exams/attempts/{submitted.id}/result").text)
    assert f"{submitted.max_points - 2.5:g}" in result and "公示程序不完整" in result
    assert "评估作价（4 分）" not in result  # the marking guide stays with the graders


def test_a_grade_changed_after_release_is_audit_logged(
    client: TestClient, db: Session, submitted: ExamAttempt, instructor: User
) -> None:
    essay = paper(db, submitted.id or 0)["practice-case"]
    grading_queue.grade_item(
        db, attempt_id=submitted.id or 0, position=essay.position, grader=instructor, points=4, comment="一般"
    )
    db.commit()
    db.refresh(submitted)
    before = submitted.score_percent
    assert submitted.status == "graded" and submitted.passed is True
    login(client, instructor.email)
    response = post_form(
        client,
        f"/instructor/grading/attempts/{submitted.id}/items/{essay.position}",
        {"points": "0", "comment": "抄袭"},
    )
    assert response.status_code == 303
    db.commit()
    db.refresh(submitted)
    assert submitted.score_percent is not None and before is not None and submitted.score_percent < before
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "exam.grade_changed")).one()
    assert event.before is not None and event.after is not None
    assert event.before["points"] == 4 and event.after["points"] == 0
    assert event.before["score_percent"] == before and event.after["score_percent"] == submitted.score_percent
    assert event.actor_id == instructor.id and event.target_id == str(submitted.id)
    assert len(db.exec(select(Notification).where(Notification.kind == "exam_result")).all()) == 2
    # The same grade again changes nothing and logs nothing.
    post_form(
        client,
        f"/instructor/grading/attempts/{submitted.id}/items/{essay.position}",
        {"points": "0", "comment": "抄袭"},
    )
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "exam.grade_changed")).all()) == 1


def test_grading_an_open_attempt_is_refused(
    db: Session, course: Course, ready_trainee: User, admin: User
) -> None:
    attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    essay = paper(db, attempt.id or 0)["practice-case"]
    from backend.errors import Conflict

    with pytest.raises(Conflict):
        grading_queue.grade_item(
            db, attempt_id=attempt.id or 0, position=essay.position, grader=admin, points=1, comment=""
        )
