"""Helpers for the roster tests: certificates written straight into the table, legacy files as CSV or XLSX,
and reading exports back."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlmodel import Session

from backend import security
from backend.accounts.idcard import mask_id_number
from backend.config import Settings
from backend.models import Certificate, Job
from tests.support import valid_id_number

HEADER = ("姓名", "身份证号", "证书编号", "级别", "发证日期", "有效期至", "单位", "地区", "状态")


def id_for(n: int) -> str:
    """A valid ID number, different for every n < 1000 (Hangzhou, born 1985)."""
    return valid_id_number(f"330106{19850101 + n % 28:08d}{n % 1000:03d}")


def add_certificate(
    db: Session,
    settings: Settings,
    *,
    number: str,
    name: str = "王小明",
    id_number: str = "",
    level: int = 1,
    issued_on: date = date(2020, 6, 30),
    expires_on: date | None = None,
    status: str = "valid",
    source: str = "legacy",
    organisation: str = "杭州示例科技有限公司",
    region: str = "杭州市",
    user_id: int | None = None,
    commit: bool = True,
) -> Certificate:
    id_number = id_number or id_for(abs(hash(number)) % 997)
    certificate = Certificate(
        number=number,
        source=source,
        status=status,
        level=level,
        title="初级技术经纪人证书",
        holder_name=name,
        id_number_masked=mask_id_number(id_number),
        id_number_encrypted=security.encrypt_field(settings.secret_key, id_number),
        id_number_hash=security.blind_index(settings.secret_key, id_number),
        organisation=organisation,
        region=region,
        issued_on=issued_on,
        expires_on=expires_on,
        user_id=user_id,
    )
    db.add(certificate)
    if commit:
        db.commit()
    return certificate


def csv_bytes(
    rows: list[list[Any]], header: tuple[str, ...] = HEADER, *, encoding: str = "utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], header: tuple[str, ...] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


def good_row(n: int, *, number: str = "", level: str = "初级", issued: str = "2015-06-30") -> list[Any]:
    return [f"张{n}", id_for(n), number or f"ZJ2015-{n:04d}", level, issued, "", "示例大学", "杭州市", "有效"]


def wait_for(db: Session, job_id: int) -> Job:
    """The job once it has finished (it runs in a thread of the app under test)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.rollback()  # a new snapshot
        job = db.get(Job, job_id)
        if job is not None and job.status in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("the job did not finish")
