"""A trainee's account, in a real browser, with and without JavaScript: register with an ID number, see it
masked, log out and in, change the password (which signs out the other device), and be locked out for a
while after too many wrong passwords."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import LiveServer, Screenshots
from tests.e2e.steps import (
    at,
    field,
    log_in,
    log_out,
    masked,
    new_email,
    new_id_number,
    register,
    register_over_http,
)
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Xixi-Wetland-Broker-9"


def test_register_see_masked_id_change_password_and_sign_out_the_other_device(
    person: Page,
    javascript: bool,
    new_context: Callable[..., BrowserContext],
    screenshots: Screenshots,
) -> None:
    email, id_number = new_email("wang"), new_id_number()

    person.goto("/")
    expect(person.get_by_role("heading", name="技术经纪人学院", level=1)).to_be_visible()
    screenshots(person, "home")
    register(
        person,
        email=email,
        name="王晓燕",
        id_number=id_number,
        before_submit=lambda page: screenshots(page, "register-form-filled"),
    )

    expect(person).to_have_url(at("/me"))
    expect(person.get_by_text("欢迎！您的账号已创建。")).to_be_visible()
    expect(person.get_by_text(masked(id_number), exact=True)).to_be_visible()
    assert id_number not in person.content(), "the full ID number must never reach the page"
    screenshots(person, "me-with-masked-id")

    log_out(person)
    expect(person).to_have_url(at("/"))
    screenshots(person, "logged-out")

    person.get_by_role("banner").get_by_role("link", name="登录").click()
    log_in(person, email)
    expect(person).to_have_url(at("/me"))
    expect(person.get_by_role("heading", name="我的学习")).to_be_visible()
    screenshots(person, "logged-in-again")

    other = new_context(javascript=javascript).new_page()
    other.goto("/login")
    log_in(other, email)
    expect(other).to_have_url(at("/me"))
    screenshots(other, "second-device-signed-in")

    person.get_by_role("link", name="修改密码").click()
    field(person, "当前密码").fill(TEST_PASSWORD)
    field(person, "新密码").fill(NEW_PASSWORD)
    field(person, "再次输入新密码").fill(NEW_PASSWORD)
    screenshots(person, "change-password-form")
    person.get_by_role("button", name="修改密码").click()
    expect(person).to_have_url(at("/me"))
    expect(person.get_by_text("密码已修改，其他所有设备均已退出登录。")).to_be_visible()
    screenshots(person, "password-changed")

    other.reload()
    expect(other).to_have_url(at("/login?next=/me"))
    expect(other.get_by_role("heading", name="登录")).to_be_visible()
    screenshots(other, "second-device-signed-out")
    log_in(other, email, TEST_PASSWORD)
    expect(other.get_by_role("alert")).to_have_text("邮箱或密码不正确。")
    log_in(other, email, NEW_PASSWORD)
    expect(other).to_have_url(at("/me"))

    log_out(person)
    expect(person.get_by_role("banner").get_by_role("link", name="登录")).to_be_visible()
    screenshots(person, "logged-out-at-the-end")


def test_sixth_wrong_password_is_refused_with_a_retry_time(
    person: Page, live_server: LiveServer, screenshots: Screenshots
) -> None:
    email = new_email("locked")
    register_over_http(live_server.url, email=email, name="李建国")

    person.goto("/login")
    for attempt in range(1, 6):
        log_in(person, email, f"Wrong-Password-{attempt}")
        expect(person.get_by_role("alert")).to_have_text("邮箱或密码不正确。")
    screenshots(person, "five-wrong-passwords")

    log_in(person, email, "Wrong-Password-6")
    alert = person.get_by_role("alert")
    expect(alert).to_contain_text("该账号登录失败次数过多")
    retry = re.search(r"请在 (\d+) 分钟后（UTC 时间 (\d\d:\d\d) 之后）再试", alert.inner_text())
    assert retry is not None, alert.inner_text()
    assert 1 <= int(retry.group(1)) <= 15
    screenshots(person, "sixth-refused-with-retry-time")

    # the right password waits as well: the lock is on the account, not on the guess
    log_in(person, email, TEST_PASSWORD)
    expect(person.get_by_role("alert")).to_contain_text("该账号登录失败次数过多")
    expect(person).to_have_url(at("/login"))
