"""The reading pages as a visitor and as a trainee: catalogue, course outline, module page with its self-check
questions (plain form posts and htmx swaps), archived modules."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, select

from backend.models import Course, CourseModule, User, utcnow
from tests.courses.reading_support import load_sample_course
from tests.support import login, post_form, visible_text

MODULE = "/courses/sample-course/modules/01-basics"


@pytest.fixture
def course(db: Session) -> Course:
    return load_sample_course(db)


def _section(html: str, element_id: str) -> str:
    """The HTML of the element with this id, up to its closing tag (sections do not nest here)."""
    match = re.search(rf'<section[^>]*id="{re.escape(element_id)}".*?</section>', html, re.DOTALL)
    assert match, f"no section #{element_id}"
    return match[0]


def test_catalogue_lists_courses_with_level_hours_and_safe_description(
    client: TestClient, db: Session, course: Course
) -> None:
    course.description = "**重点**课程。<script>alert(1)</script>"
    db.add(course)
    db.commit()
    response = client.get("/courses")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "示例课程" in text and "初级" in text
    assert "模块 3" in text.replace("：", " ")  # three modules
    assert "总学时 6.5 学时" in text.replace("：", " ")  # 2 + 3 + 1.5
    assert "要求学时 6 学时" in text.replace("：", " ")
    assert "<strong>重点</strong>" in response.text
    assert "<script>alert(1)" not in response.text


def test_course_page_groups_modules_in_syllabus_order(client: TestClient, course: Course) -> None:
    response = client.get("/courses/sample-course")
    assert response.status_code == 200
    text = visible_text(response.text)
    order = [text.index(group) for group in ("公共知识", "政策法规", "实务技能")]
    assert order == sorted(order)
    assert "能力提升" not in text  # a group without modules is not shown
    assert "技术转移基础 2 学时" in text and "技术合同实务 1.5 学时" in text
    assert "登录 后可记录学习进度" in text
    assert "未开始" not in text  # statuses are for signed-in trainees


def test_course_page_shows_a_trainees_progress(
    client: TestClient, db: Session, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    _answer_all(client, "02-law")
    post_form(client, "/courses/sample-course/modules/02-law/complete", {})
    post_form(client, f"{MODULE}/questions/basics-single", {"choice": "1"})
    text = visible_text(client.get("/courses/sample-course").text)
    assert "技术转移基础 2 学时 学习中" in text
    assert "《促进科技成果转化法》要点 3 学时 已完成" in text
    assert "技术合同实务 1.5 学时 未开始" in text
    assert "已获 3 学时，要求 6 学时" in text and "还差 3 学时" in text


def test_unknown_course_and_module_are_404(client: TestClient, course: Course) -> None:
    assert client.get("/courses/no-such-course").status_code == 404
    response = client.get("/courses/sample-course/modules/no-such-module")
    assert response.status_code == 404
    assert "本课程中没有这个模块" in visible_text(response.text)


def test_module_page_for_a_visitor(client: TestClient, course: Course) -> None:
    response = client.get(MODULE)
    assert response.status_code == 200
    html = response.text
    text = visible_text(html)
    assert re.search(r"<h1[^>]*>技术转移基础</h1>", html)
    assert html.count("<h1") == 1  # the file's own "# 技术转移基础" is not shown twice
    assert "技术转移是把科技成果从研发方转到应用方的过程" in text
    assert '<img src="/courses/sample-course/media/figure.png" alt="技术转移流程">' in html
    # every self-check question is shown, in order, with a sign-in link instead of a form
    positions = [
        html.index(f'id="q-{qid}"') for qid in ("basics-single", "basics-multiple", "basics-truefalse")
    ]
    assert positions == sorted(positions)
    assert "自测题 1" in text and "通过科学研究与技术开发所产生的具有实用价值的成果" in text
    assert 'href="/login?next=/courses/sample-course/modules/01-basics%23q-basics-single"' in html
    assert "登录后作答" in text
    assert 'name="choice"' not in html
    assert "解析" not in text  # explanations come after an answer
    assert "下一模块 《促进科技成果转化法》要点" in text and "上一模块" not in text
    assert "登录 后可作答自测题并完成本模块" in text


def test_module_page_has_a_table_of_contents(client: TestClient, db: Session, course: Course) -> None:
    html = client.get("/courses/sample-course/modules/03-practice").text
    toc = re.search(r'<nav class="toc".*?</nav>', html, re.DOTALL)
    assert toc and '<a href="#技术合同">技术合同</a>' in toc[0]
    assert '<h2 id="技术合同">技术合同</h2>' in html
    text = visible_text(html)
    assert "上一模块 《促进科技成果转化法》要点" in text and "下一模块" not in text


def test_anonymous_answer_and_complete_go_to_login(client: TestClient, course: Course) -> None:
    response = post_form(client, f"{MODULE}/questions/basics-single", {"choice": "1"})
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == "/login?next=/courses/sample-course/modules/01-basics%23q-basics-single"
    )
    response = post_form(client, f"{MODULE}/complete", {})
    assert response.headers["location"] == "/login?next=/courses/sample-course/modules/01-basics"
    htmx = post_form(
        client,
        f"{MODULE}/questions/basics-single",
        {"choice": "1"},
        headers={"HX-Request": "true", "HX-Target": "q-basics-single"},
    )
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/login?next=")


def test_answer_without_javascript_redirects_to_the_question(
    client: TestClient, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    page = client.get(MODULE).text
    assert 'action="/courses/sample-course/modules/01-basics/questions/basics-single"' in page
    assert 'name="csrf_token"' in _section(page, "q-basics-single")

    response = post_form(client, f"{MODULE}/questions/basics-single", {"choice": "0"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{MODULE}#q-basics-single"
    block = visible_text(_section(client.get(MODULE).text, "q-basics-single"))
    assert "回答有误" in block and "正确答案" in block
    assert "解析 解析：《促进科技成果转化法》第二条。" in block
    assert "重新作答" in block

    post_form(client, f"{MODULE}/questions/basics-single", {"choice": "1"})
    block = visible_text(_section(client.get(MODULE).text, "q-basics-single"))
    assert "回答正确" in block and "回答有误" not in block


def test_answer_without_csrf_is_refused(client: TestClient, course: Course, trainee: User) -> None:
    login(client, trainee.email)
    response = client.post(f"{MODULE}/questions/basics-single", data={"choice": "1"})
    assert response.status_code == 403


def test_htmx_answer_returns_only_the_questions_block(
    client: TestClient, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    response = post_form(
        client,
        f"{MODULE}/questions/basics-multiple",
        {"choice": ["0", "1", "2"]},
        headers={"HX-Request": "true", "HX-Target": "q-basics-multiple"},
    )
    assert response.status_code == 200
    fragment = response.text.strip()
    assert fragment.startswith(
        '<section class="selfcheck-item selfcheck-item--answered" id="q-basics-multiple"'
    )
    assert fragment.endswith("</section>") and fragment.count("<section") == 1
    assert "<html" not in fragment and "q-basics-single" not in fragment and "module_complete" not in fragment
    text = visible_text(fragment)
    assert "回答有误" in text and "部分正确：得 0.5 分（满分 1 分）" in text  # (2 right − 1 wrong) / 2
    assert response.headers["HX-Trigger"] == "selfcheck-answered"
    assert 'hx-target="#q-basics-multiple"' in fragment and 'hx-swap="outerHTML"' in fragment


def test_partial_credit_is_floored_at_zero(client: TestClient, course: Course, trainee: User) -> None:
    login(client, trainee.email)
    headers = {"HX-Request": "true", "HX-Target": "q-basics-multiple"}
    response = post_form(
        client, f"{MODULE}/questions/basics-multiple", {"choice": ["0", "2"]}, headers=headers
    )
    text = visible_text(response.text)
    assert "回答有误" in text and "部分正确" not in text


def test_the_completion_box_reloads_itself_for_htmx(
    client: TestClient, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    response = client.get(MODULE, headers={"HX-Request": "true", "HX-Target": "module_complete"})
    fragment = response.text.strip()
    assert fragment.startswith('<section id="module_complete"') and fragment.count("<section") == 1
    assert 'hx-trigger="selfcheck-answered from:body"' in fragment
    assert "还有 4 道自测题未作答" in visible_text(fragment)


def test_blank_answer_is_explained_next_to_the_question(
    client: TestClient, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    response = post_form(client, f"{MODULE}/questions/basics-single", {})
    assert response.status_code == 422
    block = visible_text(_section(response.text, "q-basics-single"))
    assert "请先选择答案" in block
    assert "答案未保存：请先选择答案" in visible_text(response.text)
    headers = {"HX-Request": "true", "HX-Target": "q-basics-truefalse"}
    response = post_form(client, f"{MODULE}/questions/basics-truefalse", {}, headers=headers)
    assert response.status_code == 200 and "HX-Trigger" not in response.headers
    assert "请先选择答案" in visible_text(response.text)
    text = visible_text(_section(client.get(MODULE).text, "module_complete"))
    assert "还有 4 道自测题未作答" in text  # nothing was saved


def test_each_question_type_is_answerable(client: TestClient, course: Course, trainee: User) -> None:
    login(client, trainee.email)
    page = "/courses/sample-course/modules/02-law"
    cases = [
        ("law-045-reward", {"choice": "1"}, "回答正确"),
        ("law-fill", {"text": " 促进科技成果转化法 "}, "回答正确"),
        ("law-percent", {"value": "５０"}, "回答正确"),
        ("law-range", {"value": "80"}, "正确答案：50 至 70"),
    ]
    for qid, data, expected in cases:
        assert post_form(client, f"{page}/questions/{qid}", data).status_code == 303
        block = visible_text(_section(client.get(page).text, f"q-{qid}"))
        assert expected in block, (qid, block)
    block = _section(client.get(page).text, "q-law-fill")
    assert 'value=" 促进科技成果转化法 "' in block  # the answer given stays in the field


def test_truefalse_and_essay(client: TestClient, course: Course, trainee: User) -> None:
    login(client, trainee.email)
    page = "/courses/sample-course/modules/03-practice"
    post_form(client, f"{page}/questions/practice-false", {"truth": "true"})
    html = client.get(page).text
    assert "正确答案：错误" in visible_text(_section(html, "q-practice-false"))
    essay = visible_text(_section(html, "q-practice-case"))
    assert "参考要点" not in essay and "<textarea" in _section(html, "q-practice-case")
    post_form(client, f"{page}/questions/practice-case", {"text": "先确认权属，再评估作价。"})
    essay_html = _section(client.get(page).text, "q-practice-case")
    essay = visible_text(essay_html)
    assert "你的答案已保存" in essay and "参考要点" in essay and "确认权属（3 分）" in essay
    assert "回答正确" not in essay and "回答有误" not in essay
    assert "先确认权属，再评估作价。</textarea>" in essay_html


def test_an_unknown_question_is_404(client: TestClient, course: Course, trainee: User) -> None:
    login(client, trainee.email)
    assert post_form(client, f"{MODULE}/questions/law-fill", {"text": "x"}).status_code == 404
    assert post_form(client, f"{MODULE}/questions/nope", {"choice": "0"}).status_code == 404


def test_question_link_leads_back_to_the_question(client: TestClient, course: Course) -> None:
    response = client.get(f"{MODULE}/questions/basics-single")
    assert response.status_code == 303 and response.headers["location"] == f"{MODULE}#q-basics-single"


def test_archived_module_is_hidden_but_readable(
    client: TestClient, db: Session, course: Course, trainee: User
) -> None:
    module = db.exec(select(CourseModule).where(CourseModule.name == "02-law")).one()
    module.archived_at = utcnow()
    db.add(module)
    db.commit()
    assert "《促进科技成果转化法》要点" not in visible_text(client.get("/courses/sample-course").text)
    catalogue = visible_text(client.get("/courses").text).replace("：", " ")
    assert "模块 2" in catalogue
    # neighbours skip it
    assert "下一模块 技术合同实务" in visible_text(client.get(MODULE).text)
    login(client, trainee.email)
    response = client.get("/courses/sample-course/modules/02-law")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "本模块已不在课程中" in text and "某高校将一项职务科技成果转让" in text
    assert "本模块已不能再完成" in text
    response = post_form(client, "/courses/sample-course/modules/02-law/complete", {})
    assert response.status_code == 409


def test_english_interface(client: TestClient, course: Course) -> None:
    text = visible_text(client.get(MODULE, params={"lang": "en"}).text)
    assert "Technology Transfer Basics" in text and "Self-check 1" in text and "General knowledge" in text


def _answer_all(client: TestClient, module: str) -> None:
    answers = {
        "02-law": [
            ("law-045-reward", {"choice": "1"}),
            ("law-fill", {"text": "促进科技成果转化"}),
            ("law-percent", {"value": "50"}),
            ("law-range", {"value": "60"}),
        ]
    }
    for qid, data in answers[module]:
        response = post_form(client, f"/courses/sample-course/modules/{module}/questions/{qid}", data)
        assert response.status_code == 303, response.text


def test_module_page_reads_its_data_in_two_queries(
    client: TestClient, app: FastAPI, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    post_form(client, f"{MODULE}/questions/basics-single", {"choice": "1"})
    client.get(MODULE)  # warms this worker's caches (rendered text, question and version facts)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        assert client.get(MODULE).status_code == 200
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)
    course_reads = [s for s in statements if "course_module" in s or "question" in s]
    assert len(course_reads) == 2, course_reads
    assert not any("module_version" in s for s in statements)  # no markdown text is read, let alone parsed
