"""Authoring in the browser, driven over HTTP as an instructor would: permissions, the live preview, saving
(refused when invalid, with the text kept), history and diff, revert, new modules, module order and course
settings; and what a trainee then reads."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from backend.courses.diff import line_diff
from backend.models import AuditEvent, Course, CourseModule, ModuleVersion, User
from tests.courses.reading_support import load_sample_course
from tests.support import csrf_token, login, post_form, visible_text

BASE = "/instructor/courses/sample-course"
MODULE = f"{BASE}/modules/01-basics"
TRAINEE_PAGE = "/courses/sample-course/modules/01-basics"
HTMX_PREVIEW = {"HX-Request": "true", "HX-Target": "preview"}
# A choice question whose options are all wrong: the validator's message names its line.
BROKEN_QUESTION = "```question id=basics-broken\n哪一项正确？\n\n- [ ] 甲\n- [ ] 乙\n```\n"


@pytest.fixture
def course(db: Session) -> Course:
    return load_sample_course(db)


@pytest.fixture
def as_instructor(client: TestClient, course: Course, instructor: User) -> TestClient:
    login(client, instructor.email)
    return client


def fresh(db: Session) -> None:
    """See what the app committed: end the test session's snapshot and forget the rows it loaded."""
    db.rollback()
    db.expire_all()


def stored_course(db: Session) -> Course:
    fresh(db)
    return db.exec(select(Course)).one()


def current_text(db: Session, name: str = "01-basics") -> str:
    fresh(db)
    module = db.exec(select(CourseModule).where(CourseModule.name == name)).one()
    version = db.exec(
        select(ModuleVersion).where(
            ModuleVersion.module_id == module.id, ModuleVersion.number == module.current_version
        )
    ).one()
    return version.text


def versions_of(db: Session, name: str = "01-basics") -> list[ModuleVersion]:
    fresh(db)
    module = db.exec(select(CourseModule).where(CourseModule.name == name)).one()
    query = select(ModuleVersion).where(ModuleVersion.module_id == module.id)
    return list(db.exec(query.order_by(col(ModuleVersion.number))))


def save(client: TestClient, text: str, message: str = "更新示例", **extra: str) -> Response:
    return post_form(client, f"{MODULE}/edit", {"text": text, "message": message, "action": "save", **extra})


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# ---- permissions ---------------------------------------------------------------------------------------

