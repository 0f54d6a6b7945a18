"""The class dashboard: each trainee's figures against the data, sorting and filtering (htmx fragment and
plain links), and the CSV and XLSX exports opened and compared with the page; ID numbers masked."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from backend.cohorts import dashboard
from backend.config import Settings
from backend.models import Attendance, AuditEvent, Cohort, Course, User
from tests.cohorts.support import (
    add_session,
    assign,
    complete_modules,
    enrol,
    id_number,
    page_rows,
    sit_exam,
)
from tests.support import login, visible_text


@pytest.fixture
def class_data(
    cohort: Cohort,
    course: Course,
    person: Callable[..., User],
    db: Session,
) -> dict[str, User]:
    """甲: 12 online + 8 class hours, failed the exam at 52 and passed it at 86 (eligible); 乙: 4 + 4
    hours, failed the exam at 45; 丙: nothing yet. The exam attempts are real rows."""
    a, b, c = person("甲学员"), person("乙学员"), person("丙学员")
    enrol(db, cohort, a, b, c)
    complete_modules(db, course, a, 3)
    complete_modules(db, course, b, 1)
    first = add_session(db, cohort, day=6, hours=4)
    second = add_session(db, cohort, day=13, hours=4)
    for session_row, user, present in (
        (first, a, True),
        (second, a, True),
        (first, b, True),
        (second, b, False),
    ):
        db.add(Attendance(session_id=session_row.id or 0, user_id=user.id or 0, present=present))
    db.commit()
    sit_exam(db, course, a, status="graded", score=52.0)
    sit_exam(db, course, a, status="graded", score=86.0, number=2)
    sit_exam(db, course, b, status="graded", score=45.0)
    return {"a": a, "b": b, "c": c}


def test_figures_match_the_data(
    client: TestClient, admin: User, cohort: Cohort, class_data: dict[str, User], settings: Settings
) -> None:
    login(client, admin.email)
    page = client.get(f"/instructor/classes/{cohort.id}/dashboard")
    assert page.status_code == 200
    rows = page_rows(page.text)
    by_name = {row[0].split(" ")[0]: row for row in rows}
    a = by_name["甲学员"]
    assert a[2:9] == ["12", "8", "20 / 20", "3 / 3", "已通过", "86", "是"]
    b = by_name["乙学员"]
    assert b[2:8] == ["4", "4", "8 / 20", "1 / 3", "未通过", "45"]
    assert b[8].startswith("否") and "还差 12 学时" in b[8] and "结业考试未通过" in b[8]
    c = by_name["丙学员"]
    assert c[2:8] == ["0", "0", "0 / 20", "0 / 3", "未开始", "—"] and "尚未通过结业考试" in c[8]
    full_id = id_number(5000)
    assert a[1] == full_id[:6] + "********" + full_id[-4:] and full_id not in page.text
    assert "显示 3 名学员，其中 1 名具备发证条件" in visible_text(page.text)


def test_exam_status_and_score_come_from_the_attempts(
    client: TestClient,
    admin: User,
    cohort: Cohort,
    course: Course,
    person: Callable[..., User],
    db: Session,
    settings: Settings,
) -> None:
    """Every exam state a trainee can be in, as the dashboard (and the certificate eligibility) shows it."""
    sitting, waiting, retrying = person("丁学员"), person("戊学员"), person("己学员")
    enrol(db, cohort, sitting, waiting, retrying)
    sit_exam(db, course, sitting, status="open")
    sit_exam(db, course, waiting, status="submitted")
    sit_exam(db, course, retrying, status="graded", score=40.0)
    sit_exam(db, course, retrying, status="open", number=2)
    login(client, admin.email)
    rows = page_rows(client.get(f"/instructor/classes/{cohort.id}/dashboard").text)
    by_name = {row[0].split(" ")[0]: row for row in rows}
    assert by_name["丁学员"][6:8] == ["考试中", "—"]
    assert by_name["戊学员"][6:8] == ["待阅卷", "—"] and "结业考试正在等待阅卷" in by_name["戊学员"][8]
    assert by_name["己学员"][6:8] == ["考试中", "40"]
    statuses = {s.name: s for s in dashboard.class_statuses(db, settings=settings, cohort=cohort)}
    assert statuses["戊学员"].exam_status == "awaiting grading" and not statuses["戊学员"].eligible


def test_sort_and_filter_with_plain_links_and_htmx(
    client: TestClient, instructor: User, cohort: Cohort, class_data: dict[str, User], db: Session
) -> None:
    assign(db, cohort, instructor)
    login(client, instructor.email)
    base = f"/instructor/classes/{cohort.id}/dashboard"
    page = client.get(base)
    assert f'href="{base}?q=&amp;eligibility=&amp;sort=total&amp;order=asc"' in page.text  # a real link
    by_total = client.get(base, params={"sort": "total", "order": "desc"})
    assert [row[0].split(" ")[0] for row in page_rows(by_total.text)] == ["甲学员", "乙学员", "丙学员"]
    assert 'aria-sort="descending"' in by_total.text
    by_score = client.get(base, params={"sort": "score", "order": "asc"})
    assert [row[0].split(" ")[0] for row in page_rows(by_score.text)] == ["丙学员", "乙学员", "甲学员"]
    eligible = client.get(base, params={"eligibility": "eligible"})
    assert [row[0].split(" ")[0] for row in page_rows(eligible.text)] == ["甲学员"]
    not_yet = client.get(base, params={"eligibility": "not-eligible"})
    assert {row[0].split(" ")[0] for row in page_rows(not_yet.text)} == {"乙学员", "丙学员"}
    fragment = client.get(base, params={"q": "乙"}, headers={"HX-Request": "true", "HX-Target": "results"})
    assert fragment.text.lstrip().startswith('<div id="results">') and "<html" not in fragment.text
    assert [row[0].split(" ")[0] for row in page_rows(fragment.text)] == ["乙学员"]


def _page_as_export(rows: list[list[str]]) -> list[list[str]]:
    """The page's cells in the export's columns (name, masked ID, hours, modules, exam, score, eligible)."""
    out = []
    for row in rows:
        total, required = row[4].split(" / ")
        done, modules = row[5].split(" / ")
        out.append(
            [
                row[0].split(" ")[0],
                row[1],
                row[2],
                row[3],
                total,
                required,
                done,
                modules,
                row[6],
                row[7].replace("—", ""),
                row[8][:1],
            ]
        )
    return out


def _export_as_page(cells: list[Any]) -> list[str]:
    def show(value: Any) -> str:
        if value is None:
            return ""
        return f"{value:g}" if isinstance(value, float | int) else str(value)

    (
        name,
        _email,
        masked,
        _org,
        online,
        in_class,
        total,
        required,
        done,
        modules,
        exam,
        score,
        eligible,
        _why,
    ) = cells
    return [
        show(v)
        for v in (name, masked, online, in_class, total, required, done, modules, exam, score, eligible)
    ]


def test_exports_open_and_match_the_page(
    client: TestClient, admin: User, cohort: Cohort, class_data: dict[str, User], db: Session
) -> None:
    login(client, admin.email)
    base = f"/instructor/classes/{cohort.id}/dashboard"
    shown = _page_as_export(page_rows(client.get(base, params={"sort": "total", "order": "desc"}).text))

    as_csv = client.get(f"{base}.csv", params={"sort": "total", "order": "desc"})
    assert as_csv.status_code == 200 and as_csv.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in as_csv.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert (
        table[0][:4] == ["姓名", "电子邮箱", "身份证号", "工作单位"]
        and "面授学时" in table[0]
        and "线上学时" in table[0]
    )
    assert [_export_as_page(row) for row in table[1:]] == shown

    as_xlsx = client.get(f"{base}.xlsx", params={"sort": "total", "order": "desc"})
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == table[0]
    assert [_export_as_page(row) for row in values[1:]] == shown
    full = id_number(5000)
    assert full not in as_csv.content.decode("utf-8-sig") and full not in str(values)
    db.rollback()
    exports = db.exec(select(AuditEvent).where(AuditEvent.action == "cohort.dashboard_exported")).all()
    assert [e.after["format"] for e in exports if e.after] == ["csv", "xlsx"]


def test_trainee_sees_own_progress_on_the_class_page(
    client: TestClient, cohort: Cohort, class_data: dict[str, User]
) -> None:
    login(client, class_data["b"].email)
    page = visible_text(client.get(f"/classes/{cohort.id}").text)
    assert "线上学时 4 面授学时 4 总学时 8 / 要求 20" in page
    assert "还差 12 学时" in page
