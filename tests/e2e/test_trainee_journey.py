"""Issue #9's trainee journey, end to end in the browser, with and without JavaScript: register, enrol in
a class, read two modules and answer their self-checks, sit the final exam (reloading halfway: every answer
is still there), have the case analysis graded, get the certificate from the administrator, and open its
verification page logged out. Set on the database only (tests/e2e/seed.py): the class itself and the
hours of its classroom sessions (the administrator's and the instructor's work, weeks of it)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from urllib.parse import urlparse

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e import seed
from tests.e2e.conftest import LiveServer, Screenshots
from tests.e2e.steps import (
    answer_every_self_check,
    at,
    axe_on_pages,
    expect_exam_answer,
    give_exam_answer,
    log_in,
    masked,
    new_email,
    new_id_number,
    register,
)

pytestmark = pytest.mark.browser

COURSE = "broker-junior"
ESSAY = "首先核实专利权属和有效性，其次由第三方评估作价，最后签订技术合同并办理认定登记，依法公示。"


def test_trainee_from_registration_to_a_verified_certificate(
    person: Page,
    javascript: bool,
    new_context: Callable[..., BrowserContext],
    live_server: LiveServer,
    screenshots: Screenshots,
) -> None:
    tag = secrets.token_hex(3)
    name, email, id_number = f"孙雨桐{tag}", new_email("trainee"), new_id_number()
    class_name = f"2026年杭州市初级技术经纪人培训班（{tag}期）"
    cohort_id = seed.open_class(live_server.database_url, name=class_name, course_slug=COURSE)

    # -- register ---------------------------------------------------------------------------------------
    person.goto("/")
    screenshots(person, "home")
    register(person, email=email, name=name, id_number=id_number)
    expect(person).to_have_url(at("/me"))
    screenshots(person, "registered")

    # -- enrol in the class -----------------------------------------------------------------------------
    person.get_by_role("navigation", name="主导航").get_by_role("link", name="培训班", exact=True).click()
    person.get_by_role("link", name=class_name, exact=True).first.click()
    expect(person.get_by_role("heading", name=class_name, level=1)).to_be_visible()
    screenshots(person, "class-page")
    person.get_by_role("button", name="报名本班").click()
    expect(person.get_by_text(f"您已报名“{class_name}”。")).to_be_visible()
    expect(person.get_by_text("您已报名", exact=True)).to_be_visible()
    screenshots(person, "enrolled")

    # -- read two modules and answer their self-checks --------------------------------------------------
    person.get_by_role("link", name="学习线上模块").click()
    expect(person).to_have_url(at(f"/courses/{COURSE}"))
    person.get_by_role("main").get_by_role("link").filter(has_text="技术转移").first.click()
    expect(person).to_have_url(at(f"/courses/{COURSE}/modules/01-tech-transfer-basics"))
    for module in ("01-tech-transfer-basics", "02-transformation-law"):
        expect(person).to_have_url(at(f"/courses/{COURSE}/modules/{module}"))
        answered = answer_every_self_check(person)
        assert answered > 0, f"{module} has no self-check to answer"
        screenshots(person, f"{module}-self-checks-answered")
        complete = person.locator("#module_complete")
        complete.get_by_role("button", name="完成本模块").click()
        expect(person.get_by_text(re.compile(r"本模块已完成，计入 \d+(\.\d+)? 学时。"))).to_be_visible()
        expect(person.get_by_text(re.compile(r"你已完成本模块，已计入 \d+(\.\d+)? 学时。"))).to_be_visible()
        screenshots(person, f"{module}-completed")
        if module.startswith("01"):
            person.get_by_role("link", name=re.compile("^下一模块")).click()

    # the rest of the 32 hours: two long days in the classroom, ticked by the instructor
    seed.attended(live_server.database_url, cohort_id=cohort_id, email=email, hours=[12.5, 12.5])
    person.goto(f"/classes/{cohort_id}")
    expect(person.get_by_text("32 / 要求 32", exact=True)).to_be_visible()
    expect(person.get_by_text("尚未通过结业考试。")).to_be_visible()
    screenshots(person, "hours-complete")

    # -- the exam ---------------------------------------------------------------------------------------
    person.get_by_role("navigation", name="主导航").get_by_role("link", name="课程", exact=True).click()
    person.get_by_role("link", name="初级技术经纪人培训", exact=True).click()
    exam = person.get_by_role("region", name="结业考试")
    expect(exam).to_contain_text("现在可以开始第 1 次考试")
    screenshots(person, "course-page-exam-open")
    exam.get_by_role("link", name="去考试").click()
    expect(person).to_have_url(at(f"/exams/{COURSE}"))
    person.get_by_role("button", name="开始第 1 次考试").click()
    expect(person).to_have_url(re.compile(r"/exams/attempts/\d+$"))
    attempt_url = urlparse(person.url).path
    attempt_id = int(attempt_url.rsplit("/", 1)[1])
    key = seed.answer_key(live_server.database_url, attempt_id=attempt_id)
    assert any(item.type == "essay" for item in key), "the paper has a case analysis"
    half = len(key) // 2
    screenshots(person, "exam-started")

    if javascript:
        for item in key[:half]:
            give_exam_answer(person, item, ESSAY, autosave=True)
        screenshots(person, "exam-first-half-answered")
        person.reload()
    else:
        person.get_by_role("link", name="逐题作答").click()
        for item in key[:half]:
            expect(person).to_have_url(re.compile(rf"\?q={item.position}(#.*)?$"))
            give_exam_answer(person, item, ESSAY, autosave=False)
            person.get_by_role("button", name="保存并进入下一题").click()
            expect(person.get_by_text(f"第 {item.position} 题的答案已保存。")).to_be_visible()
        screenshots(person, "exam-first-half-answered")
        person.reload()
        person.get_by_role("link", name="显示整张试卷").click()

    # after the reload: every answer given is still there, none of the others has one
    expect(person.locator("#answered-count")).to_have_text(f"已答 {half} / {len(key)}")
    for item in key[:half]:
        expect_exam_answer(person, item, ESSAY)
    screenshots(person, "exam-after-reload")

    if javascript:
        for item in key[half:]:
            give_exam_answer(person, item, ESSAY, autosave=True)
    else:
        person.goto(f"{attempt_url}?q={half + 1}")
        for item in key[half:]:
            give_exam_answer(person, item, ESSAY, autosave=False)
            last = item.position == len(key)
            person.get_by_role("button", name="保存并检查" if last else "保存并进入下一题").click()
    person.goto(attempt_url)
    expect(person.locator("#answered-count")).to_have_text(f"已答 {len(key)} / {len(key)}")
    person.get_by_role("link", name="检查并交卷").first.click()
    expect(person.get_by_role("heading", name="确认交卷？")).to_be_visible()
    screenshots(person, "exam-confirm")
    person.get_by_role("button", name="确认交卷").click()
    expect(person).to_have_url(at(f"{attempt_url}/result"))
    expect(person.get_by_role("heading", name="等待评分")).to_be_visible()
    screenshots(person, "exam-waiting-for-grading")

    # -- the case analysis is graded (by the administrator, who may grade any attempt) -------------------
    staff = new_context(javascript=javascript).new_page()
    staff.goto("/login")
    log_in(staff, live_server.admin_email, live_server.admin_password)
    staff.goto("/instructor/grading")
    staff.get_by_role("link", name=name, exact=True).click()
    expect(staff).to_have_url(at(f"/instructor/grading/attempts/{attempt_id}"))
    expect(staff.get_by_text(ESSAY)).to_be_visible()
    grade_essay(staff, comment="论证完整，步骤清楚。")
    expect(staff.get_by_text("评分已保存。所有答案均已评分，成绩已向学员发布。")).to_be_visible()
    screenshots(staff, "essay-graded")

    person.reload()
    expect(person.locator(".exam-score-verdict")).to_contain_text("已通过")
    expect(person.locator(".exam-score-value")).to_contain_text("100%")  # every answer was saved as given
    expect(person.get_by_text("论证完整，步骤清楚。")).to_be_visible()
    screenshots(person, "exam-passed")

    # -- the administrator issues the certificate, from the class's certificates page -------------------
    staff.get_by_role("link", name="系统管理").click()
    admin_nav = staff.get_by_role("navigation", name="系统管理")
    admin_nav.get_by_role("link", name="培训班", exact=True).click()
    staff.get_by_label("按班级名称搜索").fill(class_name)
    staff.get_by_role("button", name="筛选").click()
    staff.get_by_role("link", name=class_name, exact=True).click()
    staff.get_by_role("navigation", name="本班").get_by_role("link", name="证书", exact=True).click()
    expect(staff.get_by_role("heading", name=f"证书 · {class_name}")).to_be_visible()
    row = staff.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("32 / 32")
    screenshots(staff, "class-certificates")
    row.get_by_role("button", name="颁发", exact=True).click()
    issued = staff.get_by_text(re.compile(rf"已向 {name} 颁发证书 (\S+)。"))
    expect(issued).to_be_visible()
    number = re.search(rf"已向 {name} 颁发证书 (\S+)。", issued.inner_text())
    assert number is not None
    number_text = number.group(1)
    screenshots(staff, "certificate-issued")

    # -- the trainee finds it, and its share link ----------------------------------------------------------
    person.goto("/me")
    person.get_by_role("link", name="我的证书").first.click()
    card = person.get_by_role("article").filter(has_text=number_text)
    expect(card).to_contain_text("有效")
    expect(card).to_contain_text(name)
    share = card.get_by_label("分享链接：任何人打开都能看到证书有效")
    share_path = urlparse(share.input_value()).path
    assert share_path == f"/verify/{number_text}"
    screenshots(person, "my-certificates")

    # -- anyone, logged out, opens the link ---------------------------------------------------------------
    anyone = new_context(javascript=javascript).new_page()
    anyone.goto(share_path)
    expect(anyone.get_by_role("banner").get_by_role("link", name="登录")).to_be_visible()
    expect(anyone.get_by_role("heading", name=f"证书 {number_text}")).to_be_visible()
    expect(anyone.get_by_role("status").filter(has_text="此证书有效。")).to_be_visible()
    facts = anyone.locator("dl.cert-facts")
    expect(facts).to_contain_text(name[0] + "*" * (len(name) - 2) + name[-1])  # masked: 王*明
    expect(facts).to_contain_text(masked(id_number))
    expect(facts).to_contain_text("技术经纪人（初级）培训合格证书")
    expect(facts).to_contain_text("32")
    assert id_number not in anyone.content() and name not in anyone.content()
    screenshots(anyone, "verified-logged-out")

    # -- the certificate pages meet WCAG 2.1 AA ------------------------------------------------------------
    if javascript:
        checker = new_context(bypass_csp=True).new_page()  # axe is injected: only this context bypasses CSP
        checker.goto("/login")
        log_in(checker, email)
        paths = ["/me/certificates", f"{attempt_url}/result", share_path, f"/classes/{cohort_id}"]
        assert axe_on_pages(checker, paths) == {}


def grade_essay(staff: Page, *, comment: str) -> None:
    """Full points for every case analysis on the grading page."""
    points = staff.get_by_label(re.compile(r"^分数（0 到 [\d.]+）$"))
    for index in range(points.count()):
        field: Locator = points.nth(index)
        field.fill(field.get_attribute("max") or "0")
        staff.get_by_label("给学员的评语").nth(index).fill(comment)
        staff.get_by_role("button", name="保存评分").nth(index).click()