PAGES = [
    "/instructor",
    "/instructor/courses",
    BASE,
    f"{BASE}/settings",
    f"{MODULE}/edit",
    f"{MODULE}/history",
    f"{MODULE}/diff?a=1&b=1",
    f"{MODULE}/versions/1",
]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_login(client: TestClient, course: Course, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/instructor")


@pytest.mark.parametrize("url", PAGES)
def test_trainee_is_refused(client: TestClient, course: Course, trainee: User, url: str) -> None:
    login(client, trainee.email)
    response = client.get(url)
    assert response.status_code == 403
    assert "此页面仅供讲师和管理员使用" in visible_text(response.text)


def test_trainee_cannot_save_revert_or_preview(
    client: TestClient, db: Session, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    before = current_text(db)
    assert save(client, "---\ntitle: 篡改\n---\n").status_code == 403
    assert post_form(client, f"{MODULE}/revert", {"to": "1", "confirmed": "yes"}).status_code == 403
    assert post_form(client, f"{MODULE}/preview", {"text": before}).status_code == 403
    assert post_form(client, f"{BASE}/order", {"up": "02-law"}).status_code == 403
    assert current_text(db) == before and len(versions_of(db)) == 1


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_instructors_and_admins_may_author(
    client: TestClient, course: Course, request: pytest.FixtureRequest, role: str
) -> None:
    user: User = request.getfixturevalue(role)
    login(client, user.email)
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
    home = visible_text(client.get("/instructor").text)
    assert "课程" in home and "教学" in home


def test_every_form_carries_the_csrf_token(as_instructor: TestClient, db: Session) -> None:
    """The forms work as a browser without JavaScript sends them: with the page's own CSRF field."""
    save(as_instructor, current_text(db).replace("技术转移是", "技术转移乃是"), "第二版")
    token = csrf_token(as_instructor)
    for url in (BASE, f"{BASE}/settings", f"{MODULE}/edit", f"{MODULE}/history"):
        page = as_instructor.get(url).text
        forms = re.findall(r'<form method="post".*?</form>', page, re.DOTALL)
        assert forms, url
        for form in forms:
            assert f'name="csrf_token" value="{token}"' in form, (url, form[:200])
    confirm = post_form(as_instructor, f"{MODULE}/revert", {"to": "1"}).text
    assert f'name="csrf_token" value="{token}"' in confirm
    page = as_instructor.get(f"{MODULE}/edit").text
    typed = current_text(db).replace("技术转移乃是", "技术转移正是")
    response = as_instructor.post(  # exactly the fields of the page's form, no token added by the test
        f"{MODULE}/edit",
        data={
            "csrf_token": re.findall(r'name="csrf_token" value="([^"]*)"', page)[-1],
            "text": typed,
            "message": "浏览器提交",
            "action": "save",
            "base_version": "2",
        },
    )
    assert response.status_code == 303 and current_text(db) == typed


# ---- courses and the course page -----------------------------------------------------------------------


def test_courses_list_counts_modules(as_instructor: TestClient) -> None:
    page = as_instructor.get("/instructor/courses")
    text = visible_text(page.text)
    assert "示例课程" in text and "最近修改" in text
    assert re.search(r"示例课程 sample-course 3 \d{4}-\d\d-\d\d", text)


def test_course_page_lists_modules_with_version_and_author(as_instructor: TestClient) -> None:
    text = visible_text(as_instructor.get(BASE).text)
    assert text.index("技术转移基础") < text.index("02-law") < text.index("03-practice")
    assert "第 1 版" in text and "（导入）" in text  # imported versions have no author
    assert "限时 30 分钟，60 分及格，可考 2 次" in text


# ---- the editor and its preview ------------------------------------------------------------------------


def test_editor_shows_text_and_preview_with_right_answers(as_instructor: TestClient, db: Session) -> None:
    page = as_instructor.get(f"{MODULE}/edit")
    assert page.status_code == 200
    assert html.escape(current_text(db), quote=False) in page.text  # the markdown in the textarea
    assert 'aria-live="polite"' in page.text and 'hx-trigger="input changed delay:500ms"' in page.text
    text = visible_text(page.text)
    assert "未发现问题" in text
    assert "通过科学研究与技术开发所产生的具有实用价值的成果 正确答案" in text
    assert "只有专利 正确答案" not in text
    assert "判断题" in text and "答案： 正确" in text and "仅用于自测，不进入考试" in text


def test_htmx_preview_returns_only_the_block_with_line_numbered_problems(
    as_instructor: TestClient, db: Session
) -> None:
    text = current_text(db) + "\n" + BROKEN_QUESTION
    line = line_of(text, "```question id=basics-broken")
    response = post_form(as_instructor, f"{MODULE}/preview", {"text": text}, headers=HTMX_PREVIEW)
    assert response.status_code == 200
    assert "<html" not in response.text and "<textarea" not in response.text
    shown = visible_text(response.text)
    assert "发现 1 处问题" in shown
    assert re.search(rf"第 {line} 行 ：[^<]*right option", shown), shown
    assert "题目“basics-broken”无法显示" in shown
    assert "通过科学研究与技术开发所产生的具有实用价值的成果" in shown  # the rest still renders


def test_preview_button_without_javascript_shows_the_whole_page(as_instructor: TestClient) -> None:
    draft = "---\ntitle: 新标题\ngroup: 公共知识\nhours: 2\n---\n\n## 新的一节\n\n正文 <b>加粗</b>\n"
    response = post_form(as_instructor, f"{MODULE}/edit", {"text": draft, "message": "", "action": "preview"})
    assert response.status_code == 200
    assert "<textarea" in response.text and html.escape(draft, quote=False) in response.text
    assert '<h3 id="新的一节">新的一节</h3>' in response.text  # rendered as trainees see it
    assert "新标题" in visible_text(response.text)


# ---- saving --------------------------------------------------------------------------------------------


def test_invalid_save_is_refused_and_keeps_the_typed_text(as_instructor: TestClient, db: Session) -> None:
    before = current_text(db)
    typed = before + "\n" + BROKEN_QUESTION
    response = save(as_instructor, typed, "加一道题")
    assert response.status_code == 422
    body = response.text
    assert html.escape(typed, quote=False) in body
    assert 'value="加一道题"' in body
    shown = visible_text(body)
    assert "未保存：内容有 1 处问题" in shown
    assert f"第 {line_of(typed, '```question id=basics-broken')} 行" in shown
    assert current_text(db) == before and len(versions_of(db)) == 1
    assert not db.exec(select(AuditEvent).where(AuditEvent.action == "module.saved")).first()


def test_save_is_checked_with_the_whole_course(as_instructor: TestClient, db: Session) -> None:
    """Dropping questions below the exam's per-module draw breaks course.yaml, not the module itself."""
    text = current_text(db)
    start = text.index("```question id=basics-multiple")
    end = text.index("```question id=basics-selfcheck")
    typed = text[:start] + text[end:]
    preview = post_form(as_instructor, f"{MODULE}/preview", {"text": typed}, headers=HTMX_PREVIEW)
    assert "未发现问题" in visible_text(preview.text)  # the module alone is fine
    response = save(as_instructor, typed, "删掉两道题")
    assert response.status_code == 422
    shown = visible_text(response.text)
    assert re.search(r"course\.yaml 第 \d+ 行：模块 01-basics 只有 1 道考试题，无法从中抽取 2 道。", shown), (
        shown
    )
    assert html.escape(typed, quote=False) in response.text
    assert len(versions_of(db)) == 1


def test_save_needs_a_change_message(as_instructor: TestClient, db: Session) -> None:
    typed = current_text(db).replace("技术转移是", "技术转移就是")
    response = save(as_instructor, typed, "  ")
    assert response.status_code == 422
    assert "请说明改了什么" in visible_text(response.text)
    assert html.escape(typed, quote=False) in response.text
    assert len(versions_of(db)) == 1


def test_saving_unchanged_text_says_so(as_instructor: TestClient, db: Session) -> None:
    response = save(as_instructor, current_text(db).replace("\n", "\r\n"))
    assert response.status_code == 303
    page = as_instructor.get(response.headers["location"])
    assert "无需保存：内容与第 1 版相同" in visible_text(page.text)
    assert len(versions_of(db)) == 1


def test_valid_save_creates_a_version_seen_in_history_and_by_trainees(
    client: TestClient, db: Session, course: Course, instructor: User, trainee: User
) -> None:
    login(client, instructor.email)
    edited = current_text(db).replace("技术转移是把科技成果", "技术转移是把新的科技成果")
    response = save(client, edited.replace("\n", "\r\n"), "补充定义")  # a browser sends CRLF
    assert response.status_code == 303
    assert response.headers["location"] == f"{MODULE}/edit"
    assert "已保存为第 2 版" in visible_text(client.get(f"{MODULE}/edit").text)

    versions = versions_of(db)
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].text == edited and versions[1].author_id == instructor.id
    assert versions[1].message == "补充定义"
    history = visible_text(client.get(f"{MODULE}/history").text)
    assert re.search(r"第 2 版 当前 李老师 \d{4}-\d\d-\d\d \d\d:\d\d 补充定义", history), history
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "module.saved")).one()
    assert event.actor_id == instructor.id

    login(client, trainee.email)
    assert "技术转移是把新的科技成果" in visible_text(client.get(TRAINEE_PAGE).text)


