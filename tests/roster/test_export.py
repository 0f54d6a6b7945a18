"""Exports: the files read back with csv and openpyxl match the database; ID numbers are masked unless asked
for, and asking is audit-logged; filters apply; a big export runs as a job whose file only its owner gets."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from backend.config import Settings
from backend.models import AuditEvent, Certificate, Role
from backend.roster import export, export_jobs
from tests.roster.support import add_certificate, id_for, read_csv, read_xlsx, wait_for
from tests.support import csrf_token, login, make_user

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def roster(db: Session, settings: Settings) -> list[Certificate]:
    today = date.today()
    rows = [
        add_certificate(
            db, settings, number="L-2015-001", name="王一", id_number=id_for(1), issued_on=date(2015, 6, 30)
        ),
        add_certificate(
            db,
            settings,
            number="L-2015-002",
            name="=HYPERLINK()",
            id_number=id_for(2),
            issued_on=date(2015, 6, 30),
            level=2,
        ),
        add_certificate(
            db,
            settings,
            number="L-2016-003",
            name="李三",
            id_number=id_for(3),
            issued_on=date(2016, 11, 1),
            region="宁波市",
            status="revoked",
        ),
        add_certificate(
            db,
            settings,
            number="I-2024-004",
            name="赵四",
            id_number=id_for(4),
            issued_on=date(2024, 3, 1),
            source="issued",
            expires_on=today - timedelta(days=1),
        ),
        add_certificate(
            db,
            settings,
            number="I-2025-005",
            name="钱五",
            id_number=id_for(5),
            issued_on=date(2025, 3, 1),
            source="issued",
            expires_on=today + timedelta(days=300),
        ),
    ]
    return rows


def export_form(client: TestClient, **fields: str) -> object:
    return client.post("/admin/roster/export", data={"csrf_token": csrf_token(client), **fields})


def test_csv_export_matches_the_database(
    admin_client: TestClient, roster: list[Certificate], db: Session
) -> None:
    response = export_form(admin_client, format="csv", columns="zh")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = read_csv(response.content)
    assert rows[0] == list(export.HEADERS["zh"])
    assert len(rows) - 1 == len(db.exec(select(Certificate)).all()) == 5
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number["L-2015-001"] == [
        "L-2015-001",
        "王一",
        id_for(1)[:6] + "********" + id_for(1)[-4:],
        "初级",
        "2015-06-30",
        "",
        "杭州示例科技有限公司",
        "杭州市",
        "有效",
        "原登记册转入",
    ]
    assert by_number["L-2015-002"][1] == "'=HYPERLINK()"  # never a formula in Excel
    assert by_number["L-2016-003"][8] == "已撤销"
    assert by_number["I-2024-004"][8] == "已过期" and by_number["I-2024-004"][9] == "本平台颁发"
    assert by_number["I-2025-005"][8] == "有效"
    assert not any(id_for(n) in response.text for n in range(1, 6))
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "roster.exported")).one()
    assert event.after and event.after["rows"] == 5 and event.after["id_numbers"] == "masked"


def test_xlsx_export_with_filters_and_english_columns(
    admin_client: TestClient, roster: list[Certificate]
) -> None:
    response = export_form(admin_client, format="xlsx", columns="en", source="legacy", year="2015")
    assert response.status_code == 200
    assert response.headers["content-type"] == export.XLSX_MEDIA_TYPE
    rows = read_xlsx(response.content)
    assert rows[0] == list(export.HEADERS["en"])
    assert sorted(row[0] for row in rows[1:]) == ["L-2015-001", "L-2015-002"]
    first = next(row for row in rows[1:] if row[0] == "L-2015-001")
    assert first[3] == "junior" and first[4].date() == date(2015, 6, 30) and first[8] == "valid"
    assert first[2] == id_for(1)[:6] + "********" + id_for(1)[-4:]


@pytest.mark.parametrize(
    ("state", "expected"), [("valid", 3), ("expired", 1), ("revoked", 1), ("superseded", 0)]
)
def test_status_filter(
    admin_client: TestClient, roster: list[Certificate], state: str, expected: int
) -> None:
    rows = read_csv(export_form(admin_client, format="csv", state=state).content)
    assert len(rows) - 1 == expected


def test_full_id_numbers_are_decrypted_and_audit_logged(
    admin_client: TestClient, roster: list[Certificate], db: Session
) -> None:
    response = export_form(admin_client, format="xlsx", full_ids="1", level="1")
    rows = read_xlsx(response.content)
    assert {row[2] for row in rows[1:]} == {id_for(1), id_for(3), id_for(4), id_for(5)}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "roster.exported_full_ids")).one()
    assert event.after == {
        "format": "xlsx",
        "filters": {"level": "1"},
        "rows": 4,
        "id_numbers": "full",
        "columns": "zh",
        "via": "web",
    }
    assert event.actor_label == "admin@example.com"


def test_the_api_export_streams_the_same_file(
    client: TestClient, admin: object, roster: list[Certificate], db: Session
) -> None:
    token = client.post(
        "/api/v1/auth/token", data={"username": "admin@example.com", "password": "Qiushi-Broker-2026"}
    ).json()["access_token"]
    response = client.get(
        "/api/v1/roster/export",
        params={"format": "csv", "full_ids": "true", "region": "宁波市"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    rows = read_csv(response.content)
    assert [row[0] for row in rows[1:]] == ["L-2016-003"] and rows[1][2] == id_for(3)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "roster.exported_full_ids")).one()
    assert event.after and event.after["via"] == "api" and event.after["filters"] == {"region": "宁波市"}


def test_a_big_export_runs_as_a_job_and_only_its_owner_downloads_it(
    admin_client: TestClient, roster: list[Certificate], db: Session, settings: Settings, client: TestClient
) -> None:
    response = export_form(admin_client, format="xlsx", mode="background", full_ids="1")
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    job = wait_for(db, int(response.headers["location"].rsplit("/", 1)[1]))
    assert job.status == "done", job.error
    assert job.result and job.result["rows"] == 5
    path = export_jobs.export_dir(settings) / job.result["file"]
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    download = admin_client.get(job.result["url"])
    assert download.status_code == 200
    assert {row[2] for row in read_xlsx(download.content)[1:]} == {id_for(n) for n in range(1, 6)}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "roster.exported_full_ids")).one()
    assert event.after and event.after["via"] == "job" and event.after["rows"] == 5
    other = make_user(db, settings, email="admin2@example.com", name="另一管理员", role=Role.admin)
    admin_client.cookies.clear()
    login(admin_client, other.email)
    assert admin_client.get(job.result["url"]).status_code == 404


def test_old_export_files_are_removed(tmp_path: Path) -> None:
    old = tmp_path / "roster-1-x.csv"
    old.write_text("x")
    import os

    os.utime(old, (0, 0))
    fresh = tmp_path / "roster-2-y.csv"
    fresh.write_text("y")
    export_jobs.remove_old_files(tmp_path)
    assert not old.exists() and fresh.exists()


def test_the_cli_export_writes_the_file_and_audits_it(
    roster: list[Certificate],
    db: Session,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backend import config
    from backend.cli import app

    monkeypatch.setenv("ACADEMY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ACADEMY_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("ACADEMY_DATA_DIR", str(settings.data_dir))
    config.get_settings.cache_clear()
    try:
        out = tmp_path / "roster.xlsx"
        args = ["roster", "export", "--format", "xlsx", "--out", str(out), "--source", "issued", "--full-ids"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        rows = read_xlsx(out.read_bytes())
        assert sorted(row[0] for row in rows[1:]) == ["I-2024-004", "I-2025-005"]
        assert {row[2] for row in rows[1:]} == {id_for(4), id_for(5)}
        bad = CliRunner().invoke(app, ["roster", "export", "--format", "pdf", "--out", str(out)])
        assert bad.exit_code == 2
    finally:
        config.get_settings.cache_clear()
    db.rollback()
    event = db.exec(select(AuditEvent).where(col(AuditEvent.action) == "roster.exported_full_ids")).one()
    assert event.actor_label == "system" and event.after and event.after["via"] == "cli"


def test_streaming_reads_in_batches(db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than a batch: the CSV comes out in several chunks, each at most a batch of rows."""
    monkeypatch.setattr(export, "BATCH", 2)
    for n in range(7):
        add_certificate(db, settings, number=f"B-{n}", id_number=id_for(n), commit=False)
    db.commit()
    chunks = list(export.stream_export(db.get_bind().engine, export.ExportSpec(), settings.secret_key))  # type: ignore[union-attr]
    assert len(chunks) >= 4
    assert len(read_csv(b"".join(chunks))) == 8


def test_the_admin_list_filters_and_counts(admin_client: TestClient, roster: list[Certificate]) -> None:
    page = admin_client.get("/admin/roster")
    assert page.status_code == 200
    assert "Matching certificates: 5." in page.text and "public roster page: 3." in page.text
    assert id_for(1) not in page.text and id_for(1)[:6] + "********" + id_for(1)[-4:] in page.text
    legacy = admin_client.get("/admin/roster", params={"source": "legacy", "level": "2"})
    assert (
        "Matching certificates: 1." in legacy.text
        and "L-2015-002" in legacy.text
        and "L-2015-001" not in legacy.text
    )
    fragment = admin_client.get(
        "/admin/roster", params={"state": "revoked"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert fragment.text.lstrip().startswith('<div id="results">') and "L-2016-003" in fragment.text
    assert "public roster page:" not in fragment.text
