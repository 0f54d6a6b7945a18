"""Issue #9's instructor journey, in the browser with and without JavaScript: edit a module (with
JavaScript the preview follows the typing without saving; without it the Preview button shows it), save
it, read the changes between the two versions, revert to the earlier one (nothing lost from the history),
and grade a case-analysis answer from the grading queue. Set on the database only: the instructor's role
(the administrator journey changes a role in the browser) and a trainee's submitted exam."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from tests.e2e import seed
from tests.e2e.conftest import LiveServer, Screenshots
from tests.e2e.steps import at, axe_on_pages, field, log_in, new_email, register_over_http

pytestmark = pytest.mark.browser

COURSE, COURSE_TITLE = "broker-intermediate", "中级技术经纪人培训"
MODULE, MODULE_TITLE = "04-technology-import-export", "技术进出口管理"  # no other browser test reads it
EDITOR = f"/instructor/courses/{COURSE}/modules/{MODULE}"


def _current_version(page: Page) -> int:
    found = re.search(r"当前版本：第 (\d+) 版", page.get_by_role("main").inner_text())
    assert found is not None, "the editor shows the current version"
    return int(found.group(1))


def test_instructor_edits_previews_compares_reverts_and_grades(
    person: Page,
    javascript: bool,
    new_context: Callable[..., BrowserContext],
    live_server: LiveServer,
    screenshots: Screenshots,
) -> None:
    tag = secrets.token_hex(3)
    email = new_email("instructor")
    register_over_http(live_server.url, email=email, name=f"冯老师{tag}")
    seed.set_role(live_server.database_url, email=email, role="instructor")
    trainee, trainee_email = f"何振宇{tag}", new_email("essay")
    register_over_http(live_server.url, email=trainee_email, name=trainee)
    essay = f"先做尽职调查，再谈许可方式与费用结构，最后约定改进技术的归属。（{tag}）"
    attempt_id = seed.essay_waiting_for_a_grader(
        live_server.database_url, email=trainee_email, course_slug="broker-junior", essay=essay
    )
    message = f"补充技术出口目录的提示（{tag}）"
    paragraph = f"补充说明：技术出口前先查《技术进出口管理条例》的目录（{tag}）。"

    # -- to the editor ----------------------------------------------------------------------------------
    person.goto("/login")
    log_in(person, email)
    person.get_by_role("navigation", name="主导航").get_by_role("link", name="教学管理").click()
    person.get_by_role("navigation", name="教学管理").get_by_role("link", name="课程", exact=True).click()
    person.get_by_role("link", name=COURSE_TITLE).click()
    person.get_by_role("link", name=f"编辑 {MODULE_TITLE}").click()
    expect(person).to_have_url(at(f"{EDITOR}/edit"))
    expect(person.get_by_role("heading", name=f"编辑模块：{MODULE_TITLE}")).to_be_visible()
    before = _current_version(person)
    screenshots(person, "editor")

    # -- edit, preview, save ------------------------------------------------------------------------------
    text = field(person, "模块内容（Markdown）")
    original = text.input_value()
    preview = person.get_by_role("region", name="预览")
    expect(preview).not_to_contain_text(paragraph)
    text.fill(original.rstrip("\n") + f"\n\n{paragraph}\n")
    if javascript:  # the preview follows the text, and nothing is saved or reloaded
        person.evaluate("window.__stillTheSameDocument = true")
        expect(preview).to_contain_text(paragraph)
        expect(preview).to_contain_text("未发现问题。")
        assert person.evaluate("window.__stillTheSameDocument === true"), "the preview reloaded the page"
    else:  # the Preview button shows it, with the text kept in the editor
        person.get_by_role("button", name="预览", exact=True).click()
        expect(preview).to_contain_text(paragraph)
        expect(preview).to_contain_text("未发现问题。")
        expect(field(person, "模块内容（Markdown）")).to_have_value(re.compile(re.escape(paragraph)))
    assert _current_version(person) == before, "a preview saves nothing"
    screenshots(person, "preview")

    field(person, "修改说明").fill(message)
    person.get_by_role("button", name="保存", exact=True).click()
    expect(person.get_by_text(f"已保存为第 {before + 1} 版。")).to_be_visible()
    expect(person.get_by_text(f"当前版本：第 {before + 1} 版")).to_be_visible()
    screenshots(person, "saved")

    person.get_by_role("link", name="以学员视角查看").click()
    expect(person.get_by_role("main")).to_contain_text(paragraph)
    person.go_back()

    # -- the changes between the two versions -------------------------------------------------------------
    person.get_by_role("link", name="修订历史", exact=True).click()
    expect(person.get_by_role("row").filter(has_text=message)).to_contain_text("当前")
    person.get_by_label(f"从第 {before} 版比较").check()
    person.get_by_label(f"比较到第 {before + 1} 版").check()
    person.get_by_role("button", name="比较所选版本").click()
    expect(person.get_by_role("heading", name=f"从第 {before} 版到第 {before + 1} 版的修改")).to_be_visible()
    expect(person.get_by_text("新增 2 行")).to_be_visible()  # the blank line and the paragraph
    added = person.get_by_role("row").filter(has_text=paragraph)
    expect(added).to_have_count(1)
    expect(added).to_contain_text("新增")
    screenshots(person, "diff")
    diff_url = person.url

    # -- revert to the earlier version ----------------------------------------------------------------------
    person.get_by_role("link", name="返回修订历史").click()
    revert = person.get_by_role("button", name=f"恢复到第 {before} 版")
    if javascript:  # htmx asks in a dialog
        dialogs: list[str] = []

        def accept(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.accept()

        person.once("dialog", accept)
        revert.click()
        expect(person.get_by_text(f"已将第 {before} 版恢复为第 {before + 2} 版。")).to_be_visible()
        assert dialogs and f"恢复到第 {before} 版" in dialogs[0], dialogs
    else:  # a page asks, with the changes the revert makes
        revert.click()
        expect(person.get_by_role("heading", name=f"恢复到第 {before} 版？")).to_be_visible()
        expect(person.get_by_role("row").filter(has_text=paragraph)).to_contain_text("删除")
        screenshots(person, "revert-confirm")
        person.get_by_role("button", name=f"确定恢复到第 {before} 版").click()
        expect(person.get_by_text(f"已将第 {before} 版恢复为第 {before + 2} 版。")).to_be_visible()
    screenshots(person, "reverted")
    person.goto(f"/courses/{COURSE}/modules/{MODULE}")
    expect(person.get_by_role("heading", name=MODULE_TITLE, level=1)).to_be_visible()
    expect(person.get_by_role("main")).not_to_contain_text(paragraph)
    person.goto(f"{EDITOR}/edit")
    expect(field(person, "模块内容（Markdown）")).to_have_value(original)
    assert _current_version(person) == before + 2

    # -- grade a case analysis ------------------------------------------------------------------------------
    person.get_by_role("navigation", name="主导航").get_by_role("link", name="教学管理").click()
    person.get_by_role("navigation", name="教学管理").get_by_role("link", name="阅卷").click()
    waiting = person.get_by_role("region", name=re.compile(r"^待评分（\d+）$"))
    waiting.get_by_role("link", name=trainee, exact=True).click()
    expect(person).to_have_url(at(f"/instructor/grading/attempts/{attempt_id}"))
    expect(person.get_by_text(essay)).to_be_visible()
    screenshots(person, "grading")
    field(person, "给学员的评语").fill("思路清楚，条理分明。")
    points = person.get_by_label(re.compile(r"^分数（0 到 [\d.]+）$"))
    points.fill(points.get_attribute("max") or "0")
    person.get_by_role("button", name="保存评分").click()
    expect(person.get_by_text("评分已保存。所有答案均已评分，成绩已向学员发布。")).to_be_visible()
    expect(person).to_have_url(at("/instructor/grading"))  # back to the queue
    screenshots(person, "graded")
    released = person.get_by_role("region", name="已发布的成绩")
    expect(released.get_by_role("row").filter(has_text=trainee)).to_have_count(1)
    expect(person.get_by_role("region", name=re.compile(r"^待评分")).get_by_text(trainee)).to_have_count(0)

    # -- the pages of the journey meet WCAG 2.1 AA -----------------------------------------------------------
    if javascript:
        checker = new_context(bypass_csp=True).new_page()  # axe is injected: only this context bypasses CSP
        checker.goto("/login")
        log_in(checker, email)
        paths = [
            "/instructor",
            f"/instructor/courses/{COURSE}",
            f"{EDITOR}/edit",
            f"{EDITOR}/history",
            diff_url,
            f"/instructor/grading/attempts/{attempt_id}",
            "/instructor/grading",
        ]
        assert axe_on_pages(checker, paths) == {}