# ---- history, diff and revert --------------------------------------------------------------------------


def test_diff_shows_added_and_removed_lines_escaped(as_instructor: TestClient, db: Session) -> None:
    original = current_text(db)
    edited = original.replace("技术转移是把科技成果从研发方转到应用方的过程。\n", "") + (
        "\n```html\n<script>alert('x')</script>\n```\n"
    )
    assert save(as_instructor, edited, "删一句，加一段代码").status_code == 303
    page = as_instructor.get(f"{MODULE}/diff?a=1&b=2")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    rows = re.findall(r'<tr class="diff-(added|removed)">(.*?)</tr>', page.text, re.DOTALL)
    removed = [visible_text(row) for kind, row in rows if kind == "removed"]
    added = [visible_text(row) for kind, row in rows if kind == "added"]
    assert any("技术转移是把科技成果从研发方转到应用方的过程。" in row for row in removed)
    assert any("alert" in html.unescape(row) for row in added)
    shown = visible_text(page.text)
    assert "从第 1 版到第 2 版的修改" in shown and "新增 4 行" in shown and "删除 1 行" in shown


def test_history_form_compares_any_two_versions(as_instructor: TestClient, db: Session) -> None:
    text = current_text(db)
    save(as_instructor, text.replace("技术转移是", "技术转移乃是"), "第二版")
    save(as_instructor, text.replace("技术转移是", "技术转移正是"), "第三版")
    history = as_instructor.get(f"{MODULE}/history").text
    assert (
        'name="a" value="2" id="a-2" checked' in history and 'name="b" value="3" id="b-3" checked' in history
    )
    page = as_instructor.get(f"{MODULE}/diff", params={"a": 1, "b": 3})
    assert "<ins>正</ins>" in page.text  # the changed character is marked
    assert as_instructor.get(f"{MODULE}/diff?a=1&b=9").status_code == 404


