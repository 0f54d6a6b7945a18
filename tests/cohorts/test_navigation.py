"""The class pages can be reached: trainees find the classes from the main navigation and from /me,
instructors their classes from the teaching navigation, and a class's certificates page is in the class's
navigation for administrators (and for its instructors when the settings let them issue)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.models import Cohort, User
from tests.cohorts.support import assign
from tests.support import login


def _nav(html: str, label: str) -> str:
    found = re.search(rf'<nav class="[^"]*" aria-label="{label}">.*?</nav>', html, re.S)
    assert found, f"no navigation labelled {label}"
    return found.group(0)


def test_trainees_find_the_classes_from_the_header_and_from_me(
    client: TestClient, trainee: User, cohort: Cohort
) -> None:
    login(client, trainee.email)
    me = client.get("/me").text
    assert re.search(r'<a href="/classes">培训班</a>', _nav(me, "主导航"))
    assert 'href="/classes">我的培训班</a>' in me
    classes = client.get("/classes").text
    assert re.search(r'<a href="/classes" aria-current="page">培训班</a>', _nav(classes, "主导航"))
    assert cohort.name in classes


def test_instructors_reach_their_classes_from_the_teaching_navigation(
    client: TestClient, db: Session, instructor: User, cohort: Cohort
) -> None:
    assign(db, cohort, instructor)
    login(client, instructor.email)
    teaching = _nav(client.get("/instructor").text, "教学管理")
    assert 'href="/instructor/classes"' in teaching
    classes = client.get("/instructor/classes").text
    assert 'href="/instructor/classes" aria-current="page"' in _nav(classes, "教学管理")
    assert cohort.name in classes


def test_the_class_certificates_page_is_in_the_class_navigation_for_those_who_issue(
    app: FastAPI, client: TestClient, db: Session, admin: User, instructor: User, cohort: Cohort
) -> None:
    certificates = f'href="/instructor/classes/{cohort.id}/certificates"'
    login(client, admin.email)
    for page in ("", "/sessions", "/dashboard"):
        assert certificates in _nav(client.get(f"/instructor/classes/{cohort.id}{page}").text, "本班")
    assert client.get(f"/instructor/classes/{cohort.id}/certificates").status_code == 200

    assign(db, cohort, instructor)
    login(client, instructor.email)
    assert certificates not in client.get(f"/instructor/classes/{cohort.id}").text
    app.state.settings = app.state.settings.model_copy(update={"instructors_may_issue": True})
    assert certificates in _nav(client.get(f"/instructor/classes/{cohort.id}").text, "本班")
