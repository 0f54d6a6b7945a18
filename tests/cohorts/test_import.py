"""Bulk enrolment from CSV or XLSX: every problem reported with its row number, nothing imported until
every row is valid; then accounts for new people (with a set-your-password link) and everyone enrolled."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, col, func, select

from backend import security
from backend.config import Settings
from backend.models import (
    AuditEvent,
    Cohort,
    Enrollment,
    Job,
    Notification,
    PasswordResetToken,
    User,
)
from tests.cohorts.support import HEADER, csv_bytes, enrol, id_number, report, roster_rows, upload, xlsx_bytes
from tests.notifications.smtp_sink import SmtpSink
from tests.support import login, visible_text


def _fresh(db: Session) -> None:
    db.rollback()
    db.expire_all()


def count(db: Session, model: type, *where: object) -> int:
    return int(db.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[call-overload]


def test_every_problem_is_reported_with_its_row_and_nothing_is_imported(
    client: TestClient,
    admin: User,
    cohort: Cohort,
    person: Callable[..., User],
    settings: Settings,
    db: Session,
) -> None:
    enrolled = person("已报名")
    enrol(db, cohort, enrolled)
    owner = person("身份证主人")
    rows = roster_rows(10)
    rows[0][1] = rows[0][1][:-1] + ("0" if rows[0][1][-1] != "0" else "1")  # row 2: wrong check character
    rows[1][3] = "not-an-email"  # row 3
    rows[2][2] = "12345"  # row 4
    rows[3][0] = ""  # row 5: name missing
    rows[5][1] = rows[4][1]  # row 7: same ID number as row 6
    rows[7][3] = rows[6][3]  # row 9: same email as row 8
    rows[8] = ["已报名", _id_of(settings, enrolled), "", enrolled.email, "", ""]  # row 10: already enrolled
    rows[9][1] = _id_of(settings, owner)  # row 11: ID of another account than the email
    login(client, admin.email)
    response = upload(client, cohort, csv_bytes(rows))
    assert response.status_code == 422
    found = report(response)
    text = visible_text(response.text)
    assert "未导入任何数据" in text
    expected = [
        ("第 2 行", "身份证号", "校验码不符"),
        ("第 3 行", "电子邮箱", "邮箱 not-an-email 无效"),
        ("第 4 行", "手机号码", "请输入以 1 开头的 11 位手机号码"),
        ("第 5 行", "姓名", "缺少姓名"),
        ("第 7 行", "身份证号", "身份证号与第 6 行重复"),
        ("第 9 行", "电子邮箱", "邮箱与第 8 行重复"),
        ("第 10 行", "—", "已报名 已在本班报名"),
        ("第 11 行", "身份证号", f"该身份证号属于另一个账号（{owner.email}）"),
    ]
    for row, column, words in expected:
        assert any(r == row and c == column and words in p for r, c, p in found), (row, words, found)
    assert len(found) == len(expected)
    _fresh(db)
    assert count(db, Enrollment) == 1  # only the one enrolled before
    assert count(db, User) == 3  # admin and the two people: no account created
    assert count(db, Notification) == 0


def _id_of(settings: Settings, user: User) -> str:
    value = security.decrypt_field(settings.secret_key, user.id_number_encrypted)
    assert value is not None
    return value


def test_capacity_would_be_exceeded(
    client: TestClient, admin: User, make_cohort: Callable[..., Cohort], db: Session
) -> None:
    cohort = make_cohort(capacity=5)
    login(client, admin.email)
    response = upload(client, cohort, csv_bytes(roster_rows(7)))
    assert response.status_code == 422
    found = report(response)
    assert found == [
        (
            "第 7 行",
            "—",
            "将超出班级容量：5 个名额中尚余 5 个，文件中有 7 人；第 7 行至第 8 行无法容纳。",
        )
    ]
    _fresh(db)
    assert count(db, Enrollment) == 0


def test_file_level_problems(client: TestClient, admin: User, cohort: Cohort) -> None:
    login(client, admin.email)
    no_header = upload(client, cohort, csv_bytes(roster_rows(2), header=["姓名", "手机", "单位"]))
    assert no_header.status_code == 422 and "第一行应为列名；缺少：身份证号、电子邮箱" in visible_text(
        no_header.text
    )
    empty = upload(client, cohort, b"")
    assert "文件是空的" in visible_text(empty.text)
    old_excel = upload(client, cohort, b"\xd0\xcf\x11\xe0" + b"\0" * 100, "roster.xls")
    assert "旧版 .xls" in visible_text(old_excel.text)


def test_fifty_trainees_from_xlsx_first_with_errors_then_fixed(
    client: TestClient, admin: User, cohort: Cohort, settings: Settings, db: Session
) -> None:
    rows: list[list[object]] = [list(row) for row in roster_rows(50)]
    rows[11][1] = "33010619900101"  # row 13: too short
    rows[29][3] = "trainee030@"  # row 31: bad email
    rows[44][1] = 330106199001011234.0  # row 46: the ID typed into a number cell
    login(client, admin.email)
    first = upload(client, cohort, xlsx_bytes(rows), "第一期学员.xlsx")
    assert first.status_code == 422
    found = report(first)
    assert [(r, c) for r, c, _p in found] == [
        ("第 13 行", "身份证号"),
        ("第 31 行", "电子邮箱"),
        ("第 46 行", "身份证号"),
    ]
    assert "身份证号应为 18 位" in found[0][2]
    assert "Excel 已改动其末几位" in found[2][2]
    _fresh(db)
    assert count(db, Enrollment) == 0 and count(db, User) == 1

    fixed: list[list[object]] = [list(row) for row in roster_rows(50)]
    second = upload(client, cohort, xlsx_bytes(fixed), "第一期学员.xlsx")
    assert second.status_code == 303, second.text
    page = visible_text(client.get(second.headers["location"]).text)
    assert "已为 50 名学员报名；新建了 50 个账号" in page and "学员（50 人）" in page
    _fresh(db)
    assert count(db, Enrollment, Enrollment.cohort_id == cohort.id, Enrollment.source == "import") == 50
    new = db.exec(select(User).where(User.email == "trainee001@example.com")).one()
    assert new.name == "学员001" and new.organisation == "浙江大学技术转移中心" and new.region == "杭州"
    assert security.decrypt_field(settings.secret_key, new.id_number_encrypted) == id_number(1)
    assert security.decrypt_field(settings.secret_key, new.phone_encrypted) == "13800000001"
    assert not security.verify_password("", new.password_hash, fast=True)  # nobody knows a password yet
    assert count(db, PasswordResetToken, PasswordResetToken.purpose == "welcome") == 50
    kinds = dict(db.exec(select(Notification.kind, func.count()).group_by(col(Notification.kind))).all())
    assert kinds == {"account_created": 50, "enrolment_confirmed": 50}
    assert count(db, AuditEvent, AuditEvent.action == "enrollment.created") == 50
    summary = db.exec(select(AuditEvent).where(AuditEvent.action == "enrollment.imported")).one()
    assert summary.actor_id == admin.id and summary.after == {
        "rows": 50,
        "enrolled": 50,
        "accounts_created": 50,
    }


def test_gbk_csv_with_english_headers_and_an_existing_account(
    client: TestClient,
    admin: User,
    cohort: Cohort,
    person: Callable[..., User],
    settings: Settings,
    db: Session,
) -> None:
    known = person("老学员", with_id=False, email="known@example.com")
    rows = roster_rows(3)
    rows[2] = ["老学员", id_number(3), "", "Known@Example.com", "", ""]
    header = ["Name", "ID number", "Phone", "Email", "Organisation", "Region"]
    login(client, admin.email)
    response = upload(client, cohort, csv_bytes(rows, header=header, encoding="gbk"))
    assert response.status_code == 303, response.text
    _fresh(db)
    assert count(db, Enrollment) == 3 and count(db, User) == 4  # admin, known and two new
    stored = db.get(User, known.id)
    assert stored is not None
    assert security.decrypt_field(settings.secret_key, stored.id_number_encrypted) == id_number(3)
    assert count(db, PasswordResetToken) == 2  # the existing account keeps its password
    first = db.exec(select(User).where(User.email == "trainee001@example.com")).one()
    assert first.name == "学员001"  # read correctly from GBK


def test_utf8_without_bom_and_blank_lines(
    client: TestClient, admin: User, cohort: Cohort, db: Session
) -> None:
    content = csv_bytes(roster_rows(2), encoding="utf-8") + b"\n\n"
    login(client, admin.email)
    assert upload(client, cohort, content).status_code == 303
    _fresh(db)
    assert count(db, Enrollment) == 2


def test_templates_download(client: TestClient, admin: User) -> None:
    import io

    login(client, admin.email)
    as_csv = client.get("/admin/classes/import-template.csv")
    assert as_csv.content.startswith("\ufeff".encode()) and as_csv.content.decode(
        "utf-8-sig"
    ).strip() == ",".join(HEADER)
    as_xlsx = client.get("/admin/classes/import-template.xlsx")
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None and [cell.value for cell in sheet[1]] == HEADER
    assert sheet["B2"].number_format == "@"  # ID numbers stay text


def test_large_import_runs_as_a_job_with_progress(
    client: TestClient, admin: User, make_cohort: Callable[..., Cohort], db: Session
) -> None:
    cohort = make_cohort(capacity=300)
    login(client, admin.email)
    response = upload(client, cohort, csv_bytes(roster_rows(210)))
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    job_page = client.get(response.headers["location"])
    assert job_page.status_code == 200 and "正在导入 210 名学员" in job_page.text
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    job = _wait_for(db, job_id)
    assert job.status == "done", job.error
    assert job.result and job.result["ok"] and job.result["enrolled"] == 210
    assert "330106" not in str(job.payload)  # the file is sealed in the payload
    result = client.get(job.result["url"])
    assert "已为 210 名学员报名；新建了 210 个账号" in visible_text(result.text)
    _fresh(db)
    assert count(db, Enrollment) == 210


def test_large_import_with_problems_reports_them_from_the_job(
    client: TestClient, admin: User, make_cohort: Callable[..., Cohort], db: Session
) -> None:
    cohort = make_cohort(capacity=300)
    rows = roster_rows(205)
    rows[200][3] = rows[0][3]  # row 202: same email as row 2
    login(client, admin.email)
    response = upload(client, cohort, csv_bytes(rows))
    job = _wait_for(db, int(response.headers["location"].rsplit("/", 1)[1]))
    assert job.status == "done" and job.result and not job.result["ok"]
    page = client.get(job.result["url"])
    assert ("第 202 行", "电子邮箱", "邮箱与第 2 行重复。") in report(page)
    _fresh(db)
    assert count(db, Enrollment) == 0 and count(db, User) == 1


def _wait_for(db: Session, job_id: int) -> Job:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _fresh(db)
        job = db.get(Job, job_id)
        if job is not None and job.status in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError("the import job did not finish")


def test_a_background_import_sends_its_emails_as_soon_as_it_finishes(
    app: FastAPI, client: TestClient, admin: User, make_cohort: Callable[..., Cohort], db: Session
) -> None:
    """The welcome (set-your-password) and enrolment emails of a large import go out when the job ends,
    as they do after a small import, not at the next delivery (nobody opens the import page here)."""
    with SmtpSink() as sink:
        app.state.settings = app.state.settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": sink.port,
                "smtp_starttls": False,
                "smtp_timeout": 5.0,
            }
        )
        cohort = make_cohort(capacity=300)
        login(client, admin.email)
        response = upload(client, cohort, csv_bytes(roster_rows(205)))
        job_id = int(response.headers["location"].rsplit("/", 1)[1])
        job = _wait_for(db, job_id)
        assert job.status == "done" and job.result and job.result["ok"], job.error
        for thread in threading.enumerate():  # the job's own thread ends after its post-commit work
            if thread.name == f"academy-job-{job_id}":
                thread.join(timeout=60)
        _fresh(db)
        statuses = dict(
            db.exec(select(Notification.status, func.count()).group_by(col(Notification.status))).all()
        )
        assert statuses == {"sent": 410}
        page = visible_text(client.get(job.result["url"]).text)
        assert "已为 205 名学员报名；新建了 205 个账号，并已发送设置密码的链接。" in page
        welcome = [m for m in sink.received if m["To"] == "trainee001@example.com"]
        assert len(welcome) == 2 and any("/password/reset/" in m.get_content() for m in welcome)