def test_revert_asks_first_then_creates_a_new_version(
    client: TestClient, db: Session, course: Course, instructor: User, trainee: User
) -> None:
    login(client, instructor.email)
    original = current_text(db)
    save(client, original.replace("技术转移是把科技成果", "技术转移是把改过的科技成果"), "改一句")

    confirm = post_form(client, f"{MODULE}/revert", {"to": "1"})
    assert confirm.status_code == 200
    assert "恢复到第 1 版？" in visible_text(confirm.text)
    assert 'name="confirmed" value="yes"' in confirm.text
    assert len(versions_of(db)) == 2  # asking changed nothing

    done = post_form(client, f"{MODULE}/revert", {"to": "1", "confirmed": "yes"})
    assert done.status_code == 303
    versions = versions_of(db)
    assert [v.number for v in versions] == [1, 2, 3]
    assert versions[2].text == original and versions[2].author_id == instructor.id
    assert "已将第 1 版恢复为第 3 版" in visible_text(client.get(done.headers["location"]).text)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "module.saved")).all()

    login(client, trainee.email)
    page = visible_text(client.get(TRAINEE_PAGE).text)
    assert "技术转移是把科技成果" in page and "改过的" not in page


def test_revert_with_htmx_confirms_in_the_browser_and_redirects(
    as_instructor: TestClient, db: Session
) -> None:
    save(as_instructor, current_text(db).replace("技术转移是", "技术转移乃是"), "改")
    history = as_instructor.get(f"{MODULE}/history").text
    assert "hx-confirm=" in history and 'hx-vals=\'{"confirmed": "yes"}\'' in history
    response = post_form(
        as_instructor, f"{MODULE}/revert", {"to": "1", "confirmed": "yes"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"{MODULE}/history"
    assert len(versions_of(db)) == 3


# ---- new modules and the order -------------------------------------------------------------------------


def test_create_module_appears_on_the_course_page(as_instructor: TestClient, db: Session) -> None:
    form = {"name": "04-contracts", "title": "技术合同", "group": "实务技能", "hours": "1.5"}
    response = post_form(as_instructor, f"{BASE}/modules", form)
    assert response.status_code == 303
    assert response.headers["location"] == f"{BASE}/modules/04-contracts/edit"
    page = visible_text(as_instructor.get(BASE).text)
    assert page.index("03-practice") < page.index("技术合同 04-contracts 实务技能 1.5 第 1 版 李老师")
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "module.created")).one()
    editor = as_instructor.get(response.headers["location"])
    assert "title: 技术合同" in editor.text


def test_create_module_refuses_bad_input_next_to_the_field(as_instructor: TestClient, db: Session) -> None:
    form = {"name": "01-basics", "title": "", "group": "实务技能", "hours": "abc"}
    response = post_form(as_instructor, f"{BASE}/modules", form)
    assert response.status_code == 422
    assert (
        'id="e-name"' in response.text and 'id="e-title"' in response.text and 'id="e-hours"' in response.text
    )
    assert 'value="01-basics"' in response.text
    assert len(db.exec(select(CourseModule)).all()) == 3


def test_reorder_with_positions_and_with_up_down(as_instructor: TestClient, db: Session) -> None:
    positions = {"position-01-basics": "3", "position-02-law": "2", "position-03-practice": "1"}
    response = post_form(as_instructor, f"{BASE}/order", positions)
    assert response.status_code == 303
    page = visible_text(as_instructor.get(BASE).text)
    assert page.index("03-practice") < page.index("02-law") < page.index("技术转移基础")

    response = post_form(as_instructor, f"{BASE}/order", {"up": "01-basics", **positions})
    assert response.status_code == 303
    page = visible_text(as_instructor.get(BASE).text)
    assert page.index("03-practice") < page.index("技术转移基础") < page.index("02-law")
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "course.modules_reordered")).all()
    assert len(events) == 2
    course = stored_course(db)
    assert course.yaml_text.index("03-practice") < course.yaml_text.index("01-basics")


def test_moving_one_module_to_a_taken_position_puts_it_first(as_instructor: TestClient) -> None:
    positions = {"position-01-basics": "1", "position-02-law": "2", "position-03-practice": "1"}
    post_form(as_instructor, f"{BASE}/order", positions)
    page = visible_text(as_instructor.get(BASE).text)
    assert page.index("03-practice") < page.index("技术转移基础") < page.index("02-law")


