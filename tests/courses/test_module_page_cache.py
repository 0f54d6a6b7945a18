"""The module page from its per-process skeleton (backend/courses/page_cache.py) is byte for byte the page
rendered whole, in every state a reader can see it in, and never shows one reader's name, token or
answers to another."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.config import Settings
from backend.courses import page_cache
from backend.models import Course, Role, User
from tests.courses.reading_support import load_sample_course
from tests.support import login, make_user, post_form

COURSE = "/courses/sample-course"
MODULES = [f"{COURSE}/modules/{name}" for name in ("01-basics", "02-law", "03-practice")]
BASICS = MODULES[0]
BASICS_ANSWERS = [
    ("basics-single", {"choice": "1"}),
    ("basics-multiple", {"choice": ["0", "1"]}),
    ("basics-truefalse", {"truth": "true"}),
    ("basics-selfcheck", {"choice": "0"}),
]


@pytest.fixture
def course(db: Session) -> Course:
    return load_sample_course(db)


def same_both_ways(client: TestClient, url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """GET `url` whole (cache off), then twice from the cache (first view builds the skeleton, the second
    reuses it); all three must be the same bytes. Returns the page."""
    with monkeypatch.context() as patch:
        patch.setattr(page_cache, "enabled", False)
        whole = client.get(url)
    first, again = client.get(url), client.get(url)
    assert whole.status_code == first.status_code == again.status_code == 200
    assert first.text == whole.text, f"{url}: the page built from the skeleton differs from the whole page"
    assert again.text == whole.text, f"{url}: the page reused from the skeleton differs from the whole page"
    assert first.headers["content-type"] == whole.headers["content-type"]
    return whole.text


def test_every_state_of_the_page_is_the_same_from_the_cache(
    client: TestClient, course: Course, trainee: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A visitor, in both languages (first, middle and last module: each has other prev/next links).
    for url in MODULES:
        assert "登录后作答" in same_both_ways(client, url, monkeypatch)
    for url in MODULES:
        assert "Log in to answer" in same_both_ways(client, url + "?lang=en", monkeypatch)
    client.get(COURSE + "?lang=zh_CN")

    login(client, trainee.email)
    page = same_both_ways(client, BASICS, monkeypatch)
    assert "未开始" in page and "还有 4 道自测题" in page
    for count, (qid, data) in enumerate(BASICS_ANSWERS, start=1):
        assert post_form(client, f"{BASICS}/questions/{qid}", data).status_code == 303
        page = same_both_ways(client, BASICS, monkeypatch)
        assert "学习中" in page
        assert (f"还有 {4 - count} 道自测题" in page) == (count < 4)
    assert post_form(client, f"{BASICS}/complete", {}).status_code == 303
    flashed = client.get(BASICS)  # the flash is shown once, on a page rendered whole
    assert "本模块已完成，计入" in flashed.text and "academy_flash=" in flashed.headers.get("set-cookie", "")
    page = same_both_ways(client, BASICS, monkeypatch)
    assert "已完成" in page and "你已完成本模块" in page and "本模块已完成，计入" not in page
    for url in MODULES[1:]:
        same_both_ways(client, url + "?lang=en", monkeypatch)


@pytest.mark.parametrize("role", [Role.instructor, Role.admin])
def test_staff_navigation_is_the_same_from_the_cache(
    app: object,
    course: Course,
    trainee: User,
    db: Session,
    settings: Settings,
    role: Role,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    staff = make_user(db, settings, email=f"{role.value}@example.com", name="李老师", role=role)
    with (
        TestClient(app, follow_redirects=False) as reader,
        TestClient(app, follow_redirects=False) as teacher,
    ):  # type: ignore[arg-type]
        login(reader, trainee.email)
        login(teacher, staff.email)
        assert 'href="/instructor"' not in same_both_ways(reader, BASICS, monkeypatch)
        page = same_both_ways(teacher, BASICS, monkeypatch)  # same module and status, another role
    assert 'href="/instructor"' in page
    assert ('href="/admin/users"' in page) == (role == Role.admin)


def test_a_reader_never_sees_another_readers_name_token_or_answers(
    app: object, course: Course, db: Session, settings: Settings
) -> None:
    first = make_user(db, settings, email="first@example.com", name="<b>张&三</b>")
    second = make_user(db, settings, email="second@example.com", name="李四")
    with TestClient(app, follow_redirects=False) as one, TestClient(app, follow_redirects=False) as two:  # type: ignore[arg-type]
        login(one, first.email)
        login(two, second.email)
        post_form(one, f"{BASICS}/questions/basics-single", {"choice": "1"})
        mine = one.get(BASICS).text  # builds the skeleton for a trainee in progress
        post_form(two, f"{BASICS}/questions/basics-truefalse", {"truth": "false"})
        theirs = two.get(BASICS).text  # the same skeleton key: in progress, trainee, same module
    assert "&lt;b&gt;张&amp;三&lt;/b&gt;" in mine and "<b>张" not in mine  # the name is escaped
    assert "李四" in theirs and "张&amp;三" not in theirs
    token_of = re.compile(r'name="csrf-token" content="([^"]+)"')
    mine_token, theirs_token = token_of.search(mine), token_of.search(theirs)
    assert mine_token and theirs_token and mine_token[1] != theirs_token[1]
    assert mine_token[1] not in theirs
    # Each sees only their own answer marked: one answered the single-choice question, the other true/false.
    answered = re.compile(r'<section class="selfcheck-item selfcheck-item--answered" id="q-([^"]+)"')
    assert answered.findall(mine) == ["basics-single"]
    assert answered.findall(theirs) == ["basics-truefalse"]
