"""WCAG 2.1 AA in the browser: axe-core (vendored, tests/e2e/vendor/) on every main page, each as the
person who would see it; a page must fit a phone screen without sideways scrolling; and the keyboard
alone reaches the content and signs in.

MAIN_PAGES is the one list of pages to check; a feature that adds a page adds it here. Every feature is
built, so a main page that answers 404 fails the test (it is never skipped)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import PHONE, REPO_ROOT, LiveServer, Screenshots
from tests.e2e.steps import (
    AXE,
    AXE_TAGS,
    at,
    log_in,
    new_email,
    new_id_number,
    register_over_http,
)
from tests.e2e.steps import field as form_field

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
AXE_REPORTS = REPO_ROOT / "test-artifacts" / "axe"

Who = Literal["anyone", "trainee", "admin"]


@dataclass(frozen=True)
class MainPage:
    name: str
    path: str
    who: Who = "anyone"
    status: int = 200
    feature: str = "the foundation"
    then: Callable[[Page], object] | None = field(default=None, compare=False)  # bring it to a state


def _submit_empty_registration(page: Page) -> None:
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()


def _wrong_password(page: Page) -> None:
    form_field(page, "电子邮箱").fill("nobody@example.com")
    form_field(page, "密码").fill("not-the-password")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()


MAIN_PAGES = [
    MainPage("home", "/"),
    MainPage("login", "/login"),
    MainPage("login-error", "/login", status=401, then=_wrong_password),
    MainPage("register", "/register"),
    MainPage("register-errors", "/register", status=422, then=_submit_empty_registration),
    MainPage("me", "/me", who="trainee"),
    MainPage("profile", "/me/profile", who="trainee"),
    MainPage("password", "/me/password", who="trainee"),
    MainPage("admin-users", "/admin/users", who="admin"),
    MainPage("admin-audit", "/admin/audit", who="admin"),
    MainPage("admin-classes", "/admin/classes", who="admin", feature="classes (#4)"),
    MainPage("admin-class-new", "/admin/classes/new", who="admin", feature="classes (#4)"),
    MainPage("admin-certificates", "/admin/certificates", who="admin", feature="certificates (#7)"),
    MainPage("admin-roster", "/admin/roster", who="admin", feature="the roster (#8)"),
    MainPage("admin-roster-import", "/admin/roster/import", who="admin", feature="the roster (#8)"),
    MainPage("admin-outbox", "/admin/outbox", who="admin", feature="notifications"),
    MainPage("open-classes", "/classes", who="trainee", feature="classes (#4)"),
    MainPage("instructor-classes", "/instructor/classes", who="admin", feature="classes (#4)"),
    MainPage("instructor-courses", "/instructor/courses", who="admin", feature="the course engine (#3)"),
    MainPage("verify-unknown-number", "/verify?number=NOSUCHNUMBER", status=404, feature="certificates (#7)"),
    MainPage("not-found", "/no-such-page", status=404),
    MainPage("catalogue", "/courses", feature="the course engine (#3)"),
    MainPage("course", "/courses/broker-junior", who="trainee", feature="the course engine (#3)"),
    MainPage(
        "module",
        "/courses/broker-junior/modules/01-tech-transfer-basics",
        who="trainee",
        feature="the course engine (#3)",
    ),
    MainPage("instructor", "/instructor", who="admin", feature="the course engine (#3)"),
    MainPage("grading-queue", "/instructor/grading", who="admin", feature="exams (#5)"),
    MainPage("my-certificates", "/me/certificates", who="trainee", feature="certificates (#7)"),
    MainPage("verify", "/verify", feature="certificates (#7)"),
    MainPage("roster", "/roster", feature="the roster (#8)"),
]


@pytest.fixture(scope="module")
def trainee_account(live_server: LiveServer) -> tuple[str, str]:
    from tests.support import TEST_PASSWORD

    email = new_email("a11y")
    register_over_http(live_server.url, email=email, name="赵一鸣", id_number=new_id_number())
    return email, TEST_PASSWORD


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))}));
        }""",
        AXE_TAGS,
    )
    return list(result)


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {node['target']}: {node['html']}")
            lines.append("      " + (node["summary"] or "").replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.mark.parametrize("main_page", MAIN_PAGES, ids=[p.name for p in MAIN_PAGES])
def test_no_serious_accessibility_violations(
    main_page: MainPage,
    new_context: Callable[..., BrowserContext],
    live_server: LiveServer,
    trainee_account: tuple[str, str],
    screenshots: Screenshots,
) -> None:
    # The CSP (script-src 'self') rightly refuses the injected axe script; these contexts alone bypass it.
    page = new_context(bypass_csp=True).new_page()
    if main_page.who != "anyone":
        email, password = (
            trainee_account
            if main_page.who == "trainee"
            else (live_server.admin_email, live_server.admin_password)
        )
        page.goto("/login")
        log_in(page, email, password)
        expect(page).to_have_url(at("/me"))

    response = page.goto(main_page.path)
    assert response is not None
    if response.status == 404 and main_page.status != 404:
        pytest.fail(
            f"{main_page.path} ({main_page.feature}) answers 404: missing page, wrong path or missing data?"
        )
    if main_page.then is not None:
        main_page.then(page)
    else:
        assert response.status == main_page.status, f"{main_page.path} answered {response.status}"
    screenshots(page, main_page.name)

    violations = _axe_violations(page)
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{main_page.name}.json").write_text(json.dumps(violations, ensure_ascii=False, indent=2))
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {main_page.path} as {main_page.who}:\n{_describe(blocking)}"


@pytest.mark.parametrize("path", ["/", "/me"], ids=["home", "me"])
def test_pages_fit_a_phone_screen(
    path: str,
    new_context: Callable[..., BrowserContext],
    trainee_account: tuple[str, str],
    screenshots: Screenshots,
) -> None:
    """WCAG 1.4.10 reflow: on a 390 px wide phone nothing needs sideways scrolling."""
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    if path == "/me":
        page.goto("/login")
        log_in(page, *trainee_account)
    page.goto(path)
    screenshots(page, f"phone-{path.strip('/') or 'home'}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a {PHONE['width']}px wide phone"


def test_keyboard_alone_skips_to_content_and_signs_in(
    page: Page, trainee_account: tuple[str, str], screenshots: Screenshots
) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    screenshots(page, "skip-link-focused")
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    email, password = trainee_account
    for _ in range(10):  # from the top of the content, Tab reaches the email field first
        page.keyboard.press("Tab")
        if form_field(page, "电子邮箱").evaluate("el => el === document.activeElement"):
            break
    expect(form_field(page, "电子邮箱")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(form_field(page, "密码")).to_be_focused()
    page.keyboard.type(password)
    screenshots(page, "login-by-keyboard")
    page.keyboard.press("Enter")
    expect(page).to_have_url(at("/me"))
