"""The acceptance journey, as a new user would try it: a trainee with enough hours sits the exam, closes the
tab halfway, comes back and finds every answer, submits, and sees the result once the instructor has
graded the essay."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.models import Course, User
from tests.exams.support import paper, right_form
from tests.support import csrf_token, login, post_form, visible_text


def test_the_whole_journey(app, db: Session, course: Course, ready_trainee: User, instructor: User) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as tab:
        tab.get("/language?lang=en&next=/")
        login(tab, ready_trainee.email)
        page = visible_text(tab.get("/exams/sample-course").text)
        assert "6.5 of 6 hours done (online 6.5, in class 0)" in page and "0 of 2 used" in page
        started = post_form(tab, "/exams/sample-course/attempts", {})
        url = started.headers["location"]
        exam = tab.get(url)
        assert "Time left:" in exam.text and "The exam ends at" in exam.text
        assert 'data-seconds-left="' in exam.text and '<script src="/static/js/exam.js"' in exam.text
        assert "<fieldset" in exam.text and "<legend" in exam.text
        attempt_id = int(url.rsplit("/", 1)[1])
        rows = sorted(paper(db, attempt_id).values(), key=lambda row: row.position)
        half = rows[: len(rows) // 2]
        for row in half:  # answered as they go, with htmx
            headers = {
                "HX-Request": "true",
                "HX-Target": f"save-{row.position}",
                "X-CSRF-Token": csrf_token(tab),
            }
            assert (
                tab.post(f"{url}/answers/{row.position}", data=right_form(row), headers=headers).status_code
                == 200
            )
    # The tab is closed. Later, in a new browser session:
    with TestClient(app, follow_redirects=False) as tab:
        tab.get("/language?lang=en&next=/")
        login(tab, ready_trainee.email)
        landing = visible_text(tab.get("/exams/sample-course").text)
        assert "You have an attempt in progress" in landing
        exam = tab.get(url)
        assert f"{len(half)} of {len(rows)} answered" in visible_text(exam.text)
        for row in half:
            assert re.search(rf'id="nav-{row.position}" class="exam-nav-entry is-answered', exam.text)
        for row in rows[len(half) :]:  # the rest without JavaScript, one question at a time
            form = {**right_form(row), "go": "next", "view": "one"}
            assert post_form(tab, f"{url}/answers/{row.position}", form).status_code == 303
        confirm = visible_text(tab.get(f"{url}/submit").text)
        assert "Every question has an answer." in confirm
        submitted = post_form(tab, f"{url}/submit", {})
        assert submitted.headers["location"] == f"{url}/result"
        waiting = visible_text(tab.get(f"{url}/result").text)
        assert "Waiting for grading" in waiting and "1 case-analysis answers are waiting" in waiting
    with TestClient(app, follow_redirects=False) as staff:
        login(staff, instructor.email)
        essay = next(row for row in rows if row.type == "essay")
        queue = staff.get("/instructor/grading").text
        assert f"/instructor/grading/attempts/{attempt_id}" in queue
        graded = post_form(
            staff,
            f"/instructor/grading/attempts/{attempt_id}/items/{essay.position}",
            {"points": "9", "comment": "很好"},
        )
        assert graded.status_code == 303
    with TestClient(app, follow_redirects=False) as tab:
        tab.get("/language?lang=en&next=/")
        login(tab, ready_trainee.email)
        result = visible_text(tab.get(f"{url}/result").text)
        assert "21.5 of 22.5 points (95.56%)" in result and "Passed" in result and "pass mark 60%" in result
        assert "Points by syllabus group" in result and "Practical skills" in result
        assert "Review" in result and "很好" in result
        exam_page = visible_text(tab.get("/exams/sample-course").text)
        assert "You have already passed this exam." in exam_page
