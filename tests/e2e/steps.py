"""What a person does in the browser, found the way they find it: by the Chinese labels, button names
and link texts on screen. Also quick ways to set the stage (a registered user) over plain HTTP."""

from __future__ import annotations

import itertools
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from functools import cache
from http.cookiejar import CookieJar

from playwright.sync_api import Locator, Page, expect

from backend.accounts.idcard import mod11_2_check_char
from backend.security import CSRF_COOKIE, CSRF_FIELD
from tests.support import TEST_PASSWORD

_serial = itertools.count(101)


def new_id_number() -> str:
    """A valid, unused resident ID number (Hangzhou Xihu district, born 1990-01-01): the 17 digits
    and their ISO 7064 MOD 11-2 check character, as tests/support.py computes it."""
    base17 = f"33010619900101{next(_serial) % 1000:03d}"
    return base17 + mod11_2_check_char(base17)


def masked(id_number: str) -> str:
    return id_number[:6] + "*" * 8 + id_number[-4:]


def at(path: str) -> re.Pattern[str]:
    """The page's address is exactly this path (and query) on the server under test."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}$")


def field(page: Page | Locator, label: str) -> Locator:
    """The form field with exactly this label; a required field's label ends in a (hidden) '*'."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))


def new_email(who: str) -> str:
    return f"{who}-{secrets.token_hex(3)}@example.com"


def register(
    page: Page,
    *,
    email: str,
    name: str,
    id_number: str = "",
    password: str = TEST_PASSWORD,
    before_submit: Callable[[Page], object] | None = None,
) -> None:
    """From any page: the header's 注册 link, fill in the form, 注册."""
    page.get_by_role("banner").get_by_role("link", name="注册").click()
    expect(page.get_by_role("heading", name="注册账号")).to_be_visible()
    field(page, "电子邮箱").fill(email)
    field(page, "姓名").fill(name)
    field(page, "密码").fill(password)
    field(page, "再次输入密码").fill(password)
    field(page, "身份证号").fill(id_number)
    field(page, "工作单位").fill("杭州市技术转移中心")
    if before_submit is not None:
        before_submit(page)
    page.get_by_role("button", name="注册", exact=True).click()


def log_in(page: Page, email: str, password: str = TEST_PASSWORD) -> None:
    """The header's 登录 link (or the login page itself), fill it in, 登录."""
    if not re.search(r"/login(\?|$)", page.url):
        page.goto("/login")
    field(page, "电子邮箱").fill(email)
    field(page, "密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出", exact=True).click()
    expect(page.get_by_text("您已退出登录。")).to_be_visible()


def register_over_http(
    base_url: str,
    *,
    email: str,
    name: str,
    organisation: str = "",
    id_number: str = "",
    password: str = TEST_PASSWORD,
) -> None:
    """Set the stage quickly: the same form post a browser sends, CSRF token included."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _KeepRedirects())
    opener.open(f"{base_url}/register", timeout=10).read()
    token = next(cookie.value for cookie in jar if cookie.name == CSRF_COOKIE)
    form = {
        "email": email,
        "name": name,
        "password": password,
        "password_confirm": password,
        "id_number": id_number,
        "organisation": organisation,
        CSRF_FIELD: token or "",
    }
    body = urllib.parse.urlencode(form).encode()
    try:
        opener.open(f"{base_url}/register", data=body, timeout=10)
    except urllib.error.HTTPError as answer:  # a registered user is sent on to /me
        assert answer.code == 303 and answer.headers["Location"] == "/me", answer.read()[:2000]
    else:
        raise AssertionError(f"registering {email} was refused")


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@cache
def _route_patterns(base_url: str) -> tuple[re.Pattern[str], ...]:
    """Every path the app declares in /openapi.json (pages too): '/courses/{slug}' → '^/courses/[^/]+$'."""
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=10) as response:
        paths = json.load(response)["paths"]
    return tuple(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$") for p in paths)


def app_has_route(base_url: str, path: str) -> bool:
    """Whether this build serves `path` at all: pages of features not built yet are skipped, not failed."""
    return any(pattern.match(path) for pattern in _route_patterns(base_url))
