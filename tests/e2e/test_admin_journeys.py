"""The first administrator (from the environment) finds a user, changes the role, and reads the change
in the audit log: live search and filters with JavaScript (htmx), the plain buttons without it."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, Screenshots
from tests.e2e.steps import at, log_in, register_over_http

pytestmark = pytest.mark.browser


def test_admin_searches_users_changes_a_role_and_the_audit_log_shows_it(
    person: Page, javascript: bool, live_server: LiveServer, screenshots: Screenshots
) -> None:
    tag = secrets.token_hex(3)
    target_name, target_email = f"周明远{tag}", f"zhou-{tag}@example.com"
    register_over_http(live_server.url, email=target_email, name=target_name, organisation=f"滨江孵化器{tag}")
    register_over_http(live_server.url, email=f"chen-{tag}@example.com", name=f"陈静{tag}")

    person.goto("/")
    person.get_by_role("banner").get_by_role("link", name="登录").click()
    log_in(person, live_server.admin_email, live_server.admin_password)
    expect(person).to_have_url(at("/me"))
    person.get_by_role("link", name="系统管理").click()
    expect(person.get_by_role("heading", name="用户", exact=True)).to_be_visible()
    screenshots(person, "users-list")

    search = person.get_by_label("按姓名、邮箱或单位搜索")
    if javascript:
        person.evaluate("window.__stillTheSameDocument = true")
        search.press_sequentially(f"zhou-{tag}", delay=20)  # htmx searches as the admin types
    else:
        search.fill(f"zhou-{tag}")
        person.get_by_role("button", name="搜索").click()
    expect(person.get_by_text("共 1 位用户")).to_be_visible()
    expect(person.get_by_role("cell", name=target_email, exact=True)).to_be_visible()
    expect(person).to_have_url(re.compile(rf"[?&]q=zhou-{tag}"))
    if javascript:
        assert person.evaluate("window.__stillTheSameDocument === true"), "the search reloaded the page"
    screenshots(person, "search-result")

    row = person.get_by_role("row").filter(has=person.get_by_role("cell", name=target_email, exact=True))
    role_select = row.get_by_label(f"{target_name} 的角色")
    user_id = (role_select.get_attribute("id") or "").removeprefix("role-")
    role_select.select_option(label="讲师")
    row.get_by_role("button", name="修改").click()
    expect(person.get_by_text(f"已修改 {target_email} 的角色。")).to_be_visible()
    expect(person.get_by_label(f"{target_name} 的角色")).to_have_value("instructor")
    screenshots(person, "role-changed")

    person.get_by_role("link", name="审计日志").click()
    expect(person.get_by_role("heading", name="审计日志")).to_be_visible()
    person.get_by_label("操作", exact=True).select_option("user.role_changed")
    if not javascript:
        person.get_by_role("button", name="筛选").click()
    expect(person).to_have_url(re.compile(r"[?&]action=user\.role_changed"))
    event = person.get_by_role("row").filter(
        has=person.get_by_role("cell", name=f"user {user_id}", exact=True)
    )
    expect(event).to_have_count(1)
    expect(event).to_contain_text(live_server.admin_email)
    expect(event).to_contain_text("user.role_changed")
    expect(event).to_contain_text('{"role": "trainee"}')
    expect(event).to_contain_text('{"role": "instructor"}')
    screenshots(person, "audit-log-shows-the-change")
