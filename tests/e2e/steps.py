"""What a person does in the browser, found the way they find it: by the Chinese labels, button names
and link texts on screen. Also quick ways to set the stage (a registered user) over plain HTTP."""

from __future__ import annotations

import itertools
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.cookiejar import CookieJar
from pathlib import Path

from playwright.sync_api import Locator, Page, Response, expect

from backend.accounts.idcard import mod11_2_check_char
from backend.security import CSRF_COOKIE, CSRF_FIELD
from tests.e2e.seed import Key
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


# ---- module self-checks and the exam paper --------------------------------------------------------------


def answer_every_self_check(page: Page) -> int:
    """Answer each self-check of the module page (the first option, 正确, a short text) and check it;
    with htmx the question is swapped in place, without JavaScript the page comes back. Returns how many."""
    questions = page.get_by_role("region", name=re.compile(r"^自测题 \d+"))
    count = questions.count()
    for index in range(count):
        question = questions.nth(index)
        if question.get_by_role("radio", name="正确", exact=True).count():
            question.get_by_role("radio", name="正确", exact=True).check()
        elif question.get_by_role("radio").count():
            question.get_by_role("radio").first.check()
        elif question.get_by_role("checkbox").count():
            question.get_by_role("checkbox").first.check()
        else:
            question.get_by_role("textbox").fill("3")
        question.get_by_role("button", name="提交答案").click()
        expect(questions.nth(index).get_by_role("button", name="重新作答")).to_be_visible()
        expect(questions.nth(index).get_by_role("status")).to_contain_text(
            re.compile("回答正确|回答有误|已保存")
        )
    return count


def exam_question(page: Page, position: int) -> Locator:
    return page.get_by_role("region", name=re.compile(rf"^第 {position} 题 "))


def give_exam_answer(page: Page, key: Key, essay: str, *, autosave: bool) -> None:
    """Answer one question of the paper as the key says. With autosave (htmx), wait until the server has
    answered the save of exactly this answer; without JavaScript, the caller presses a save button."""
    question = exam_question(page, key.position)

    def act() -> None:
        if key.type == "single":
            question.get_by_role("radio").nth(key.choice[0]).check()
        elif key.type == "multiple":
            for shown in key.choice:
                question.get_by_role("checkbox").nth(shown).check()
        elif key.type == "truefalse":
            question.get_by_role("radio", name="正确" if key.truth else "错误", exact=True).check()
        else:
            question.get_by_role("textbox").fill(key.text or essay)

    if not autosave:
        act()
        return
    expected = _posted_fields(key, essay)

    def is_this_save(response: Response) -> bool:
        if response.request.method != "POST" or not response.url.endswith(f"/answers/{key.position}"):
            return False
        posted = urllib.parse.parse_qs(response.request.post_data or "")
        return all(sorted(posted.get(name, [])) == values for name, values in expected.items())

    with page.expect_response(is_this_save) as saved:
        act()
    assert saved.value.ok, f"saving answer {key.position} failed: {saved.value.status}"
    expect(question.get_by_role("status")).to_contain_text("保存于")


def _posted_fields(key: Key, essay: str) -> dict[str, list[str]]:
    if key.type in ("single", "multiple"):
        return {"choice": sorted(str(shown) for shown in key.choice)}
    if key.type == "truefalse":
        return {"truth": ["true" if key.truth else "false"]}
    if key.type == "numeric":
        return {"value": [key.text]}
    return {"text": [key.text or essay]}


def expect_exam_answer(page: Page, key: Key, essay: str) -> None:
    """The paper shows exactly this answer to the question (after a reload, say)."""
    question = exam_question(page, key.position)
    if key.type in ("single", "multiple"):
        options = question.get_by_role("radio" if key.type == "single" else "checkbox")
        for shown in range(options.count()):
            if shown in key.choice:
                expect(options.nth(shown)).to_be_checked()
            else:
                expect(options.nth(shown)).not_to_be_checked()
    elif key.type == "truefalse":
        expect(
            question.get_by_role("radio", name="正确" if key.truth else "错误", exact=True)
        ).to_be_checked()
    else:
        expect(question.get_by_role("textbox")).to_have_value(key.text or essay)


# ---- accessibility ---------------------------------------------------------------------------------------

AXE = next((Path(__file__).parent / "vendor").glob("axe-core-*/axe.min.js"))
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_blocking(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 AA violations on the page as it is now (the context must
    bypass the CSP, which rightly refuses the injected script)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + ": " + v.help + " at " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
        }""",
        AXE_TAGS,
    )
    return list(found)


def axe_on_pages(page: Page, paths: list[str]) -> dict[str, list[str]]:
    """axe_blocking() on each path in turn; only the paths with a blocking violation are returned."""
    found = {}
    for path in paths:
        page.goto(path)
        violations = axe_blocking(page)
        if violations:
            found[path] = violations
    return found
