"""The legacy import: every problem reported with its row, nothing imported while any is left, and the
records that come in verify as transferred from the earlier register."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import security
from backend.config import Settings
from backend.models import AuditEvent, Certificate
from backend.roster import import_jobs, legacy_import
from backend.roster.legacy_file import read_legacy_file
from tests.roster.support import HEADER, add_certificate, csv_bytes, good_row, id_for, wait_for, xlsx_bytes
from tests.support import csrf_token

pytestmark = pytest.mark.usefixtures("english")


def upload(client: TestClient, content: bytes, filename: str = "register.csv") -> object:
    return client.post(
        "/admin/roster/import",
        files={"file": (filename, content, "application/octet-stream")},
        data={"csrf_token": csrf_token(client)},
    )


def certificates(db: Session) -> int:
    db.rollback()  # a new snapshot: the request (or the job) committed on another connection
    return int(db.exec(select(func.count(col(Certificate.id)))).one())


def check(db: Session, settings: Settings, content: bytes) -> list[tuple[int | None, str | None, str]]:
    rows, problems = read_legacy_file(content)
    assert not problems, problems
    outcome = legacy_import.import_legacy(db, settings=settings, rows=rows, actor=None, filename="t.csv")
    db.rollback()
    return [(p.row, p.column, p.message) for p in outcome.problems]


def test_every_problem_is_reported_with_its_row(db: Session, settings: Settings) -> None:
    add_certificate(db, settings, number="ZJ-OLD-0001", id_number=id_for(900), level=2)
    bad_check = id_for(5)[:17] + ("0" if id_for(5)[17] != "0" else "1")
    rows = [
        good_row(1),  # row 2: fine
        ["李四", bad_check, "ZJ2015-0002", "初级", "2015-06-30", "", "", "", "有效"],  # row 3
        ["王五", id_for(6), "ZJ2015-0003", "初级", "2015-13-40", "", "", "", "有效"],  # row 4
        ["赵六", id_for(7), "ZJ2015-0004", "特级", "2015-06-30", "", "", "", "有效"],  # row 5
        ["孙七", id_for(8), "ZJ2015-0005", "初级", "2015-06-30", "2014-01-01", "", "", "有效"],  # row 6
        [
            "周八",
            id_for(9),
            "ZJ2015-0001",
            "初级",
            "2015-06-30",
            "",
            "",
            "",
            "有效",
        ],  # row 7: number of row 2
        [
            "吴九",
            id_for(10),
            "ZJ-OLD-0001",
            "初级",
            "2015-06-30",
            "",
            "",
            "",
            "有效",
        ],  # row 8: in the register
        [
            "郑十",
            id_for(1),
            "ZJ2015-0009",
            "junior",
            "2016/7/1",
            "",
            "",
            "",
            "valid",
        ],  # row 9: row 2's person
        [
            "钱一",
            id_for(900),
            "ZJ2015-0010",
            "2",
            "2016年7月1日",
            "",
            "",
            "",
            "有效",
        ],  # row 10: holds level 2
        ["冯二", id_for(11), "ZJ2015-0011", "初级", "2015-06-30", "", "", "", "作废"],  # row 11: status
        ["", "12345", "", "初级", "", "", "", "", ""],  # row 12: empty cells, short ID
    ]
    problems = check(db, settings, csv_bytes(rows))
    found = {(row, column) for row, column, _message in problems}
    assert (3, "id_number") in found and (4, "issued_on") in found and (5, "level") in found
    assert (6, "expires_on") in found and (7, "number") in found and (8, "number") in found
    assert (9, "id_number") in found and (10, "id_number") in found and (11, "status") in found
    assert {(12, "name"), (12, "number"), (12, "issued_on"), (12, "id_number")} <= found
    assert not any(row == 2 for row, _c, _m in problems)
    messages = {(row, column): message for row, column, message in problems}
    assert "check character" in messages[(3, "id_number")]
    assert "row 2" in messages[(7, "number")] and "already in the register" in messages[(8, "number")]
    assert "before the issue date" in messages[(6, "expires_on")]
    assert "ZJ-OLD-0001" in messages[(10, "id_number")]
    assert [row for row, _c, _m in problems] == sorted(row or 0 for row, _c, _m in problems)


def test_a_file_with_problems_imports_nothing(admin_client: TestClient, db: Session) -> None:
    rows = [good_row(n) for n in range(1, 30)] + [["王五", id_for(40), "X-1", "初级", "昨天", "", "", "", ""]]
    response = upload(admin_client, csv_bytes(rows))
    assert response.status_code == 422
    assert "Row 31" in response.text and "Not a date" in response.text
    assert certificates(db) == 0
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "roster.legacy_imported")).first() is None


def test_a_good_file_is_imported_with_encrypted_ids_and_an_audit_event(
    admin_client: TestClient, db: Session, settings: Settings
) -> None:
    rows = [good_row(n) for n in range(1, 6)]
    rows.append(
        [
            "陈十二",
            id_for(12).lower(),
            " ZJ 2016-0012 ",
            "中级",
            "2016.11.30",
            "2019-11-29",
            "单位",
            "宁波市",
            "已撤销",
        ]
    )
    response = upload(admin_client, csv_bytes(rows))
    assert response.status_code == 303, response.text
    assert certificates(db) == 6
    record = db.exec(select(Certificate).where(Certificate.number == "ZJ2016-0012")).one()
    assert record.source == "legacy" and record.credential_jwt is None and record.credential_uuid is None
    assert (
        record.level == 2
        and record.issued_on == date(2016, 11, 30)
        and record.expires_on == date(2019, 11, 29)
    )
    assert record.status == "revoked" and record.revocation_reason
    assert record.id_number_masked == id_for(12)[:6] + "********" + id_for(12)[-4:]
    assert record.id_number_encrypted and id_for(12) not in record.id_number_encrypted
    assert security.decrypt_field(settings.secret_key, record.id_number_encrypted) == id_for(12)
    assert record.id_number_hash == security.blind_index(settings.secret_key, id_for(12))
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "roster.legacy_imported")).one()
    assert event.after and event.after["rows"] == 6 and event.after["demo"] is False
    assert id_for(12) not in str(event.after)


def test_xlsx_gbk_and_english_headers_are_read(db: Session, settings: Settings) -> None:
    xlsx = xlsx_bytes([["王一", id_for(1), "A-1", "高级", date(2019, 5, 6), None, "单位", "杭州市", "有效"]])
    gbk = csv_bytes([good_row(2)], encoding="gbk")
    english = csv_bytes(
        [["Li Si", id_for(3), "B-3", "intermediate", "20180101", "", "Org", "Hangzhou", "valid"]],
        header=(
            "name",
            "id_number",
            "number",
            "level",
            "issued_on",
            "expires_on",
            "organisation",
            "region",
            "status",
        ),
    )
    for content in (xlsx, gbk, english):
        rows, problems = read_legacy_file(content)
        assert not problems and len(rows) == 1
        outcome = legacy_import.import_legacy(db, settings=settings, rows=rows, actor=None, filename="f")
        assert outcome.ok, outcome.problems
    db.commit()
    levels = dict(db.exec(select(Certificate.number, Certificate.level)).all())
    assert levels == {"A-1": 3, "ZJ2015-0002": 1, "B-3": 2}


def test_an_id_number_excel_turned_into_a_number_is_reported(db: Session, settings: Settings) -> None:
    content = xlsx_bytes([["王一", 330106198501011234.0, "A-1", "初级", "2019-05-06", None, "", "", ""]])
    problems = check(db, settings, content)
    assert problems and problems[0][:2] == (2, "id_number") and "stored as a number" in problems[0][2]


def test_missing_columns_are_named(db: Session) -> None:
    _rows, problems = read_legacy_file(csv_bytes([], header=("姓名", "单位")))
    assert problems and problems[0].row == 1 and "ID card number" in problems[0].message


def test_a_number_shaped_like_this_platforms_is_refused(db: Session, settings: Settings) -> None:
    body = "3301002020100001"  # region 330100, year 2020, level 1, sequence 00001, then the check
    from backend.accounts.idcard import mod11_2_check_char

    number = body + mod11_2_check_char(body)
    problems = check(db, settings, csv_bytes([good_row(1, number=number)]))
    assert problems and problems[0][:2] == (2, "number")


def test_imported_records_verify_as_from_the_earlier_register(admin_client: TestClient, db: Session) -> None:
    assert upload(admin_client, csv_bytes([good_row(1, number="ZJ-LEGACY-7")])).status_code == 303
    page = admin_client.get("/verify/ZJ-LEGACY-7")
    assert page.status_code == 200
    assert "张1" not in page.text and "张*" in page.text  # masked name
    assert "earlier register" in page.text.lower() or "before this platform" in page.text.lower()
    api = admin_client.get("/api/v1/verify", params={"number": "ZJ-LEGACY-7"}).json()
    assert api["state"] == "valid"


def test_a_large_file_is_imported_by_a_job_with_progress(
    admin_client: TestClient, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_jobs, "LARGE_IMPORT_ROWS", 5)
    response = upload(admin_client, csv_bytes([good_row(n) for n in range(1, 13)]))
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    job = wait_for(db, int(response.headers["location"].rsplit("/", 1)[1]))
    assert job.status == "done", job.error
    assert job.result and job.result["ok"] and job.result["imported"] == 12
    assert "330106" not in str(job.payload)  # the upload waited in the data dir, sealed, and is gone
    assert not list(import_jobs.upload_dir(settings).iterdir())
    assert certificates(db) == 12
    report = admin_client.get(job.result["url"])
    assert report.status_code == 200 and "12" in report.text


def test_a_large_file_with_problems_reports_them_from_the_job(
    admin_client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_jobs, "LARGE_IMPORT_ROWS", 5)
    rows = [good_row(n) for n in range(1, 12)] + [good_row(99, number="ZJ2015-0003")]
    response = upload(admin_client, csv_bytes(rows))
    job = wait_for(db, int(response.headers["location"].rsplit("/", 1)[1]))
    assert job.status == "done" and job.result and not job.result["ok"]
    assert job.result["problems"][0]["row"] == 13
    assert certificates(db) == 0
    page = admin_client.get(job.result["url"])
    assert page.status_code == 200 and "ZJ2015-0003" in page.text


def test_the_template_has_the_columns(admin_client: TestClient) -> None:
    response = admin_client.get("/admin/roster/import/template.csv")
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").strip().split(",") == list(HEADER)


def test_the_cli_imports_or_lists_the_problems(
    db: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from backend import config
    from backend.cli import app

    monkeypatch.setenv("ACADEMY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ACADEMY_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("ACADEMY_DATA_DIR", str(settings.data_dir))
    config.get_settings.cache_clear()
    try:
        bad = tmp_path / "bad.csv"
        bad.write_bytes(csv_bytes([good_row(1), good_row(2, level="特级")]))
        result = CliRunner().invoke(app, ["roster", "import", str(bad)])
        assert result.exit_code == 1 and "row 3" in result.output
        assert certificates(db) == 0
        good = tmp_path / "good.xlsx"
        good.write_bytes(xlsx_bytes([good_row(1), good_row(2)]))
        result = CliRunner().invoke(app, ["roster", "import", str(good)])
        assert result.exit_code == 0, result.output
        assert certificates(db) == 2
    finally:
        config.get_settings.cache_clear()
