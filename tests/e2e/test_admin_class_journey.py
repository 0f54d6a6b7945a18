"""Issue #9's administrator journey, in the browser with and without JavaScript: create a class, import
its trainees from an XLSX roster (first a file with mistakes: the report lists them and nobody is
enrolled; then the corrected file), set two sessions and tick who was present, issue the certificates of
the class, revoke one with a reason (the public verification page then says so, logged out), and export
the certified roster to XLSX (as many rows as the public roster page counts). Set on the database only:
the imported trainees' passed final exams (they sat it; an administrator cannot)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from openpyxl import Workbook, load_workbook
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e import seed
from tests.e2e.conftest import LiveServer, Screenshots
from tests.e2e.steps import at, axe_on_pages, field, log_in, new_id_number

pytestmark = pytest.mark.browser

COURSE_TITLE = "初级技术经纪人培训"  # 32 hours: two 16-hour sessions make a trainee eligible
COURSE = "broker-junior"
HEADER = ["姓名", "身份证号", "手机", "邮箱", "单位", "地区"]


@dataclass(frozen=True)
class Trainee:
    name: str
    id_number: str
    phone: str
    email: str
    organisation: str
    region: str

    def row(self) -> list[str]:
        return [self.name, self.id_number, self.phone, self.email, self.organisation, self.region]


def _workbook(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _wrong_check_character(id_number: str) -> str:
    last = id_number[-1]
    return id_number[:-1] + ("0" if last != "0" else "1")


def test_admin_runs_a_class_from_import_to_certificates_and_the_roster_export(
    person: Page,
    javascript: bool,
    new_context: Callable[..., BrowserContext],
    live_server: LiveServer,
    screenshots: Screenshots,
    tmp_path: Path,
) -> None:
    tag = secrets.token_hex(3)
    class_name = f"2026年初级技术经纪人集中面授班（{tag}）"
    trainees = [
        Trainee(
            f"钱多多{tag}", new_id_number(), "13800138001", f"qian-{tag}@example.com", "浙江大学", "西湖区"
        ),
        Trainee(
            f"吴晓峰{tag}", new_id_number(), "13800138002", f"wu-{tag}@example.com", "之江实验室", "余杭区"
        ),
        Trainee(f"郑佳怡{tag}", new_id_number(), "13800138003", f"zheng-{tag}@example.com", "杭电", "钱塘区"),
    ]
    absent = trainees[2]  # misses the second session, so lacks hours

    # -- create the class ---------------------------------------------------------------------------------
    person.goto("/login")
    log_in(person, live_server.admin_email, live_server.admin_password)
    person.get_by_role("link", name="系统管理").click()
    person.get_by_role("navigation", name="系统管理").get_by_role("link", name="培训班", exact=True).click()
    person.get_by_role("link", name="新建培训班").click()
    today = dt.date.today()
    field(person, "培训班名称").fill(class_name)
    field(person, "课程").select_option(label=COURSE_TITLE)
    start = today - dt.timedelta(days=7)
    field(person, "开班日期").fill(start.isoformat())
    field(person, "结业日期").fill((today + dt.timedelta(days=14)).isoformat())
    field(person, "地点").fill("杭州市滨江区江南大道 588 号")
    field(person, "容量（名额）").fill("30")
    field(person, "状态").select_option(label="进行中")
    screenshots(person, "new-class-form")
    person.get_by_role("button", name="创建培训班").click()
    expect(person.get_by_text(f"培训班“{class_name}”已创建。请指定讲师并为其报名学员。")).to_be_visible()
    expect(person).to_have_url(re.compile(r"/admin/classes/\d+/edit$"))
    visited = [urlparse(person.url).path]  # for the accessibility check at the end
    screenshots(person, "class-created")

    # -- import: a file with mistakes, then the corrected one ---------------------------------------------
    class_nav = person.get_by_role("navigation", name="本班")
    class_nav.get_by_role("link", name="导入学员").click()
    expect(person.get_by_text("名额：已报 0 / 共 30。")).to_be_visible()
    wrong = _workbook(
        tmp_path / "roster-with-mistakes.xlsx",
        [
            trainees[0].row(),
            [trainees[1].name, _wrong_check_character(trainees[1].id_number), *trainees[1].row()[2:]],
            [absent.name, absent.id_number, absent.phone, "", absent.organisation, absent.region],
        ],
    )
    field(person, "名单文件（.xlsx 或 .csv）").set_input_files(wrong)
    person.get_by_role("button", name="检查并导入").click()
    report = person.get_by_role("region", name="未导入任何数据")
    expect(report).to_be_visible()
    expect(report).to_contain_text("roster-with-mistakes.xlsx")
    problems = report.get_by_role("row")
    expect(problems.filter(has_text="第 3 行").filter(has_text="校验码不符")).to_have_count(1)
    expect(problems.filter(has_text="第 4 行").filter(has_text="缺少电子邮箱。")).to_have_count(1)
    expect(problems.filter(has_text="第 2 行")).to_have_count(0)
    expect(person.get_by_text("名额：已报 0 / 共 30。")).to_be_visible()  # nobody enrolled, not even row 2
    screenshots(person, "import-report")

    fixed = _workbook(tmp_path / "roster.xlsx", [t.row() for t in trainees])
    field(person, "名单文件（.xlsx 或 .csv）").set_input_files(fixed)
    person.get_by_role("button", name="检查并导入").click()
    expect(person.get_by_text("已为 3 名学员报名；新建了 3 个账号，并已发送设置密码的链接。")).to_be_visible()
    expect(person.get_by_role("heading", name="学员（3 人）")).to_be_visible()
    for trainee in trainees:
        row = person.get_by_role("row").filter(has_text=trainee.email)
        expect(row).to_contain_text(trainee.name)
        expect(row).to_contain_text(trainee.id_number[:6] + "*" * 8 + trainee.id_number[-4:])
    screenshots(person, "import-finished")

    # -- two sessions and their attendance ----------------------------------------------------------------
    class_nav.get_by_role("link", name="课表与考勤").click()
    for number in (1, 2):
        field(person, "日期").fill((start + dt.timedelta(days=number - 1)).isoformat())
        field(person, "主题").fill(f"集中面授第 {number} 天")
        field(person, "学时").fill("16")
        person.get_by_role("button", name="添加课程").click()
        expect(person.get_by_text(f"集中面授第 {number} 天", exact=True)).to_be_visible()
    screenshots(person, "timetable")

    for number, present in ((1, trainees), (2, trainees[:2])):
        row = person.get_by_role("row").filter(has_text=f"集中面授第 {number} 天")
        row.get_by_role("link", name="考勤").click()
        expect(person.get_by_role("heading", name=f"考勤：集中面授第 {number} 天")).to_be_visible()
        checklist = person.get_by_role("group", name="请勾选所有出勤的学员")
        for trainee in trainees:
            box = checklist.get_by_role("checkbox", name=re.compile(re.escape(trainee.name)))
            box.set_checked(trainee in present)
        screenshots(person, f"attendance-{number}")
        visited.append(urlparse(person.url).path)
        person.get_by_role("button", name="保存考勤").click()
        absentees = len(trainees) - len(present)
        expect(
            person.get_by_text(f"考勤已保存：出勤 {len(present)} 人，缺勤 {absentees} 人。")
        ).to_be_visible()
        row = person.get_by_role("row").filter(has_text=f"集中面授第 {number} 天")
        expect(row).to_contain_text(f"出勤 {len(present)} / 3")

    # -- they all passed the final exam; the certificates of the class ------------------------------------
    for trainee in trainees:
        seed.passed_exam(live_server.database_url, email=trainee.email, course_slug=COURSE)
    class_nav.get_by_role("link", name="证书", exact=True).click()
    expect(person.get_by_role("heading", name=f"证书 · {class_name}")).to_be_visible()
    absent_row = person.get_by_role("row").filter(has_text=absent.name)
    expect(absent_row).to_contain_text("尚不具备")
    expect(absent_row).to_contain_text("16 / 32")
    screenshots(person, "class-certificates-before")
    person.get_by_role("button", name="为所有符合条件的学员颁发证书（2 名）").click()
    expect(
        person.get_by_text("已颁发 2 张证书；0 名学员此前已持有证书；1 名学员尚不符合条件。")
    ).to_be_visible()
    numbers = {}
    for trainee in trainees[:2]:
        row = person.get_by_role("row").filter(has_text=trainee.name)
        expect(row).to_contain_text("有效")
        numbers[trainee.email] = row.locator(".mono").inner_text().strip()
    expect(absent_row).to_contain_text("尚不具备")
    screenshots(person, "class-certificates-issued")
    visited += [urlparse(person.url).path, re.sub(r"/certificates$", "/sessions", urlparse(person.url).path)]

    # running it again issues nothing twice
    expect(person.get_by_role("button", name="为所有符合条件的学员颁发证书（0 名）")).to_be_disabled()

    # -- revoke one, with a reason ------------------------------------------------------------------------
    revoked, kept = trainees[0], trainees[1]
    reason = f"培训期间提交的材料不实（{tag}）"
    person.get_by_role("row").filter(has_text=revoked.name).get_by_role("link", name="管理").click()
    expect(person).to_have_url(at(f"/admin/certificates/{numbers[revoked.email]}"))
    expect(person.get_by_role("heading", level=1)).to_contain_text("有效")
    field(person, "原因（任何核验此证书的人都会看到）").fill(reason)
    person.get_by_role("button", name="撤销此证书").click()
    expect(person.get_by_text(f"证书 {numbers[revoked.email]} 已撤销。")).to_be_visible()
    expect(person.get_by_role("heading", level=1)).to_contain_text("已撤销")
    screenshots(person, "certificate-revoked")
    visited += [urlparse(person.url).path, f"/verify/{numbers[revoked.email]}"]

    anyone = new_context(javascript=javascript).new_page()
    anyone.goto("/")
    anyone.get_by_role("navigation", name="主导航").get_by_role("link", name="证书查验").click()
    field(anyone, "证书编号").fill(numbers[revoked.email])
    anyone.get_by_role("button", name="核验", exact=True).click()
    banner = anyone.get_by_role("status").filter(has_text="此证书已被撤销。")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"原因： {reason}")
    screenshots(anyone, "verify-revoked-logged-out")
    anyone.goto(f"/verify/{numbers[kept.email]}")
    expect(anyone.get_by_role("status").filter(has_text="此证书有效。")).to_be_visible()

    # -- export the valid certificates, as many as the public roster page counts ---------------------------
    anyone.goto("/roster")
    valid_on_roster = int(anyone.locator("#total-valid").inner_text().replace(",", ""))
    screenshots(anyone, "public-roster")

    person.get_by_role("navigation", name="系统管理").get_by_role("link", name="名录", exact=True).click()
    expect(person.get_by_role("heading", name="持证人员名录", level=1)).to_be_visible()
    person.get_by_label("状态", exact=True).select_option(label="有效")
    if not javascript:
        person.get_by_role("button", name="筛选").click()
    expect(person).to_have_url(re.compile(r"[?&]state=valid"))
    expect(person.locator("#result-count")).to_contain_text(f"符合条件的证书：{valid_on_roster:,} 张。")
    person.get_by_text(f"导出符合条件的证书（{valid_on_roster:,} 张）").click()
    expect(person.get_by_label("Excel 工作簿（.xlsx）")).to_be_checked()
    screenshots(person, "roster-export")
    visited.append(urlparse(person.url).path + "?" + urlparse(person.url).query)
    with person.expect_download() as download_info:
        person.get_by_role("button", name="导出", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    sheet = load_workbook(saved, read_only=True).worksheets[0]
    rows = [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True) if any(row)]
    header, body = rows[0], rows[1:]
    assert len(body) == valid_on_roster, f"{len(body)} rows exported, /roster counts {valid_on_roster}"
    number_column = header.index("证书编号")
    exported = {row[number_column] for row in body}
    assert numbers[kept.email] in exported
    assert numbers[revoked.email] not in exported

    # -- the pages of the journey meet WCAG 2.1 AA -----------------------------------------------------------
    if javascript:
        checker = new_context(bypass_csp=True).new_page()  # axe is injected: only this context bypasses CSP
        checker.goto("/login")
        log_in(checker, live_server.admin_email, live_server.admin_password)
        assert axe_on_pages(checker, visited) == {}