# ---- course settings -----------------------------------------------------------------------------------


def settings_form(**changes: str) -> dict[str, str]:
    form = {
        "title": "示例课程",
        "description": "A small course that exercises every part of the course format.",
        "min_hours": "6",
        "exam_title": "结业考试",
        "time_limit_minutes": "30",
        "pass_score": "60",
        "max_attempts": "2",
        "draw_per_module": "2",
        "draw_essay": "1",
    }
    return {**form, **changes}


def test_settings_pass_score_150_is_refused_next_to_the_field(as_instructor: TestClient, db: Session) -> None:
    response = post_form(as_instructor, f"{BASE}/settings", settings_form(pass_score="150", title="新名字"))
    assert response.status_code == 422
    assert '<p class="error" id="e-pass_score">及格分须在 0 到 100 之间。</p>' in response.text
    assert 'value="150"' in response.text and 'value="新名字"' in response.text
    course = stored_course(db)
    assert course.title == "示例课程" and course.exam_rules["pass_score"] == 60


def test_settings_refuse_a_draw_larger_than_a_module(as_instructor: TestClient, db: Session) -> None:
    response = post_form(as_instructor, f"{BASE}/settings", settings_form(draw_per_module="9"))
    assert response.status_code == 422
    assert re.search(r'id="e-draw_per_module">模块 \S+ 只有 \d+ 道考试题，无法从中抽取 9 道。', response.text)
    course = stored_course(db)
    assert course.exam_rules["draw"]["per_module"] == 2


def test_settings_are_saved_and_audited(as_instructor: TestClient, db: Session) -> None:
    form = settings_form(title="示例课程（修订）", pass_score="70", max_attempts="3", min_hours="8")
    response = post_form(as_instructor, f"{BASE}/settings", form)  # shuffle_options left unticked
    assert response.status_code == 303
    course = stored_course(db)
    assert course.title == "示例课程（修订）" and course.min_hours == 8
    assert course.exam_rules["pass_score"] == 70 and course.exam_rules["max_attempts"] == 3
    assert course.exam_rules["shuffle_options"] is False
    assert "pass_score: 70" in course.yaml_text
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "course.settings_changed")).one()
    assert "课程设置已保存" in visible_text(as_instructor.get(response.headers["location"]).text)


def test_settings_after_a_new_module_draw_per_module_by_name(as_instructor: TestClient, db: Session) -> None:
    """A new module switches the exam to a count per module (the write side keeps the exam valid); the
    settings form then has one count per module, the new one at 0."""
    form = {"name": "04-contracts", "title": "技术合同", "group": "实务技能", "hours": "1"}
    assert post_form(as_instructor, f"{BASE}/modules", form).status_code == 303
    page = as_instructor.get(f"{BASE}/settings").text
    assert 'id="f-draw-04-contracts" name="draw-04-contracts" type="number" value="0"' in page
    assert 'name="draw_per_module"' not in page
    counts = {"draw-01-basics": "1", "draw-02-law": "2", "draw-03-practice": "2", "draw-04-contracts": "0"}
    fields = {k: v for k, v in settings_form(**counts).items() if k != "draw_per_module"}
    response = post_form(as_instructor, f"{BASE}/settings", fields)
    assert response.status_code == 303, visible_text(response.text)
    draw = stored_course(db).exam_rules["draw"]
    assert draw["per_module"] is None
    assert draw["modules"] == [
        {"module": "01-basics", "count": 1},
        {"module": "02-law", "count": 2},
        {"module": "03-practice", "count": 2},
    ]


# ---- the diff itself -----------------------------------------------------------------------------------


def test_line_diff_escapes_and_marks_changed_characters() -> None:
    diff = line_diff("a\n<b>旧</b>\nc\n", "a\n<b>新</b>\nc\nd & e\n")
    lines = [line for hunk in diff.hunks for line in hunk.lines]
    kinds = [(line.kind, line.old_number, line.new_number) for line in lines]
    assert kinds == [
        ("context", 1, 1),
        ("removed", 2, None),
        ("added", None, 2),
        ("context", 3, 3),
        ("added", None, 4),
    ]
    assert str(lines[1].html) == "&lt;b&gt;<del>旧</del>&lt;/b&gt;"
    assert str(lines[2].html) == "&lt;b&gt;<ins>新</ins>&lt;/b&gt;"
    assert str(lines[4].html) == "d &amp; e"
    assert (diff.added, diff.removed) == (2, 1)
    assert line_diff("x\r\ny\r\n", "x\ny\n").identical
