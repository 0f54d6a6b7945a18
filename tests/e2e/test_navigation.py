"""The header leads to every section this build has: an administrator (who may see them all) clicks each
link and lands on that section, marked as the current one. A section whose route does not exist yet is
simply not expected; one that exists but has no link in the header fails."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, Screenshots
from tests.e2e.steps import at, log_in

pytestmark = pytest.mark.browser

# (path the link goes to, its text in the header)
SECTIONS = [
    ("/courses", "课程"),
    ("/verify", "证书查验"),
    ("/me", "我的学习"),
    ("/instructor", "教学管理"),
    ("/admin/users", "系统管理"),
]


def test_header_links_to_every_section(page: Page, live_server: LiveServer, screenshots: Screenshots) -> None:
    page.goto("/login")
    log_in(page, live_server.admin_email, live_server.admin_password)
    expect(page).to_have_url(at("/me"))
    navigation = page.get_by_role("navigation", name="主导航")
    missing = []
    for path, name in SECTIONS:
        link = navigation.get_by_role("link", name=name, exact=True)
        if link.count() == 0:
            missing.append(f"{name} ({path}) on the page {urlparse(page.url).path}")
            continue
        link.click()
        expect(page).to_have_url(re.compile(rf"^https?://[^/]+{re.escape(path)}([/?].*)?$"))
        expect(navigation.get_by_role("link", name=name, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        screenshots(page, path.strip("/").replace("/", "-"))
    assert not missing, "the header of a signed-in administrator has no link to: " + "; ".join(missing)
