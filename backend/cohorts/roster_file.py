"""Reading an uploaded roster (CSV in UTF-8 with or without BOM, or GBK; or an XLSX workbook's first
sheet) into rows numbered as the spreadsheet numbers them, the header being row 1. Column names may be
Chinese or English."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from backend.i18n import _

MAX_ROWS = 5000
COLUMNS = ("name", "id_number", "phone", "email", "organisation", "region")
REQUIRED = ("name", "id_number", "email")
MAX_LENGTHS = {"name": 100, "organisation": 200, "region": 100}
HEADER_ALIASES = {
    "name": ("姓名", "学员姓名", "name", "fullname"),
    "id_number": ("身份证号", "身份证号码", "身份证", "idnumber", "idcardnumber", "idcard", "idno"),
    "phone": ("手机", "手机号", "手机号码", "联系电话", "电话", "phone", "mobile", "mobilephone"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "mail"),
    "organisation": ("单位", "工作单位", "所在单位", "organisation", "organization", "company"),
    "region": ("地区", "所在地区", "区域", "region", "area"),
}


def column_label(column: str) -> str:
    labels = {
        "name": _("Name"),
        "id_number": _("ID card number"),
        "phone": _("Mobile phone"),
        "email": _("Email"),
        "organisation": _("Organisation"),
        "region": _("Region"),
    }
    return labels.get(column, column)


@dataclass
class ImportRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    name: str = ""
    id_number: str = ""
    phone: str = ""
    email: str = ""
    organisation: str = ""
    region: str = ""
    unreadable: dict[str, str] = field(default_factory=dict)  # column -> why its cell cannot be used


@dataclass(frozen=True)
class ImportProblem:
    row: int | None  # None: a problem of the whole file
    column: str | None
    message: str


def _header_key(text: str) -> str | None:
    cleaned = text.strip().lower().lstrip("\ufeff").rstrip("*＊ ")
    for cut in ("(", "（"):
        cleaned = cleaned.split(cut)[0]
    cleaned = cleaned.replace(" ", "").replace("_", "").replace("-", "")
    for key, aliases in HEADER_ALIASES.items():
        if cleaned in aliases:
            return key
    return None


def read_roster(data: bytes, filename: str) -> tuple[list[ImportRow], list[ImportProblem]]:
    """The rows of an uploaded roster, or the problems that keep the file from being read at all."""
    if not data.strip():
        return [], [ImportProblem(None, None, _("The file is empty."))]
    if data.startswith(b"PK\x03\x04"):
        table, problems = _xlsx_table(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        return [], [ImportProblem(None, None, _("This is an old .xls workbook: save it as .xlsx or .csv."))]
    else:
        table, problems = _csv_table(data)
    if problems:
        return [], problems
    return _rows_from_table(table)


def _csv_table(data: bytes) -> tuple[list[tuple[int, list[object]]], list[ImportProblem]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return [], [ImportProblem(None, None, _("The file could not be read as UTF-8 or GBK text."))]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096].split("\n")[0], ",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    return [(number, list(values)) for number, values in enumerate(reader, start=1)], []


def _xlsx_table(data: bytes) -> tuple[list[tuple[int, list[object]]], list[ImportProblem]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return [], [ImportProblem(None, None, _("The file could not be opened as an XLSX workbook."))]
    sheet = book.worksheets[0]
    table = [
        (number, list(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    ]
    book.close()
    return table, []


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_from_table(table: list[tuple[int, list[object]]]) -> tuple[list[ImportRow], list[ImportProblem]]:
    filled = [(number, values) for number, values in table if any(_cell_text(v) for v in values)]
    if not filled:
        return [], [ImportProblem(None, None, _("The file is empty."))]
    header_number, header = filled[0]
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _header_key(_cell_text(title))
        if key and key not in positions:
            positions[key] = index
    missing = [column for column in REQUIRED if column not in positions]
    if missing:
        names = "、".join(column_label(column) for column in missing)
        message = _("The first row must name the columns; missing: %(columns)s. Download the template.")
        return [], [ImportProblem(header_number, None, message % {"columns": names})]
    rows: list[ImportRow] = []
    problems: list[ImportProblem] = []
    for number, values in filled[1:]:
        row = ImportRow(row=number)
        for key, index in positions.items():
            value = values[index] if index < len(values) else None
            if key == "id_number" and isinstance(value, float) and value >= 1e15:
                row.unreadable[key] = _stored_as_number()
            setattr(row, key, _cell_text(value))
        rows.append(row)
    if not rows:
        problems.append(ImportProblem(None, None, _("The file has a header row but no trainees.")))
    if len(rows) > MAX_ROWS:
        problems.append(
            ImportProblem(None, None, _("At most %(n)d rows can be imported at once.") % {"n": MAX_ROWS})
        )
    return rows, problems


def _stored_as_number() -> str:
    return _(
        "The ID number was stored as a number, so Excel has changed its last digits: format the column as text and type the number again."
    )
