"""The exam in Chromium, as a trainee uses it with the keyboard alone: the countdown counts down (exam.js),
answers are saved as they are given (htmx) and the navigator follows, a reload restores everything, and
submitting goes through the confirmation page; and axe finds no serious WCAG 2.1 AA problem on any exam
page. (The HTTP-level exam tests are in tests/exams.)"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import LiveServer, Screenshots
from tests.e2e.seed import completed_every_module
from tests.e2e.steps import axe_blocking, log_in, new_email, register_over_http

pytestmark = pytest.mark.browser


def test_exam_by_keyboard_with_autosave_and_countdown(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, screenshots: Screenshots
) -> None:
    email = new_email("exam")
    register_over_http(live_server.url, email=email, name="考生甲")
    completed_every_module(live_server.database_url, email=email, course_slug="broker-junior")
    page = new_context().new_page()
    log_in(page, email)
    page.goto("/exams/broker-junior")
    screenshots(page, "eligibility")
    page.get_by_role("button", name="开始第 1 次考试").click()
    expect(page).to_have_url(re.compile(r"/exams/attempts/\d+$"))
    attempt_url = page.url

    countdown = page.locator("#countdown-value")
    first = countdown.text_content()
    page.wait_for_timeout(2200)
    assert countdown.text_content() != first  # counting down
    expect(page.locator(".deadline")).to_contain_text(
        re.compile(r"考试于 \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）结束")
    )

    # A choice question, answered with the keyboard: focus its first option, Space.
    choice = page.locator("fieldset input[type=radio]").first
    question = choice.locator("xpath=ancestor::section[contains(@class,'exam-question')]")
    position = (question.get_attribute("id") or "q-0").removeprefix("q-")
    choice.focus()
    page.keyboard.press("Space")
    expect(page.locator(f"#save-{position}")).to_contain_text("保存于")
    expect(page.locator(f"#nav-{position}")).to_have_class(re.compile("is-answered"))

    # The essay, typed: saved after a short pause, without pressing anything.
    essay = page.locator("textarea[name=text]").last
    essay_position = (essay.get_attribute("id") or "").removeprefix("q-").removesuffix("-input")
    essay.focus()
    page.keyboard.type("首先确认权属，其次评估作价，最后履行公示。")
    expect(page.locator(f"#save-{essay_position}")).to_contain_text("保存于", timeout=5000)
    expect(page.locator("#answered-count")).to_have_text(re.compile(r"已答 2 / \d+"))

    # Flag a question for review with the keyboard.
    flag = page.locator(f"#flag-{position} button")
    flag.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#flag-{position} button")).to_have_attribute("aria-pressed", "true")
    screenshots(page, "answered")

    page.reload()
    expect(page.locator(f"#q-{position} input[type=radio]").first).to_be_checked()
    expect(page.locator(f"#q-{essay_position}-input")).to_have_value(
        "首先确认权属，其次评估作价，最后履行公示。"
    )
    expect(page.locator(f"#nav-{position}")).to_have_class(re.compile("is-flagged"))

    # The navigator is made of real links.
    page.locator(f"#nav-{essay_position} a").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"#q-{essay_position}$"))

    page.goto(attempt_url + "/submit")
    expect(page.get_by_role("heading", name="确认交卷？")).to_be_visible()
    screenshots(page, "confirm")
    page.get_by_role("button", name="确认交卷").click()
    expect(page).to_have_url(re.compile(r"/result$"))
    expect(page.get_by_role("heading", name="等待评分")).to_be_visible()
    screenshots(page, "result-waiting")


def test_exam_pages_meet_wcag_aa(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, screenshots: Screenshots
) -> None:
    email = new_email("exam-a11y")
    register_over_http(live_server.url, email=email, name="考生乙")
    completed_every_module(live_server.database_url, email=email, course_slug="broker-junior")
    page = new_context(bypass_csp=True).new_page()  # axe is injected; only this context bypasses the CSP
    log_in(page, email)
    page.goto("/exams/broker-junior")
    checked = {"eligibility": axe_blocking(page)}
    page.get_by_role("button", name="开始第 1 次考试").click()
    expect(page).to_have_url(re.compile(r"/exams/attempts/\d+$"))
    attempt_url = page.url
    checked["paper"] = axe_blocking(page)
    page.goto(attempt_url + "?q=1")
    checked["one question"] = axe_blocking(page)
    page.goto(attempt_url + "/submit")
    checked["confirm"] = axe_blocking(page)
    page.get_by_role("button", name="确认交卷").click()
    expect(page).to_have_url(re.compile(r"/result$"))
    checked["result"] = axe_blocking(page)
    staff = new_context(bypass_csp=True).new_page()
    log_in(staff, live_server.admin_email, live_server.admin_password)
    staff.goto("/instructor/questions/broker-junior")
    checked["question bank"] = axe_blocking(staff)
    staff.goto("/instructor/grading")
    checked["grading queue"] = axe_blocking(staff)
    staff.goto(attempt_url.replace("/exams/attempts/", "/instructor/grading/attempts/"))
    checked["grading an attempt"] = axe_blocking(staff)
    screenshots(staff, "grading")
    assert {name: found for name, found in checked.items() if found} == {}
