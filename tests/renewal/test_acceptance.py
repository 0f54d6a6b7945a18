"""The issue's acceptance, as a new user would try it, over HTTP with the shipped ce-refresher course: a
holder whose certificate expires in 20 days sees a reminder on /me, completes the refresher's modules,
renews, and the verification page shows the new expiry with the same number."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from backend.certificates.service import add_years
from backend.courses.importer import import_course
from backend.models import Certificate, Course, CourseModule, Question, QuestionVersion, User
from tests.renewal.support import today
from tests.support import post_form, visible_text

CE_REFRESHER = Path(__file__).resolve().parents[2] / "courses" / "ce-refresher"
ANSWERS = {
    "single": {"choice": "0"},
    "multiple": {"choice": "0"},
    "truefalse": {"truth": "true"},
    "fill": {"text": "答案"},
    "numeric": {"value": "1"},
    "essay": {"text": "答案"},
}


def questions_of(db: Session, module: CourseModule) -> list[tuple[str, str]]:
    rows = db.exec(
        select(Question.qid, QuestionVersion.type)
        .join(QuestionVersion, col(QuestionVersion.question_id) == Question.id)
        .where(
            Question.module_id == module.id,
            col(Question.archived_at).is_(None),
            col(QuestionVersion.number) == Question.current_version,
        )
    ).all()
    return [(qid, kind) for qid, kind in rows]


def test_a_holder_expiring_in_20_days_is_reminded_completes_the_refresher_and_renews(
    db: Session,
    client: TestClient,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
    holder_client: Callable[[User], TestClient],
) -> None:
    import_course(db, CE_REFRESHER)
    db.commit()
    refresher = db.exec(select(Course).where(Course.slug == "ce-refresher")).one()
    holder = person("陈晓红")
    expires = today() + timedelta(days=20)
    certificate = expiring(holder, expires)
    browser = holder_client(holder)

    # 1. The reminder on /me.
    me = visible_text(browser.get("/me").text)
    assert (
        f"Certificate {certificate.number}" in me and f"Expires on {expires.isoformat()}, in 20 days." in me
    )
    assert "Renewal needs 6 continuing-education hours in this period; you have 0." in me

    # 2. The refresher's modules, as the holder does them: every question answered, then "complete".
    modules = db.exec(
        select(CourseModule)
        .where(CourseModule.course_id == refresher.id)
        .order_by(col(CourseModule.position))
    ).all()
    assert len(modules) == 3
    for module in modules:
        for qid, kind in questions_of(db, module):
            url = f"/courses/ce-refresher/modules/{module.name}/questions/{qid}"
            assert post_form(browser, url, ANSWERS[kind]).status_code in (200, 303)
        done = post_form(browser, f"/courses/ce-refresher/modules/{module.name}/complete", {})
        assert done.status_code == 303, done.text
    me = visible_text(browser.get("/me").text)
    assert "You have the continuing-education hours needed: renew it now." in me
    hours_line = re.search(rf"Certificate {certificate.number}: [^.]*earned in the current period", me)
    assert hours_line and hours_line.group(0).startswith(f"Certificate {certificate.number}: 6 of 6 "), me

    # 3. Renewal.
    page = visible_text(browser.get("/me/renewal").text)
    new_expiry = add_years(expires, 3)
    assert f"new validity period until {new_expiry.isoformat()}" in page
    renewed = post_form(browser, f"/me/renewal/{certificate.number}", {})
    assert renewed.status_code == 303
    assert (
        f"Certificate {certificate.number} renewed: valid until {new_expiry.isoformat()}, same number."
        in (visible_text(browser.get("/me/renewal").text))
    )

    # 4. Anyone verifying sees the new expiry with the same number.
    verified = client.get(f"/verify/{certificate.number}")
    assert verified.status_code == 200
    text = visible_text(verified.text)
    assert "This certificate is valid." in text and certificate.number in text
    assert f"Valid until {new_expiry.isoformat()}" in text
    assert "Renewals: 1 (the number stays the same)." in text
    assert "Renewal needs" not in visible_text(browser.get("/me").text)  # the reminder is gone
