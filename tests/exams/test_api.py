"""The exam API with a bearer token: start (or get the open attempt), read its state, save answers, submit,
read the result; no right answer or marking guide before the result is final."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.models import Course, User
from tests.exams.support import move_deadline
from tests.support import TEST_PASSWORD


def _headers(client: TestClient, user: User) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": user.email, "password": TEST_PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _answer(item: dict, right: bool = True) -> dict:  # type: ignore[type-arg]
    kind = item["type"]
    if kind == "truefalse":
        return {"truth": True}
    if kind == "fill":
        return {"text": "促进科技成果转化"}
    if kind == "numeric":
        return {"value": "50"}
    if kind == "essay":
        return {"text": "确认权属；评估作价；履行公示。"}
    return {"choice": 0 if kind == "single" else [0, 1]}


def test_api_journey(client: TestClient, ready_trainee: User, course: Course, admin: User) -> None:
    headers = _headers(client, ready_trainee)
    started = client.post("/api/v1/exams/sample-course/attempts", headers=headers)
    assert started.status_code == 201, started.text
    state = started.json()
    again = client.post("/api/v1/exams/sample-course/attempts", headers=headers)
    assert again.status_code == 200 and again.json()["id"] == state["id"]
    assert state["status"] == "open" and 0 < state["seconds_left"] <= 30 * 60 and len(state["items"]) == 11
    raw = json.dumps(state)
    for secret in ('"correct"', "accepted", "评分要点", "numeric_low", "解析"):
        assert secret not in raw, secret
    attempt = f"/api/v1/exams/attempts/{state['id']}"
    for item in state["items"]:
        saved = client.put(f"{attempt}/answers/{item['position']}", json=_answer(item), headers=headers)
        assert saved.status_code == 200, saved.text
        assert saved.json()["answered"] is True and saved.json()["position"] == item["position"]
    assert client.put(f"{attempt}/answers/99", json={"text": "x"}, headers=headers).status_code == 404
    too_long = client.put(f"{attempt}/answers/1", json={"text": "x" * 20001}, headers=headers)
    assert too_long.status_code == 422
    read = client.get(attempt, headers=headers).json()
    assert all(item["answered"] for item in read["items"])
    single = next(item for item in read["items"] if item["type"] == "single")
    assert single["answer"] == {"choice": 0}  # as listed on the paper, whatever the shuffle
    pending = client.get(f"{attempt}/result", headers=headers).json()
    assert pending["final"] is False and pending["review"] == [] and pending["score_percent"] is None
    submitted = client.post(f"{attempt}/submit", headers=headers)
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert client.post(f"{attempt}/submit", headers=headers).status_code == 200  # twice: harmless
    late = client.put(f"{attempt}/answers/1", json={"text": "x"}, headers=headers)
    assert late.status_code == 409
    result = client.get(f"{attempt}/result", headers=headers).json()
    assert result["final"] is False and result["pending_essays"] == 1 and result["review"] == []
    assert "评分要点" not in json.dumps(result)

    from sqlmodel import Session as DbSession

    from backend.exams import grading_queue
    from backend.models import ExamAttempt

    with DbSession(client.app.state.writer_engine) as db:  # type: ignore[attr-defined]
        essay = next(item for item in read["items"] if item["type"] == "essay")
        grading_queue.grade_item(
            db,
            attempt_id=state["id"],
            position=essay["position"],
            grader=db.merge(admin),
            points=8,
            comment="好",
        )
        db.commit()
        assert db.get(ExamAttempt, state["id"]).status == "graded"  # type: ignore[union-attr]
    final = client.get(f"{attempt}/result", headers=headers).json()
    assert final["final"] is True and final["score_percent"] is not None and final["passed"] is not None
    assert len(final["review"]) == 11
    by_type = {item["type"]: item for item in final["review"]}
    assert by_type["truefalse"]["right_answer"] in ({"truth": True}, {"truth": False})
    assert by_type["essay"]["explanation"] == "" and by_type["essay"]["comment"] == "好"
    assert {group["group"] for group in final["groups"]} == {"公共知识", "政策法规", "实务技能"}
    assert sum(group["max_points"] for group in final["groups"]) == final["max_points"]


def test_api_refuses_a_save_after_the_deadline(
    client: TestClient, ready_trainee: User, course: Course, db: Session
) -> None:
    headers = _headers(client, ready_trainee)
    state = client.post("/api/v1/exams/sample-course/attempts", headers=headers).json()
    move_deadline(db, state["id"])
    late = client.put(f"/api/v1/exams/attempts/{state['id']}/answers/1", json={"text": "x"}, headers=headers)
    assert (
        late.status_code == 409 and "not saved" in late.json()["detail"].lower()
    ) or "未保存" in late.json()["detail"]
    after = client.get(f"/api/v1/exams/attempts/{state['id']}", headers=headers).json()
    assert after["status"] != "open" and after["auto_submitted"] is True and after["seconds_left"] == 0
    assert not any(item["answered"] for item in after["items"])


def test_api_start_refused_without_hours(client: TestClient, trainee: User, course: Course) -> None:
    headers = _headers(client, trainee)
    refused = client.post("/api/v1/exams/sample-course/attempts", headers=headers)
    assert refused.status_code == 409 and "6.5" not in refused.json()["detail"]
    assert client.post("/api/v1/exams/no-such-course/attempts", headers=headers).status_code == 404
