"""Files for download: the class dashboard as CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX
with the same columns, and the empty enrolment templates."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from backend.cohorts.dashboard import exam_status_label
from backend.cohorts.schemas import TraineeStatus
from backend.i18n import _

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
TEMPLATE_HEADERS = ("姓名", "身份证号", "手机", "邮箱", "单位", "地区")
TEXT_COLUMNS = ("B", "C")  # ID number and phone: text, or Excel turns 18 digits into 1.1E+17


def dashboard_headers() -> list[str]:
    return [
        _("Name"),
        _("Email"),
        _("ID card number"),
        _("Organisation"),
        _("Online hours"),
        _("Class hours"),
        _("Total hours"),
        _("Required hours"),
        _("Modules completed"),
        _("Modules in the course"),
        _("Exam status"),
        _("Exam score"),
        _("Eligible for a certificate"),
        _("What is missing"),
    ]


def dashboard_values(row: TraineeStatus) -> list[str | float | int]:
    """One trainee as the export shows them; the page shows the same figures."""
    return [
        row.name,
        row.email,
        row.id_number_masked,
        row.organisation,
        row.online_hours,
        row.class_hours,
        row.total_hours,
        row.min_hours,
        row.modules_completed,
        row.modules_total,
        exam_status_label(row.exam_status),
        "" if row.exam_score is None else row.exam_score,
        _("Yes") if row.eligible else _("No"),
        " ".join(row.reasons),
    ]


def _csv_cell(value: str | float | int) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    # A cell starting with = + - @ would run as a formula in Excel: keep names and reasons as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _xlsx_cell(value: str | float | int) -> str | float | int:
    # openpyxl stores a string starting with "=" as a formula: keep it text.
    return "'" + value if isinstance(value, str) and value.startswith("=") else value


def dashboard_csv(rows: Sequence[TraineeStatus]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(dashboard_headers())
    for row in rows:
        writer.writerow([_csv_cell(value) for value in dashboard_values(row)])
    return buffer.getvalue().encode("utf-8-sig")


def dashboard_xlsx(rows: Sequence[TraineeStatus], *, title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _safe_sheet_title(title)
    sheet.append(dashboard_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in dashboard_values(row)])
    for column in ("A", "B", "C", "D", "N"):
        sheet.column_dimensions[column].width = 24
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _safe_sheet_title(title: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return (cleaned or "Sheet")[:31]


def template_csv() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(TEMPLATE_HEADERS)
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "学员名单"
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in TEXT_COLUMNS:
        for row in range(2, 1002):
            sheet[f"{column}{row}"].number_format = "@"
    for column, width in zip("ABCDEF", (12, 22, 15, 28, 28, 12), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
